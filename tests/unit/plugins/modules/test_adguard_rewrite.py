# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.natloop.lan.plugins.modules import adguard_rewrite, adguard_rewrite_info
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import FakeAdGuard, WriteInReadOnlyMode

CONN = {'url': 'http://agh.test', 'username': 'admin', 'password': 'secret'}
LIST = 'GET /control/rewrite/list'
ADD = 'POST /control/rewrite/add'
DELETE = 'POST /control/rewrite/delete'
UPDATE = 'PUT /control/rewrite/update'


def args(rewrites, **more):
    result = dict(CONN, rewrites=rewrites)
    result.update(more)
    return result


def rw(domain, answer, enabled=True):
    return {'domain': domain, 'answer': answer, 'enabled': enabled}


def comparable(result):
    """The parts of a result that check mode must predict exactly."""
    keys = ('changed', 'created', 'updated', 'deleted', 'changes', 'rewrites', 'diff')
    return dict((key, result.get(key)) for key in keys)


def test_creates_missing_rewrites_with_one_list_and_a_confirming_reread(run):
    server = FakeAdGuard(rewrites=[rw('other.lan', '10.0.0.9')])
    result = run(adguard_rewrite, server, args([
        {'domain': 'NAS.Example.com', 'answer': '192.168.11.20'},
        {'domain': 'nas.example.com', 'answer': 'fd00:0:0:0::20'},
        {'domain': 'www.example.com', 'answer': 'nas.example.com.'},
    ]))
    assert result['rc'] == 0 and result['changed'] is True
    assert (result['created'], result['updated'], result['deleted']) == (3, 0, 0)
    assert server.calls() == [LIST, ADD, ADD, ADD, LIST]
    assert server.rewrites == [
        rw('other.lan', '10.0.0.9'),
        rw('nas.example.com', '192.168.11.20'),
        rw('nas.example.com', 'fd00::20'),
        rw('www.example.com', 'nas.example.com'),
    ]
    assert [r['type'] for r in result['rewrites']] == ['A', 'AAAA', 'CNAME']


def test_wire_format_exact_json_content_type_basic_auth_no_cookie(run):
    server = FakeAdGuard()
    run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    server.assert_basic_auth_json_no_cookie('admin', 'secret')
    add = [r for r in server.requests if r.path == '/control/rewrite/add'][0]
    assert add.json() == {'domain': 'a.lan', 'answer': '10.0.0.1'}


def test_no_op_run_reads_once_and_writes_nothing(run):
    server = FakeAdGuard(rewrites=[rw('a.lan', '10.0.0.1'), rw('b.lan', '10.0.0.2')])
    server.read_only = True
    result = run(adguard_rewrite, server, args([{'domain': 'A.lan', 'answer': '10.0.0.1'}]))
    assert result['changed'] is False
    assert server.calls() == [LIST]
    assert result['rewrites'] == [{'domain': 'a.lan', 'answer': '10.0.0.1', 'type': 'A', 'enabled': True}]


def test_a_and_aaaa_for_one_name_coexist(run):
    server = FakeAdGuard(rewrites=[rw('nas.lan', '192.168.11.20')])
    result = run(adguard_rewrite, server, args([{'domain': 'nas.lan', 'answer': '2001:db8::20'}]))
    assert result['created'] == 1 and result['deleted'] == 0
    assert server.pairs() == [('nas.lan', '192.168.11.20'), ('nas.lan', '2001:db8::20')]
    # And the A rule added later does not remove the AAAA one either.
    server.read_only = True
    result = run(adguard_rewrite, server, args([{'domain': 'nas.lan', 'answer': '192.168.11.20'}]))
    assert result['changed'] is False


def test_enabled_is_changed_in_place_with_update(run):
    server = FakeAdGuard(rewrites=[rw('a.lan', '10.0.0.1'), rw('b.lan', '10.0.0.2'), rw('c.lan', '10.0.0.3')])
    result = run(adguard_rewrite, server, args([rw('b.lan', '10.0.0.2', enabled=False)]))
    assert result['updated'] == 1
    assert server.calls() == [LIST, UPDATE, LIST]
    assert server.rewrites[1] == rw('b.lan', '10.0.0.2', enabled=False)
    assert server.pairs() == [('a.lan', '10.0.0.1'), ('b.lan', '10.0.0.2'), ('c.lan', '10.0.0.3')]
    assert result['changes'][0]['reason'] == 'enabled: true -> false'


