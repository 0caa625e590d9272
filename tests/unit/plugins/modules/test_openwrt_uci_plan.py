# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.openwrt_uci_plan: parsing `uci show`, planning, and running the plan on the fake uci."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.natloop.lan.tests.unit.plugins.modules.core_compat import patch_module_args

from ansible_collections.natloop.lan.plugins.module_utils._uci import (
    UciError,
    dhcp_dns_desired,
    matching_redirects,
    parse_show,
    plan_commands,
)
from ansible_collections.natloop.lan.plugins.modules import openwrt_uci_plan

FAKE_UCI = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'fakes', 'fake_uci.py')

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
    desired = dhcp_dns_desired(sections, 'lan', ['192.168.11.2'], 'present')
    assert desired == {'lan': {'dhcp_option': ['3,192.168.11.1', '6,192.168.11.2', 'tag:x,6,9.9.9.9']}}
    absent = dhcp_dns_desired(sections, 'lan', [], 'absent')
    assert absent == {'lan': {'dhcp_option': ['3,192.168.11.1', 'tag:x,6,9.9.9.9']}}
    with pytest.raises(UciError):
        dhcp_dns_desired(sections, 'cfg01411c', ['1.2.3.4'], 'present')


def test_plan_commands_only_for_differences_and_quoted():
    sections = parse_show(SHOW, 'dhcp')
    assert plan_commands(sections, 'dhcp', {'lan': {'interface': 'lan'}}) == []
    assert plan_commands(sections, 'dhcp', {'lan': {'interface': "it's", 'nothere': None}}) == [
        "uci set dhcp.lan.interface='it'\"'\"'s'"]
    assert plan_commands(sections, 'dhcp', {'cfg01411c': {'server': ['1.1.1.1'], 'local': None}}) == [
        'uci delete dhcp.cfg01411c.server', 'uci add_list dhcp.cfg01411c.server=1.1.1.1',
        'uci delete dhcp.cfg01411c.local']
    for bad in ({'lan;reboot': {'x': '1'}}, {'lan': {'x y': '1'}}, {'missing': {'x': '1'}}):
        with pytest.raises(UciError):
            plan_commands(sections, 'dhcp', bad)


FIREWALL_SHOW = """firewall.cfg01=redirect
firewall.cfg01.dest_ip='192.168.11.20'
firewall.cfg01.proto='tcp udp'
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


def test_module_script_applied_by_uci_gives_the_planned_state(capsys, tmp_path):
    """Run the returned script through sh against the fake uci: the device ends as planned."""
    committed = {'dhcp': [['lan', 'dhcp', {'interface': 'lan', 'dhcp_option': ['3,192.168.11.1', '6,1.1.1.1']}]]}
    state_file = str(tmp_path / 'uci.json')
    with open(state_file, 'w') as handle:
        json.dump({'committed': committed, 'staged': committed, 'changes': {}, 'log': []}, handle)
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    (bindir / 'uci').write_text('#!/bin/sh\nexec %s %s "$@"\n' % (sys.executable, os.path.abspath(FAKE_UCI)))
    (bindir / 'uci').chmod(0o755)
    env = dict(os.environ, PATH='%s:%s' % (bindir, os.environ['PATH']), NATLOOP_FAKE_UCI_STATE=state_file)

    show = subprocess.run(['uci', '-X', 'show', 'dhcp'], env=env, capture_output=True, text=True, check=True).stdout
    result = run_module({'package': 'dhcp', 'show': show,
                         'dhcp_dns': {'servers': ['192.168.11.2', '192.168.11.3']}}, capsys)
    assert result['changed'] is True
    subprocess.run(['sh', '-c', result['script']], env=env, check=True)
    with open(state_file) as handle:
        state = json.load(handle)
    assert state['committed']['dhcp'][0][2]['dhcp_option'] == ['3,192.168.11.1', '6,192.168.11.2,192.168.11.3']
    assert state['changes'] == {}

    show = subprocess.run(['uci', '-X', 'show', 'dhcp'], env=env, capture_output=True, text=True, check=True).stdout
    again = run_module({'package': 'dhcp', 'show': show,
                        'dhcp_dns': {'servers': ['192.168.11.2', '192.168.11.3']}}, capsys)
    assert again['changed'] is False and again['script'] == ''


def test_module_failing_command_reverts_the_package(capsys, tmp_path):
    committed = {'dhcp': [['lan', 'dhcp', {'interface': 'lan'}]]}
    state_file = str(tmp_path / 'uci.json')
    with open(state_file, 'w') as handle:
        json.dump({'committed': committed, 'staged': committed, 'changes': {}, 'log': []}, handle)
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    (bindir / 'uci').write_text('#!/bin/sh\nexec %s %s "$@"\n' % (sys.executable, os.path.abspath(FAKE_UCI)))
    (bindir / 'uci').chmod(0o755)
    env = dict(os.environ, PATH='%s:%s' % (bindir, os.environ['PATH']), NATLOOP_FAKE_UCI_STATE=state_file)
    result = run_module({'package': 'dhcp', 'show': "dhcp.lan=dhcp\ndhcp.lan.interface='lan'\n",
                         'dhcp_dns': {'servers': ['192.168.11.2']}}, capsys)
    # Make the commit fail after the add_list was staged: the staged change must be reverted.
    script = result['script'].replace('uci commit dhcp', 'false')
    proc = subprocess.run(['sh', '-c', script], env=env, check=False)
    assert proc.returncode == 1
    with open(state_file) as handle:
        state = json.load(handle)
    assert state['staged'] == committed and state['changes'] == {}
