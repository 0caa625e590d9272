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
import socket
import subprocess

import pytest

from conftest import have, read
from conftest import dnsmasq_vars as shared_dnsmasq_vars

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
        'router_dhcp_dns_check_servers': False,
        # IPv6 adverts: test_routeros_ipv6_adverts_check_run_rerun_none_absent.
        'router_dhcp_dns_ipv6': False,
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
    # What was handed out before is kept on the router, in the entry's comment.
    want[0]['comment'] = 'defconf [natloop.lan: dns-server before: 192.168.88.1]'
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == want
    assert [entry[0] for entry in runner.routeros()['log']] == ['update']

    again = runner.run(ROLE, routeros_vars(), read_only=True)
    assert again.rc == 0, again
    assert again.changed == 0

    # Other servers later: the value from before the role is still the one kept.
    other = runner.run(ROLE, routeros_vars(router_dhcp_dns_servers=['192.168.11.4']))
    assert other.rc == 0, other
    want[0]['dns-server'] = '192.168.11.4'
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == want

    # Undo returns to before: the router's own address again, and the comment as it was.
    absent = runner.run(ROLE, routeros_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == NETWORKS

    absent_again = runner.run(ROLE, routeros_vars(router_dhcp_dns_state='absent'), read_only=True)
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again


def test_routeros_absent_restores_no_dns_server_when_there_was_none(runner):
    networks = [{'.id': '*1', 'address': '192.168.88.0/24', 'gateway': '192.168.88.1'}]
    runner.use_fake_routeros({'ip/dhcp-server/network': copy.deepcopy(networks)})
    run = runner.run(ROLE, routeros_vars())
    assert run.rc == 0, run
    assert runner.routeros()['paths']['ip/dhcp-server/network'][0]['comment'] == \
        '[natloop.lan: dns-server before: -]'
    absent = runner.run(ROLE, routeros_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == networks


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
    return shared_dnsmasq_vars(tmp, SERVERS, **extra)


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
    check = run.result('Install the DHCP DNS drop-in')
    assert check.get('failed'), check
    assert 'cannot run %s --version' % missing in check['msg'] and 'install dnsmasq' in check['msg'], check
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


@pytest.mark.parametrize('backend', ['routeros'])
def test_forward_domains_are_refused_where_not_implemented(runner, backend):
    run = runner.run(ROLE, {'router_dhcp_dns_backend': backend, 'router_dhcp_dns_servers': SERVERS,
                            'router_dhcp_dns_forward_domains': ['rustdesk.example.com'],
                            'router_dhcp_dns_check_servers': False})
    assert run.rc != 0
    assert any('linux_dnsmasq and openwrt backends only' in (msg or '') for msg in run.failed_msg), run


# --- Check before pointing (issue 16): each server is asked before anything is written. -------------
# The "split-DNS server" is a real DNS server on loopback (tests/conftest.py upstream_dns) that
# answers the published name and an ordinary name; the role reaches it through
# router_dhcp_dns_check_addresses (handed-out address -> address#port).

PUBLISHED = [{'name': 'rustdesk', 'domain': 'rustdesk.example.com', 'lan_ipv4': '192.168.11.20'}]


def closed_udp_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def check_vars(upstream, **extra):
    """The server check on, SERVERS[0] reached at the loopback DNS server."""
    role_vars = {
        'router_dhcp_dns_servers': SERVERS[:1],
        'router_dhcp_dns_warn_single_server': False,
        'router_dhcp_dns_check_servers': True,
        'router_dhcp_dns_check_services': PUBLISHED,
        'router_dhcp_dns_check_upstream_names': ['upstream.natloop.test'],
        'router_dhcp_dns_check_addresses': {SERVERS[0]: upstream.address.replace(':', '#')},
        'router_dhcp_dns_check_timeout': 0.5,
    }
    role_vars.update(extra)
    return role_vars


@needs_dnsmasq
def test_check_hands_out_a_server_that_answers_and_refuses_one_that_does_not(runner, tmp_path, upstream_dns):
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    dropin = os.path.join(tmp, 'dnsmasq.d', '00-natloop-dhcp-dns.conf')
    restarts = os.path.join(tmp, 'restarts.log')
    upstream_dns.zone.add('rustdesk.example.com', 'A', '192.168.11.20')
    asked = '%s over udp' % upstream_dns.address.replace(':', '#')

    good = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(upstream_dns)))
    assert good.rc == 0, good
    assert 'dhcp-option=option:dns-server,192.168.11.2\n' in read(dropin)
    # The questions really reached the server.
    assert ('rustdesk.example.com', 'A') in upstream_dns.zone.queries
    assert ('upstream.natloop.test', 'A') in upstream_dns.zone.queries
    before = read(dropin)

    # Now hand out another server, which answers the published name with the wrong address:
    # refused, naming server, question and answer; the drop-in and dnsmasq stay as they were.
    # (Another server: the drop-in would change. A run that would not change it asks nothing:
    # test_check_asks_only_when_the_dropin_would_change.)
    other = {'192.168.11.3': upstream_dns.address.replace(':', '#')}
    wrong = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(
        upstream_dns, router_dhcp_dns_servers=['192.168.11.3'], router_dhcp_dns_check_addresses=other,
        router_dhcp_dns_check_services=[dict(PUBLISHED[0], lan_ipv4='192.168.11.21')])))
    assert wrong.rc != 0
    msg = ' '.join(m for m in wrong.failed_msg if m)
    assert 'Not handing out 192.168.11.3: asked from localhost, ' in msg, wrong
    assert 'A rustdesk.example.com from %s: got NOERROR 192.168.11.20, expected 192.168.11.21' % asked in msg, wrong
    assert "The router's DHCP was left as it was" in msg and 'router_dhcp_dns_check_servers: false' in msg

    # A server that cannot resolve ordinary names (its upstreams are dead or wrong).
    no_upstream = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(
        upstream_dns, router_dhcp_dns_servers=['192.168.11.2', '192.168.11.3'],
        router_dhcp_dns_check_addresses={'192.168.11.2': upstream_dns.address.replace(':', '#'),
                                         '192.168.11.3': upstream_dns.address.replace(':', '#')},
        router_dhcp_dns_check_upstream_names=['nothing.natloop.test'])))
    assert no_upstream.rc != 0
    msg = ' '.join(m for m in no_upstream.failed_msg if m)
    assert 'A nothing.natloop.test from %s: got NXDOMAIN no A record, expected an address' % asked in msg, no_upstream

    # A server that does not answer at all.
    down = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(
        upstream_dns, router_dhcp_dns_servers=['192.168.11.4'],
        router_dhcp_dns_check_addresses={'192.168.11.4': '127.0.0.1#%d' % closed_udp_port()})))
    assert down.rc != 0
    msg = ' '.join(m for m in down.failed_msg if m)
    assert 'Not handing out 192.168.11.4' in msg and 'rustdesk.example.com from 127.0.0.1#' in msg, down

    assert read(dropin) == before
    assert read(restarts) == 'restart\n'

    # Check mode asks the same questions and says what it found; a failure is a warning there.
    check = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(
        upstream_dns, router_dhcp_dns_servers=['192.168.11.3'], router_dhcp_dns_check_addresses=other,
        router_dhcp_dns_check_upstream_names=['nothing.natloop.test'])), check=True)
    assert check.rc == 0, check
    assert any('Not handing out 192.168.11.3 in a real run' in w and 'nothing.natloop.test' in w
               for w in check.warnings), check.warnings
    found = check.result('Say what the check found')
    assert 'A real run would stop here' in found['msg'], found
    assert read(dropin) == before

    # The override: hand out a server that will only answer later.
    later = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(
        upstream_dns, router_dhcp_dns_servers=['192.168.11.4'], router_dhcp_dns_check_servers=False)))
    assert later.rc == 0, later
    assert 'dhcp-option=option:dns-server,192.168.11.4\n' in read(dropin)


