# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.openwrt_uci_plan: parsing `uci show` and planning (pure functions).

The plans applied by the real uci, firewall4 and OpenWrt's dnsmasq init: tests/unit/roles/test_openwrt_real.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.natloop.lan.tests.unit.plugins.modules.core_compat import patch_module_args

from ansible_collections.natloop.lan.plugins.module_utils._uci import (
    UciError,
    dhcp_dns_desired,
    matching_redirects,
    parse_show,
    plan_commands,
    reflection_desired,
)
from ansible_collections.natloop.lan.plugins.modules import openwrt_uci_plan

SHOW = """dhcp.cfg01411c=dnsmasq
dhcp.cfg01411c.server='/example.org/10.9.9.9' '1.1.1.1'
dhcp.cfg01411c.local='/it'\\''s/'
dhcp.lan=dhcp
dhcp.lan.interface='lan'
dhcp.lan.dhcp_option='3,192.168.11.1' '6,192.168.11.1' 'option:dns-server,1.1.1.1' 'tag:x,6,9.9.9.9'
"""


def test_parse_show_keeps_order_lists_and_quotes():
    sections = parse_show(SHOW, 'dhcp')
    assert list(sections) == ['cfg01411c', 'lan']
    assert sections['cfg01411c'] == {'.type': 'dnsmasq', 'server': ['/example.org/10.9.9.9', '1.1.1.1'],
                                     'local': ["/it's/"]}
    assert sections['lan']['dhcp_option'][3] == 'tag:x,6,9.9.9.9'


@pytest.mark.parametrize('bad', ['firewall.x=zone', 'dhcp.lan.x=unquoted', 'dhcp.nosection.x=\'1\''])
def test_parse_show_rejects_what_it_does_not_understand(bad):
    with pytest.raises(UciError):
        parse_show(bad, 'dhcp')


def test_dhcp_dns_replaces_every_untagged_option_6_once_in_place():
    sections = parse_show(SHOW, 'dhcp')
    desired, warnings = dhcp_dns_desired(sections, 'lan', ['192.168.11.2'], 'present')
    assert desired == {'lan': {'dhcp_option': ['3,192.168.11.1', '6,192.168.11.2', 'tag:x,6,9.9.9.9']},
                       'natloop_dns_lan': {'.type': 'natloop_dhcp_dns', 'section': 'lan',
                                           'before': ['6,192.168.11.1', 'option:dns-server,1.1.1.1']}}
    assert warnings == []
    # absent without a record: nothing is known to be ours, nothing changes.
    assert dhcp_dns_desired(sections, 'lan', [], 'absent') == ({}, [])
    after = parse_show(SHOW + "dhcp.natloop_dns_lan=natloop_dhcp_dns\ndhcp.natloop_dns_lan.before='6,192.168.11.1'\n"
                       .replace('6,192.168.11.1\' \'option', '6,192.168.11.2\' \'option'), 'dhcp')
    absent, _warnings = dhcp_dns_desired(after, 'lan', [], 'absent')
    assert absent == {'lan': {'dhcp_option': ['3,192.168.11.1', '6,192.168.11.1', 'tag:x,6,9.9.9.9']},
                      'natloop_dns_lan': None}
    with pytest.raises(UciError):
        dhcp_dns_desired(sections, 'cfg01411c', ['1.2.3.4'], 'present')


def test_plan_commands_only_for_differences_and_quoted():
    sections = parse_show(SHOW, 'dhcp')
    assert plan_commands(sections, 'dhcp', {'lan': {'interface': 'lan'}}) == []
    assert plan_commands(sections, 'dhcp', {'lan': {'interface': "it's", 'nothere': None}}) == [
        "uci set dhcp.lan.interface='it'\"'\"'s'"]
    assert plan_commands(sections, 'dhcp', {'cfg01411c': {'server': ['1.1.1.1'], 'local': None}}) == [
        # A list of several values is emptied with del_list and refilled: its place in the section stays.
        'uci del_list dhcp.cfg01411c.server=/example.org/10.9.9.9', 'uci del_list dhcp.cfg01411c.server=1.1.1.1',
        'uci add_list dhcp.cfg01411c.server=1.1.1.1', 'uci delete dhcp.cfg01411c.local']
    for bad in ({'lan;reboot': {'x': '1'}}, {'lan': {'x y': '1'}}, {'missing': {'x': '1'}}):
        with pytest.raises(UciError):
            plan_commands(sections, 'dhcp', bad)


FIREWALL_SHOW = """firewall.cfg01=redirect
firewall.cfg01.dest_ip='192.168.11.20'
firewall.cfg01.proto='tcp udp'
firewall.cfg01.target='dnat'
firewall.cfg01.src_dport='21110-21120'
firewall.cfg02=redirect
firewall.cfg02.dest_ip='192.168.11.20'
firewall.cfg02.proto='tcp'
firewall.cfg02.src_dport='22'
firewall.cfg03=redirect
firewall.cfg03.target='SNAT'
firewall.cfg03.dest_ip='192.168.11.20'
firewall.cfg04=redirect
firewall.cfg04.dest_ip='192.168.11.21'
firewall.cfg05=redirect
firewall.cfg05.dest_ip='192.168.11.22'
firewall.cfg05.proto='tcp'
firewall.cfg05.src_dport='8000'
firewall.cfg05.dest_port='80'
"""


