# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.hairpin_nat against a fake RouterOS API, and real nft in a private netns.

The openwrt backend runs against the real uci and firewall4: test_openwrt_real.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import subprocess
import time

import pytest

from conftest import have

ROLE = 'natloop.lan.hairpin_nat'
SERVICES = [
    {'name': 'rustdesk', 'domain': 'rustdesk.example.com', 'lan_ipv4': '192.168.11.20', 'public_ip': '198.51.100.1',
     'ports': [{'proto': 'tcp', 'start': 21115, 'end': 21119}, {'proto': 'udp', 'port': 21116}]},
    {'name': 'web', 'domain': 'www.example.com', 'lan_ipv4': '192.168.11.21', 'public_ip': '198.51.100.1',
     'ports': [{'proto': 'tcp', 'port': 443}, {'proto': 'tcp', 'port': 80}]},
]

# A MikroTik as its guides set it up: the forward bound to the WAN list (in-interface-list=WAN), which
# LAN clients never match. RouterOS applies the first matching NAT rule of a chain, top-down.
USER_NAT = [
    {'.id': '*1', 'chain': 'srcnat', 'action': 'masquerade', 'out-interface-list': 'WAN', 'comment': 'defconf: masquerade',
     'disabled': False, 'log': False, 'log-prefix': ''},
    {'.id': '*2', 'chain': 'dstnat', 'action': 'dst-nat', 'in-interface-list': 'WAN', 'protocol': 'tcp',
     'dst-port': '21115-21119', 'to-addresses': '192.168.11.20', 'disabled': False, 'log': False, 'log-prefix': ''},
    {'.id': '*3', 'chain': 'srcnat', 'action': 'masquerade', 'src-address': '10.0.0.0/8', 'comment': 'natloop.lan is not us',
     'disabled': False, 'log': False, 'log-prefix': ''},
    {'.id': '*4', 'chain': 'dstnat', 'action': 'dst-nat', 'in-interface': 'ether1', 'protocol': 'udp',
     'dst-port': '21116', 'to-addresses': '192.168.11.20', 'disabled': False, 'log': False, 'log-prefix': ''},
    # The web forward is written the hairpin-friendly way (destination address, no interface): no dstnat needed.
    {'.id': '*5', 'chain': 'dstnat', 'action': 'dst-nat', 'dst-address': '198.51.100.1', 'protocol': 'tcp',
     'dst-port': '80,443', 'to-addresses': '192.168.11.21', 'disabled': False, 'log': False, 'log-prefix': ''},
]
ROUTEROS_PATHS = {
    'ip/address': [{'.id': '*A1', 'address': '192.168.11.1/24', 'interface': 'bridge', 'network': '192.168.11.0'},
                   {'.id': '*A2', 'address': '198.51.100.1/24', 'interface': 'ether1', 'network': '198.51.100.0'}],
    'interface/list/member': [{'.id': '*M1', 'list': 'LAN', 'interface': 'bridge'},
                              {'.id': '*M2', 'list': 'WAN', 'interface': 'ether1'}],
}


def routeros_state(nat):
    paths = copy.deepcopy(ROUTEROS_PATHS)
    paths['ip/firewall/nat'] = copy.deepcopy(nat)
    return paths


def routeros_vars(**extra):
    role_vars = {
        'hairpin_nat_backend': 'routeros',
        'hairpin_nat_services': SERVICES,
        'hairpin_nat_lan_cidr': '192.168.11.1/24',
        'hairpin_nat_routeros_api': {'hostname': 'router.test', 'username': 'admin', 'password': 'secret'},
    }
    role_vars.update(extra)
    return role_vars


def ours(entries):
    return [entry for entry in entries if entry.get('comment', '').startswith('natloop.lan hairpin_nat')]


def theirs(entries):
    return [entry for entry in entries if not entry.get('comment', '').startswith('natloop.lan hairpin_nat')]


