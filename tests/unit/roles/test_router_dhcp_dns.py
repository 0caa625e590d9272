# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.router_dhcp_dns against a fake RouterOS API and a real dnsmasq --test.

The openwrt backend runs against the real uci and OpenWrt's dnsmasq options: test_openwrt_real.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import subprocess

import pytest

from conftest import have

ROLE = 'natloop.lan.router_dhcp_dns'
SERVERS = ['192.168.11.2', '192.168.11.3']

NETWORKS = [
    {'.id': '*1', 'address': '192.168.88.0/24', 'gateway': '192.168.88.1', 'dns-server': '192.168.88.1',
     'domain': 'lan', 'ntp-server': '192.168.88.1', 'comment': 'defconf'},
    {'.id': '*2', 'address': '10.0.0.0/24', 'gateway': '10.0.0.1', 'dns-server': '10.0.0.1'},
]


def routeros_vars(**extra):
    role_vars = {
        'router_dhcp_dns_backend': 'routeros',
        'router_dhcp_dns_servers': SERVERS,
        'router_dhcp_dns_routeros_network': '192.168.88.0/24',
        'router_dhcp_dns_routeros_api': {'hostname': 'router.test', 'username': 'admin', 'password': 'secret'},
    }
    role_vars.update(extra)
    return role_vars


