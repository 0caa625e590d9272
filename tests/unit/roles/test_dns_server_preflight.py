# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.adguard_home and natloop.lan.pihole before they touch anything: argument specs,
preflight rules across variables, and the plan (addresses, published ports, records, the
answers to check) that natloop.lan._dns_server works out for both.

Only the steps tagged ``always`` run here (``--tags`` of a tag nothing else has), so nothing
needs Docker; the lab scenarios run the rest.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from test_dns_server_ports import failure, run_playbook

SERVICES = [{'name': 'rustdesk', 'domain': 'rustdesk.example.com', 'lan_ipv4': '192.168.11.20',
             'lan_ipv6': 'fd00:11::20', 'public_ip': '198.51.100.1', 'ports': [{'proto': 'tcp', 'port': 21115}]},
            {'name': 'nas', 'domain': 'nas.example.com', 'lan_ipv4': '192.168.11.30', 'ports': [{'proto': 'tcp', 'port': 445}]}]

ADGUARD = {'adguard_home_admin_password': 'natloop-unit-1', 'adguard_home_services': SERVICES,
           'adguard_home_listen_addresses': ['192.168.11.20']}
PIHOLE = {'pihole_admin_password': 'natloop-unit-1', 'pihole_services': SERVICES,
          'pihole_listen_addresses': ['192.168.11.20']}


def run_role(tmp_path, role, role_vars):
    playbook = '- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: natloop.lan.%s\n' % role
    return run_playbook(tmp_path, playbook, role_vars, tags='natloop_unit_preflight_only')


def plan_of(run):
    return run.result('Work out the addresses, port bindings and records')['ansible_facts']['__dns_server_plan']


def test_adguard_plan(tmp_path):
    role_vars = dict(ADGUARD, adguard_home_listen_addresses=['192.168.11.20', 'fd00:11::20'],
                     adguard_home_web_port=8080, adguard_home_purge_scope=['*.lan'],
                     adguard_home_extra_rewrites=[{'domain': 'www.example.com', 'answer': 'rustdesk.example.com'},
                                                  {'domain': 'old.example.com', 'answer': '192.168.11.99', 'enabled': False}])
    run = run_role(tmp_path, 'adguard_home', role_vars)
    assert run.rc == 0, run
    assert run.changed == 0
    plan = plan_of(run)
    assert plan['published_ports'] == [
        '192.168.11.20:53:53/tcp', '192.168.11.20:53:53/udp', '192.168.11.20:8080:80/tcp',
        '[fd00:11::20]:53:53/tcp', '[fd00:11::20]:53:53/udp', '[fd00:11::20]:8080:80/tcp',
        # The install wizard only on the host's loopback.
        '127.0.0.1:3000:3000/tcp']
    assert plan['records'] == [
        {'domain': 'rustdesk.example.com', 'answer': '192.168.11.20'},
        {'domain': 'rustdesk.example.com', 'answer': 'fd00:11::20'},
        {'domain': 'nas.example.com', 'answer': '192.168.11.30'},
        {'domain': 'www.example.com', 'answer': 'rustdesk.example.com'},
        {'domain': 'old.example.com', 'answer': '192.168.11.99', 'enabled': False}]
    assert plan['purge_scope'] == ['rustdesk.example.com', 'nas.example.com', 'www.example.com', 'old.example.com',
                                   '*.lan']
    # CNAMEs and disabled rewrites are not checked with a DNS query.
    assert plan['expected_answers'] == [
        {'name': 'rustdesk.example.com', 'type': 'A', 'answer': '192.168.11.20'},
        {'name': 'rustdesk.example.com', 'type': 'AAAA', 'answer': 'fd00:11::20'},
        {'name': 'nas.example.com', 'type': 'A', 'answer': '192.168.11.30'}]
    assert plan['local_addresses'] == ['192.168.11.20', 'fd00:11::20']


def test_pihole_plan_wildcard_listen_other_dns_port_no_ipv6(tmp_path):
    role_vars = dict(PIHOLE, pihole_listen_addresses=['0.0.0.0'], pihole_ipv6_records=False, pihole_dns_port=5353)
    run = run_role(tmp_path, 'pihole', role_vars)
    assert run.rc == 0, run
    plan = plan_of(run)
    assert plan['published_ports'] == ['0.0.0.0:5353:53/tcp', '0.0.0.0:5353:53/udp', '0.0.0.0:80:80/tcp']
    # The host reaches a wildcard listener on loopback.
    assert plan['local_addresses'] == ['127.0.0.1']
    assert [record['answer'] for record in plan['records']] == ['192.168.11.20', '192.168.11.30']


def test_default_listen_address_comes_from_facts(tmp_path):
    role_vars = dict(PIHOLE, pihole_listen_addresses=[])
    run = run_role(tmp_path, 'pihole', role_vars)
    facts = run.result('Gather the facts the roles use')['ansible_facts']
    if 'ansible_default_ipv4' not in facts or not facts['ansible_default_ipv4'].get('address'):
        pytest.skip('this machine has no default IPv4 route')
    assert run.rc == 0, run
    assert plan_of(run)['listen_addresses'] == [facts['ansible_default_ipv4']['address']]


@pytest.mark.parametrize('role, bad, message', [
    ('adguard_home', {'adguard_home_admin_password': 'short'}, 'at least 8 characters'),
    ('adguard_home', {'adguard_home_web_port': 53}, 'must be three different ports'),
    ('adguard_home', {'adguard_home_setup_port': 80}, 'must be three different ports'),
    ('pihole', {'pihole_dns_port': 80}, 'must differ from pihole_dns_port'),
    ('adguard_home', {'adguard_home_image_digest': 'latest'}, 'sha256:<64 hex digits>'),
    ('adguard_home', {'adguard_home_upstream_dns': []}, 'at least one resolver'),
    ('adguard_home', {'adguard_home_upstream_mode': 'random'}, 'adguard_home_upstream_mode'),
    ('adguard_home', {'adguard_home_extra_rewrites': [{'domain': 'x.example.com'}]}, 'needs domain and answer'),
    ('adguard_home', {'adguard_home_services': [{'name': 'x', 'domain': 'x.example.com', 'lan_ipv4': 'eth0'}]},
     'lan_ipv4'),
    ('adguard_home', {'adguard_home_listen_addresses': ['eth0']}, 'adguard_home_listen_addresses must be distinct IP'),
    ('pihole', {'pihole_admin_password': ''}, 'Set pihole_admin_password'),
    ('pihole', {'pihole_env': {'FTLCONF_dns_hosts': '192.168.11.20 x.lan'}}, 'locked against the API'),
    ('pihole', {'pihole_env': {'ftlconf_DNS_cnameRecords': 'a.lan,b.lan'}}, 'ftlconf_dns_cnamerecords'),
    ('pihole', {'pihole_env': {'WEBPASSWORD_FILE': 'x'}}, 'pihole_admin_password'),
    ('pihole', {'pihole_extra_records': [{'domain': '*.example.com', 'answer': '192.168.11.20'}]}, 'no wildcard'),
    ('pihole', {'pihole_listening_mode': 'EVERYWHERE'}, 'pihole_listening_mode'),
    ('pihole', {'pihole_listen_addresses': ['192.168.11.20', '192.168.11.20']}, 'must be distinct IP addresses'),
])
def test_bad_settings_stop_before_anything_is_done(tmp_path, role, bad, message):
    role_vars = dict(ADGUARD if role == 'adguard_home' else PIHOLE)
    role_vars.update(bad)
    run = run_role(tmp_path, role, role_vars)
    assert run.rc != 0
    assert message in failure(run), failure(run)
    assert run.changed == 0