def test_matching_redirects_by_address_protocol_and_ports():
    sections = parse_show(FIREWALL_SHOW, 'firewall')
    services = [
        {'name': 'rustdesk', 'ip': '192.168.11.20', 'ports': [{'proto': 'udp', 'start': 21116, 'end': 21116}]},
        {'name': 'all-ports', 'ip': '192.168.11.21', 'ports': [{'proto': 'tcp', 'start': 443, 'end': 443}]},
        {'name': 'web', 'ip': '192.168.11.22', 'ports': [{'proto': 'tcp', 'start': 80, 'end': 80}]},
        {'name': 'lost', 'ip': '192.168.11.99', 'ports': [{'proto': 'tcp', 'start': 1, 'end': 1}]},
    ]
    assert matching_redirects(sections, services) == (['cfg01', 'cfg04', 'cfg05'], ['lost'])


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            openwrt_uci_plan.main()
    return json.loads(capsys.readouterr().out)


def test_module_refuses_foreign_pending_changes(capsys):
    result = run_module({'package': 'dhcp', 'show': SHOW, 'pending_changes': "dhcp.lan.start='5'",
                         'dhcp_dns': {'servers': ['192.168.11.2']}}, capsys)
    assert result['failed'] and 'uncommitted changes' in result['msg']


def test_old_style_dhcp_option_is_split_into_one_entry_per_value():
    sections = parse_show("dhcp.lan=dhcp\ndhcp.lan.dhcp_option='3,192.168.11.1 6,8.8.8.8'\n", 'dhcp')
    desired, _warnings = dhcp_dns_desired(sections, 'lan', ['192.168.11.2'], 'present')
    assert desired['lan'] == {'dhcp_option': ['3,192.168.11.1', '6,192.168.11.2']}
    assert desired['natloop_dns_lan']['before'] == ['6,8.8.8.8']


LUCI_SHOW = """firewall.cfg0e3837=redirect
firewall.cfg0e3837.dest_ip='192.168.11.20'
firewall.cfg0e3837.proto='tcp' 'udp'
firewall.cfg0e3837.src_dport='21116'
firewall.cfg0e3837.reflection='0'
firewall.cfg0f3837=redirect
firewall.cfg0f3837.dest_ip='192.168.11.20'
firewall.cfg0f3837.proto='udp'
firewall.cfg0f3837.src_dport='21117'
firewall.cfg0f3837.enabled='0'
"""
UDP_SERVICE = [{'name': 'rustdesk', 'ip': '192.168.11.20', 'ports': [{'proto': 'udp', 'start': 21116, 'end': 21117}]}]


def test_every_protocol_of_a_luci_forward_counts_and_disabled_forwards_do_not():
    sections = parse_show(LUCI_SHOW, 'firewall')
    assert matching_redirects(sections, UDP_SERVICE) == (['cfg0e3837'], [])


def test_reflection_changes_only_what_keeps_firewall4_from_reflecting_and_absent_undoes_the_record():
    sections = parse_show(LUCI_SHOW, 'firewall')
    desired, _warnings = reflection_desired(sections, ['cfg0e3837'], 'present')
    record = [name for name in desired if name.startswith('natloop_')]
    assert desired['cfg0e3837'] == {'reflection': '1'} and len(record) == 1
    assert desired[record[0]]['reflection_before'] == '0' and desired[record[0]]['changed'] == ['reflection']
    commands = plan_commands(sections, 'firewall', desired)
    assert commands[0] == 'uci set firewall.cfg0e3837.reflection=1'
    assert 'uci set firewall.%s=natloop_hairpin' % record[0] in commands
    # Nothing to do where firewall4 reflects already (no option: reflection 1, reflection_src internal).
    plain = parse_show(LUCI_SHOW.replace("firewall.cfg0e3837.reflection='0'\n", ''), 'firewall')
    assert reflection_desired(plain, ['cfg0e3837'], 'present') == ({}, [])
    assert reflection_desired(plain, ['cfg0e3837'], 'absent') == ({}, [])


def test_absent_finds_the_record_after_the_forward_moved_and_warns_about_an_orphan():
    sections = parse_show(LUCI_SHOW, 'firewall')
    desired, _warnings = reflection_desired(sections, ['cfg0e3837'], 'present')
    record_name = [name for name in desired if name.startswith('natloop_')][0]
    record = desired[record_name]
    lines = ['firewall.%s=natloop_hairpin' % record_name, "firewall.%s.changed='reflection'" % record_name,
             "firewall.%s.reflection_before='0'" % record_name, "firewall.%s.redirect='x'" % record_name]
    assert record['changed'] == ['reflection']
    moved = LUCI_SHOW.replace('cfg0e3837', 'cfg113837').replace("reflection='0'", "reflection='1'")
    after = parse_show(moved + '\n'.join(lines) + '\n', 'firewall')
    assert reflection_desired(after, [], 'absent') == ({'cfg113837': {'reflection': '0'}, record_name: None}, [])
    edited = parse_show(moved.replace("'21116'", "'21118'") + '\n'.join(lines) + '\n', 'firewall')
    desired, warnings = reflection_desired(edited, [], 'absent')
    assert desired == {record_name: None}
    assert 'no longer exists as it was' in warnings[0]