def test_routeros_check_run_rerun_absent(runner):
    runner.use_fake_routeros({'ip/dhcp-server/network': copy.deepcopy(NETWORKS)})

    # Read-only fake: any write in check mode would fail the run.
    check = runner.run(ROLE, routeros_vars(), check=True, read_only=True)
    assert check.rc == 0, check
    assert check.changed == 1
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == NETWORKS

    run = runner.run(ROLE, routeros_vars())
    assert run.rc == 0, run
    assert run.changed == 1
    want = copy.deepcopy(NETWORKS)
    want[0]['dns-server'] = '192.168.11.2,192.168.11.3'
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == want
    assert [entry[0] for entry in runner.routeros()['log']] == ['update']

    again = runner.run(ROLE, routeros_vars(), read_only=True)
    assert again.rc == 0, again
    assert again.changed == 0

    absent = runner.run(ROLE, routeros_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    del want[0]['dns-server']
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == want

    absent_again = runner.run(ROLE, routeros_vars(router_dhcp_dns_state='absent'), read_only=True)
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again


def test_routeros_unknown_network_fails_without_writing(runner):
    runner.use_fake_routeros({'ip/dhcp-server/network': copy.deepcopy(NETWORKS)})
    run = runner.run(ROLE, routeros_vars(router_dhcp_dns_routeros_network='192.168.99.0/24'), read_only=True)
    assert run.rc != 0
    assert any('Found no entries' in (msg or '') for msg in run.failed_msg), run


def test_routeros_uses_the_configured_credentials(runner):
    runner.use_fake_routeros({'ip/dhcp-server/network': copy.deepcopy(NETWORKS)})
    api = {'hostname': 'router.test', 'username': 'admin', 'password': 'wrong'}
    run = runner.run(ROLE, routeros_vars(router_dhcp_dns_routeros_api=api), read_only=True)
    assert run.rc != 0
    assert any('invalid user name or password' in (msg or '') for msg in run.failed_msg), run


needs_dnsmasq = pytest.mark.skipif(not have('dnsmasq'), reason='dnsmasq is not installed (apt-get install dnsmasq-base)')


def dnsmasq_vars(tmp, **extra):
    role_vars = {
        'router_dhcp_dns_backend': 'linux_dnsmasq',
        'router_dhcp_dns_servers': SERVERS,
        'router_dhcp_dns_dnsmasq_conf_dir': os.path.join(tmp, 'dnsmasq.d'),
        'router_dhcp_dns_dnsmasq_other_configs': [os.path.join(tmp, 'dnsmasq.conf')],
        'router_dhcp_dns_dnsmasq_restart_command': ['sh', '-c', 'echo restart >> %s' % os.path.join(tmp, 'restarts.log')],
    }
    role_vars.update(extra)
    return role_vars


def read(path):
    with open(path) as handle:
        return handle.read()


@needs_dnsmasq
def test_dnsmasq_dropin_check_run_rerun_absent(runner, tmp_path):
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    neighbour = os.path.join(tmp, 'dnsmasq.d', 'lan.conf')
    with open(neighbour, 'w') as handle:
        handle.write('dhcp-range=192.168.11.100,192.168.11.200,12h\n')
    with open(os.path.join(tmp, 'dnsmasq.conf'), 'w') as handle:
        handle.write('# main config\n')
    dropin = os.path.join(tmp, 'dnsmasq.d', '00-natloop-dhcp-dns.conf')
    restarts = os.path.join(tmp, 'restarts.log')

    check = runner.run(ROLE, dnsmasq_vars(tmp), check=True)
    assert check.rc == 0, check
    assert check.changed == 1
    assert not os.path.exists(dropin) and not os.path.exists(restarts)

    run = runner.run(ROLE, dnsmasq_vars(tmp))
    assert run.rc == 0, run
    assert 'dhcp-option=option:dns-server,192.168.11.2,192.168.11.3\n' in read(dropin)
    assert read(restarts) == 'restart\n'
    assert read(neighbour) == 'dhcp-range=192.168.11.100,192.168.11.200,12h\n'
    # dnsmasq accepts the whole directory as it will read it at start.
    subprocess.run(['dnsmasq', '--test', '--conf-file=/dev/null', '--conf-dir=' + os.path.join(tmp, 'dnsmasq.d')],
                   check=True, capture_output=True)

    again = runner.run(ROLE, dnsmasq_vars(tmp))
    assert again.rc == 0 and again.changed == 0, again
    assert read(restarts) == 'restart\n'

    absent = runner.run(ROLE, dnsmasq_vars(tmp, router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    assert not os.path.exists(dropin)
    assert read(restarts) == 'restart\nrestart\n'
    assert sorted(os.listdir(os.path.join(tmp, 'dnsmasq.d'))) == ['lan.conf']


@needs_dnsmasq
def test_dnsmasq_validation_keeps_a_broken_dropin_out(runner, tmp_path):
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    # An unknown option name makes the line unparsable for dnsmasq: validate must refuse it.
    run = runner.run(ROLE, dnsmasq_vars(tmp, router_dhcp_dns_dnsmasq_tag='lan,option:not-an-option'))
    assert run.rc != 0
    assert any('failed to validate' in (msg or '') for msg in run.failed_msg), run
    assert os.listdir(os.path.join(tmp, 'dnsmasq.d')) == []
    assert not os.path.exists(os.path.join(tmp, 'restarts.log'))


@needs_dnsmasq
def test_dnsmasq_warns_about_a_competing_option_6(runner, tmp_path):
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    with open(os.path.join(tmp, 'dnsmasq.conf'), 'w') as handle:
        handle.write('# dhcp-option=6,1.1.1.1 (commented out: fine)\ndhcp-option=6,192.168.11.1\n')
    run = runner.run(ROLE, dnsmasq_vars(tmp))
    assert run.rc == 0, run
    competing = [w for w in run.warnings if 'Other dnsmasq configuration' in w]
    assert len(competing) == 1 and 'dnsmasq.conf:2:dhcp-option=6,192.168.11.1' in competing[0], run.warnings


def test_dnsmasq_missing_binary_fails_before_any_write(runner, tmp_path):
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    missing = os.path.join(tmp, 'no-such-dnsmasq')
    run = runner.run(ROLE, dnsmasq_vars(tmp, router_dhcp_dns_dnsmasq_binary=missing))
    assert run.rc != 0
    check = run.result('Check that dnsmasq runs')
    assert check.get('failed') and check['rc'] == 127, check
    assert 'cannot run %s --version: install dnsmasq or set router_dhcp_dns_dnsmasq_binary' % missing in check['stderr']
    assert os.listdir(os.path.join(tmp, 'dnsmasq.d')) == []
    assert not os.path.exists(os.path.join(tmp, 'restarts.log'))


@needs_dnsmasq
def test_dnsmasq_forwards_published_names_to_the_split_dns_server(runner, tmp_path):
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    dropin = os.path.join(tmp, 'dnsmasq.d', '00-natloop-dhcp-dns.conf')
    run = runner.run(ROLE, dnsmasq_vars(tmp, router_dhcp_dns_forward_domains=['rustdesk.example.com', 'nas.example.com']))
    assert run.rc == 0, run
    lines = read(dropin).splitlines()
    assert 'server=/rustdesk.example.com/192.168.11.2' in lines
    assert 'server=/nas.example.com/192.168.11.2' in lines
    subprocess.run(['dnsmasq', '--test', '--conf-file=/dev/null', '--conf-dir=' + os.path.join(tmp, 'dnsmasq.d')],
                   check=True, capture_output=True)


@pytest.mark.parametrize('backend', ['openwrt', 'routeros'])
def test_forward_domains_are_refused_where_not_implemented(runner, backend):
    run = runner.run(ROLE, {'router_dhcp_dns_backend': backend, 'router_dhcp_dns_servers': SERVERS,
                            'router_dhcp_dns_forward_domains': ['rustdesk.example.com']})
    assert run.rc != 0
    assert any('linux_dnsmasq backend only' in (msg or '') for msg in run.failed_msg), run
