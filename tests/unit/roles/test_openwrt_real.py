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

import json
import os
import re

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.natloop.lan.plugins.modules import openwrt_uci_plan
from owrt_peer import PEER, Router, dnsmasq_test, needs_peer, nft_check

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
\toption dest 'lan'
\toption target 'DNAT'
\toption name 'rustdesk'
\tlist proto 'tcp'
\tlist proto 'udp'
\toption src 'wan'
\toption src_dport '21115-21119'
\toption dest_ip '192.168.11.20'
"""

# Realistic variants, one forward each; the role must touch exactly B, C, D and E.
VARIANTS = """
config redirect
\toption name 'A rustdesk tcp, reflects by default'
\toption target 'DNAT'
\toption src 'wan'
\toption dest 'lan'
\toption proto 'tcp'
\toption src_dport '21115'
\toption dest_ip '192.168.11.20'

config redirect
\toption name 'B game, LuCI TCP+UDP, reflection off'
\toption target 'DNAT'
\toption src 'wan'
\toption dest 'lan'
\tlist proto 'tcp'
\tlist proto 'udp'
\toption src_dport '27015'
\toption dest_ip '192.168.11.21'
\toption reflection '0'

config redirect
\toption name 'C rustdesk udp, external source'
\toption target 'dnat'
\toption src 'wan'
\toption dest 'lan'
\toption proto 'udp'
\toption src_dport '21116'
\toption dest_ip '192.168.11.20'
\toption reflection_src 'external'

config redirect 'web_https'
\toption name "D Bob's web, named section"
\toption src 'wan'
\toption dest 'lan'
\toption proto 'tcp'
\toption src_dport '8443'
\toption dest_ip '192.168.11.22'
\toption dest_port '443'
\toption reflection 'no'

config redirect
\toption name 'E rustdesk 21117, reflection zone wan only'
\toption target 'DNAT'
\toption src 'wan'
\toption dest 'lan'
\toption proto 'tcp'
\toption src_dport '21117'
\toption dest_ip '192.168.11.20'
\tlist reflection_zone 'wan'

config redirect
\toption name 'F nas, not a service'
\toption target 'DNAT'
\toption src 'wan'
\toption dest 'lan'
\toption proto 'tcp'
\toption src_dport '5001'
\toption dest_ip '192.168.11.30'
\toption reflection '0'

config redirect
\toption name 'G game, disabled'
\toption enabled '0'
\toption target 'DNAT'
\toption src 'wan'
\toption dest 'lan'
\toption proto 'udp'
\toption src_dport '27016'
\toption dest_ip '192.168.11.21'
\toption reflection '0'
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
    # No DNS server answers at these addresses here: skip the check before pointing (issue 16).
    role_vars = {'router_dhcp_dns_backend': 'openwrt', 'router_dhcp_dns_servers': SERVERS,
                 'router_dhcp_dns_openwrt_reload_command': 'owrt-dnsmasq-reload',
                 'router_dhcp_dns_check_servers': False}
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


def test_hairpin_refuses_someone_elses_staged_changes(runner, router):
    router.append('firewall', LUCI_FORWARD.replace("option src 'wan'", "option src 'wan'\n\toption reflection '0'"))
    router.sh("uci set firewall.@redirect[0].name='staged by someone else'")
    file_before = router.read('firewall')
    run = runner.run(HAIRPIN, hairpin_vars())
    assert run.rc != 0
    assert any('uncommitted changes' in (msg or '') for msg in run.failed_msg), run
    assert router.read('firewall') == file_before and router.reloads() == []
    assert router.changes('firewall') == "firewall.cfg0e3837.name='staged by someone else'\n"


def dhcp_options(router, tmp_path):
    """The dhcp-option lines OpenWrt's dnsmasq init writes, checked by dnsmasq --test."""
    lines, stderr = router.dnsmasq_options()
    ok, message = dnsmasq_test(tmp_path, lines)
    assert ok, (lines, message)
    return lines, stderr