def test_check_on_routeros_writes_nothing_on_failure_and_hands_out_a_good_server(runner, upstream_dns):
    runner.use_fake_routeros({'ip/dhcp-server/network': copy.deepcopy(NETWORKS)})
    # Read-only fake: a write would fail the run with another message.
    refused = runner.run(ROLE, routeros_vars(**check_vars(upstream_dns)), read_only=True)
    assert refused.rc != 0
    assert any('rustdesk.example.com' in (m or '') and 'got NXDOMAIN' in (m or '') for m in refused.failed_msg), refused
    assert runner.routeros()['paths']['ip/dhcp-server/network'] == NETWORKS

    upstream_dns.zone.add('rustdesk.example.com', 'A', '192.168.11.20')
    run = runner.run(ROLE, routeros_vars(**check_vars(upstream_dns)))
    assert run.rc == 0, run
    assert runner.routeros()['paths']['ip/dhcp-server/network'][0]['dns-server'] == '192.168.11.2'


@needs_dnsmasq
def test_dnsmasq_absent_returns_to_the_servers_handed_out_before(runner, tmp_path):
    """Undo returns to before (issue 16): the drop-in only adds; every other file stays byte for
    byte, so after absent dnsmasq reads exactly the option 6 it read before the role."""
    tmp = str(tmp_path)
    confdir = os.path.join(tmp, 'dnsmasq.d')
    os.mkdir(confdir)
    main = os.path.join(tmp, 'dnsmasq.conf')
    with open(main, 'w') as handle:
        handle.write('dhcp-range=192.168.11.100,192.168.11.150,1h\ndhcp-option=option:dns-server,192.168.11.1\n'
                     'conf-dir=%s,*.conf\n' % confdir)
    with open(os.path.join(confdir, 'lan.conf'), 'w') as handle:
        handle.write('dhcp-option=option:router,192.168.11.1\n')

    def snapshot():
        files = {main: read(main)}
        for name in sorted(os.listdir(confdir)):
            files[name] = read(os.path.join(confdir, name))
        # dnsmasq accepts the whole configuration as it reads it at start.
        subprocess.run(['dnsmasq', '--test', '--conf-file=' + main], check=True, capture_output=True)
        return files

    before = snapshot()
    run = runner.run(ROLE, dnsmasq_vars(tmp, router_dhcp_dns_dnsmasq_other_configs=[main]))
    assert run.rc == 0, run
    during = snapshot()
    assert during['00-natloop-dhcp-dns.conf'].count('option:dns-server,192.168.11.2,192.168.11.3') == 1
    assert {k: v for k, v in during.items() if k != '00-natloop-dhcp-dns.conf'} == before

    absent = runner.run(ROLE, dnsmasq_vars(tmp, router_dhcp_dns_state='absent', router_dhcp_dns_dnsmasq_other_configs=[main]))
    assert absent.rc == 0, absent
    assert snapshot() == before
    assert read(os.path.join(tmp, 'restarts.log')) == 'restart\nrestart\n'