def test_server_duplicates_are_collapsed_by_delete_and_single_add(run):
    server = FakeAdGuard(rewrites=[rw('a.lan', '10.0.0.1'), rw('x.lan', '10.0.0.9'), rw('a.lan', '10.0.0.1'),
                                   rw('a.lan', '10.0.0.1')])
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['updated'] == 1
    assert server.calls() == [LIST, DELETE, ADD, LIST]
    assert sorted(server.pairs()) == [('a.lan', '10.0.0.1'), ('x.lan', '10.0.0.9')]
    assert '3 copies' in result['changes'][0]['reason']


def test_duplicates_spelled_differently_keep_the_single_copy_in_place(run):
    server = FakeAdGuard(rewrites=[rw('a.lan', '2001:DB8::1'), rw('a.lan', '2001:db8::1'), rw('a.lan', '2001:db8::1')])
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '2001:db8::1'}]))
    assert result['updated'] == 1
    # The upper-case spelling is stored once: it stays, the double lower-case copy goes.
    assert server.calls() == [LIST, DELETE, LIST]
    assert server.pairs() == [('a.lan', '2001:DB8::1')]


def test_purge_removes_only_unlisted_records_inside_the_scope(run):
    server = FakeAdGuard(rewrites=[
        rw('example.com', '10.0.0.1'),         # in scope (exact pattern), listed
        rw('old.example.com', '10.0.0.2'),     # in scope (wildcard pattern), not listed -> deleted
        rw('*.example.com', '10.0.0.3'),       # in scope, not listed -> deleted
        rw('example.org', '10.0.0.4'),         # foreign
        rw('notexample.com', '10.0.0.5'),      # foreign: suffix match must respect label boundary
    ])
    result = run(adguard_rewrite, server, args(
        [{'domain': 'example.com', 'answer': '10.0.0.1'}, {'domain': 'new.example.com', 'answer': '10.0.0.6'}],
        purge=True, purge_scope=['example.com', '*.example.com']), diff=True)
    assert (result['created'], result['deleted']) == (1, 2)
    assert sorted(server.pairs()) == [('example.com', '10.0.0.1'), ('example.org', '10.0.0.4'),
                                      ('new.example.com', '10.0.0.6'), ('notexample.com', '10.0.0.5')]
    before = [(r['domain'], r['answer']) for r in result['diff']['before']['rewrites']]
    after = [(r['domain'], r['answer']) for r in result['diff']['after']['rewrites']]
    assert before == [('*.example.com', '10.0.0.3'), ('example.com', '10.0.0.1'), ('old.example.com', '10.0.0.2')]
    assert after == [('example.com', '10.0.0.1'), ('new.example.com', '10.0.0.6')]


def test_purge_scope_without_wildcard_does_not_cover_subdomains(run):
    server = FakeAdGuard(rewrites=[rw('example.com', '10.0.0.1'), rw('sub.example.com', '10.0.0.2')])
    result = run(adguard_rewrite, server, args([], purge=True, purge_scope=['example.com']))
    assert result['deleted'] == 1
    assert server.pairs() == [('sub.example.com', '10.0.0.2')]


def test_absent_removes_every_copy_and_is_a_no_op_when_gone(run):
    server = FakeAdGuard(rewrites=[rw('a.lan', 'A'), rw('a.lan', '10.0.0.1'), rw('a.lan', 'A')])
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': 'A'}], state='absent'))
    assert result['deleted'] == 1
    assert server.pairs() == [('a.lan', '10.0.0.1')]
    server.read_only = True
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': 'A'}], state='absent'))
    assert result['changed'] is False


