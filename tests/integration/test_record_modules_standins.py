# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""adguard_rewrite and pihole_dns_record run by real ansible-playbook against the stand-ins.

Four steps per module, as the model collections do it: check mode -> real run -> check
mode again -> real run again. After each step the server state is read back over HTTP
(not through the modules) and the names are resolved with real DNS queries to the
stand-in; the check-mode result must equal the real result.

The stand-ins (tests/standins, fixtures in tests/conftest.py) are NOT the real servers;
they follow /work/shared/CONTRACTS.md.
"""

import json
import os
import subprocess
import sys

import pytest
from natloop_standins.fixtures import ADGUARD_PASSWORD, ADGUARD_USER, adguard_config
from natloop_standins.testclient import addresses, answers, basic_auth, http_request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
PREDICTED = ('changed', 'created', 'updated', 'deleted', 'changes', 'diff')


def run_playbook(tmp_path, name, play, check=False, env=None):
    """Write ``play`` (a dict) as a playbook, run it, return the registered module result."""
    result_file = tmp_path / (name + '.json')
    play = dict(play)
    play['tasks'] = play['tasks'] + [{
        'name': 'Save the module result',
        'ansible.builtin.copy': {'content': '{{ __result | to_json }}', 'dest': str(result_file), 'mode': '0600'},
        'check_mode': False,
    }]
    playbook = tmp_path / (name + '.yml')
    playbook.write_text(json.dumps([play], indent=2), encoding='utf-8')
    full_env = dict(os.environ)
    full_env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.collections'),
        'ANSIBLE_GALAXY_SERVER': 'http://127.0.0.1:9',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_PIPELINING': '1',
    })
    full_env.update(env or {})
    command = [ANSIBLE_PLAYBOOK, '-i', 'localhost,', '-c', 'local', '--diff',
               '-e', 'ansible_python_interpreter=' + sys.executable, str(playbook)]
    if check:
        command.append('--check')
    completed = subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(result_file.read_text(encoding='utf-8'))
    result['_output'] = completed.stdout + completed.stderr
    return result


def predicted_part(result):
    return dict((key, result[key]) for key in PREDICTED)


def four_steps(tmp_path, name, play, read_state, env=None):
    """check -> apply -> check -> apply; return (states after each step, results)."""
    before = read_state()
    check = run_playbook(tmp_path, name + '-1-check', play, check=True, env=env)
    assert check['changed'] is True
    assert read_state() == before, 'check mode changed the server'
    apply = run_playbook(tmp_path, name + '-2-apply', play, env=env)
    assert predicted_part(apply) == predicted_part(check)
    after = read_state()
    assert after != before
    check_again = run_playbook(tmp_path, name + '-3-check', play, check=True, env=env)
    apply_again = run_playbook(tmp_path, name + '-4-apply', play, env=env)
    for result in (check_again, apply_again):
        assert result['changed'] is False
        assert result['changes'] == []
        assert (result['created'], result['updated'], result['deleted']) == (0, 0, 0)
    assert read_state() == after
    return after, (check, apply, check_again, apply_again)


# ------------------------------------------------------------------------------------------------
# AdGuard Home


def adguard_rewrites(handle):
    reply = http_request('GET', handle.base_url + '/control/rewrite/list',
                         headers={'Authorization': basic_auth(ADGUARD_USER, ADGUARD_PASSWORD)})
    assert reply.status == 200, reply
    return sorted((entry['domain'], entry['answer'], entry.get('enabled', True)) for entry in reply.json())


def test_adguard_rewrite_four_steps(tmp_path, adguard_standin_factory, upstream_dns):
    start = [
        {'domain': 'other.lan', 'answer': '10.0.0.9', 'enabled': True},             # outside the scope
        {'domain': 'old.example.test', 'answer': '10.0.0.5', 'enabled': True},      # in scope, unlisted
        {'domain': 'nas.example.test', 'answer': '192.168.11.20', 'enabled': True},  # listed, stored twice
        {'domain': 'nas.example.test', 'answer': '192.168.11.20', 'enabled': True},
        {'domain': 'off.example.test', 'answer': '192.168.11.21', 'enabled': True},  # to be disabled
    ]
    handle = adguard_standin_factory(config=adguard_config(upstream_dns, rewrites=start))
    play = {
        'name': 'AdGuard Home rewrites',
        'hosts': 'localhost',
        'gather_facts': False,
        'module_defaults': {'group/natloop.lan.adguard': {
            'url': handle.base_url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD}},
        'tasks': [{
            'name': 'Manage the rewrites',
            'natloop.lan.adguard_rewrite': {
                'rewrites': [
                    {'domain': 'nas.example.test', 'answer': '192.168.11.20'},
                    {'domain': 'NAS.example.test', 'answer': 'fd00:11::20'},
                    {'domain': 'www.example.test', 'answer': 'nas.example.test'},
                    {'domain': 'off.example.test', 'answer': '192.168.11.21', 'enabled': False},
                ],
                'purge': True,
                'purge_scope': ['*.example.test'],
            },
            'register': '__result',
        }],
    }
    after, results = four_steps(tmp_path, 'adguard', play, lambda: adguard_rewrites(handle))

    assert after == [
        ('nas.example.test', '192.168.11.20', True),
        ('nas.example.test', 'fd00:11::20', True),
        ('off.example.test', '192.168.11.21', False),
        ('other.lan', '10.0.0.9', True),
        ('www.example.test', 'nas.example.test', True),
    ]
    check, apply = results[0], results[1]
    assert (apply['created'], apply['updated'], apply['deleted']) == (2, 2, 1)
    assert [r['domain'] for r in apply['diff']['before']['rewrites']] == [
        'nas.example.test', 'nas.example.test', 'off.example.test', 'old.example.test']
    assert apply['rewrites'] == check['rewrites']

    # What DNS clients see now.
    assert addresses(handle.query('nas.example.test', 'A')) == ['192.168.11.20']
    assert addresses(handle.query('nas.example.test', 'AAAA'), 'AAAA') == ['fd00:11::20']
    www = answers(handle.query('www.example.test', 'A'))
    assert ('www.example.test', 'CNAME', 'nas.example.test.') in www
    assert ('nas.example.test', 'A', '192.168.11.20') in www
    assert addresses(handle.query('other.lan', 'A')) == ['10.0.0.9']
    assert addresses(handle.query('off.example.test', 'A')) == []
    assert addresses(handle.query('old.example.test', 'A')) == []


def test_adguard_rewrite_bad_input_changes_nothing(tmp_path, adguard_standin):
    play = {
        'name': 'Bad input', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{
            'name': 'One bad item among good ones',
            'natloop.lan.adguard_rewrite': {
                'url': adguard_standin.base_url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD,
                'rewrites': [{'domain': 'ok.example.test', 'answer': '10.0.0.1'},
                             {'domain': 'bad..example.test', 'answer': '10.0.0.2'}],
            },
            'register': '__result', 'ignore_errors': True,
        }],
    }
    result = run_playbook(tmp_path, 'adguard-bad', play)
    assert result['failed'] is True and 'rewrites[1]' in result['msg']
    assert adguard_rewrites(adguard_standin) == []


def test_adguard_rewrite_on_a_server_without_enabled_flag(tmp_path, adguard_standin_factory):
    handle = adguard_standin_factory(emulate_version='v0.107.60')
    play = {
        'name': 'Old AdGuard Home', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{
            'name': 'A disabled rewrite on a server that cannot disable',
            'natloop.lan.adguard_rewrite': {
                'url': handle.base_url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD,
                'rewrites': [{'domain': 'nas.example.test', 'answer': '192.168.11.20', 'enabled': False}],
            },
            'register': '__result',
        }],
    }
    first = run_playbook(tmp_path, 'adguard-old-1', play)
    assert first['created'] == 1
    assert 'no per-rewrite enabled flag' in first['_output']
    assert adguard_rewrites(handle) == [('nas.example.test', '192.168.11.20', True)]
    assert addresses(handle.query('nas.example.test', 'A')) == ['192.168.11.20']
    second = run_playbook(tmp_path, 'adguard-old-2', play)
    assert second['changed'] is False


# ------------------------------------------------------------------------------------------------
# Pi-hole


def pihole_lists(handle):
    """Both lists as Pi-hole returns them over HTTP (own session, logged out again)."""
    login = http_request('POST', handle.base_url + '/api/auth', json_body={'password': handle.password})
    assert login.status == 200, login
    sid = login.json()['session']['sid']
    try:
        reply = http_request('GET', handle.base_url + '/api/config/dns', headers={'X-FTL-SID': sid})
        assert reply.status == 200, reply
        dns = reply.json()['config']['dns']
        return {'hosts': dns['hosts'], 'cnameRecords': dns['cnameRecords']}
    finally:
        http_request('DELETE', handle.base_url + '/api/auth', headers={'X-FTL-SID': sid})


PIHOLE_TOML = """
[dns]
  hosts = [
    "10.0.0.9 other.lan",
    "10.0.0.5 old.example.test keep.other.lan",
    "192.168.11.20 nas.example.test",
    "192.168.11.20 NAS.example.test"
  ]
  cnameRecords = [
    "foreign.lan,other.lan",
    "www.example.test,nas.example.test,60"
  ]
