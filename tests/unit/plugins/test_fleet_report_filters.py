# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.fleet_summary and fleet_junit on hand-made results (the playbook-level test is
tests/unit/roles/test_fleet_report.py)."""

from xml.etree import ElementTree

import pytest

from ansible_collections.natloop.lan.plugins.filter.fleet_report import fleet_junit, fleet_summary


def client(host, site, *verdicts, **extra):
    entry = {'host': host, 'site': site, 'fixes': ['split_dns'],
             'services': [{'domain': 'svc%d.example.com' % i, 'verdict': v, 'reason': 'because %s' % v}
                          for i, v in enumerate(verdicts)]}
    entry.update(extra)
    return entry


def test_client_not_checked_counts_as_failing_with_its_reason():
    summary = fleet_summary([client('a', 's1', 'ok'), {'host': 'b', 'site': 's1', 'services': None,
                                                       'reason': 'unreachable'}])
    assert summary['sites'][0]['clients_ok'] == 1 and summary['sites'][0]['status'] == 'failing'
    assert summary['cases'][1]['verdict'] == 'not_checked' and summary['cases'][1]['reason'] == 'unreachable'


def test_allowed_warning_verdicts_count_as_ok():
    summary = fleet_summary([client('a', 's1', 'ok', 'public_secondary_dns')],
                            allowed_verdicts=['ok', 'public_secondary_dns'])
    assert summary['totals']['cases_failed'] == 0 and summary['sites'][0]['status'] == 'ok'


def test_regressions_against_the_previous_summary():
    before = fleet_summary([client('a', 's1', 'ok', 'ok'), client('b', 's1', 'ok'), client('c', 's2', 'hairpin_missing'),
                            client('z', 'gone-site', 'ok')])
    now = fleet_summary([client('a', 's1', 'ok', 'dns_not_split'), client('c', 's2', 'hairpin_missing')], previous=before)
    # a's second service broke; b was ok and is missing from a site that ran; c was never ok;
    # a site absent from this run (a --limit) is not a regression.
    assert [(r['client'], r['service'], r['was'], r['verdict']) for r in now['regressions']] == [
        ('a', 'svc1.example.com', 'ok', 'dns_not_split'), ('b', 'svc0.example.com', 'ok', 'not_checked')]


def test_junit_has_a_suite_per_site_and_a_failure_per_bad_case():
    summary = fleet_summary([client('a', 's1', 'ok', 'hairpin_missing'), client('c', 's2', 'ok')])
    root = ElementTree.fromstring(fleet_junit(summary))
    assert (root.get('tests'), root.get('failures')) == ('3', '1')
    suites = dict((suite.get('name'), suite) for suite in root.iter('testsuite'))
    assert sorted(suites) == ['s1', 's2'] and suites['s1'].get('failures') == '1'
    failure = suites['s1'].find("testcase[@name='a svc1.example.com']/failure")
    assert failure.get('message') == 'hairpin_missing' and failure.text == 'because hairpin_missing'


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match='list of clients'):
        fleet_summary('nope')
    with pytest.raises(TypeError, match='fleet_summary'):
        fleet_junit([])


def test_client_findings_are_warnings_not_failures():
    finding = {'code': 'doh_canary_missing', 'severity': 'warning', 'server': '192.168.11.20',
               'reason': '192.168.11.20 answers use-application-dns.net with 0.0.0.0'}
    before = fleet_summary([client('a', 's1', 'ok')])
    summary = fleet_summary([client('a', 's1', 'ok', findings=[finding]), client('b', 's1', 'ok')], previous=before)
    assert summary['sites'][0]['status'] == 'ok' and summary['sites'][0]['clients_ok'] == 2
    assert summary['totals']['cases_failed'] == 0 and summary['totals']['warnings'] == 1
    assert summary['sites'][0]['warnings'] == {'doh_canary_missing': 1} and summary['regressions'] == []
    assert summary['warnings'] == [dict(finding, site='s1', client='a')]
    root = ElementTree.fromstring(fleet_junit(summary))
    assert root.get('failures') == '0'
    suite = root.find('testsuite')
    assert suite.find("properties/property[@name='warnings']").get('value') == '1'
    assert 'warning a doh_canary_missing (192.168.11.20)' in suite.find('system-out').text