def test_hand_edited_upper_case_domain_is_deleted_by_its_stored_spelling(run):
    server = FakeAdGuard(rewrites=[rw('NAS.lan', '10.0.0.1')])
    result = run(adguard_rewrite, server, args([{'domain': 'nas.lan', 'answer': '10.0.0.1'}], state='absent'))
    assert result['deleted'] == 1 and server.rewrites == []
    delete = [r for r in server.requests if r.path == '/control/rewrite/delete'][0]
    assert delete.json() == {'domain': 'NAS.lan', 'answer': '10.0.0.1'}


@pytest.mark.parametrize('case', ['create', 'update', 'purge', 'collapse', 'absent'])
def test_check_mode_writes_nothing_and_predicts_the_real_run(run, case):
    start = [rw('a.lan', '10.0.0.1'), rw('b.lan', '10.0.0.2'), rw('b.lan', '10.0.0.2'), rw('c.lan', '10.0.0.3')]
    wanted = {
        'create': args([{'domain': 'n.lan', 'answer': 'a.lan'}]),
        'update': args([rw('a.lan', '10.0.0.1', enabled=False)]),
        'purge': args([{'domain': 'a.lan', 'answer': '10.0.0.1'}], purge=True, purge_scope=['*.lan']),
        'collapse': args([{'domain': 'b.lan', 'answer': '10.0.0.2'}]),
        'absent': args([{'domain': 'c.lan', 'answer': '10.0.0.3'}], state='absent'),
    }[case]
    server = FakeAdGuard(rewrites=start)
    server.read_only = True
    predicted = run(adguard_rewrite, server, wanted, check=True, diff=True)
    assert server.calls() == [LIST]
    server.read_only = False
    real = run(adguard_rewrite, server, wanted, diff=True)
    assert predicted['changed'] is True
    assert comparable(predicted) == comparable(real)
    server.read_only = True
    again = run(adguard_rewrite, server, wanted, check=True)
    assert again['changed'] is False and again['changes'] == []


def test_old_server_without_enabled_warns_and_ignores_enabled_false(run):
    server = FakeAdGuard(patch=60, rewrites=[{'domain': 'a.lan', 'answer': '10.0.0.1'}])
    result = run(adguard_rewrite, server, args([rw('a.lan', '10.0.0.1', enabled=False), rw('b.lan', '10.0.0.2', enabled=False)]))
    assert any('v0.107.68' in warning for warning in result['warnings'])
    assert server.calls() == [LIST, ADD, LIST]
    add = [r for r in server.requests if r.path == '/control/rewrite/add'][0]
    assert 'enabled' not in add.json()
    assert server.rewrites == [{'domain': 'a.lan', 'answer': '10.0.0.1'}, {'domain': 'b.lan', 'answer': '10.0.0.2'}]
    assert all(r['enabled'] is True for r in result['rewrites'])
    server.read_only = True
    again = run(adguard_rewrite, server, args([rw('a.lan', '10.0.0.1', enabled=False), rw('b.lan', '10.0.0.2', enabled=False)]))
    assert again['changed'] is False


def test_empty_list_on_old_server_probes_settings_once(run):
    server = FakeAdGuard(patch=60)
    result = run(adguard_rewrite, server, args([rw('a.lan', '10.0.0.1', enabled=False)]))
    assert server.calls() == [LIST, 'GET /control/rewrite/settings', ADD, LIST]
    assert any('enabled' in warning for warning in result['warnings'])


def test_empty_list_on_new_server_creates_disabled_rewrite(run):
    server = FakeAdGuard()
    run(adguard_rewrite, server, args([rw('a.lan', '10.0.0.1', enabled=False)]))
    assert server.rewrites == [rw('a.lan', '10.0.0.1', enabled=False)]