"""


@pytest.mark.parametrize('with_cname_change', [True, False])
def test_pihole_dns_record_four_steps(tmp_path, pihole_standin_factory, with_cname_change):
    handle = pihole_standin_factory(toml=PIHOLE_TOML)
    records = [
        {'domain': 'nas.example.test', 'answer': '192.168.11.20'},
        {'domain': 'nas.example.test', 'answer': 'fd00:11::20'},
        {'domain': 'www.example.test', 'answer': 'nas.example.test', 'ttl': 300 if with_cname_change else 60},
    ]
    play = {
        'name': 'Pi-hole local DNS records',
        'hosts': 'localhost',
        'gather_facts': False,
        'tasks': [{
            'name': 'Manage the records',
            'natloop.lan.pihole_dns_record': {'records': records, 'purge': True, 'purge_scope': ['*.example.test'],
                                              # The stand-in reports dns.port 53 but listens elsewhere.
                                              'dns_address': '127.0.0.1:{0}'.format(handle.dns_port)},
            'register': '__result',
        }],
    }
    # Connection options from the environment this time.
    env = {'NATLOOP_PIHOLE_URL': handle.base_url, 'NATLOOP_PIHOLE_PASSWORD': handle.password}
    restarts_before = handle.server.restart_count
    after, results = four_steps(tmp_path, 'pihole', play, lambda: pihole_lists(handle), env=env)
    handle.server.wait_ready(5)

    assert after['hosts'] == [
        '10.0.0.9 other.lan',
        '10.0.0.5 keep.other.lan',
        '192.168.11.20 nas.example.test',
        'fd00:11::20 nas.example.test',
    ]
    assert after['cnameRecords'] == (
        ['foreign.lan,other.lan', 'www.example.test,nas.example.test,300'] if with_cname_change
        else ['foreign.lan,other.lan', 'www.example.test,nas.example.test,60'])
    apply = results[1]
    assert (apply['created'], apply['updated'], apply['deleted']) == (1, 2 if with_cname_change else 1, 1)
    # FTL restarts once for a CNAME change, never for hosts-only changes.
    assert handle.server.restart_count - restarts_before == (1 if with_cname_change else 0)
    # Every run logged out: no seat is left taken.
    assert handle.server.sessions() == []

    assert addresses(handle.query('nas.example.test', 'A')) == ['192.168.11.20']
    assert addresses(handle.query('nas.example.test', 'AAAA'), 'AAAA') == ['fd00:11::20']
    assert ('www.example.test', 'CNAME', 'nas.example.test.') in answers(handle.query('www.example.test', 'A'))
    assert addresses(handle.query('keep.other.lan', 'A')) == ['10.0.0.5']
    assert addresses(handle.query('old.example.test', 'A')) == []


def test_pihole_env_forced_hosts_fail_clearly_and_log_out(tmp_path, pihole_standin_factory):
    handle = pihole_standin_factory(env={'FTLCONF_dns_hosts': '10.0.0.1 forced.lan'})
    play = {
        'name': 'Env-forced hosts', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{
            'name': 'Try to add a record',
            'natloop.lan.pihole_dns_record': {
                'url': handle.base_url, 'password': handle.password,
                'records': [{'domain': 'a.example.test', 'answer': '10.0.0.2'}],
            },
            'register': '__result', 'ignore_errors': True,
        }],
    }
    result = run_playbook(tmp_path, 'pihole-env', play)
    assert result['failed'] is True and 'FTLCONF_dns_hosts' in result['msg']
    assert pihole_lists(handle)['hosts'] == ['10.0.0.1 forced.lan']
    assert handle.server.sessions() == []
