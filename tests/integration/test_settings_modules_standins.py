# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""adguard_settings and pihole_settings run by real ansible-playbook against the stand-ins.

Four steps per module: check mode -> real run -> check mode again -> real run again. After
each step the settings are read back over HTTP (not through the modules); the check-mode
result must equal the real result. Real DNS queries to the stand-in then show what clients
get: the rewrite answers, the name on the block list is no longer blocked.

The only upstream DNS server any stand-in here is given is 127.0.0.1:9, where nothing answers:
a name that is not blocked and has no local answer is forwarded there and gets SERVFAIL.

The stand-ins (tests/standins, fixtures in tests/conftest.py) are NOT the real servers;
they follow /work/shared/CONTRACTS.md.
"""

import dns.rcode
import pytest
from natloop_standins.fixtures import ADGUARD_PASSWORD, ADGUARD_USER, adguard_config
from natloop_standins.testclient import addresses, basic_auth, http_request
from test_record_modules_standins import run_playbook

DEAD_UPSTREAM = '127.0.0.1:9'
BLOCKED = 'ads.natloop.test'    # on the AdGuard Home stand-in's emulated filter list
# Pi-hole blocks nothing without gravity or a deny entry, and never forwards .test (RFC 6761):
# its test puts a forwardable name on the deny list through the API first.
PIHOLE_BLOCKED = 'ads.example.com'
PREDICTED = ('changed', 'changes', 'settings', 'diff')


def predicted_part(result):
    return dict((key, result[key]) for key in PREDICTED)


def four_steps(tmp_path, name, play, read_state):
    """check -> apply -> check -> apply; return (state before, state after, results)."""
    before = read_state()
    check = run_playbook(tmp_path, name + '-1-check', play, check=True)
    assert check['changed'] is True
    assert read_state() == before, 'check mode changed the server'
    apply = run_playbook(tmp_path, name + '-2-apply', play)
    assert predicted_part(apply) == predicted_part(check)
    after = read_state()
    assert after != before
    check_again = run_playbook(tmp_path, name + '-3-check', play, check=True)
    apply_again = run_playbook(tmp_path, name + '-4-apply', play)
    for result in (check_again, apply_again):
        assert result['changed'] is False
        assert result['changes'] == []
        assert result['settings'] == apply['settings']
    assert read_state() == after
    return before, after, (check, apply, check_again, apply_again)


def not_blocked(response):
    """Forwarded to the dead upstream (SERVFAIL), not answered with the blocking address."""
    return response.rcode() == dns.rcode.SERVFAIL and addresses(response) == []


# ------------------------------------------------------------------------------------------------
# AdGuard Home


def adguard_call(handle, method, path, body=None):
    reply = http_request(method, handle.base_url + path, json_body=body,
                         headers={'Authorization': basic_auth(ADGUARD_USER, ADGUARD_PASSWORD)})
    assert reply.status == 200, reply
    return reply.json() if reply.header('Content-Type') == 'application/json' else None


def adguard_state(handle, rewrite_settings=True):
    """The settings as AdGuard Home reports them over HTTP."""
    status = adguard_call(handle, 'GET', '/control/status')
    info = adguard_call(handle, 'GET', '/control/dns_info')
    filtering = adguard_call(handle, 'GET', '/control/filtering/status')
    state = {
        'upstream_dns': info['upstream_dns'],
        'bootstrap_dns': info['bootstrap_dns'],
        'upstream_mode': info['upstream_mode'],
        'filtering_enabled': filtering['enabled'],
        'filtering_interval': filtering['interval'],
        'protection_enabled': status['protection_enabled'],
        'protection_disabled_duration': status['protection_disabled_duration'],
    }
    if rewrite_settings:
        state['rewrites_enabled'] = adguard_call(handle, 'GET', '/control/rewrite/settings')['enabled']
    return state


def adguard_handle(factory, upstream_dns, emulate_version=None, **filtering):
    config = adguard_config(upstream_dns, rewrites=[{'domain': 'nas.example.test', 'answer': '192.168.11.20',
                                                     'enabled': True}], **filtering)
    config['dns']['upstream_dns'] = ['udp://' + DEAD_UPSTREAM]
    return factory(config=config, emulate_version=emulate_version)


def adguard_play(handle, **settings):
    return {
        'name': 'AdGuard Home settings',
        'hosts': 'localhost',
        'gather_facts': False,
        'module_defaults': {'group/natloop.lan.adguard': {
            'url': handle.base_url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD}},
        'tasks': [{'name': 'Set the settings', 'natloop.lan.adguard_settings': settings, 'register': '__result'}],
    }


WANTED_UPSTREAMS = [DEAD_UPSTREAM, 'tcp://' + DEAD_UPSTREAM, '[/lan/]' + DEAD_UPSTREAM]


def test_adguard_settings_four_steps(tmp_path, adguard_standin_factory, upstream_dns):
    handle = adguard_handle(adguard_standin_factory, upstream_dns, filtering_enabled=False, rewrites_enabled=False)
    # A timed pause of protection: 300 s left (the stand-in's clock stands still until advanced).
    adguard_call(handle, 'POST', '/control/protection', {'enabled': False, 'duration': 300000})
    play = adguard_play(handle, upstream_dns=WANTED_UPSTREAMS, filtering_enabled=True, rewrites_enabled=True,
                        protection_enabled=False)
    before, after, results = four_steps(tmp_path, 'adguard', play, lambda: adguard_state(handle))

    assert before == {
        'upstream_dns': ['udp://127.0.0.1:9'], 'bootstrap_dns': ['127.0.0.1'], 'upstream_mode': 'load_balance',
        'filtering_enabled': False, 'filtering_interval': 24, 'protection_enabled': False,
        'protection_disabled_duration': 300000, 'rewrites_enabled': False,
    }
    assert after == {
        'upstream_dns': WANTED_UPSTREAMS, 'bootstrap_dns': ['127.0.0.1'], 'upstream_mode': 'load_balance',
        'filtering_enabled': True, 'filtering_interval': 24, 'protection_enabled': False,
        'protection_disabled_duration': 0, 'rewrites_enabled': True,
    }
    check, apply = results[0], results[1]
    assert apply['changes'] == [
        {'setting': 'upstream_dns', 'before': ['udp://127.0.0.1:9'], 'after': WANTED_UPSTREAMS},
        {'setting': 'filtering_enabled', 'before': False, 'after': True},
        {'setting': 'rewrites_enabled', 'before': False, 'after': True},
        {'setting': 'protection_enabled', 'before': 'paused for 300 more seconds', 'after': False},
    ]
    assert check['diff']['after'] == apply['settings'] == {
        'upstream_dns': WANTED_UPSTREAMS, 'filtering_enabled': True, 'rewrites_enabled': True,
        'protection_enabled': False}

    # The pause was made permanent: long after it would have ended, protection is still off.
    handle.clock.advance(3600)
    assert adguard_state(handle) == after

    # What DNS clients see: the rewrite answers, the name on the filter list is not blocked.
    assert addresses(handle.query('nas.example.test', 'A')) == ['192.168.11.20']
    assert not_blocked(handle.query(BLOCKED, 'A'))
    # Control: with protection on again, the same query is blocked.
    adguard_call(handle, 'POST', '/control/protection', {'enabled': True})
    assert addresses(handle.query(BLOCKED, 'A')) == ['0.0.0.0']


def test_adguard_protection_on_a_server_before_v0_107_28_goes_through_dns_config(
        tmp_path, adguard_standin_factory, upstream_dns):
    handle = adguard_handle(adguard_standin_factory, upstream_dns, emulate_version='0.107.27')
    play = adguard_play(handle, protection_enabled=False, rewrites_enabled=True)
    before, after, results = four_steps(tmp_path, 'adguard-old', play,
                                        lambda: adguard_state(handle, rewrite_settings=False))
    assert (before['protection_enabled'], after['protection_enabled']) == (True, False)
    assert dict(after, protection_enabled=True) == before
    assert results[1]['changes'] == [{'setting': 'protection_enabled', 'before': True, 'after': False}]
    assert results[1]['settings'] == {'protection_enabled': False, 'rewrites_enabled': True}
    assert addresses(handle.query('nas.example.test', 'A')) == ['192.168.11.20']
    assert not_blocked(handle.query(BLOCKED, 'A'))


@pytest.mark.parametrize('check', [True, False])
def test_adguard_rewrites_off_on_an_old_server_fails_and_writes_nothing(
        tmp_path, adguard_standin_factory, upstream_dns, check):
    handle = adguard_handle(adguard_standin_factory, upstream_dns, emulate_version='0.107.60')
    play = adguard_play(handle, upstream_dns=[DEAD_UPSTREAM], rewrites_enabled=False, protection_enabled=False)
    play['tasks'][0]['ignore_errors'] = True
    before = adguard_state(handle, rewrite_settings=False)
    result = run_playbook(tmp_path, 'adguard-old-rewrites', play, check=check)
    assert result['failed'] is True
    assert 'before v0.107.68' in result['msg'] and 'rewrites_enabled' in result['msg']
    assert adguard_state(handle, rewrite_settings=False) == before
    assert addresses(handle.query('nas.example.test', 'A')) == ['192.168.11.20']


# ------------------------------------------------------------------------------------------------
# Pi-hole


class PiholeSession(object):
    """A session of the test's own (not the module's), logged out again at the end."""

    def __init__(self, handle):
        self.handle = handle
        self.sid = None

    def __enter__(self):
        login = http_request('POST', self.handle.base_url + '/api/auth', json_body={'password': self.handle.password})
        assert login.status == 200, login
        self.sid = login.json()['session']['sid']
        return self

    def call(self, method, path, body=None, status=200):
        reply = http_request(method, self.handle.base_url + path, json_body=body, headers={'X-FTL-SID': self.sid})
        assert reply.status == status, reply
        return reply.json()

    def __exit__(self, *exc_info):
        http_request('DELETE', self.handle.base_url + '/api/auth', headers={'X-FTL-SID': self.sid})


def pihole_blocking(handle):
    with PiholeSession(handle) as session:
        reply = session.call('GET', '/api/dns/blocking')
    return {'blocking': reply['blocking'], 'timer': reply['timer']}


PIHOLE_TOML = """
[dns]
  hosts = [
    "192.168.11.20 nas.example.test"
  ]
