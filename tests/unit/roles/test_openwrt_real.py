# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The openwrt backends of hairpin_nat and router_dhcp_dns against OpenWrt's real tools.

The roles run with ansible-playbook (local connection); their raw `uci` commands run the real uci
on a config folder through the peer's owrt-run (owrt_peer.py). The results are read back with the
real uci, turned into a ruleset by the real firewall4 (`fw4 print`, checked by `nft -c`) and into
dhcp-option lines by OpenWrt's own dnsmasq init code (checked by `dnsmasq --test`).
firewall4's defaults relied on here (reflection 1, reflection_src internal, reflection_zone = the
forward's dest zone, warnings for unknown options only): openwrt/firewall4 root/usr/share/ucode/fw4.uc,
parse_redirect, as shipped in the peer.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

import pytest

from owrt_peer import Router, dnsmasq_test, needs_peer, nft_check

pytestmark = needs_peer

HAIRPIN = 'natloop.lan.hairpin_nat'
DHCP_DNS = 'natloop.lan.router_dhcp_dns'
SERVERS = ['192.168.11.2', '192.168.11.3']
SERVICES = [
    {'name': 'rustdesk', 'domain': 'rustdesk.example.com', 'lan_ipv4': '192.168.11.20', 'public_ip': '198.51.100.1',
     'ports': [{'proto': 'tcp', 'start': 21115, 'end': 21119}, {'proto': 'udp', 'port': 21116}]},
    {'name': 'game', 'domain': 'game.example.com', 'lan_ipv4': '192.168.11.21', 'public_ip': '198.51.100.1',
     'ports': [{'proto': 'udp', 'port': 27015}]},
    {'name': 'web', 'domain': 'www.example.com', 'lan_ipv4': '192.168.11.22', 'public_ip': '198.51.100.1',
     'ports': [{'proto': 'tcp', 'port': 443}]},
]

# A forward as LuCI saves it ("TCP+UDP"), without any reflection option.
LUCI_FORWARD = """
config redirect
	option dest 'lan'
	option target 'DNAT'
	option name 'rustdesk'
	list proto 'tcp'
	list proto 'udp'
	option src 'wan'
	option src_dport '21115-21119'
	option dest_ip '192.168.11.20'
"""

# Realistic variants, one forward each; the role must touch exactly B, C, D and E.
VARIANTS = """
config redirect
	option name 'A rustdesk tcp, reflects by default'
	option target 'DNAT'
	option src 'wan'
	option dest 'lan'
	option proto 'tcp'
	option src_dport '21115'
	option dest_ip '192.168.11.20'

config redirect
	option name 'B game, LuCI TCP+UDP, reflection off'
	option target 'DNAT'
	option src 'wan'
	option dest 'lan'
	list proto 'tcp'
	list proto 'udp'
	option src_dport '27015'
	option dest_ip '192.168.11.21'
	option reflection '0'

config redirect
	option name 'C rustdesk udp, external source'
	option target 'dnat'
	option src 'wan'
	option dest 'lan'
	option proto 'udp'
	option src_dport '21116'
	option dest_ip '192.168.11.20'
	option reflection_src 'external'

config redirect 'web_https'
	option name "D Bob's web, named section"
	option src 'wan'
	option dest 'lan'
	option proto 'tcp'
	option src_dport '8443'
	option dest_ip '192.168.11.22'
	option dest_port '443'
	option reflection 'no'

config redirect
	option name 'E rustdesk 21117, reflection zone wan only'
	option target 'DNAT'
	option src 'wan'
	option dest 'lan'
	option proto 'tcp'
	option src_dport '21117'
	option dest_ip '192.168.11.20'
	list reflection_zone 'wan'

config redirect
	option name 'F nas, not a service'
	option target 'DNAT'
	option src 'wan'
	option dest 'lan'
	option proto 'tcp'
	option src_dport '5001'
	option dest_ip '192.168.11.30'
	option reflection '0'

config redirect
	option name 'G game, disabled'
	option enabled '0'
	option target 'DNAT'
	option src 'wan'
	option dest 'lan'
	option proto 'udp'
	option src_dport '27016'
	option dest_ip '192.168.11.21'
	option reflection '0'
"""


@pytest.fixture
def router(tmp_path, runner):
    router = Router(tmp_path / 'router')
    runner.path[:0] = router.path
    return router


def hairpin_vars(**extra):
    role_vars = {'hairpin_nat_backend': 'openwrt', 'hairpin_nat_services': SERVICES,
                 'hairpin_nat_openwrt_reload_command': 'owrt-firewall-reload'}
    role_vars.update(extra)
    return role_vars


def dhcp_vars(**extra):
    role_vars = {'router_dhcp_dns_backend': 'openwrt', 'router_dhcp_dns_servers': SERVERS,
                 'router_dhcp_dns_openwrt_reload_command': 'owrt-dnsmasq-reload'}
    role_vars.update(extra)
    return role_vars


def reflection_rules(ruleset):
    """{forward name: [rule lines]} of firewall4's reflection rules for LAN clients."""
    rules = {}
    for line in ruleset.splitlines():
        match = re.search(r'comment "!fw4: (.*) \(reflection\)"', line)
        if match and 'ip saddr 192.168.11.0/24 ' in line:
            rules.setdefault(match.group(1), []).append(line.strip())
    return rules


