# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.natloop.lan.plugins.modules import adguard_settings
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import FakeAdGuard

CONN = {'url': 'http://agh.test', 'username': 'admin', 'password': 'secret'}
STATUS = 'GET /control/status'
DNS_INFO = 'GET /control/dns_info'
DNS_CONFIG = 'POST /control/dns_config'
FILTERING = 'GET /control/filtering/status'
FILTERING_CONFIG = 'POST /control/filtering/config'
REWRITES = 'GET /control/rewrite/settings'
REWRITES_UPDATE = 'PUT /control/rewrite/settings/update'
PROTECTION = 'POST /control/protection'
SET_RULES = 'POST /control/filtering/set_rules'

# What the default FakeAdGuard holds, as the module reads it.
CURRENT = {
    'upstream_dns': ['127.0.0.1:9'],
    'bootstrap_dns': ['127.0.0.1'],
    'upstream_mode': 'load_balance',
    'filtering_enabled': True,
    'rewrites_enabled': True,
    'protection_enabled': True,
    'nxdomain_names': [],
}

# Per setting: a value that differs from CURRENT, the request that writes it, and its body.
CHANGE = {
    'upstream_dns': (['127.0.0.1:9', 'tcp://127.0.0.1:9', '[/lan/]127.0.0.1:9'], DNS_CONFIG,
                     {'upstream_dns': ['127.0.0.1:9', 'tcp://127.0.0.1:9', '[/lan/]127.0.0.1:9']}),
    'bootstrap_dns': (['127.0.0.1:9', '::1'], DNS_CONFIG, {'bootstrap_dns': ['127.0.0.1:9', '::1']}),
    'upstream_mode': ('parallel', DNS_CONFIG, {'upstream_mode': 'parallel'}),
    'filtering_enabled': (False, FILTERING_CONFIG, {'enabled': False, 'interval': 24}),
    'rewrites_enabled': (False, REWRITES_UPDATE, {'enabled': False}),
    'protection_enabled': (False, PROTECTION, {'enabled': False}),
    'nxdomain_names': (['mask.icloud.com'], SET_RULES, {'rules': ['||mask.icloud.com^$dnsrewrite=NXDOMAIN;;']}),
}

# The request that reads each setting (besides GET /control/status, which comes first every run).
READ = {
    'upstream_dns': DNS_INFO, 'bootstrap_dns': DNS_INFO, 'upstream_mode': DNS_INFO,
    'filtering_enabled': FILTERING, 'rewrites_enabled': REWRITES, 'protection_enabled': None,
    'nxdomain_names': FILTERING,
}


def args(**settings):
    result = dict(CONN)
    result.update(settings)
    return result


def held(server, name):
    """The value of one setting as the fake server holds it (not as the module reports it)."""
    return server.settings()[name]


def bodies(server, call):
    return [r.json() for r in server.requests if '{0} {1}'.format(r.method, r.path) == call]


def comparable(result):
    """The parts of a result that check mode must predict exactly."""
    return dict((key, result.get(key)) for key in ('changed', 'changes', 'settings', 'diff'))


def test_no_op_reads_each_endpoint_once_and_writes_nothing(run):
    server = FakeAdGuard()
    server.read_only = True
    result = run(adguard_settings, server, args(**CURRENT))
    assert result['rc'] == 0
    assert result['changed'] is False and result['changes'] == []
    assert result['settings'] == CURRENT
    # dns_info serves all three upstream settings with one request.
    assert server.calls() == [STATUS, DNS_INFO, FILTERING, REWRITES]


@pytest.mark.parametrize('name', sorted(CURRENT))
def test_only_the_given_setting_is_read(run, name):
    server = FakeAdGuard()
    server.read_only = True
    result = run(adguard_settings, server, args(**{name: CURRENT[name]}))
    assert result['changed'] is False
    assert result['settings'] == {name: CURRENT[name]}
    assert server.calls() == [STATUS] + ([READ[name]] if READ[name] else [])


def test_only_protection_given_makes_one_request(run):
    server = FakeAdGuard(protection_enabled=False)
    result = run(adguard_settings, server, args(protection_enabled=True))
    assert result['changed'] is True
    assert server.calls() == [STATUS, PROTECTION, STATUS]
    assert len(server.requests) == 3


@pytest.mark.parametrize('name', sorted(CHANGE))
def test_each_setting_is_changed_with_one_request_and_verified(run, name):
    value, write, body = CHANGE[name]
    server = FakeAdGuard()
    result = run(adguard_settings, server, args(**{name: value}))
    assert result['rc'] == 0 and result['changed'] is True
    assert result['changes'] == [{'setting': name, 'before': CURRENT[name], 'after': value}]
    assert result['settings'] == {name: value}
    reads = [STATUS] + ([READ[name]] if READ[name] else [])
    assert server.calls() == reads + [write] + reads
    assert bodies(server, write) == [body]
    assert held(server, name) == value
    # The settings not given are untouched.
    for other in CURRENT:
        if other != name:
            assert held(server, other) == CURRENT[other]


