# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.natloop.lan.plugins.modules import pihole_dns_record, pihole_dns_record_info
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import FakePihole

CONN = {'url': 'http://pihole.test', 'password': 'secret'}
LOGIN = 'POST /api/auth'
LOGOUT = 'DELETE /api/auth'
READ = 'GET /api/config/dns'
PATCH = 'PATCH /api/config'
INFO = 'GET /api/info/ftl'


def args(records, **more):
    result = dict(CONN, records=records)
    result.update(more)
    return result


def rec(domain, answer, ttl=None):
    item = {'domain': domain, 'answer': answer}
    if ttl is not None:
        item['ttl'] = ttl
    return item


def patches(server):
    return [r.json()['config']['dns'] for r in server.requests if r.method == 'PATCH']


def comparable(result):
    keys = ('changed', 'created', 'updated', 'deleted', 'changes', 'records', 'diff')
    return dict((key, result.get(key)) for key in keys)


def test_all_changes_go_in_one_patch_within_one_session(run):
    server = FakePihole(hosts=['10.0.0.9 foreign.lan'], cnames=['foreign-alias.lan,foreign.lan'])
    result = run(pihole_dns_record, server, args([
        rec('nas.lan', '192.168.11.20'),
        rec('NAS.lan', '2001:db8::20'),
        rec('www.lan', 'nas.lan', ttl=300),
        rec('cloud.lan', 'nas.lan'),
    ]))
    assert result['changed'] is True and result['created'] == 4
    # Two asks refused while FTL restarts, then the restarted FTL reports its uptime; then the fresh read.
    assert server.calls() == [LOGIN, READ, PATCH, INFO, INFO, INFO, READ, LOGOUT]
    assert server.dns_queries == [('pihole.test:53', 'www.lan', 'CNAME')]
    assert server.hosts == ['10.0.0.9 foreign.lan', '192.168.11.20 nas.lan', '2001:db8::20 nas.lan']
    assert server.cnames == ['foreign-alias.lan,foreign.lan', 'www.lan,nas.lan,300', 'cloud.lan,nas.lan']
    assert server.restarts == 1
    assert server.sessions == {} and server.logins == 1
    assert run.sleeps == []