# --- IPv6 DNS adverts on RouterOS (issue 13), on the fake RouterOS API. -------------------------------
# RouterOS v7 (manual.mikrotik.com/docs/cli-reference/ipv6/nd, .../ipv6/dhcp-server): /ipv6 nd
# advertise-dns (no | yes | self) with dns = the IPv6 servers to advertise (empty: the servers of
# /ip dns, dynamic ones from the ISP included); DHCPv6 options are /ipv6 dhcp-server option entries
# (code, value as 0x hex) named in the server's dhcp-option list. Default ND entry: interface=all.
ND_DEFAULT = [{'.id': '*1', 'interface': 'all', 'advertise-dns': True, 'ra-interval': '3m20s-10m'}]
DHCP6 = [{'.id': '*1', 'name': 'lan6', 'interface': 'bridge', 'address-pool': 'pool6', 'dhcp-option': 'isp-dns'}]
DHCP6_OPTIONS = [{'.id': '*1', 'name': 'isp-dns', 'code': '23', 'value': '0x20010db8010000000000000000000053'}]


def routeros_paths(**extra):
    paths = {'ip/dhcp-server/network': copy.deepcopy(NETWORKS), 'ipv6/nd': copy.deepcopy(ND_DEFAULT),
             'ipv6/dhcp-server': copy.deepcopy(DHCP6), 'ipv6/dhcp-server/option': copy.deepcopy(DHCP6_OPTIONS)}
    paths.update(extra)
    return paths