@pytest.mark.parametrize('item, words', [
    ({'domain': 'bad domain.lan', 'answer': '10.0.0.1'}, 'whitespace'),
    ({'domain': 'a..lan', 'answer': '10.0.0.1'}, 'empty label'),
    ({'domain': 'a.lan', 'answer': '10.0.0.256'}, 'not a valid one'),
    ({'domain': 'a.lan', 'answer': '2001:db8::zz'}, 'IPv6'),
    ({'domain': 'a.lan', 'answer': 'bad_target!'}, 'CNAME target'),
    ({'domain': 'a.*.lan', 'answer': '10.0.0.1'}, 'first label'),
    ({'domain': '*', 'answer': '10.0.0.1'}, "bare '*'"),
    ({'domain': 'a.lan', 'answer': 'aaaa'}, 'capitals'),
    ({'domain': 'bücher.lan', 'answer': '10.0.0.1'}, 'punycode'),
])
def test_bad_input_fails_before_any_request_and_names_the_item(run, item, words):
    server = FakeAdGuard(rewrites=[rw('keep.lan', '10.0.0.9')])
    result = run(adguard_rewrite, server, args([{'domain': 'ok.lan', 'answer': '10.0.0.1'}, item]))
    assert result['failed'] is True
    assert 'rewrites[1]' in result['msg'] and words in result['msg']
    assert 'rewrites[0]' not in result['msg']
    assert server.requests == []


def test_conflicting_items_fail_before_any_request(run):
    server = FakeAdGuard()
    result = run(adguard_rewrite, server, args([
        {'domain': 'a.lan', 'answer': 'x.lan'},
        {'domain': 'A.lan', 'answer': 'y.lan'},
        {'domain': 'b.lan', 'answer': '10.0.0.1'},
        {'domain': 'b.lan', 'answer': '10.0.0.01'},
        {'domain': 'c.lan', 'answer': '10.0.0.1'},
        {'domain': 'c.lan', 'answer': '10.0.0.1'},
    ]))
    assert result['failed'] is True
    assert 'two CNAME targets for a.lan' in result['msg']
    assert 'rewrites[5]' in result['msg'] and 'same record as rewrites[4]' in result['msg']
    assert 'rewrites[3]' in result['msg']     # 10.0.0.01 is not an IP address
    assert server.requests == []


def test_purge_needs_a_scope_and_present_state(run):
    server = FakeAdGuard()
    result = run(adguard_rewrite, server, args([], purge=True, purge_scope=[], state='absent'))
    assert 'purge=true only works with state=present' in result['msg']
    assert 'non-empty purge_scope' in result['msg']
    assert server.requests == []


def test_cname_conflict_with_a_kept_server_record_fails_without_writing(run):
    server = FakeAdGuard(rewrites=[rw('www.lan', 'old.lan')])
    server.read_only = True
    result = run(adguard_rewrite, server, args([{'domain': 'www.lan', 'answer': 'new.lan'}]))
    assert result['failed'] is True and 'purge_scope' in result['msg']
    assert server.calls() == [LIST]
    # With the name in purge_scope the old target is replaced.
    server.read_only = False
    result = run(adguard_rewrite, server, args([{'domain': 'www.lan', 'answer': 'new.lan'}],
                                               purge=True, purge_scope=['www.lan']))
    assert result['changed'] is True and server.pairs() == [('www.lan', 'new.lan')]


def test_401_is_never_retried(run):
    server = FakeAdGuard(password='right')
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['failed'] is True
    assert server.calls() == [LIST]
    assert '15 minutes' in result['msg'] and 'Not retried' in result['msg']
    assert run.sleeps == []


def test_403_is_never_retried(run):
    server = FakeAdGuard()
    server.fail(403, times=5)
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['failed'] is True and server.calls() == [LIST]


def test_5xx_on_reads_is_retried_with_bounded_backoff(run):
    server = FakeAdGuard()
    server.fail(503, method='GET', times=2)
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['changed'] is True
    assert server.calls() == [LIST, LIST, LIST, ADD, LIST]
    assert run.sleeps == [0.5, 1.0]


def test_5xx_that_persists_gives_up(run):
    server = FakeAdGuard()
    server.fail(500, method='GET', times=100)
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['failed'] is True and 'HTTP 500' in result['msg']
    assert len(server.requests) == 4 and sum(run.sleeps) <= 10


def test_add_is_not_retried_on_5xx_but_on_refused_connection(run):
    server = FakeAdGuard()
    server.fail(500, method='POST', times=1)
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['failed'] is True
    assert server.calls() == [LIST, ADD]
    server = FakeAdGuard()
    server.fail('refused', method='POST', times=1)
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['changed'] is True and server.pairs() == [('a.lan', '10.0.0.1')]