def test_all_settings_changed_in_order_with_one_dns_config_request(run):
    server = FakeAdGuard(bootstrap_dns=['127.0.0.1:9'], filtering_enabled=False, filtering_interval=72,
                         rewrites_enabled=False, protection_enabled=False)
    wanted = dict(
        upstream_dns=['udp://127.0.0.1:9'], bootstrap_dns=['127.0.0.1:9'], upstream_mode='fastest_addr',
        filtering_enabled=True, rewrites_enabled=True, protection_enabled=True,
    )
    result = run(adguard_settings, server, args(**wanted))
    assert result['changed'] is True
    assert [change['setting'] for change in result['changes']] == [
        'upstream_dns', 'upstream_mode', 'filtering_enabled', 'rewrites_enabled', 'protection_enabled']
    assert [call for call in server.calls() if call in
            (DNS_CONFIG, FILTERING_CONFIG, REWRITES_UPDATE, PROTECTION)] == [
        DNS_CONFIG, FILTERING_CONFIG, REWRITES_UPDATE, PROTECTION]
    # Only the differing fields go to dns_config: bootstrap_dns is already right.
    assert bodies(server, DNS_CONFIG) == [{'upstream_dns': ['udp://127.0.0.1:9'], 'upstream_mode': 'fastest_addr'}]
    assert bodies(server, FILTERING_CONFIG) == [{'enabled': True, 'interval': 72}]
    assert server.settings() == {
        'upstream_dns': ['udp://127.0.0.1:9'], 'bootstrap_dns': ['127.0.0.1:9'], 'upstream_mode': 'fastest_addr',
        'filtering_enabled': True, 'filtering_interval': 72, 'rewrites_enabled': True, 'protection_enabled': True,
        'protection_paused_ms': 0, 'nxdomain_names': [],
    }
    assert result['settings'] == wanted


def test_wire_format_basic_auth_exact_json_and_no_cookie(run):
    server = FakeAdGuard(protection_enabled=False)
    run(adguard_settings, server, args(upstream_mode='parallel', filtering_enabled=False, rewrites_enabled=False,
                                       protection_enabled=True))
    assert len(server.writes()) == 4
    server.assert_basic_auth_json_no_cookie('admin', 'secret')


@pytest.mark.parametrize('interval', [0, 72])
def test_switching_filtering_keeps_the_update_interval(run, interval):
    server = FakeAdGuard(filtering_enabled=True, filtering_interval=interval)
    result = run(adguard_settings, server, args(filtering_enabled=False))
    assert result['changed'] is True
    assert bodies(server, FILTERING_CONFIG) == [{'enabled': False, 'interval': interval}]
    assert (server.filtering_enabled, server.filtering_interval) == (False, interval)


def test_an_empty_upstream_mode_reads_as_load_balance(run):
    server = FakeAdGuard(upstream_mode='')
    server.read_only = True
    result = run(adguard_settings, server, args(upstream_mode='load_balance'))
    assert result['changed'] is False
    assert result['settings'] == {'upstream_mode': 'load_balance'}


def test_upstreams_are_compared_in_order(run):
    server = FakeAdGuard(upstream_dns=['127.0.0.1:9', 'tcp://127.0.0.1:9'])
    result = run(adguard_settings, server, args(upstream_dns=['tcp://127.0.0.1:9', '127.0.0.1:9']))
    assert result['changed'] is True
    assert server.dns['upstream_dns'] == ['tcp://127.0.0.1:9', '127.0.0.1:9']


@pytest.mark.parametrize('case', ['upstreams', 'mode', 'filtering', 'rewrites', 'protection', 'pause', 'all'])
def test_check_mode_writes_nothing_and_predicts_the_real_run(run, case):
    wanted = {
        'upstreams': args(upstream_dns=['127.0.0.1:9', '[/lan/]127.0.0.1:9'], bootstrap_dns=['127.0.0.1']),
        'mode': args(upstream_mode='fastest_addr'),
        'filtering': args(filtering_enabled=False),
        'rewrites': args(rewrites_enabled=False),
        'protection': args(protection_enabled=False),
        'pause': args(protection_enabled=True),
        'all': args(upstream_dns=['tcp://127.0.0.1:9'], bootstrap_dns=['::1'], upstream_mode='parallel',
                    filtering_enabled=False, rewrites_enabled=False, protection_enabled=False),
    }[case]
    server = FakeAdGuard(protection_enabled=case != 'pause', protection_paused_ms=45000 if case == 'pause' else 0)
    start = server.settings()
    server.read_only = True
    predicted = run(adguard_settings, server, wanted, check=True, diff=True)
    assert predicted['changed'] is True
    assert server.writes() == [] and server.settings() == start
    server.read_only = False
    real = run(adguard_settings, server, wanted, diff=True)
    assert comparable(predicted) == comparable(real)
    assert server.settings() != start
    server.read_only = True
    again = run(adguard_settings, server, wanted, check=True, diff=True)
    assert again['changed'] is False and again['changes'] == []
    assert again['settings'] == real['settings']