def test_routeros_ipv6_adverts_check_run_rerun_none_absent(runner):
    before = routeros_paths()
    runner.use_fake_routeros(copy.deepcopy(before))
    ipv6 = dict(router_dhcp_dns_ipv6=True, router_dhcp_dns_servers_ipv6=['2001:db8:11::20', '2001:db8:11::21'],
                router_dhcp_dns_routeros_dhcp6_server='lan6')

    # router_dhcp_dns_ipv6: false is the role as before: IPv6 untouched, no IPv6 marker.
    old_vars = dict(ipv6)
    old_vars['router_dhcp_dns_ipv6'] = False
    old = runner.run(ROLE, routeros_vars(**old_vars))
    assert old.rc == 0, old
    state = runner.routeros()['paths']
    assert state['ipv6/nd'] == before['ipv6/nd'] and state['ipv6/dhcp-server'] == before['ipv6/dhcp-server']
    assert 'ipv6 before' not in state['ip/dhcp-server/network'][0]['comment']
    runner.use_fake_routeros(copy.deepcopy(before))

    check = runner.run(ROLE, routeros_vars(**ipv6), check=True, read_only=True)
    assert check.rc == 0 and check.changed >= 1, check

    run = runner.run(ROLE, routeros_vars(**ipv6))
    assert run.rc == 0, run
    state = runner.routeros()['paths']
    assert state['ipv6/nd'][0]['advertise-dns'] in (True, 'true', 'yes') and \
        state['ipv6/nd'][0]['dns'] == '2001:db8:11::20,2001:db8:11::21', state['ipv6/nd']
    # The ISP's option 23 is no longer handed out; the role's carries exactly the split-DNS servers.
    assert state['ipv6/dhcp-server'][0]['dhcp-option'] == 'natloop-dns6', state['ipv6/dhcp-server']
    own = [o for o in state['ipv6/dhcp-server/option'] if o['name'] == 'natloop-dns6']
    assert own and own[0]['value'] == '0x20010db80011000000000000000000202001' \
        '0db8001100000000000000000021' and str(own[0]['code']) == '23', own
    assert state['ip/dhcp-server/network'][0]['comment'] == (
        'defconf [natloop.lan: dns-server before: 192.168.88.1] '
        '[natloop.lan: ipv6 before: advertise-dns=true;dns=-;dhcp-option=isp-dns]')

    again = runner.run(ROLE, routeros_vars(**ipv6), read_only=True)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()

    # No IPv6 split-DNS server: no RDNSS, no option 23 at all.
    none = runner.run(ROLE, routeros_vars(router_dhcp_dns_ipv6=True, router_dhcp_dns_routeros_dhcp6_server='lan6'))
    assert none.rc == 0, none
    state = runner.routeros()['paths']
    assert state['ipv6/nd'][0]['advertise-dns'] in (False, 'false', 'no'), state['ipv6/nd']
    assert not state['ipv6/dhcp-server'][0].get('dhcp-option'), state['ipv6/dhcp-server']
    assert [o['name'] for o in state['ipv6/dhcp-server/option']] == ['isp-dns']

    absent = runner.run(ROLE, routeros_vars(router_dhcp_dns_state='absent', router_dhcp_dns_routeros_dhcp6_server='lan6'))
    assert absent.rc == 0, absent
    state = runner.routeros()['paths']
    assert state['ip/dhcp-server/network'] == before['ip/dhcp-server/network']
    assert state['ipv6/dhcp-server'] == before['ipv6/dhcp-server']
    assert state['ipv6/dhcp-server/option'] == before['ipv6/dhcp-server/option']
    assert [dict(e, **{'advertise-dns': str(e['advertise-dns']).lower()}) for e in state['ipv6/nd']] == \
        [dict(e, **{'advertise-dns': 'true'}) for e in before['ipv6/nd']], state['ipv6/nd']
    absent_again = runner.run(ROLE, routeros_vars(router_dhcp_dns_state='absent', router_dhcp_dns_routeros_dhcp6_server='lan6'),
                              read_only=True)
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again.changed_tasks()


@needs_dnsmasq
def test_check_also_asks_each_ipv6_server_before_advertising_it(runner, tmp_path, upstream_dns):
    """The IPv6 split-DNS servers are asked the same questions (A and AAAA of the published names, an
    ordinary name) before the router advertises them; one that fails stops the role, naming it."""
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    dropin = os.path.join(tmp, 'dnsmasq.d', '00-natloop-dhcp-dns.conf')
    upstream_dns.zone.add('rustdesk.example.com', 'A', '192.168.11.20')
    upstream_dns.zone.add('rustdesk.example.com', 'AAAA', '2001:db8:11::20')
    published = [dict(PUBLISHED[0], lan_ipv6='2001:db8:11::20')]
    good = upstream_dns.address.replace(':', '#')
    ipv6 = '2001:db8:11::20'
    run = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(
        upstream_dns, router_dhcp_dns_check_services=published, router_dhcp_dns_servers_ipv6=[ipv6],
        router_dhcp_dns_check_addresses={SERVERS[0]: good, ipv6: '127.0.0.1#%d' % closed_udp_port()})))
    assert run.rc != 0
    msg = ' '.join(m for m in run.failed_msg if m)
    assert 'Not handing out 192.168.11.2, 2001:db8:11::20' in msg and 'AAAA rustdesk.example.com from 127.0.0.1#' in msg, run
    assert not os.path.exists(dropin)

    run = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(
        upstream_dns, router_dhcp_dns_check_services=published, router_dhcp_dns_servers_ipv6=[ipv6],
        router_dhcp_dns_check_addresses={SERVERS[0]: good, ipv6: good})))
    assert run.rc == 0, run
    assert ('rustdesk.example.com', 'AAAA') in upstream_dns.zone.queries
    assert 'option6:dns-server,[2001:db8:11::20]' in read(dropin)