def strip_ids(entries):
    return [dict((k, v) for k, v in entry.items() if k != '.id') for entry in entries]


def chain_comments(entries, chain):
    return [entry.get('comment', entry['.id']) for entry in entries if entry['chain'] == chain]


SRCNAT_BASE = {'chain': 'srcnat', 'action': 'masquerade', 'src-address': '192.168.11.0/24', 'disabled': False, 'log': False}
DSTNAT_BASE = {'chain': 'dstnat', 'action': 'dst-nat', 'src-address': '192.168.11.0/24', 'dst-address-type': 'local',
               'dst-address': '!192.168.11.0/24', 'disabled': False, 'log': False}
OUR_SRCNAT = [
    dict(SRCNAT_BASE, **{'dst-address': '192.168.11.20', 'protocol': 'tcp', 'dst-port': '21115-21119',
                         'comment': 'natloop.lan hairpin_nat rustdesk tcp'}),
    dict(SRCNAT_BASE, **{'dst-address': '192.168.11.20', 'protocol': 'udp', 'dst-port': '21116',
                         'comment': 'natloop.lan hairpin_nat rustdesk udp'}),
    dict(SRCNAT_BASE, **{'dst-address': '192.168.11.21', 'protocol': 'tcp', 'dst-port': '80,443',
                         'comment': 'natloop.lan hairpin_nat web tcp'}),
]


def test_routeros_rules_check_run_rerun_repair_absent(runner):
    runner.use_fake_routeros(routeros_state(USER_NAT))

    check = runner.run(ROLE, routeros_vars(), check=True, read_only=True)
    assert check.rc == 0, check
    assert check.changed == 1

    run = runner.run(ROLE, routeros_vars())
    assert run.rc == 0, run
    nat = runner.routeros()['paths']['ip/firewall/nat']
    assert theirs(nat) == USER_NAT
    # The WAN-bound forwards (*2 in-interface-list=WAN, *4 in-interface=ether1) miss LAN clients: a LAN-side
    # dstnat for exactly those ports; the web forward (*5, by destination address) already catches them.
    assert sorted(strip_ids(ours(nat)), key=lambda entry: entry['chain']) == [
        dict(DSTNAT_BASE, **{'protocol': 'tcp', 'dst-port': '21115-21119', 'to-addresses': '192.168.11.20',
                             'comment': 'natloop.lan hairpin_nat rustdesk tcp lan-dnat'}),
        dict(DSTNAT_BASE, **{'protocol': 'udp', 'dst-port': '21116', 'to-addresses': '192.168.11.20',
                             'comment': 'natloop.lan hairpin_nat rustdesk udp lan-dnat'}),
    ] + OUR_SRCNAT
    # Rule order: RouterOS applies the first matching rule of a chain, so the role's rules come first in
    # dstnat and in srcnat, before the user's (the defconf masquerade, the forwards); the user's keep their order.
    assert chain_comments(nat, 'dstnat') == ['natloop.lan hairpin_nat rustdesk tcp lan-dnat',
                                             'natloop.lan hairpin_nat rustdesk udp lan-dnat', '*2', '*4', '*5']
    assert chain_comments(nat, 'srcnat') == [
        'natloop.lan hairpin_nat rustdesk tcp', 'natloop.lan hairpin_nat rustdesk udp',
        'natloop.lan hairpin_nat web tcp', 'defconf: masquerade', 'natloop.lan is not us']
    assert any(entry[0] == 'move' for entry in runner.routeros()['log'])

    again = runner.run(ROLE, routeros_vars(), read_only=True)
    assert again.rc == 0 and again.changed == 0, again

    # Someone edits one of our rules and moves a user rule above ours: the next run repairs both.
    state = runner.routeros()
    entries = state['paths']['ip/firewall/nat']
    for entry in entries:
        if entry.get('comment') == 'natloop.lan hairpin_nat web tcp':
            entry['dst-port'] = '8443'
    entries.insert(0, entries.pop(next(i for i, e in enumerate(entries) if e['.id'] == '*5')))
    with open(runner.routeros_state, 'w') as handle:
        json.dump(state, handle)
    repaired = runner.run(ROLE, routeros_vars())
    assert repaired.rc == 0 and repaired.changed >= 1, repaired
    nat_after = runner.routeros()['paths']['ip/firewall/nat']
    assert [e for e in nat_after if e['chain'] == 'srcnat'] == [e for e in nat if e['chain'] == 'srcnat']
    assert chain_comments(nat_after, 'dstnat')[:2] == chain_comments(nat, 'dstnat')[:2]

    absent = runner.run(ROLE, routeros_vars(hairpin_nat_state='absent'))
    assert absent.rc == 0, absent
    assert sorted(runner.routeros()['paths']['ip/firewall/nat'], key=lambda e: e['.id']) == USER_NAT

    absent_again = runner.run(ROLE, routeros_vars(hairpin_nat_state='absent'), read_only=True)
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again