def test_dhcp_pristine_check_apply_rerun_absent(runner, router, tmp_path):
    show_before = router.show('dhcp')
    assert dhcp_options(router, tmp_path) == ([], '')  # OpenWrt's default: dnsmasq hands out itself

    check = runner.run(DHCP_DNS, dhcp_vars(), check=True)
    assert check.rc == 0 and check.changed == 1, check
    assert check.warnings == [], check.warnings
    assert router.show('dhcp') == show_before and router.reloads() == []

    apply = runner.run(DHCP_DNS, dhcp_vars())
    assert apply.rc == 0, apply
    show = router.show('dhcp')
    assert "dhcp.lan.dhcp_option='6,192.168.11.2,192.168.11.3'\n" in show
    # The record: there was no option 6 before (no list "before").
    assert "dhcp.natloop_dns_lan=natloop_dhcp_dns\ndhcp.natloop_dns_lan.section='lan'\n" in show
    assert 'natloop_dns_lan.before' not in show
    assert dhcp_options(router, tmp_path) == (['dhcp-option=lan,6,192.168.11.2,192.168.11.3'], '')
    assert router.changes('dhcp') == '' and router.reloads() == ['dnsmasq']

    file_after = router.read('dhcp')
    again = runner.run(DHCP_DNS, dhcp_vars())
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert router.read('dhcp') == file_after and router.reloads() == ['dnsmasq']

    absent = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0 and absent.changed >= 1, absent
    assert router.show('dhcp') == show_before
    assert dhcp_options(router, tmp_path) == ([], '')
    absent_again = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_state='absent'))
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again.changed_tasks()
    assert router.reloads() == ['dnsmasq', 'dnsmasq']


def test_dhcp_old_style_option_is_split_and_absent_hands_out_the_old_servers(runner, router, tmp_path):
    """Bug 2: `option dhcp_option '3,a 6,b'` must not become one broken dhcp-option line; issue 16
    item 4: absent hands out again what was handed out before, not nothing."""
    router.sh("uci set dhcp.lan.dhcp_option='3,192.168.11.1 6,8.8.8.8' && uci commit dhcp")
    deprecated = "Warning: the 'option dhcp_option' syntax is deprecated, use 'list dhcp_option'\n"
    before = ['dhcp-option=lan,3,192.168.11.1', 'dhcp-option=lan,6,8.8.8.8']
    assert dhcp_options(router, tmp_path) == (before, deprecated)

    apply = runner.run(DHCP_DNS, dhcp_vars())
    assert apply.rc == 0, apply
    assert "dhcp.lan.dhcp_option='3,192.168.11.1' '6,192.168.11.2,192.168.11.3'\n" in router.show('dhcp')
    assert dhcp_options(router, tmp_path) == (
        ['dhcp-option=lan,3,192.168.11.1', 'dhcp-option=lan,6,192.168.11.2,192.168.11.3'], '')
    again = runner.run(DHCP_DNS, dhcp_vars())
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()

    absent = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    show = router.show('dhcp')
    assert "dhcp.lan.dhcp_option='3,192.168.11.1' '6,8.8.8.8'\n" in show and 'natloop' not in show
    assert dhcp_options(router, tmp_path) == (before, '')  # the same lines, now from a list


def test_dhcp_list_keeps_positions_and_absent_restores_it_exactly(runner, router, tmp_path):
    router.sh("uci add_list dhcp.lan.dhcp_option='3,192.168.11.1' && uci add_list dhcp.lan.dhcp_option='6,192.168.11.1'"
              " && uci add_list dhcp.lan.dhcp_option='42,192.168.11.1' && uci commit dhcp")
    show_before = router.show('dhcp')
    lines_before = dhcp_options(router, tmp_path)
    apply = runner.run(DHCP_DNS, dhcp_vars())
    assert apply.rc == 0, apply
    assert ("dhcp.lan.dhcp_option='3,192.168.11.1' '6,192.168.11.2,192.168.11.3' '42,192.168.11.1'\n"
            in router.show('dhcp'))
    assert "dhcp.natloop_dns_lan.before='6,192.168.11.1'\n" in router.show('dhcp')
    absent = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    assert router.show('dhcp') == show_before
    assert dhcp_options(router, tmp_path) == lines_before