def test_a_records_only_patch_hosts_and_cause_no_restart(run):
    server = FakePihole(cnames=['a.lan,b.lan'])
    records = [rec('h{0}.lan'.format(i), '10.0.{0}.{1}'.format(i // 250, i % 250 + 1)) for i in range(300)]
    result = run(pihole_dns_record, server, args(records))
    assert result['created'] == 300
    # 5 requests for any number of A/AAAA records: the write is confirmed by a fresh read.
    assert server.calls() == [LOGIN, READ, PATCH, READ, LOGOUT]
    assert list(patches(server)[0]) == ['hosts']
    assert len(server.hosts) == 300 and server.restarts == 0


def test_no_op_run_writes_nothing_and_still_logs_out(run):
    server = FakePihole(hosts=['10.0.0.1 a.lan b.lan'], cnames=['c.lan,a.lan,60'])
    server.read_only = True
    result = run(pihole_dns_record, server, args([rec('B.lan', '10.0.0.1'), rec('c.lan', 'a.lan', ttl=60)]))
    assert result['changed'] is False
    assert server.calls() == [LOGIN, READ, LOGOUT]
    assert server.sessions == {}


@pytest.mark.parametrize('case', ['create', 'ttl', 'purge', 'collapse', 'absent', 'split'])
def test_check_mode_writes_nothing_and_predicts_the_real_run(run, case):
    hosts = ['10.0.0.1 a.lan b.lan', '10.0.0.2 c.lan', '10.0.0.2 c.lan', '10.0.0.3 d.lan']
    cnames = ['x.lan,y.lan,a.lan', 'z.lan,a.lan,60']
    wanted = {
        'create': args([rec('n.lan', 'a.lan', ttl=30), rec('n6.lan', '::1')]),
        'ttl': args([rec('z.lan', 'a.lan')]),
        'purge': args([rec('a.lan', '10.0.0.1')], purge=True, purge_scope=['*.lan']),
        'collapse': args([rec('c.lan', '10.0.0.2')]),
        'absent': args([rec('d.lan', '10.0.0.3')], state='absent'),
        'split': args([rec('x.lan', 'a.lan', ttl=10)]),
    }[case]
    server = FakePihole(hosts=hosts, cnames=cnames)
    server.read_only = True
    predicted = run(pihole_dns_record, server, wanted, check=True, diff=True)
    assert server.calls() == [LOGIN, READ, LOGOUT]
    server.read_only = False
    real = run(pihole_dns_record, server, wanted, diff=True)
    assert predicted['changed'] is True
    assert comparable(predicted) == comparable(real)
    server.read_only = True
    again = run(pihole_dns_record, server, wanted, check=True)
    assert again['changed'] is False
    assert server.sessions == {}


def test_multi_name_host_line_is_split_only_where_needed(run):
    server = FakePihole(hosts=['10.0.0.1   a.lan b.lan c.lan', '10.0.0.2 other.lan'])
    run(pihole_dns_record, server, args([rec('b.lan', '10.0.0.1')], state='absent'))
    assert server.hosts == ['10.0.0.1 a.lan c.lan', '10.0.0.2 other.lan']


def test_duplicates_are_collapsed_in_both_lists(run):
    server = FakePihole(hosts=['10.0.0.1 a.lan a.lan', '10.0.0.1 A.lan', '10.0.0.9 keep.lan'],
                        cnames=['w.lan,a.lan', 'w.lan,a.lan'])
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1'), rec('w.lan', 'a.lan')]))
    assert result['updated'] == 2
    assert server.hosts == ['10.0.0.1 a.lan', '10.0.0.9 keep.lan']
    assert server.cnames == ['w.lan,a.lan']


def test_cname_ttl_change_splits_a_shared_alias_line(run):
    server = FakePihole(cnames=['x.lan,y.lan,target.lan,60'])
    result = run(pihole_dns_record, server, args([rec('x.lan', 'target.lan', ttl=120)]))
    assert result['updated'] == 1
    assert result['changes'][0]['reason'] == 'ttl: 60 -> 120'
    assert server.cnames == ['y.lan,target.lan,60', 'x.lan,target.lan,120']


def test_purge_scope_leaves_foreign_records_alone(run):
    server = FakePihole(hosts=['10.0.0.1 a.example.com', '10.0.0.2 b.example.com foreign.org', '10.0.0.3 example.com'],
                        cnames=['c.example.com,a.example.com', 'x.org,a.example.com'])
    result = run(pihole_dns_record, server, args([rec('a.example.com', '10.0.0.1')], purge=True,
                                                 purge_scope=['*.example.com']))
    assert result['deleted'] == 2
    assert server.hosts == ['10.0.0.1 a.example.com', '10.0.0.2 foreign.org', '10.0.0.3 example.com']
    assert server.cnames == ['x.org,a.example.com']


def test_app_password_without_app_sudo_gets_the_explanation_and_logs_out(run):
    server = FakePihole(app_password='app-secret')
    result = run(pihole_dns_record, server, dict(args([rec('a.lan', '10.0.0.1')]), password='app-secret'))
    assert result['failed'] is True
    assert 'webserver.api.app_sudo' in result['msg']
    assert server.calls() == [LOGIN, READ, PATCH, LOGOUT]
    assert server.sessions == {} and server.hosts == []


def test_app_password_with_app_sudo_works(run):
    server = FakePihole(app_password='app-secret', app_sudo=True)
    result = run(pihole_dns_record, server, {'url': 'http://pihole.test', 'app_password': 'app-secret',
                                             'records': [rec('a.lan', '10.0.0.1')]})
    assert result['changed'] is True and server.hosts == ['10.0.0.1 a.lan']


def test_env_forced_list_gives_a_clear_error_and_logs_out(run):
    server = FakePihole(env_forced=['hosts'], hosts=['10.0.0.1 forced.lan'])
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['failed'] is True
    assert 'FTLCONF_dns_hosts' in result['msg'] and 'environment variable' in result['msg']
    assert server.hosts == ['10.0.0.1 forced.lan'] and server.sessions == {}


def test_server_side_validation_error_is_reported_and_session_closed(run):
    server = FakePihole()
    server._host_problem = lambda line: 'invalid hostname ("x")'
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['failed'] is True
    assert 'dns.hosts[0]: invalid hostname' in result['msg'] and 'nothing was changed' in result['msg']
    assert server.sessions == {}


def test_verification_failure_is_reported_and_session_closed(run):
    server = FakePihole()
    original = server._patch

    def lossy_patch(request):
        original(request)
        server.hosts = server.hosts[:-1]
        return server._json(200, server._config())   # FTL answers with what it really holds
    server._patch = lossy_patch
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['failed'] is True and 'does not hold what was written' in result['msg']
    assert server.calls()[-1] == LOGOUT and server.sessions == {}


def test_an_answer_without_the_lists_makes_the_module_read_them_again(run):
    server = FakePihole()
    original = server._patch

    def terse_patch(request):
        original(request)
        return server._json(200, {'took': 0.001})
    server._patch = terse_patch
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['changed'] is True
    assert server.calls() == [LOGIN, READ, PATCH, READ, LOGOUT]


def test_seats_exhausted_login_is_retried_then_succeeds(run):
    server = FakePihole()
    server.fail(429, method='POST', path='/api/auth', times=2)
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['changed'] is True
    assert server.calls()[:3] == [LOGIN, LOGIN, LOGIN]
    assert run.sleeps == [0.5, 1.0]


def test_seats_exhausted_for_good_gives_up_within_the_bound(run):
    server = FakePihole(max_sessions=0)
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['failed'] is True
    assert 'no free API seat' in result['msg'] and 'max_sessions' in result['msg']
    assert server.calls() == [LOGIN] * 8
    assert sum(run.sleeps) <= 40


def test_connection_refused_during_restart_is_retried_but_bounded(run):
    server = FakePihole(cnames=[], restart_downtime=10000)
    result = run(pihole_dns_record, server, args([rec('a.lan', 'b.lan')], restart_timeout=5))
    assert result['failed'] is True
    assert 'not served by a restarted FTL within 5 s (restart_timeout)' in result['msg']
    assert 'Connection refused' in result['msg']
    # What to do about FTL v6.4.1's hang in its own restart (../shared/peers/pihole-ftl/README.md).
    assert 'hung in its own restart' in result['msg'] and 'the change itself is saved' in result['msg']
    # Asked every 0.1 s for 5 s, then 8 attempts of the logout: a seat outlives FTL restarts.
    calls = server.calls()
    assert calls[:3] == [LOGIN, READ, PATCH] and calls[-8:] == [LOGOUT] * 8
    assert 45 <= calls.count(INFO) <= 52 and len(calls) == 11 + calls.count(INFO)
    assert run.sleeps == [0.5, 1, 2, 4, 8, 8, 8]
    assert any('log out' in w for w in result['warnings'])


def test_a_fresh_read_after_the_restart_is_retried_but_bounded(run):
    # The restarted FTL answers /api/info/ftl and DNS, then goes away again before the fresh read.
    server = FakePihole(cnames=[], restart_downtime=0, info_ftl=True)
    original = server.dns_answer

    def then_down(*a, **kw):
        answer = original(*a, **kw)
        server.down_for = 100
        return answer
    server.dns_answer = then_down
    result = run(pihole_dns_record, server, args([rec('a.lan', 'b.lan')]))
    assert result['failed'] is True and 'Cannot reach Pi-hole' in result['msg']
    # 8 attempts of the re-read (31.5 s of waits), then 8 of the logout.
    assert server.calls() == [LOGIN, READ, PATCH, INFO] + [READ] * 8 + [LOGOUT] * 8
    assert run.sleeps == [0.5, 1, 2, 4, 8, 8, 8] * 2


def test_wrong_password_is_not_retried(run):
    server = FakePihole(password='right')
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['failed'] is True and 'rejected the password' in result['msg']
    assert server.calls() == [LOGIN] and run.sleeps == []


def test_401_on_a_call_is_not_retried(run):
    server = FakePihole()
    server.fail(401, method='GET', times=5)
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['failed'] is True and '401' in result['msg']
    assert server.calls() == [LOGIN, READ, LOGOUT]


def test_logout_is_retried_while_ftl_restarts(run):
    server = FakePihole(restart_downtime=3)
    server.fail('refused', method='DELETE', path='/api/auth', times=3)
    result = run(pihole_dns_record, server, args([rec('a.lan', 'b.lan')]))
    assert result['changed'] is True and result['warnings'] == []
    assert server.calls()[-4:] == [LOGOUT] * 4 and server.sessions == {}


def test_5xx_on_read_is_retried(run):
    server = FakePihole()
    server.fail(503, method='GET', times=1)
    result = run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    assert result['changed'] is True and server.calls()[:3] == [LOGIN, READ, READ]


def test_pihole_without_password_needs_no_session(run):
    server = FakePihole(password=None)
    result = run(pihole_dns_record, server, {'url': 'http://pihole.test/api/', 'records': [rec('a.lan', '10.0.0.1')]})
    assert result['changed'] is True
    assert server.calls() == [READ, PATCH, READ]
    assert 'x-ftl-sid' not in server.requests[0].headers


def test_sid_travels_in_the_header_and_no_cookie_or_csrf_is_used(run):
    server = FakePihole()
    run(pihole_dns_record, server, args([rec('a.lan', '10.0.0.1')]))
    for request in server.requests[1:]:
        assert request.headers.get('x-ftl-sid', '').startswith('sid')
        assert 'cookie' not in request.headers and 'x-csrf-token' not in request.headers


@pytest.mark.parametrize('item, words', [
    (rec('*.lan', '10.0.0.1'), 'wildcard'),
    (rec('a.lan', 'A'), 'not supported by Pi-hole'),
    (rec('a.lan', '10.0.0.1', ttl=30), 'ttl only applies to CNAME'),
    (rec('a.lan', 'a.lan'), 'points to the domain itself'),
    (rec('a.lan', 'b.lan', ttl=-1), 'ttl must be an integer'),
    (rec('a_b-.lan', '10.0.0.1'), 'may not start or end with "-"'),
])
def test_bad_input_fails_before_any_request(run, item, words):
    server = FakePihole()
    result = run(pihole_dns_record, server, args([rec('ok.lan', '10.0.0.1'), item]))
    assert result['failed'] is True
    assert 'records[1]' in result['msg'] and words in result['msg']
    assert server.requests == []


def test_alias_with_two_targets_fails_before_any_request(run):
    server = FakePihole()
    result = run(pihole_dns_record, server, args([rec('w.lan', 'a.lan'), rec('w.lan', 'b.lan'),
                                                  rec('v.lan', 'a.lan'), rec('v.lan', '10.0.0.1')]))
    assert "records[1] (domain='w.lan', answer='b.lan'): two CNAME targets for w.lan" in result['msg']
    assert "records[3] (domain='v.lan', answer='10.0.0.1'): v.lan has a CNAME and another answer" in result['msg']
    assert server.requests == []


def test_alias_conflicting_with_a_kept_foreign_cname_fails_without_writing(run):
    server = FakePihole(cnames=['w.lan,old.lan'])
    server.read_only = True
    result = run(pihole_dns_record, server, args([rec('w.lan', 'new.lan')]))
    assert result['failed'] is True and 'only one CNAME' in result['msg']
    assert server.calls() == [LOGIN, READ, LOGOUT]


def test_connection_options_come_from_the_environment(run, monkeypatch):
    monkeypatch.setenv('NATLOOP_PIHOLE_URL', 'http://env.test:8080')
    monkeypatch.setenv('NATLOOP_PIHOLE_PASSWORD', 'envpass')
    server = FakePihole(password='envpass')
    result = run(pihole_dns_record, server, {'records': [rec('a.lan', '10.0.0.1')]})
    assert result['changed'] is True
    assert server.requests[0].url == 'http://env.test:8080/api/auth'
    assert 'envpass' not in str(result)


def test_info_lists_records_of_both_lists(run):
    server = FakePihole(hosts=['10.0.0.1 a.lan B.lan', 'garbage'], cnames=['c.lan,d.lan,a.lan,60'])
    server.read_only = True
    result = run(pihole_dns_record_info, server, dict(CONN))
    assert result['records'] == [
        {'domain': 'a.lan', 'answer': '10.0.0.1', 'type': 'A', 'ttl': None},
        {'domain': 'b.lan', 'answer': '10.0.0.1', 'type': 'A', 'ttl': None},
        {'domain': 'c.lan', 'answer': 'a.lan', 'type': 'CNAME', 'ttl': 60},
        {'domain': 'd.lan', 'answer': 'a.lan', 'type': 'CNAME', 'ttl': 60},
    ]
    assert server.calls() == [LOGIN, READ, LOGOUT]
    result = run(pihole_dns_record_info, server, dict(CONN, scope=['c.lan']))
    assert [r['domain'] for r in result['records']] == ['c.lan']


def test_after_a_restart_the_old_process_is_not_taken_for_the_new_one(run):
    # Real FTL v6.4.1: the answer to the PATCH and the next requests come from the old process.
    server = FakePihole(cnames=['www.lan,old.lan'], old_process_requests=3, restart_downtime=2)
    result = run(pihole_dns_record, server, args([rec('www.lan', 'new.lan')], purge=True, purge_scope=['www.lan']))
    assert result['changed'] is True and 'failed' not in result, result
    calls = server.calls()
    # The old process (uptime of an hour) three times, refused twice, then the restarted one; then the fresh read.
    assert calls == [LOGIN, READ, PATCH] + [INFO] * 6 + [READ, LOGOUT]
    assert server.dns_queries == [('pihole.test:53', 'www.lan', 'CNAME')]
    assert result['records'] == [{'domain': 'www.lan', 'answer': 'new.lan', 'type': 'CNAME', 'ttl': None}]


def test_a_dns_server_that_never_answers_the_change_fails_the_task_and_names_the_address(run):
    server = FakePihole(cnames=['www.lan,old.lan'], restart_downtime=0)
    server.dns_answer = lambda name, rtype, answer_class: answer_class('NOERROR', [(name, 'CNAME', 'old.lan')])
    result = run(pihole_dns_record, server, args([rec('www.lan', 'new.lan')], purge=True, purge_scope=['www.lan'],
                                                 dns_address='198.51.100.153:5353', restart_timeout=3))
    assert result['failed'] is True
    assert "DNS server at 198.51.100.153:5353 did not answer www.lan CNAME with new.lan within 3 s" in result['msg']
    assert 'it answered NOERROR old.lan' in result['msg'] and 'set dns_address' in result['msg']
    assert server.sessions == {}


def test_an_empty_dns_address_skips_the_dns_check(run):
    server = FakePihole(cnames=['www.lan,old.lan'])
    result = run(pihole_dns_record, server, args([rec('www.lan', 'new.lan')], purge=True, purge_scope=['www.lan'],
                                                 dns_address=''))
    assert result['changed'] is True and server.dns_queries == []


# --- local names (misc.dnsmasq_lines), issue 13 -------------------------------------------------------------

LINES = 'GET /api/config/misc/dnsmasq_lines'
CANARY = 'use-application-dns.net'


def local_args(records, names, scope, **more):
    return args(records, local_names=names, local_names_scope=scope, **more)


def test_local_names_go_in_the_same_patch_as_the_records_one_restart(run):
    server = FakePihole(dnsmasq_lines=['address=/ads.example/0.0.0.0'])
    result = run(pihole_dns_record, server, local_args([rec('svc.example.com', '192.168.11.20')],
                                                       ['SVC.example.com', CANARY], ['svc.example.com', CANARY]))
    assert result['changed'] is True and result['created'] == 5
    patch = [r.json()['config'] for r in server.requests if r.method == 'PATCH']
    assert len(patch) == 1 and sorted(patch[0]) == ['dns', 'misc']
    # Another writer's line stays first, as it was.
    assert server.dnsmasq_lines == ['address=/ads.example/0.0.0.0', 'local=/svc.example.com/',
                                    'server=/*.svc.example.com/#', 'local=/%s/' % CANARY, 'server=/*.%s/#' % CANARY]
    assert server.hosts == ['192.168.11.20 svc.example.com']
    assert server.restarts == 1
    # A restart caused by the lines alone is waited for through DNS too (any answer).
    assert server.calls()[:4] == [LOGIN, READ, LINES, PATCH] and server.calls()[-1] == LOGOUT
    assert ('pihole.test:53', 'svc.example.com', 'CNAME') in server.dns_queries
    assert {'domain': 'svc.example.com', 'answer': 'local=/svc.example.com/', 'type': 'LOCAL', 'ttl': None} in result['records']


def test_local_names_idempotent_and_check_mode_predicts(run):
    wanted = local_args([rec('svc.example.com', '192.168.11.20')], ['svc.example.com'], ['svc.example.com', CANARY])
    server = FakePihole(dnsmasq_lines=['local=/%s/' % CANARY, 'server=/*.%s/#' % CANARY, 'cache-size=10000'])
    server.read_only = True
    predicted = run(pihole_dns_record, server, wanted, check=True, diff=True)
    assert server.calls() == [LOGIN, READ, LINES, LOGOUT]
    server.read_only = False
    real = run(pihole_dns_record, server, wanted, diff=True)
    assert comparable(predicted) == comparable(real) and real['changed'] is True
    # The canary's lines are in the scope and no longer wanted: removed; the foreign line stays.
    assert server.dnsmasq_lines == ['cache-size=10000', 'local=/svc.example.com/', 'server=/*.svc.example.com/#']
    assert [c['action'] for c in real['changes'] if c['type'] == 'LOCAL'] == ['create', 'create', 'delete', 'delete']
    server.read_only = True
    again = run(pihole_dns_record, server, wanted)
    assert again['changed'] is False and server.restarts == 1


def test_local_names_outside_the_scope_are_never_touched(run):
    server = FakePihole(dnsmasq_lines=['local=/other.lan/', 'server=/*.other.lan/#'])
    server.read_only = True
    result = run(pihole_dns_record, server, local_args([], [], ['svc.example.com']))
    assert result['changed'] is False and server.dnsmasq_lines == ['local=/other.lan/', 'server=/*.other.lan/#']


def test_without_local_names_the_lines_are_not_read(run):
    server = FakePihole(dnsmasq_lines=['local=/svc.example.com/'])
    run(pihole_dns_record, server, args([rec('svc.example.com', '192.168.11.20')]))
    assert LINES not in server.calls() and server.dnsmasq_lines == ['local=/svc.example.com/']


def test_local_names_are_validated_before_any_request(run):
    server = FakePihole()
    result = run(pihole_dns_record, server, local_args([], ['bad name', '*.x.lan'], ['ok.lan']))
    assert result['failed'] is True and 'local_names[0]' in result['msg'] and 'local_names[1]' in result['msg']
    assert server.requests == []


def test_local_names_lost_to_a_parallel_writer_are_written_again(run):
    """Another writer's PATCH (a whole list read before ours) drops our lines; the re-read sees it and re-plans."""
    server = FakePihole(dnsmasq_lines=['cache-size=10000'])
    original = server._patch
    state = {'first': True}

    def patch_then_lose(request):
        reply = original(request)
        if state.pop('first', False):
            server.dnsmasq_lines = ['cache-size=10000', 'local=/theirs.lan/']   # their write, from an old read
        return reply
    server._patch = patch_then_lose
    result = run(pihole_dns_record, server, local_args([], ['svc.example.com'], ['svc.example.com']))
    assert result['changed'] is True
    assert server.dnsmasq_lines == ['cache-size=10000', 'local=/theirs.lan/', 'local=/svc.example.com/',
                                    'server=/*.svc.example.com/#']