def test_routeros_friendly_forward_gets_no_dstnat(runner):
    friendly = copy.deepcopy(USER_NAT)
    for entry in friendly:
        if entry['.id'] in ('*2', '*4'):
            entry.pop('in-interface-list', None)
            entry.pop('in-interface', None)
            entry['dst-address-type'] = 'local'
    runner.use_fake_routeros(routeros_state(friendly))
    run = runner.run(ROLE, routeros_vars())
    assert run.rc == 0, run
    nat = runner.routeros()['paths']['ip/firewall/nat']
    assert strip_ids(ours(nat)) == OUR_SRCNAT
    assert sorted(theirs(nat), key=lambda entry: entry['.id']) == friendly


def test_routeros_dynamic_address_off_matches_public_ip(runner):
    runner.use_fake_routeros(routeros_state(USER_NAT))
    run = runner.run(ROLE, routeros_vars(hairpin_nat_lan_dnat_match='public_ip'))
    assert run.rc == 0, run
    dstnat = [e for e in ours(runner.routeros()['paths']['ip/firewall/nat']) if e['chain'] == 'dstnat']
    assert [(e['dst-address'], 'dst-address-type' in e) for e in dstnat] == [('198.51.100.1', False)] * 2


def test_routeros_unrestricted_single_rule(runner):
    runner.use_fake_routeros(routeros_state(USER_NAT))
    run = runner.run(ROLE, routeros_vars(hairpin_nat_restrict_to_service_ports=False, hairpin_nat_lan_dnat='never',
                                         hairpin_nat_routeros_out_interface='bridge'))
    assert run.rc == 0, run
    assert strip_ids(ours(runner.routeros()['paths']['ip/firewall/nat'])) == [
        {'chain': 'srcnat', 'action': 'masquerade', 'src-address': '192.168.11.0/24', 'dst-address': '192.168.11.0/24',
         'out-interface': 'bridge', 'comment': 'natloop.lan hairpin_nat', 'disabled': False, 'log': False}]


@pytest.mark.parametrize('cidr', ['', '192.168.11.0', '192.168.11.0/33', 'lan'])
def test_bad_lan_cidr_is_rejected(runner, cidr):
    runner.use_fake_routeros(routeros_state(USER_NAT))
    run = runner.run(ROLE, routeros_vars(hairpin_nat_lan_cidr=cidr), read_only=True)
    assert run.rc != 0
    assert any('hairpin_nat_lan_cidr' in (msg or '') for msg in run.failed_msg), run


def test_bad_service_ports_are_rejected(runner):
    runner.use_fake_routeros(routeros_state(USER_NAT))
    services = [dict(SERVICES[0], ports=[{'proto': 'sctp', 'port': 9}])]
    run = runner.run(ROLE, routeros_vars(hairpin_nat_services=services), read_only=True)
    assert run.rc != 0
    assert runner.routeros()['paths']['ip/firewall/nat'] == USER_NAT