def test_dhcp_refuses_someone_elses_staged_changes_and_missing_sections(runner, router):
    router.sh('uci set dhcp.wan.ignore=0')
    file_before = router.read('dhcp')
    run = runner.run(DHCP_DNS, dhcp_vars())
    assert run.rc != 0
    assert any('uncommitted changes' in (msg or '') for msg in run.failed_msg), run
    assert router.read('dhcp') == file_before and router.reloads() == []
    assert router.changes('dhcp') == "dhcp.wan.ignore='0'\n"

    router.sh('uci revert dhcp')
    guest = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_openwrt_section='guest'))
    assert guest.rc != 0
    assert any('dhcp.guest' in (msg or '') for msg in guest.failed_msg), guest
    assert router.read('dhcp') == file_before and router.changes('dhcp') == ''


def test_dhcp_warnings_public_secondary_and_single_server(runner, router):
    public = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_servers=['192.168.11.2', '8.8.8.8']), check=True)
    assert public.rc == 0, public
    assert any('8.8.8.8 looks like a public resolver' in w for w in public.warnings), public.warnings
    assert not any('Only one DNS server' in w for w in public.warnings)

    single = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_servers=['192.168.11.2']), check=True)
    assert single.rc == 0, single
    assert any('Only one DNS server (192.168.11.2)' in w and 'Android' in w for w in single.warnings), single.warnings

    # Two private servers give no warning: see the check run of test_dhcp_pristine_check_apply_rerun_absent.


def test_dhcp_check_before_pointing_is_asked_from_the_controller_and_writes_nothing(runner, router, upstream_dns):
    """Issue 16: the server is asked (from the controller: OpenWrt runs no Python) before any uci
    write; one that answers the public address leaves the router's dhcp exactly as it was."""
    upstream_dns.zone.add('rustdesk.example.com', 'A', '198.51.100.1')   # the public answer: not split
    show_before = router.show('dhcp')
    run = runner.run(DHCP_DNS, dhcp_vars(
        router_dhcp_dns_servers=SERVERS[:1], router_dhcp_dns_warn_single_server=False,
        router_dhcp_dns_check_servers=True,
        router_dhcp_dns_check_services=[{'name': 'rustdesk', 'domain': 'rustdesk.example.com',
                                         'lan_ipv4': '192.168.11.20'}],
        router_dhcp_dns_check_upstream_names=['upstream.natloop.test'],
        router_dhcp_dns_check_addresses={SERVERS[0]: upstream_dns.address.replace(':', '#')},
        router_dhcp_dns_check_timeout=0.5))
    assert run.rc != 0
    msg = ' '.join(m for m in run.failed_msg if m)
    assert 'asked from localhost' in msg and 'got NOERROR 198.51.100.1, expected 192.168.11.20' in msg, run
    assert router.show('dhcp') == show_before and router.changes('dhcp') == '' and router.reloads() == []


@pytest.mark.parametrize('servers', [['192.168.11.300'], ['dns.example.com'], [], ['192.168.11.2', '192.168.11.2']])
def test_dhcp_bad_servers_are_rejected_before_anything_runs(runner, router, servers):
    file_before = router.read('dhcp')
    run = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_servers=servers))
    assert run.rc != 0
    assert not any('uci' in name for name, _result in run.results()), run.results()
    assert router.read('dhcp') == file_before and router.changes('dhcp') == ''


