# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Does the router's own forward catch LAN clients? _hairpin.plan on the real output of
`nft -j list ruleset` and `iptables-save -t nat` (legacy and nft-backed), each taken in a private
network namespace of the test's own (nothing touches the host's ruleset), and on RouterOS entries."""

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _hairpin as hairpin

SERVICES = [{'name': 'rustdesk', 'lan_ipv4': '192.168.11.20', 'public_ip': '198.51.100.1',
             'ports': [{'proto': 'tcp', 'start': 21115, 'end': 21119}, {'proto': 'udp', 'port': 21116}]}]
LAN = '192.168.11.0/24'
SETUP = 'ip link add lan0 type veth peer name lanp && ip addr add 192.168.11.1/24 dev lan0 && ' \
        'ip link add wan0 type veth peer name wanp && ip addr add 198.51.100.1/24 dev wan0 && '


def _can_unshare():
    if os.geteuid() != 0 or not all(shutil.which(c) for c in ('unshare', 'nft', 'ip')):
        return False
    return subprocess.run(['unshare', '-n', 'true'], check=False).returncode == 0


needs_netns = pytest.mark.skipif(not _can_unshare(), reason='needs root, unshare -n, nft and ip')
needs_iptables = pytest.mark.skipif(not shutil.which('iptables-nft-save'), reason='needs iptables (nft and legacy)')


def in_netns(script, ruleset=''):
    """Run script in a fresh network namespace (with lan0/wan0), the nft ruleset loaded first."""
    proc = subprocess.run(['unshare', '-n', 'sh', '-c', SETUP + 'nft -f - && ' + script], input=ruleset,
                          capture_output=True, text=True, check=True)
    return proc.stdout


def nft_json(ruleset, extra=''):
    return json.loads(in_netns((extra + ' && ' if extra else '') + 'nft -j list ruleset', ruleset))


def decide(rulesets, interfaces=('lan0',)):
    decisions, notes = hairpin.plan(SERVICES, LAN, list(interfaces), rulesets)
    return dict((d['proto'], d['lan_dnat_ports']) for d in decisions), decisions, notes


def table(*rules, chains=''):
    return ('table ip user {\n%s\n chain prerouting {\n  type nat hook prerouting priority dstnat; policy accept;\n%s\n }\n}\n'
            % (chains, '\n'.join('  ' + rule for rule in rules)))


TCP = 'tcp dport 21115-21119 dnat to 192.168.11.20'
UDP = 'udp dport 21116 dnat to 192.168.11.20'

NFT_CASES = [
    # (id, rules, extra chains, wanted {proto: LAN-side DNAT ports})
    ('daddr-catches-lan', ['ip daddr 198.51.100.1 ' + TCP, 'ip daddr 198.51.100.1 ' + UDP], '', {'tcp': [], 'udp': []}),
    ('fib-local-catches-lan', ['fib daddr type local ' + TCP, 'fib daddr type local ' + UDP], '', {'tcp': [], 'udp': []}),
    ('iifname-wan', ['iifname "wan0" ' + TCP, 'iifname "wan0" ' + UDP], '', {'tcp': ['21115-21119'], 'udp': ['21116']}),
    ('iifname-set-wan', ['iifname { "wan0", "ppp0" } ip daddr 198.51.100.1 ' + TCP], '',
     {'tcp': ['21115-21119'], 'udp': ['21116']}),
    ('iifname-not-lan-excludes-lan', ['iifname != "lan0" ' + TCP, 'iifname != "wan0" ' + UDP], '',
     {'tcp': ['21115-21119'], 'udp': []}),
    ('iifname-wildcard-lan', ['iifname "lan*" ' + TCP, 'iifname "wan*" ' + UDP], '', {'tcp': [], 'udp': ['21116']}),
    ('saddr-not-lan', ['ip saddr != 192.168.11.0/24 ' + TCP, 'ip saddr 0.0.0.0/0 ' + UDP], '', {'tcp': ['21115-21119'], 'udp': []}),
    ('part-of-the-ports', ['ip daddr 198.51.100.1 tcp dport 21115-21117 dnat to 192.168.11.20',
                           'iifname "wan0" ' + TCP, UDP], '', {'tcp': ['21118-21119'], 'udp': []}),
    ('other-server', ['ip daddr 198.51.100.1 tcp dport 21115-21119 dnat to 192.168.11.99'], '',
     {'tcp': ['21115-21119'], 'udp': ['21116']}),
    ('jump-from-wan', ['iifname "wan0" jump wan_forwards'], ' chain wan_forwards {\n  %s\n  %s\n }' % (TCP, UDP),
     {'tcp': ['21115-21119'], 'udp': ['21116']}),
    ('jump-for-all', ['ip daddr 198.51.100.1 jump wan_forwards'], ' chain wan_forwards {\n  %s\n  %s\n }' % (TCP, UDP),
     {'tcp': [], 'udp': []}),
    ('unknown-match-is-assumed-wan', ['meta mark 0x1 ' + TCP, UDP], '', {'tcp': ['21115-21119'], 'udp': []}),
]


@needs_netns
@pytest.mark.parametrize('rules,chains,wanted', [case[1:] for case in NFT_CASES], ids=[case[0] for case in NFT_CASES])
def test_nft_forwards(rules, chains, wanted):
    ruleset = nft_json(table(*rules, chains=chains))
    got, decisions, notes = decide([hairpin.parse_nft(ruleset)])
    assert got == wanted, decisions
    if 'mark' in rules[0]:
        assert any('could not tell' in note and 'mark' in note for note in notes), notes


@needs_netns
def test_nft_fw4_style_and_own_table_skipped():
    # OpenWrt's firewall4 shape: inet table, dstnat jumps to dstnat_wan by interface. The role's own
    # table (skipped by name) must not count as the user's forward.
    ruleset = nft_json("""table inet fw4 {
 chain dstnat_wan {
  meta nfproto ipv4 %s
 }
 chain dstnat {
  type nat hook prerouting priority dstnat; policy accept;
  iifname "wan0" jump dstnat_wan
 }
}
table ip natloop_hairpin {
 chain prerouting {
  type nat hook prerouting priority dstnat - 10; policy accept;
  ip saddr 192.168.11.0/24 fib daddr type local %s
 }
}
""" % (TCP, TCP))
    got, _d, _n = decide([hairpin.parse_nft(ruleset, skip_tables=['natloop_hairpin'])])
    assert got == {'tcp': ['21115-21119'], 'udp': ['21116']}
    got_with_ours, _d, _n = decide([hairpin.parse_nft(ruleset)])
    assert got_with_ours['tcp'] == []


@needs_netns
def test_unknown_lan_interface_is_assumed_wan():
    ruleset = nft_json(table('iifname "wan0" ' + TCP))
    got, _d, notes = decide([hairpin.parse_nft(ruleset)], interfaces=[])
    assert got['tcp'] == ['21115-21119']
    assert any('LAN interface is unknown' in note for note in notes), notes


@needs_netns
def test_linux_lan_interfaces_from_ip_json():
    addresses = json.loads(in_netns('ip -j -4 addr show'))
    assert hairpin.linux_lan(addresses, '192.168.11.7/24') == ['lan0']


IPT_WAN = ('-A PREROUTING -i wan0 -p tcp -m tcp --dport 21115:21119 -j DNAT --to-destination 192.168.11.20\n'
           '-A PREROUTING -d 198.51.100.1/32 -p udp -m udp --dport 21116 -m comment --comment "rustdesk udp" '
           '-j DNAT --to-destination 192.168.11.20:21116\n')


def restore(binary, rules):
    return '%s -T nat --noflush <<"EOF"\n*nat\n%sCOMMIT\nEOF\n' % (binary, rules)


@needs_netns
@needs_iptables
def test_iptables_nft_forward_is_read_from_its_save_output():
    out = in_netns(restore('iptables-nft-restore', IPT_WAN) + 'nft -j list ruleset; echo "#####"; iptables-nft-save -t nat')
    ruleset, save = out.split('#####\n')
    parsed_nft = hairpin.parse_nft(json.loads(ruleset))
    # iptables-nft wrote the DNAT as an xt target without its address: left to the save output.
    assert parsed_nft['xt'] is True
    got, decisions, _n = decide([parsed_nft, hairpin.parse_iptables_save(save, 'iptables-nft')])
    assert got == {'tcp': ['21115-21119'], 'udp': []}, decisions
    assert 'only matches packets from interface wan0' in decisions[0]['reason']


@needs_netns
@needs_iptables
def test_iptables_legacy_forward():
    if subprocess.run(['unshare', '-n', 'iptables-legacy-save', '-t', 'nat'], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip('no iptables-legacy nat table on this kernel')
    rules = ('-A PREROUTING -j WAN_FWD\n'
             '-A WAN_FWD ! -i lan+ -p tcp -m multiport --dports 21115:21119 -j DNAT --to-destination 192.168.11.20\n'
             '-A WAN_FWD -m addrtype --dst-type LOCAL -p udp --dport 21116 -j DNAT --to-destination 192.168.11.20\n')
    save = in_netns('iptables-legacy -t nat -N WAN_FWD && ' + restore('iptables-legacy-restore', rules)
                    + 'iptables-legacy-save -t nat')
    got, decisions, _n = decide([hairpin.parse_iptables_save(save, 'iptables-legacy')])
    assert got == {'tcp': ['21115-21119'], 'udp': []}, decisions


ROUTEROS_ADDRESSES = [{'address': '192.168.11.1/24', 'interface': 'bridge'}, {'address': '198.51.100.1/24', 'interface': 'ether1'}]
ROUTEROS_MEMBERS = [{'list': 'LAN', 'interface': 'bridge'}, {'list': 'WAN', 'interface': 'ether1'}]


@pytest.mark.parametrize('match,wanted', [
    ({'in-interface-list': 'WAN'}, ['21115-21119']),
    ({'in-interface': 'ether1'}, ['21115-21119']),
    ({'in-interface-list': '!LAN'}, ['21115-21119']),
    ({'in-interface-list': 'LAN'}, []),
    ({'dst-address-type': 'local'}, []),
    ({'dst-address': '198.51.100.1'}, []),
    ({'dst-address': '198.51.100.1', 'src-address': '!192.168.11.0/24'}, ['21115-21119']),
    ({'dst-address': '198.51.100.1', 'disabled': 'true'}, ['21115-21119']),
    ({'dst-address': '198.51.100.1', 'src-address-list': 'trusted'}, ['21115-21119']),
])
def test_routeros_forwards(match, wanted):
    entry = dict({'.id': '*2', 'chain': 'dstnat', 'action': 'dst-nat', 'protocol': 'tcp', 'dst-port': '21115-21119',
                  'to-addresses': '192.168.11.20'}, **match)
    interfaces, lists = hairpin.routeros_lan(ROUTEROS_ADDRESSES, ROUTEROS_MEMBERS, LAN)
    assert interfaces == ['bridge']
    got, decisions, _n = decide([hairpin.parse_routeros([entry], lists)], interfaces)
    assert got['tcp'] == wanted, decisions


def test_routeros_moves_put_ours_first_in_each_chain():
    entries = [{'.id': '*1', 'chain': 'srcnat', 'comment': 'defconf: masquerade'},
               {'.id': '*2', 'chain': 'dstnat'},
               {'.id': '*A', 'chain': 'dstnat', 'comment': 'natloop.lan hairpin_nat x tcp lan-dnat'},
               {'.id': '*B', 'chain': 'srcnat', 'comment': 'natloop.lan hairpin_nat x tcp'}]
    assert hairpin.routeros_moves(entries, 'natloop.lan hairpin_nat') == [
        {'numbers': '*A', 'destination': '*2'}, {'numbers': '*B', 'destination': '*1'}]
    ordered = [entries[2], entries[3], entries[0], entries[1]]
    assert hairpin.routeros_moves(ordered, 'natloop.lan hairpin_nat') == []


def test_modes_always_and_never():
    decisions, _n = hairpin.plan(SERVICES, LAN, ['lan0'], [], mode='never')
    assert [d['lan_dnat'] for d in decisions] == [False, False]
    decisions, _n = hairpin.plan(SERVICES, LAN, ['lan0'], [], mode='always')
    assert [d['lan_dnat_ports'] for d in decisions] == [['21115-21119'], ['21116']]