# --- linux_nftables: the real nft, inside a network namespace of the test's own ----------------

LAB_RULESET = """table ip lab_router {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr 198.51.100.1 tcp dport 21115-21119 dnat to 192.168.11.20
        ip daddr 198.51.100.1 udp dport 21116 dnat to 192.168.11.20
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" masquerade
    }
}
"""


def _can_unshare():
    if not have('unshare', 'nft') or os.geteuid() != 0:
        return False
    return subprocess.run(['unshare', '-n', 'nft', 'list', 'ruleset'], capture_output=True, check=False).returncode == 0


needs_netns = pytest.mark.skipif(not _can_unshare(), reason='needs root, unshare -n and nft (apt-get install nftables)')


class NetNS(object):
    """A network namespace held open by a sleeping process; nothing here touches the host's ruleset."""

    def __init__(self):
        self.proc = subprocess.Popen(['unshare', '-n', 'sleep', '600'])
        self.prefix = ['nsenter', '-t', str(self.proc.pid), '-n']
        # The child only leaves our namespace once unshare has run: entering it earlier would
        # apply the test rulesets to the host (it did, under load). Wait until it is elsewhere.
        deadline = time.monotonic() + 10
        while not self.is_private():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError('unshare -n did not give the test a network namespace of its own')
            time.sleep(0.01)

    def is_private(self):
        try:
            return os.readlink('/proc/%d/ns/net' % self.proc.pid) != os.readlink('/proc/self/ns/net')
        except OSError:
            return False

    def nft(self, *args, **kwargs):
        assert self.is_private(), 'refusing to run nft outside the test namespace'
        return subprocess.run(self.prefix + ['nft'] + list(args), capture_output=True, text=True, check=True, **kwargs)

    def ruleset(self):
        return self.nft('list', 'ruleset').stdout

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def netns():
    namespace = NetNS()
    yield namespace
    namespace.close()


def nft_vars(tmp, **extra):
    role_vars = {
        'hairpin_nat_backend': 'linux_nftables',
        'hairpin_nat_services': SERVICES,
        'hairpin_nat_lan_cidr': '192.168.11.0/24',
        'hairpin_nat_nftables_dir': os.path.join(tmp, 'nftables.d'),
        'hairpin_nat_nftables_main_conf': os.path.join(tmp, 'nftables.conf'),
    }
    role_vars.update(extra)
    return role_vars


