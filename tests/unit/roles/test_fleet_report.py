# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report of the verify layer: natloop.lan.diagnose over two sites of local clients.

Each site publishes a service on a TCP listener this test owns on loopback; the clients are
this machine (local connection). Closing one site's listener makes its service really fail, so
the report, its JUnit XML and the regression exit code are checked against real connects.
Site beta's clients use a dnsmasq on loopback that answers the Firefox DoH canary with 0.0.0.0:
a real warning (doh_canary_missing) that the reports show and never count as a failure.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from xml.etree import ElementTree

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
COLLECTIONS = os.path.join(REPO, '.collections')
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')


def listener():
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(16)
    return sock


def site_vars(name, fixes, port, resolv_conf):
    return {
        'natloop_site': name,
        'natloop_fixes': fixes,
        # 'localhost' resolves from /etc/hosts: no DNS query leaves the machine.
        'natloop_services': [{'name': 'svc', 'domain': 'localhost', 'lan_ipv4': '127.0.0.1', 'lan_ipv6': '::1',
                              'ports': [{'proto': 'tcp', 'port': port}]}],
        # Every resolver counts as the LAN, so none is asked as a "public secondary".
        'natloop_lan_networks': ['0.0.0.0/0', '::/0'],
        'verify_probe_targets': ['name', 'lan'],
        'verify_timeout': 1.0,
        'verify_resolv_conf': resolv_conf,
        'verify_ipv6_dns_files': [],
        'verify_ra_wait': 0,  # no Router Solicitation on this machine's networks
    }


def free_udp_tcp_port(address):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((address, 0))
        port = udp.getsockname()[1]
        with socket.socket() as tcp:
            tcp.bind((address, port))
        return port


@pytest.fixture
def canary_resolver(tmp_path):
    """A resolver like a Pi-hole with blocking on and no canary handling: use-application-dns.net 0.0.0.0."""
    if not shutil.which('dnsmasq'):
        pytest.skip('dnsmasq is not installed')
    address = '127.0.14.53'
    port = free_udp_tcp_port(address)
    process = subprocess.Popen(
        ['dnsmasq', '-k', '-C', '/dev/null', '--no-hosts', '--no-resolv', '--bind-interfaces', '--user=root',
         '--listen-address=%s' % address, '--port=%d' % port, '--pid-file=%s' % (tmp_path / 'dnsmasq.pid'),
         '--address=/use-application-dns.net/0.0.0.0', '--host-record=localhost,127.0.0.1,::1'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resolv = tmp_path / 'resolv-beta.conf'
    resolv.write_text('nameserver %s:%d\n' % (address, port))
    yield str(resolv)
    process.terminate()
    process.wait(10)


@pytest.fixture
def fleet(tmp_path, canary_resolver):
    listeners = {'alpha': listener(), 'beta': listener()}
    hosts = dict(ansible_connection='local', ansible_python_interpreter=sys.executable)
    inventory = {
        'all': {'children': {
            'clients': {'hosts': {'alpha-pc': hosts, 'alpha-nas': hosts, 'beta-pc': hosts}},
            'alpha': {'hosts': {'alpha-pc': {}, 'alpha-nas': {}},
                      'vars': site_vars('alpha', ['hosts'], listeners['alpha'].getsockname()[1], '/dev/null')},
            'beta': {'hosts': {'beta-pc': {}},
                     'vars': site_vars('beta', ['split_dns', 'hairpin'], listeners['beta'].getsockname()[1],
                                       canary_resolver)},
        }},
    }
    path = tmp_path / 'inventory.json'
    path.write_text(json.dumps(inventory))
    reports = tmp_path / 'reports'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, PYTHONPATH=COLLECTIONS,
               ANSIBLE_GALAXY_SERVER='http://127.0.0.1:9', ANSIBLE_NOCOLOR='1', NATLOOP_REPORT_DIR=str(reports),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'))

    def run():
        return subprocess.run([PLAYBOOK, '-i', str(path), 'natloop.lan.diagnose'], env=env, cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=300, check=False)
    yield run, reports, listeners
    for sock in listeners.values():
        sock.close()


def read(reports):
    summary = json.loads((reports / 'fleet.json').read_text())
    junit = ElementTree.parse(str(reports / 'fleet.junit.xml')).getroot()
    return summary, junit, (reports / 'fleet.md').read_text()


def test_fleet_report_and_regression_exit_code(fleet):
    run, reports, listeners = fleet
    first = run()
    assert first.returncode == 0, first.stdout[-4000:]
    summary, junit, markdown = read(reports)
    assert [(s['site'], s['fixes'], s['clients_ok'], s['clients_total'], s['status']) for s in summary['sites']] == [
        ('alpha', ['hosts'], 2, 2, 'ok'), ('beta', ['hairpin', 'split_dns'], 1, 1, 'ok')]
    assert summary['totals'] == {'sites': 2, 'sites_ok': 2, 'clients': 3, 'clients_ok': 3, 'cases': 3, 'cases_failed': 0,
                                 'warnings': 1}
    assert junit.get('tests') == '3' and junit.get('failures') == '0'
    assert [(w['site'], w['client'], w['code']) for w in summary['warnings']] == [('beta', 'beta-pc', 'doh_canary_missing')]
    assert 'answers use-application-dns.net with 0.0.0.0' in summary['warnings'][0]['reason']
    assert '- beta / beta-pc / doh_canary_missing (127.0.14.53:' in markdown
    site_report = (reports / 'beta.md').read_text()
    assert '| beta-pc | doh_canary_missing | 127.0.14.53:' in site_report
    assert sorted(case.get('name') for case in junit.iter('testcase')) == [
        'alpha-nas localhost', 'alpha-pc localhost', 'beta-pc localhost']
    assert '| beta | hairpin, split_dns | 1 / 1 | ok 1 | doh_canary_missing 1 |' in markdown

    # Site beta's service goes down for real: its client now fails, which is a regression.
    listeners['beta'].close()
    second = run()
    assert second.returncode != 0, second.stdout[-4000:]
    assert 'Regressed since the previous fleet report' in second.stdout
    summary, junit, markdown = read(reports)
    assert [(s['site'], s['status']) for s in summary['sites']] == [('alpha', 'ok'), ('beta', 'failing')]
    assert [(r['site'], r['client'], r['was'], r['verdict']) for r in summary['regressions']] == [
        ('beta', 'beta-pc', 'ok', 'service_down')]
    failures = [(case.get('name'), case.find('failure').get('message')) for case in junit.iter('testcase')
                if case.find('failure') is not None]
    assert failures == [('beta-pc localhost', 'service_down')]
    assert 'beta / beta-pc / localhost: ok -> service_down' in markdown

    # Still down on the next run: reported, but no longer a regression against the last report.
    third = run()
    assert third.returncode == 0, third.stdout[-4000:]
    assert read(reports)[0]['regressions'] == []