def plan(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            openwrt_uci_plan.main()
    return json.loads(capsys.readouterr().out)


def test_plan_script_applied_by_the_real_uci_gives_the_planned_state(capsys, tmp_path):
    router = Router(tmp_path / 'router')
    router.sh("uci add_list dhcp.lan.dhcp_option='3,192.168.11.1' && uci add_list dhcp.lan.dhcp_option='6,1.1.1.1'"
              " && uci commit dhcp")
    args = {'package': 'dhcp', 'show': router.run('uci', '-X', 'show', 'dhcp').stdout, 'dhcp_dns': {'servers': SERVERS}}
    result = plan(capsys, args)
    assert result['changed'] is True
    router.sh(result['script'])
    assert "dhcp.lan.dhcp_option='3,192.168.11.1' '6,192.168.11.2,192.168.11.3'\n" in router.show('dhcp')
    assert "dhcp.natloop_dns_lan.before='6,1.1.1.1'\n" in router.show('dhcp')
    assert router.changes('dhcp') == ''
    args['show'] = router.run('uci', '-X', 'show', 'dhcp').stdout
    again = plan(capsys, args)
    assert again['changed'] is False and again['script'] == ''


def test_plan_script_with_a_failing_command_reverts_the_package(capsys, tmp_path):
    router = Router(tmp_path / 'router')
    show = router.show('dhcp')
    result = plan(capsys, {'package': 'dhcp', 'show': router.run('uci', '-X', 'show', 'dhcp').stdout,
                           'dhcp_dns': {'servers': ['192.168.11.2']}})
    # The commit fails after the add_list was staged: the staged change must be reverted.
    proc = router.sh(result['script'].replace('uci commit dhcp', 'false'), check=False)
    assert proc.returncode == 1
    assert router.changes('dhcp') == '' and router.show('dhcp') == show


# --- Issue 13 on OpenWrt (issue 15 item 5): IPv6 DNS adverts and rebind exceptions. ----------------
# What OpenWrt makes of the uci options, with the peer's real functions.sh/uci.sh (config_load,
# config_get, config_list_foreach); the two translations below follow openwrt/openwrt
# package/network/services/dnsmasq/files/dnsmasq.init at 48615712 (dnsmasq_start: `list server` ->
# --server, while rebind_protection (default 1) is on: --stop-dns-rebind and `list rebind_domain` ->
# --rebind-domain-ok; dhcp_add with `ra server` in dnsmasq: `dns` list -> option6:dns-server,[a],[b],
# or [::] without one). odhcpd (RA and DHCPv6 on a default install) is not in the peer: it reads the
# same `dns` list and `dns_service` (openwrt/odhcpd src/config.c, src/router.c RDNSS, src/dhcpv6.c),
# so for it the assertions are on `uci show`.
DNSMASQ_INIT_LINES = r'''
. "$OWRT_SH/functions.sh"; . "$OWRT_SH/uci.sh"
config_load dhcp
first=; for_dnsmasq() { [ -n "$first" ] || first="$1"; }; config_foreach for_dnsmasq dnsmasq
server() { echo "server=$1"; }; config_list_foreach "$first" server server
config_get_bool rebind "$first" rebind_protection 1
rebind_ok() { echo "rebind-domain-ok=$1"; }
[ "$rebind" -gt 0 ] && { echo stop-dns-rebind; config_list_foreach "$first" rebind_domain rebind_ok; }
config_get dns lan dns
if [ -n "$dns" ]; then dnss=""; for d in $dns; do append dnss "[$d]" ","; done; else dnss="[::]"; fi
echo "dhcp-option=lan,option6:dns-server,$dnss"
'''

ODHCPD_LAN = "uci set dhcp.lan.ra='server' && uci set dhcp.lan.dhcpv6='server' && uci commit dhcp"
SPLIT_DNS6 = ['2001:db8:11::20', '2001:db8:11::21']


def dnsmasq_init_lines(router):
    proc = router.run('env', 'OWRT_SH=%s' % os.path.join(os.path.abspath(PEER), 'share', 'openwrt-sh'),
                      'bash', '-c', DNSMASQ_INIT_LINES)
    return proc.stdout.splitlines()


def test_dhcp_ipv6_adverts_and_rebind_exception_check_apply_rerun_absent(runner, router, tmp_path):
    router.sh(ODHCPD_LAN)
    show_before = router.show('dhcp')
    lines_before = dnsmasq_init_lines(router)
    # OpenWrt as it comes: the router advertises itself ([::]; odhcpd: dns_service 1), protection on.
    assert lines_before == ['stop-dns-rebind', 'dhcp-option=lan,option6:dns-server,[::]']
    role_vars = dhcp_vars(router_dhcp_dns_servers_ipv6=SPLIT_DNS6, router_dhcp_dns_forward_domains=['rustdesk.example.com'])

    check = runner.run(DHCP_DNS, role_vars, check=True)
    assert check.rc == 0 and check.changed == 1, check
    assert router.show('dhcp') == show_before and router.reloads() == []

    apply = runner.run(DHCP_DNS, role_vars)
    assert apply.rc == 0, apply
    show = router.show('dhcp')
    for line in ("dhcp.lan.dns='2001:db8:11::20' '2001:db8:11::21'\n",
                 "dhcp.@dnsmasq[0].server='/rustdesk.example.com/192.168.11.2'\n",
                 "dhcp.@dnsmasq[0].rebind_domain='rustdesk.example.com'\n",
                 "dhcp.@dnsmasq[0].rebind_protection='1'\n",
                 "dhcp.natloop_dns_lan.ipv6_changed='dns'\n"):
        assert line in show, show
    assert 'dns_service' not in show  # the dns list wins over dns_service in odhcpd
    lines = dnsmasq_init_lines(router)
    assert lines == ['server=/rustdesk.example.com/192.168.11.2', 'stop-dns-rebind',
                     'rebind-domain-ok=rustdesk.example.com',
                     'dhcp-option=lan,option6:dns-server,[2001:db8:11::20],[2001:db8:11::21]']
    assert dnsmasq_test(tmp_path, lines + dhcp_options(router, tmp_path)[0]) == (True, 'dnsmasq: syntax check OK.\n')
    assert router.changes('dhcp') == '' and router.reloads() == ['dnsmasq']

    file_after = router.read('dhcp')
    again = runner.run(DHCP_DNS, role_vars)
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert router.read('dhcp') == file_after

    # No IPv6 split-DNS server: odhcpd advertises no resolver (no dns list, dns_service 0).
    none = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_forward_domains=['rustdesk.example.com']))
    assert none.rc == 0, none
    show = router.show('dhcp')
    assert "dhcp.lan.dns_service='0'\n" in show and 'dhcp.lan.dns=' not in show, show
    assert "dhcp.natloop_dns_lan.ipv6_changed='dns' 'dns_service'\n" in show

    absent = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    assert router.show('dhcp') == show_before
    assert dnsmasq_init_lines(router) == lines_before
    absent_again = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_state='absent'))
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again.changed_tasks()