# What firewall4 says about the variants themselves, before the role (and after it: nothing new).
VARIANT_WARNINGS = '[!] Section @redirect[6] (G game, disabled) is disabled, ignoring section\n'


def fw4_ok(router, warnings=''):
    """firewall4's ruleset for the router's config: valid for nft, and no warning but the expected."""
    ruleset, stderr = router.fw4_print()
    assert stderr == warnings
    ok, message = nft_check(ruleset)
    assert ok, message
    return ruleset


def test_hairpin_leaves_forwards_alone_that_firewall4_already_reflects(runner, router):
    """Bugs 3 and 4: firewall4 reflects a forward without options; present and absent change nothing."""
    router.append('firewall', LUCI_FORWARD)
    file_before = router.read('firewall')
    ruleset_before = fw4_ok(router)
    rules = reflection_rules(ruleset_before)['rustdesk']
    assert any('tcp dport 21115-21119 dnat 192.168.11.20' in rule for rule in rules), rules
    assert any('udp dport 21115-21119 dnat 192.168.11.20' in rule for rule in rules), rules

    check = runner.run(HAIRPIN, hairpin_vars(), check=True)
    assert check.rc == 0 and check.changed == 0, check.changed_tasks()
    present = runner.run(HAIRPIN, hairpin_vars())
    assert present.rc == 0, present
    assert present.changed == 0, present.changed_tasks()
    absent = runner.run(HAIRPIN, hairpin_vars(hairpin_nat_state='absent'))
    assert absent.rc == 0, absent
    assert absent.changed == 0, absent.changed_tasks()

    assert router.reloads() == []
    assert router.read('firewall') == file_before  # not even rewritten by a commit
    assert fw4_ok(router) == ruleset_before


def test_hairpin_variants_check_apply_rerun_absent(runner, router):
    """Bug 1 (LuCI TCP+UDP forward), and siblings: reflection_src, named section with a quote in the
    name, reflection_zone, a non-service forward, a disabled forward; absent restores everything."""
    default_firewall = router.read('firewall')
    router.append('firewall', VARIANTS)
    show_before = router.show('firewall')
    ruleset_before = fw4_ok(router, VARIANT_WARNINGS)
    rules = reflection_rules(ruleset_before)
    assert sorted(rules) == ['A rustdesk tcp, reflects by default', 'C rustdesk udp, external source']
    assert 'snat 198.51.100.1 ' in rules['C rustdesk udp, external source'][1]

    check = runner.run(HAIRPIN, hairpin_vars(), check=True)
    assert check.rc == 0 and check.changed == 1, check
    assert router.show('firewall') == show_before and router.reloads() == []
    assert check.warnings == [], check.warnings

    apply = runner.run(HAIRPIN, hairpin_vars())
    assert apply.rc == 0, apply
    assert router.changes('firewall') == ''
    assert router.reloads() == ['firewall']
    show = router.show('firewall')
    for line in ("firewall.@redirect[1].reflection='1'",                    # B: on
                 "firewall.@redirect[2].reflection_src='internal'",         # C: internal
                 "firewall.web_https.reflection='1'",                      # D: on
                 "firewall.@redirect[4].reflection_zone='wan' 'lan'",       # E: lan added
                 "firewall.@redirect[5].reflection='0'",                    # F: not a service
                 "firewall.@redirect[6].reflection='0'"):                   # G: disabled
        assert line in show, show
    assert "firewall.@redirect[0].reflection" not in show  # A: reflected already, untouched
    assert show.count('=natloop_hairpin\n') == 4, show
    ruleset = fw4_ok(router, VARIANT_WARNINGS)
    with open(router.ruleset) as handle:
        assert handle.read() == ruleset  # the reload read what was committed
    rules = reflection_rules(ruleset)
    assert sorted(rules) == ['A rustdesk tcp, reflects by default', 'B game, LuCI TCP+UDP, reflection off',
                             'C rustdesk udp, external source', "D Bob's web, named section",
                             'E rustdesk 21117, reflection zone wan only']
    assert any('udp dport 27015 dnat 192.168.11.21' in rule for rule in rules['B game, LuCI TCP+UDP, reflection off'])
    for name, lines in rules.items():
        snat = [rule for rule in lines if ' snat ' in rule]
        assert snat and all('snat 192.168.11.1 ' in rule for rule in snat), (name, snat)

    file_after = router.read('firewall')
    again = runner.run(HAIRPIN, hairpin_vars())
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert router.read('firewall') == file_after and router.reloads() == ['firewall']

    # A section added before the forwards moves their -X names: the records still find them.
    extra_rule = "\nconfig rule\n\toption name 'Allow-Test'\n\toption src 'wan'\n\toption proto 'icmp'\n\toption target 'ACCEPT'\n"
    router.write('firewall', extra_rule + router.read('firewall'))
    reference = Router(router.tmp + '-reference')
    reference.write('firewall', extra_rule + default_firewall + VARIANTS)

    absent = runner.run(HAIRPIN, hairpin_vars(hairpin_nat_state='absent'))
    assert absent.rc == 0 and absent.changed >= 1, absent
    assert absent.warnings == [], absent.warnings
    assert router.show('firewall') == reference.show('firewall')
    assert fw4_ok(router, VARIANT_WARNINGS) == fw4_ok(reference, VARIANT_WARNINGS)

    absent_again = runner.run(HAIRPIN, hairpin_vars(hairpin_nat_state='absent'))
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again.changed_tasks()
    assert router.reloads() == ['firewall', 'firewall']