@needs_netns
def test_nftables_check_run_rerun_repair_absent(runner, netns, tmp_path):
    tmp = str(tmp_path)
    netns.nft('-f', '-', input=LAB_RULESET)
    lab_before = netns.ruleset()
    main_conf = os.path.join(tmp, 'nftables.conf')
    with open(main_conf, 'w') as handle:
        handle.write('#!/usr/sbin/nft -f\n\nflush ruleset\n')
    table_file = os.path.join(tmp, 'nftables.d', 'natloop-hairpin.nft')

    check = runner.run(ROLE, nft_vars(tmp), check=True, wrapper=netns.prefix)
    assert check.rc == 0, check
    assert check.changed >= 1
    assert netns.ruleset() == lab_before
    assert not os.path.exists(table_file)

    run = runner.run(ROLE, nft_vars(tmp), wrapper=netns.prefix)
    assert run.rc == 0, run
    # Check mode predicted exactly the tasks that then changed something.
    assert check.changed_tasks() == run.changed_tasks()
    table = netns.nft('list', 'table', 'ip', 'natloop_hairpin').stdout
    assert 'type nat hook postrouting priority srcnat - 10; policy accept;' in table
    assert ('ip saddr 192.168.11.0/24 ip daddr 192.168.11.20 ct status dnat tcp dport 21115-21119 '
            'counter packets 0 bytes 0 masquerade comment "natloop.lan hairpin_nat rustdesk tcp"') in table
    assert 'ip daddr 192.168.11.21 ct status dnat tcp dport { 80, 443 }' in table
    assert netns.nft('list', 'table', 'ip', 'lab_router').stdout in lab_before
    with open(main_conf) as handle:
        assert handle.read() == '#!/usr/sbin/nft -f\n\nflush ruleset\ninclude "%s"\n' % table_file
    # The persisted file alone, loaded as at boot after `flush ruleset`, gives the same table.
    reloaded = subprocess.run(['unshare', '-n', 'sh', '-c', 'nft -f "$1" && nft list ruleset', 'sh', main_conf],
                              capture_output=True, text=True, check=True).stdout
    assert reloaded == table

    again = runner.run(ROLE, nft_vars(tmp), wrapper=netns.prefix)
    assert again.rc == 0 and again.changed == 0, again

    # The live table is compared, not only the file: a flushed chain is loaded again.
    netns.nft('flush', 'chain', 'ip', 'natloop_hairpin', 'postrouting')
    repaired = runner.run(ROLE, nft_vars(tmp), wrapper=netns.prefix)
    assert repaired.rc == 0 and repaired.changed == 1, repaired
    assert netns.nft('list', 'table', 'ip', 'natloop_hairpin').stdout == table

    absent_check = runner.run(ROLE, nft_vars(tmp, hairpin_nat_state='absent'), check=True, wrapper=netns.prefix)
    assert absent_check.rc == 0, absent_check
    assert netns.nft('list', 'table', 'ip', 'natloop_hairpin').stdout == table

    absent = runner.run(ROLE, nft_vars(tmp, hairpin_nat_state='absent'), wrapper=netns.prefix)
    assert absent.rc == 0, absent
    assert absent_check.changed_tasks() == absent.changed_tasks()
    assert netns.ruleset() == lab_before
    assert not os.path.exists(table_file)
    with open(main_conf) as handle:
        assert handle.read() == '#!/usr/sbin/nft -f\n\nflush ruleset\n'

    absent_again = runner.run(ROLE, nft_vars(tmp, hairpin_nat_state='absent'), wrapper=netns.prefix)
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again


@needs_netns
def test_nftables_unrestricted_rule_is_the_lab_rule(runner, netns, tmp_path):
    tmp = str(tmp_path)
    run = runner.run(ROLE, nft_vars(tmp, hairpin_nat_restrict_to_service_ports=False,
                                    hairpin_nat_lan_cidr='192.168.11.1/24'), wrapper=netns.prefix)
    assert run.rc == 0, run
    table = netns.nft('list', 'table', 'ip', 'natloop_hairpin').stdout
    assert ('ip saddr 192.168.11.0/24 ip daddr 192.168.11.0/24 ct status dnat counter packets 0 bytes 0 masquerade '
            'comment "natloop.lan hairpin_nat"') in table
    again = runner.run(ROLE, nft_vars(tmp, hairpin_nat_restrict_to_service_ports=False,
                                      hairpin_nat_lan_cidr='192.168.11.1/24'), wrapper=netns.prefix)
    assert again.rc == 0 and again.changed == 0, again


# --- linux_nftables with the forward bound to the WAN (issue 18) ------------------------------------

WAN_RULESET = LAB_RULESET.replace('ip daddr 198.51.100.1 tcp', 'iifname "wan0" tcp').replace(
    'ip daddr 198.51.100.1 udp', 'iifname "wan0" udp')
LAN_DNAT = ('ip saddr 192.168.11.0/24 ip daddr != 192.168.11.0/24 fib daddr type local tcp dport 21115-21119 '
            'counter packets 0 bytes 0 dnat to 192.168.11.20 comment "natloop.lan hairpin_nat rustdesk tcp lan-dnat"')