# One role run per case (CI time): an address in brackets with a prefix, and a duplicate.
@pytest.mark.parametrize('servers', [['[2001:db8:11::20]/64', '192.168.11.20'], ['2001:db8:11::20', '2001:db8:11::20']])
def test_bad_ipv6_servers_are_rejected_before_anything_runs(runner, servers):
    run = runner.run(ROLE, routeros_vars(router_dhcp_dns_ipv6=True, router_dhcp_dns_servers_ipv6=servers), read_only=True)
    assert run.rc != 0
    assert any('router_dhcp_dns_servers_ipv6 must be a list of distinct IPv6 addresses' in (m or '') for m in run.failed_msg), run


@needs_dnsmasq
def test_check_asks_only_when_the_dropin_would_change(runner, tmp_path, upstream_dns):
    """Issue 14 (a lean no-op): on linux_dnsmasq, asked from the router itself, the check runs in
    natloop.lan.dnsmasq_dropin only when the drop-in would change. A run that changes nothing makes
    one module run on the router and sends the server no question (counted where it arrives)."""
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    dropin = os.path.join(tmp, 'dnsmasq.d', '00-natloop-dhcp-dns.conf')
    upstream_dns.zone.add('rustdesk.example.com', 'A', '192.168.11.20')
    first = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(upstream_dns)))
    assert first.rc == 0, first
    assert sorted(set(upstream_dns.zone.queries)) == [('rustdesk.example.com', 'A'), ('upstream.natloop.test', 'A')]

    del upstream_dns.zone.queries[:]
    again = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(upstream_dns)))
    assert again.rc == 0 and again.changed == 0, again
    assert upstream_dns.zone.queries == []
    # On the router: the drop-in module only (the rest are the controller's argument and preflight checks).
    ran = [name.split(' : ', 1)[-1] for name, result in again.results() if not result.get('skipped')]
    assert [name for name in ran if not name.startswith(('Validating arguments', 'Check the backend'))] == [
        'Configure DHCP DNS, backend linux_dnsmasq',
        'Install the DHCP DNS drop-in (validated by dnsmasq --test first), after checking dnsmasq and its other DNS options'], ran
    # Check mode asks nothing either when nothing would change.
    dry = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(upstream_dns)), check=True)
    assert dry.rc == 0 and dry.changed == 0 and upstream_dns.zone.queries == [], dry

    # A change is asked first: the server now answers wrong, so the new drop-in is refused.
    upstream_dns.zone.records.clear()
    changed = runner.run(ROLE, dnsmasq_vars(tmp, **check_vars(upstream_dns, router_dhcp_dns_forward_domains=['rustdesk.example.com'])))
    assert changed.rc != 0, changed
    assert ('rustdesk.example.com', 'A') in upstream_dns.zone.queries
    assert 'server=/rustdesk.example.com/' not in read(dropin)


@needs_dnsmasq
def test_check_from_another_host_still_runs_the_probe_script_every_time(runner, tmp_path, upstream_dns):
    """linux_dnsmasq with router_dhcp_dns_check_from naming another host (here 127.0.0.1, Ansible's implicit
    localhost): the probe script asks from there before the module, on every run (tasks/linux_dnsmasq_check_from.yml)."""
    tmp = str(tmp_path)
    os.mkdir(os.path.join(tmp, 'dnsmasq.d'))
    upstream_dns.zone.add('rustdesk.example.com', 'A', '192.168.11.20')
    role_vars = dnsmasq_vars(tmp, **check_vars(upstream_dns, router_dhcp_dns_check_from='127.0.0.1'))
    for attempt in range(2):
        del upstream_dns.zone.queries[:]
        run = runner.run(ROLE, role_vars)
        assert run.rc == 0 and (run.changed > 0) == (attempt == 0), run
        assert ('rustdesk.example.com', 'A') in upstream_dns.zone.queries, attempt
        assert run.result('Ask each DNS server').get('rc') == 0

    upstream_dns.zone.records.clear()
    refused = runner.run(ROLE, role_vars)
    assert refused.rc != 0
    msg = ' '.join(m for m in refused.failed_msg if m)
    assert 'Not handing out 192.168.11.2: asked from 127.0.0.1, A rustdesk.example.com from ' in msg, refused