def test_diff_shows_the_given_settings_before_and_after(run):
    server = FakeAdGuard(protection_enabled=False, protection_paused_ms=61999)
    result = run(adguard_settings, server, args(upstream_mode='parallel', filtering_enabled=True,
                                                protection_enabled=False), diff=True)
    assert result['diff'] == {
        'before': {'upstream_mode': 'load_balance', 'filtering_enabled': True,
                   'protection_enabled': 'paused for 61 more seconds'},
        'after': {'upstream_mode': 'parallel', 'filtering_enabled': True, 'protection_enabled': False},
    }


def test_no_diff_without_diff_mode(run):
    result = run(adguard_settings, FakeAdGuard(), args(upstream_mode='parallel'))
    assert 'diff' not in result


@pytest.mark.parametrize('wanted', [False, True])
def test_timed_pause_is_reported_as_a_string_and_made_permanent(run, wanted):
    server = FakeAdGuard(protection_enabled=False, protection_paused_ms=290500)
    result = run(adguard_settings, server, args(protection_enabled=wanted))
    assert result['changed'] is True
    assert result['changes'] == [{'setting': 'protection_enabled', 'before': 'paused for 290 more seconds',
                                  'after': wanted}]
    # No duration: the state lasts until changed again.
    assert bodies(server, PROTECTION) == [{'enabled': wanted}]
    assert (server.protection_enabled, server.protection_paused_ms) == (wanted, 0)
    server.read_only = True
    assert run(adguard_settings, server, args(protection_enabled=wanted))['changed'] is False


@pytest.mark.parametrize('check', [False, True])
def test_rewrites_cannot_be_switched_off_before_v0_107_68_and_nothing_is_written(run, check):
    server = FakeAdGuard(patch=60)
    server.read_only = True
    result = run(adguard_settings, server, args(upstream_mode='parallel', rewrites_enabled=False,
                                                protection_enabled=False), check=check)
    assert result['failed'] is True
    assert 'before v0.107.68' in result['msg'] and 'rewrites_enabled' in result['msg']
    assert server.calls() == [STATUS, DNS_INFO, REWRITES]
    assert server.writes() == []
    assert 'changes' not in result


def test_rewrites_enabled_true_on_an_old_server_is_no_change(run):
    server = FakeAdGuard(patch=60)
    server.read_only = True
    result = run(adguard_settings, server, args(rewrites_enabled=True))
    assert result['changed'] is False and result['settings'] == {'rewrites_enabled': True}


def test_protection_falls_back_to_dns_config_before_v0_107_28(run):
    server = FakeAdGuard(patch=27)
    result = run(adguard_settings, server, args(protection_enabled=False), diff=True)
    assert result['rc'] == 0 and result['changed'] is True
    assert server.calls() == [STATUS, PROTECTION, DNS_CONFIG, STATUS]
    assert bodies(server, DNS_CONFIG) == [{'protection_enabled': False}]
    assert server.protection_enabled is False
    assert result['diff'] == {'before': {'protection_enabled': True}, 'after': {'protection_enabled': False}}
    server.read_only = True
    assert run(adguard_settings, server, args(protection_enabled=False))['changed'] is False


def test_protection_is_not_sent_to_dns_config_when_the_endpoint_fails_otherwise(run):
    server = FakeAdGuard()
    server.fail(403, method='POST', path='/control/protection')
    result = run(adguard_settings, server, args(protection_enabled=False))
    assert result['failed'] is True
    assert 'HTTP 403' in result['msg'] and 'switching protection off' in result['msg']
    assert DNS_CONFIG not in server.calls()
    assert server.protection_enabled is True
    assert result['changes'] == [{'setting': 'protection_enabled', 'before': True, 'after': False}]


def test_wrong_credentials_fail_on_the_first_request_without_retry(run):
    server = FakeAdGuard(password='other')
    result = run(adguard_settings, server, args(protection_enabled=False, upstream_mode='parallel'))
    assert result['failed'] is True
    assert '401' in result['msg'] and '15 minutes' in result['msg']
    assert server.calls() == [STATUS]
    assert server.failed_auth == 1 and run.sleeps == []
    assert server.protection_enabled is True