def add_interfaces(netns):
    for name, peer, address in (('lan0', 'lanp', '192.168.11.1/24'), ('wan0', 'wanp', '198.51.100.1/24')):
        subprocess.run(netns.prefix + ['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer], check=True)
        subprocess.run(netns.prefix + ['ip', 'addr', 'add', address, 'dev', name], check=True)


@needs_netns
def test_nftables_wan_bound_forward_gets_lan_dnat(runner, netns, tmp_path):
    tmp = str(tmp_path)
    add_interfaces(netns)
    netns.nft('-f', '-', input=WAN_RULESET)
    before = netns.ruleset()

    run = runner.run(ROLE, nft_vars(tmp), wrapper=netns.prefix)
    assert run.rc == 0, run
    table = netns.nft('list', 'table', 'ip', 'natloop_hairpin').stdout
    assert 'type nat hook prerouting priority dstnat - 10; policy accept;' in table
    assert LAN_DNAT in table
    assert ('fib daddr type local udp dport 21116 counter packets 0 bytes 0 dnat to 192.168.11.20 '
            'comment "natloop.lan hairpin_nat rustdesk udp lan-dnat"') in table
    # No forward for the web service at all: added anyway, and the user is told.
    assert 'tcp dport { 80, 443 } counter packets 0 bytes 0 dnat to 192.168.11.21' in table
    assert any('no port forward to 192.168.11.21 found' in w for w in run.warnings), run.warnings
    plan = run.result('Decide which services need a LAN-side DNAT')
    assert 'only matches packets from interface wan0, and LAN clients come in on lan0' in plan['decisions'][0]['reason']
    assert netns.nft('list', 'table', 'ip', 'lab_router').stdout in before

    again = runner.run(ROLE, nft_vars(tmp), wrapper=netns.prefix)
    assert again.rc == 0 and again.changed == 0, again

    pinned = runner.run(ROLE, nft_vars(tmp, hairpin_nat_lan_dnat_match='public_ip'), wrapper=netns.prefix)
    assert pinned.rc == 0 and pinned.changed >= 1, pinned
    assert ('ip saddr 192.168.11.0/24 ip daddr 198.51.100.1 tcp dport 21115-21119 counter packets 0 bytes 0 dnat to '
            '192.168.11.20') in netns.nft('list', 'table', 'ip', 'natloop_hairpin').stdout

    absent = runner.run(ROLE, nft_vars(tmp, hairpin_nat_state='absent'), wrapper=netns.prefix)
    assert absent.rc == 0, absent
    assert netns.ruleset() == before


@needs_netns
@pytest.mark.skipif(not have('iptables-nft-restore'), reason='needs iptables')
def test_nftables_backend_next_to_an_iptables_forward(runner, netns, tmp_path):
    tmp = str(tmp_path)
    add_interfaces(netns)
    rules = ('*nat\n-A PREROUTING -i wan0 -p tcp -m tcp --dport 21115:21119 -j DNAT --to-destination 192.168.11.20\n'
             '-A PREROUTING -d 198.51.100.1/32 -p udp -m udp --dport 21116 -j DNAT --to-destination 192.168.11.20\n'
             'COMMIT\n')
    subprocess.run(netns.prefix + ['iptables-nft-restore'], input=rules, text=True, check=True)
    before = netns.ruleset()
    services = [SERVICES[0]]
    run = runner.run(ROLE, nft_vars(tmp, hairpin_nat_services=services), wrapper=netns.prefix)
    assert run.rc == 0, run
    table = netns.nft('list', 'table', 'ip', 'natloop_hairpin').stdout
    # TCP is forwarded on the WAN only: LAN-side DNAT; UDP by destination address: none needed.
    assert LAN_DNAT in table
    assert 'udp dport 21116 counter packets 0 bytes 0 dnat' not in table
    assert run.warnings == []
    absent = runner.run(ROLE, nft_vars(tmp, hairpin_nat_services=services, hairpin_nat_state='absent'),
                        wrapper=netns.prefix)
    assert absent.rc == 0, absent
    assert netns.ruleset() == before
