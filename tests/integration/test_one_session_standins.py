# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The record modules' ``settings`` option (one module run per server for settings and records), run by
real ansible-playbook against the stand-ins (tests/standins, NOT the real servers; CONTRACTS.md).

check -> apply -> check -> apply, the state read back over HTTP and DNS after each step; and a
settings failure writes no record."""

from natloop_standins.testclient import addresses
from test_record_modules_standins import run_playbook
from test_settings_modules_standins import (
    DEAD_UPSTREAM,
    PIHOLE_BLOCKED,
    PIHOLE_TOML,
    PiholeSession,
    adguard_handle,
    adguard_state,
    not_blocked,
    pihole_blocking,
)
from natloop_standins.fixtures import ADGUARD_PASSWORD, ADGUARD_USER

RECORD = {'domain': 'rustdesk.example.test', 'answer': '192.168.11.20'}


def four_runs(tmp_path, name, play, read_state):
    before = read_state()
    check = run_playbook(tmp_path, name + '-1-check', play, check=True)
    assert read_state() == before, 'check mode changed the server'
    apply = run_playbook(tmp_path, name + '-2-apply', play)
    for key in ('changed', 'settings', 'settings_changes', 'changes', 'diff'):
        assert check[key] == apply[key], key
    again = [run_playbook(tmp_path, name + '-3-check', play, check=True), run_playbook(tmp_path, name + '-4-apply', play)]
    for result in again:
        assert result['changed'] is False and result['settings_changes'] == [] and result['changes'] == [], result
    return before, read_state(), apply


def test_pihole_blocking_and_records_in_one_run(tmp_path, pihole_standin_factory):
    handle = pihole_standin_factory(env={'FTLCONF_dns_upstreams': DEAD_UPSTREAM.replace(':', '#')}, toml=PIHOLE_TOML)
    with PiholeSession(handle) as session:
        session.call('POST', '/api/domains/deny/exact', {'domain': PIHOLE_BLOCKED}, status=201)
    play = {
        'name': 'Pi-hole records and blocking', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'One run', 'register': '__result', 'natloop.lan.pihole_dns_record': {
            'url': handle.base_url, 'password': handle.password, 'records': [RECORD],
            'settings': {'blocking': False}}}],
    }
    before, after, apply = four_runs(tmp_path, 'pihole', play, lambda: pihole_blocking(handle))
    assert before['blocking'] == 'enabled' and after == {'blocking': 'disabled', 'timer': None}
    assert apply['settings'] == {'blocking': False}
    assert apply['settings_changes'] == [{'setting': 'blocking', 'before': True, 'after': False}]
    assert [change['action'] for change in apply['changes']] == ['create']
    assert apply['diff']['before']['settings'] == {'blocking': True}
    # What clients get: the record, and the denied name is not blocked; every run logged out.
    assert addresses(handle.query(RECORD['domain'], 'A')) == [RECORD['answer']]
    assert not_blocked(handle.query(PIHOLE_BLOCKED, 'A'))
    assert handle.server.sessions() == []


def test_adguard_settings_and_rewrites_in_one_run(tmp_path, adguard_standin_factory, upstream_dns):
    handle = adguard_handle(adguard_standin_factory, upstream_dns, filtering_enabled=False, rewrites_enabled=False)
    play = {
        'name': 'AdGuard Home rewrites and settings', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'One run', 'register': '__result', 'natloop.lan.adguard_rewrite': {
            'url': handle.base_url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD, 'rewrites': [RECORD],
            'settings': {'filtering_enabled': True, 'rewrites_enabled': True, 'protection_enabled': False,
                         'nxdomain_names': ['mask.icloud.com'], 'nxdomain_names_scope': ['mask.icloud.com']}}}],
    }
    before, after, apply = four_runs(tmp_path, 'adguard', play, lambda: adguard_state(handle))
    assert (before['filtering_enabled'], before['rewrites_enabled']) == (False, False)
    assert (after['filtering_enabled'], after['rewrites_enabled'], after['protection_enabled']) == (True, True, False)
    assert [change['setting'] for change in apply['settings_changes']] == [
        'filtering_enabled', 'rewrites_enabled', 'protection_enabled', 'nxdomain_names']
    # Rewrites answer only while filtering and rewrites are on: the settings went first.
    assert addresses(handle.query(RECORD['domain'], 'A')) == [RECORD['answer']]
    assert handle.query('mask.icloud.com', 'A').rcode() == 3   # NXDOMAIN


def test_a_settings_failure_writes_no_record(tmp_path, adguard_standin_factory, upstream_dns):
    # An AdGuard Home before v0.107.68 has no rewrites switch: rewrites_enabled=false fails (adguard_settings docs).
    handle = adguard_handle(adguard_standin_factory, upstream_dns, emulate_version='0.107.60')
    play = {
        'name': 'Refused settings', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'One run', 'register': '__result', 'ignore_errors': True, 'natloop.lan.adguard_rewrite': {
            'url': handle.base_url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD, 'rewrites': [RECORD],
            'settings': {'rewrites_enabled': False}}}],
    }
    result = run_playbook(tmp_path, 'refused', play)
    assert result['failed'] is True and 'before v0.107.68' in result['msg'], result
    assert addresses(handle.query(RECORD['domain'], 'A')) != [RECORD['answer']]