def test_server_not_set_up_yet_is_explained(run):
    server = FakeAdGuard(setup_done=False)
    result = run(adguard_settings, server, args(protection_enabled=False))
    assert result['failed'] is True and 'not set up yet' in result['msg']
    assert server.calls() == [STATUS]


@pytest.mark.parametrize('name', sorted(CHANGE))
def test_a_server_that_does_not_hold_what_was_written_fails(run, name):
    value, write, _body = CHANGE[name]
    server = FakeAdGuard(ignored=[name])
    result = run(adguard_settings, server, args(**{name: value}))
    assert result['failed'] is True
    assert result['msg'] == 'AdGuard Home does not hold what was written: {0} is {1!r}, want {2!r}'.format(
        name, CURRENT[name], value)
    assert result['differences'] == ['{0} is {1!r}, want {2!r}'.format(name, CURRENT[name], value)]
    assert result['changes'] == [{'setting': name, 'before': CURRENT[name], 'after': value}]
    assert server.calls().count(write) == 1


def test_a_value_the_server_refuses_fails_with_its_message(run):
    server = FakeAdGuard()
    result = run(adguard_settings, server, args(bootstrap_dns=['dns.example.test']))
    assert result['failed'] is True
    assert 'HTTP 400' in result['msg'] and 'not a plain ip address' in result['msg']
    assert result['status'] == 400
    assert server.dns['bootstrap_dns'] == ['127.0.0.1']
    # Refused writes are not retried.
    assert server.calls() == [STATUS, DNS_INFO, DNS_CONFIG]


def test_at_least_one_setting_is_required(run):
    server = FakeAdGuard()
    result = run(adguard_settings, server, args())
    assert result['failed'] is True and 'one of the following is required' in result['msg']
    assert server.requests == []


def test_an_answer_that_is_not_json_fails_cleanly_with_nothing_written(run):
    # A proxy or captive portal in front of the server answers HTML with status 200.
    server = FakeAdGuard()
    real_handle = server.handle

    def html_for_dns_info(request):
        if request.path == '/control/dns_info':
            return 200, {'Content-Type': 'text/html'}, b'<html>portal</html>'
        return real_handle(request)

    server.handle = html_for_dns_info
    result = run(adguard_settings, server, args(upstream_mode='parallel', protection_enabled=False))
    assert result['failed'] is True and result['rc'] == 1
    assert 'Invalid JSON in the answer to GET http://agh.test/control/dns_info' in result['msg']
    assert server.writes() == []


# --- nxdomain_names (issue 13: the canaries answered also with protection off) ---------------------------------

RULE = '||{0}^$dnsrewrite=NXDOMAIN;;'


def test_nxdomain_names_keep_other_rules_and_sync_within_the_scope(run):
    server = FakeAdGuard(user_rules=['||ads.example^', RULE.format('old.example'), RULE.format('mask.icloud.com'),
                                     RULE.format('theirs.example')])
    wanted = args(nxdomain_names=['MASK.icloud.com', 'mask-h2.icloud.com'],
                  nxdomain_names_scope=['mask.icloud.com', 'mask-h2.icloud.com', 'old.example'])
    server.read_only = True
    predicted = run(adguard_settings, server, wanted, check=True, diff=True)
    server.read_only = False
    real = run(adguard_settings, server, wanted, diff=True)
    assert predicted['changes'] == real['changes'] == [{
        'setting': 'nxdomain_names', 'before': ['mask.icloud.com', 'old.example'], 'after': ['mask-h2.icloud.com', 'mask.icloud.com']}]
    assert predicted['diff'] == real['diff']
    # old.example is in the scope and not wanted: removed; theirs.example is outside the scope: kept.
    assert server.user_rules == ['||ads.example^', RULE.format('mask.icloud.com'), RULE.format('theirs.example'),
                                 RULE.format('mask-h2.icloud.com')]
    assert bodies(server, SET_RULES) == [{'rules': server.user_rules}]
    server.read_only = True
    again = run(adguard_settings, server, wanted)
    assert again['changed'] is False and again['settings'] == {'nxdomain_names': ['mask-h2.icloud.com', 'mask.icloud.com']}


def test_nxdomain_names_empty_removes_the_rules_in_the_scope(run):
    server = FakeAdGuard(user_rules=[RULE.format('mask.icloud.com'), '@@||example.org^'])
    result = run(adguard_settings, server, args(nxdomain_names=[], nxdomain_names_scope=['mask.icloud.com']))
    assert result['changed'] is True and server.user_rules == ['@@||example.org^']


def test_nxdomain_names_are_checked_before_any_request(run):
    server = FakeAdGuard()
    result = run(adguard_settings, server, args(nxdomain_names=['bad name'], nxdomain_names_scope=['x..y']))
    assert result['failed'] is True and 'nxdomain_names[0]' in result['msg'] and 'nxdomain_names_scope[0]' in result['msg']
    assert server.requests == []