def test_server_that_loses_writes_is_detected_by_the_reread(run):
    server = FakeAdGuard()
    original = server._add
    server._add = lambda request: (original(request), server.rewrites.pop())[0]
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['failed'] is True
    assert 'does not hold what was written' in result['msg'] and 'a.lan A 10.0.0.1' in result['msg']


def test_not_set_up_server_is_explained(run):
    server = FakeAdGuard(setup_done=False)
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert 'not set up yet' in result['msg']


def test_unreachable_server_is_explained(run):
    server = FakeAdGuard()
    server.fail('refused', times=100)
    result = run(adguard_rewrite, server, args([]))
    assert result['failed'] is True and 'Cannot reach AdGuard Home' in result['msg']


def test_connection_options_come_from_the_environment(run, monkeypatch):
    monkeypatch.setenv('NATLOOP_ADGUARD_URL', 'http://env.test:3000')
    monkeypatch.setenv('NATLOOP_ADGUARD_USERNAME', 'envuser')
    monkeypatch.setenv('NATLOOP_ADGUARD_PASSWORD', 'envpass')
    server = FakeAdGuard(username='envuser', password='envpass')
    result = run(adguard_rewrite, server, {'rewrites': [{'domain': 'a.lan', 'answer': '10.0.0.1'}]})
    assert result['changed'] is True
    assert server.requests[0].url == 'http://env.test:3000/control/rewrite/list'
    assert 'envpass' not in str(result)


def test_server_rejects_what_validation_let_through_is_reported(run):
    server = FakeAdGuard()
    server.fail(400, method='POST')
    result = run(adguard_rewrite, server, args([{'domain': 'a.lan', 'answer': '10.0.0.1'}]))
    assert result['failed'] is True and 'HTTP 400' in result['msg'] and 'adding rewrite a.lan' in result['msg']


def test_read_only_switch_really_raises():
    server = FakeAdGuard()
    server.read_only = True
    with pytest.raises(WriteInReadOnlyMode):
        server('http://agh.test/control/rewrite/add', data=b'{}', method='POST',
               headers={'Content-Type': 'application/json', 'Authorization': 'Basic YWRtaW46c2VjcmV0'},
               follow_redirects='none', use_netrc=False)


def test_info_lists_everything_or_a_scope(run):
    server = FakeAdGuard(rewrites=[rw('b.example.com', '10.0.0.2'), rw('example.com', 'A'), rw('x.org', '10.0.0.3', False)])
    server.read_only = True
    result = run(adguard_rewrite_info, server, dict(CONN))
    assert result['changed'] is False
    assert [(r['domain'], r['type'], r['enabled']) for r in result['rewrites']] == [
        ('b.example.com', 'A', True), ('example.com', 'A', True), ('x.org', 'A', False)]
    result = run(adguard_rewrite_info, server, dict(CONN, scope=['*.example.com']))
    assert [r['domain'] for r in result['rewrites']] == ['b.example.com']
    result = run(adguard_rewrite_info, server, dict(CONN, scope=['bad..scope']))
    assert result['failed'] is True and 'scope[0]' in result['msg']


@pytest.mark.parametrize('module', [adguard_rewrite, adguard_rewrite_info])
def test_a_list_that_is_not_json_fails_cleanly_with_nothing_written(run, module):
    # A proxy or captive portal in front of the server answers HTML with status 200.
    server = FakeAdGuard(rewrites=[rw('nas.lan', '10.0.0.1')])
    server.handle = lambda request: (200, {'Content-Type': 'text/html'}, b'<html>portal</html>')
    module_args = args([{'domain': 'nas.lan', 'answer': '10.0.0.2'}]) if module is adguard_rewrite else dict(CONN)
    result = run(module, server, module_args)
    assert result['failed'] is True and result['rc'] == 1
    assert 'Invalid JSON in the answer to GET http://agh.test/control/rewrite/list' in result['msg']
    assert server.calls() == [LIST]
    assert server.rewrites == [rw('nas.lan', '10.0.0.1')]