def test_dhcp_ipv6_replaces_the_isp_resolver_keeps_ipv4_entries_and_restores_them(runner, router, tmp_path):
    """A dns list with the ISP's IPv6 resolver and an IPv4 entry (odhcpd's DHCPv4): the IPv6 entries
    are replaced, the IPv4 one stays; ipv6: false changes nothing there (the role before issue 13)."""
    router.sh(ODHCPD_LAN + " && uci add_list dhcp.lan.dns='192.168.11.1' && uci add_list dhcp.lan.dns='2001:db8:100::53'"
              " && uci set dhcp.lan.dns_service='1' && uci commit dhcp")
    show_before = router.show('dhcp')
    old = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_ipv6=False, router_dhcp_dns_servers_ipv6=SPLIT_DNS6[:1]))
    assert old.rc == 0, old
    assert "dhcp.lan.dns='192.168.11.1' '2001:db8:100::53'\n" in router.show('dhcp')
    assert dnsmasq_init_lines(router)[-1] == 'dhcp-option=lan,option6:dns-server,[192.168.11.1],[2001:db8:100::53]'

    apply = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_servers_ipv6=SPLIT_DNS6[:1]))
    assert apply.rc == 0, apply
    show = router.show('dhcp')
    assert "dhcp.lan.dns='192.168.11.1' '2001:db8:11::20'\n" in show, show
    assert "dhcp.natloop_dns_lan.dns_before='192.168.11.1' '2001:db8:100::53'\n" in show, show

    absent = runner.run(DHCP_DNS, dhcp_vars(router_dhcp_dns_state='absent'))
    assert absent.rc == 0, absent
    assert router.show('dhcp') == show_before