"""


@pytest.mark.parametrize('start', ['enabled', 'paused'])
def test_pihole_settings_four_steps(tmp_path, pihole_standin_factory, start):
    handle = pihole_standin_factory(env={'FTLCONF_dns_upstreams': DEAD_UPSTREAM.replace(':', '#')}, toml=PIHOLE_TOML)
    with PiholeSession(handle) as session:
        session.call('POST', '/api/domains/deny/exact', {'domain': PIHOLE_BLOCKED}, status=201)
    if start == 'paused':
        with PiholeSession(handle) as session:
            session.call('POST', '/api/dns/blocking', {'blocking': False, 'timer': 300})
    else:
        assert addresses(handle.query(PIHOLE_BLOCKED, 'A')) == ['0.0.0.0']
    play = {
        'name': 'Pi-hole settings',
        'hosts': 'localhost',
        'gather_facts': False,
        'module_defaults': {'group/natloop.lan.pihole': {'url': handle.base_url, 'password': handle.password}},
        'tasks': [{'name': 'No blocking', 'natloop.lan.pihole_settings': {'blocking': False}, 'register': '__result'}],
    }
    before, after, results = four_steps(tmp_path, 'pihole', play, lambda: pihole_blocking(handle))

    assert before == ({'blocking': 'enabled', 'timer': None} if start == 'enabled'
                      else {'blocking': 'disabled', 'timer': 300.0})
    assert after == {'blocking': 'disabled', 'timer': None}
    assert results[1]['changes'] == [{'setting': 'blocking', 'after': False,
                                      'before': True if start == 'enabled' else 'disabled for 300 more seconds'}]
    assert results[1]['diff'] == {'before': {'blocking': results[1]['changes'][0]['before']},
                                  'after': {'blocking': False}}
    # Every run logged out: no seat is left taken.
    assert handle.server.sessions() == []

    # Permanent: long after a timer would have run out, blocking is still off.
    handle.clock.advance(3600)
    assert pihole_blocking(handle) == after
    # What DNS clients see: the denied name is forwarded (not blocked), the local record answers.
    assert not_blocked(handle.query(PIHOLE_BLOCKED, 'A'))
    assert addresses(handle.query('nas.example.test', 'A')) == ['192.168.11.20']
    # Control: with blocking on again, the same query is blocked.
    with PiholeSession(handle) as session:
        session.call('POST', '/api/dns/blocking', {'blocking': True})
    assert addresses(handle.query(PIHOLE_BLOCKED, 'A')) == ['0.0.0.0']
