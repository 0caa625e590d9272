# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop_dns_probe.py (natloop.lan._dns_server): the standard-library DNS client the roles use to
wait for a server and to check its answers, against real DNS servers on loopback (the fake
upstream and the AdGuard Home stand-in from tests/conftest.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket
import struct
import subprocess
import sys

import pytest

from conftest import REPO, load_role_file

PROBE = os.path.join(REPO, 'roles', '_dns_server', 'files', 'natloop_dns_probe.py')
probe = load_role_file('_dns_server', 'natloop_dns_probe.py')


def server_of(upstream):
    host, port = upstream.address.rsplit(':', 1)
    return host, int(port)


def test_exact_answers_over_udp_and_tcp(upstream_dns):
    host, port = server_of(upstream_dns)
    report = probe.run({'servers': [host], 'port': port, 'transports': ['udp', 'tcp'], 'expect': [
        {'name': 'upstream.natloop.test', 'type': 'A', 'answer': '198.51.100.80'},
        {'name': 'Upstream.Natloop.Test.', 'type': 'AAAA', 'answer': '2001:DB8:0::80'},   # compared canonically
    ]})
    assert report['ok'], report
    assert [(r['transport'], r['type'], r['answers']) for r in report['results']] == [
        ('udp', 'A', ['198.51.100.80']), ('udp', 'AAAA', ['2001:db8::80']),
        ('tcp', 'A', ['198.51.100.80']), ('tcp', 'AAAA', ['2001:db8::80'])]
    # Both questions really reached the server, over both transports.
    assert upstream_dns.zone.queries.count(('upstream.natloop.test', 'A')) == 2


def test_a_missing_or_extra_answer_fails(upstream_dns):
    host, port = server_of(upstream_dns)
    upstream_dns.zone.add('two.natloop.test', 'A', '198.51.100.81')
    upstream_dns.zone.add('two.natloop.test', 'A', '198.51.100.82')
    report = probe.run({'servers': [host], 'port': port, 'expect': [
        {'name': 'two.natloop.test', 'type': 'A', 'answer': '198.51.100.81'},
        {'name': 'missing.natloop.test', 'type': 'A', 'answer': '192.168.11.20'}]})
    assert not report['ok']
    assert report['problems'] == [
        'A two.natloop.test from 127.0.0.1 over udp: got NOERROR 198.51.100.81, 198.51.100.82, expected 198.51.100.81',
        'A missing.natloop.test from 127.0.0.1 over udp: got NXDOMAIN no A record, expected 192.168.11.20']


def test_any_answer_counts_for_a_readiness_question(upstream_dns):
    host, port = server_of(upstream_dns)
    report = probe.run({'servers': [host], 'port': port, 'queries': [{'name': 'nothing.natloop.test'}]})
    assert report['ok'], report
    assert report['results'][0]['rcode'] == 'NXDOMAIN'


def test_no_server_is_an_error_and_exit_1():
    # A UDP port that is surely closed: bind it, note it, close it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    spec = {'servers': ['127.0.0.1'], 'port': port, 'timeout': 0.5, 'queries': [{'name': 'pi.hole'}]}
    out = subprocess.run([sys.executable, PROBE, json.dumps(spec)], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert not report['ok'] and report['results'][0]['error']
    assert report['problems'][0].startswith('A pi.hole from 127.0.0.1 over udp: ')


def test_follows_a_cname_and_keeps_the_asked_type(adguard_standin_factory, upstream_dns):
    from natloop_standins.fixtures import adguard_config   # tests/standins, on the path via tests/conftest.py
    config = adguard_config(upstream_dns, rewrites=[
        {'domain': 'alias.natloop.test', 'answer': 'upstream.natloop.test', 'enabled': True},
        {'domain': 'nas.natloop.test', 'answer': '192.168.11.20', 'enabled': True}])
    handle = adguard_standin_factory(config=config)
    report = probe.run({'servers': [handle.host], 'port': handle.dns_port, 'transports': ['udp', 'tcp'], 'expect': [
        {'name': 'alias.natloop.test', 'type': 'A', 'answer': '198.51.100.80'},
        {'name': 'nas.natloop.test', 'type': 'A', 'answer': '192.168.11.20'}]})
    assert report['ok'], report


def test_malformed_replies_are_rejected():
    query_id = 0x1234
    header = struct.pack('!HHHHHH', query_id, 0x8180, 0, 1, 0, 0)
    looping = header + b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 60, 4) + b'\x01\x02\x03\x04'
    with pytest.raises(probe.ProbeError, match='compression loop'):
        probe.parse_response(looping, query_id)
    with pytest.raises(probe.ProbeError, match='does not match'):
        probe.parse_response(struct.pack('!HHHHHH', 0x9999, 0x8180, 0, 0, 0, 0), query_id)
    with pytest.raises(probe.ProbeError, match='short reply'):
        probe.parse_response(b'\x12\x34', query_id)


def test_a_resolve_question_needs_noerror_and_an_address(upstream_dns, adguard_standin_factory):
    """natloop.lan.router_dhcp_dns asks each server for an ordinary name before handing it out:
    any address passes, NXDOMAIN or SERVFAIL (a server whose upstream is dead) does not."""
    from natloop_standins.fixtures import adguard_config   # tests/standins, on the path via tests/conftest.py
    host, port = server_of(upstream_dns)
    report = probe.run({'servers': [host], 'port': port, 'resolve': [
        {'name': 'upstream.natloop.test', 'type': 'A'}, {'name': 'missing.natloop.test'}]})
    assert not report['ok']
    assert [(r['name'], r['ok']) for r in report['results']] == [
        ('upstream.natloop.test', True), ('missing.natloop.test', False)]
    assert report['problems'] == [
        'A missing.natloop.test from 127.0.0.1 over udp: got NXDOMAIN no A record, expected an address '
        '(a name the server must resolve through its upstreams)']

    # A real forwarder whose upstream does not answer: the stand-in answers, but not with an address.
    dead = adguard_config(upstream_dns)
    dead['dns']['upstream_dns'] = ['127.0.0.1:9']
    handle = adguard_standin_factory(config=dead)
    report = probe.run({'servers': [handle.host], 'port': handle.dns_port, 'timeout': 3,
                        'resolve': [{'name': 'upstream.natloop.test'}]})
    assert not report['ok'], report
    assert 'expected an address' in report['problems'][0] or 'no answer' in report['problems'][0], report


def test_a_server_can_carry_its_own_port(upstream_dns):
    host, port = server_of(upstream_dns)
    report = probe.run({'servers': ['%s#%d' % (host, port)], 'port': 9, 'expect': [
        {'name': 'upstream.natloop.test', 'type': 'A', 'answer': '198.51.100.80'}]})
    assert report['ok'], report
    assert report['results'][0]['server'] == '%s#%d' % (host, port)


def test_an_empty_question_passes_on_nodata_or_nxdomain_only(upstream_dns):
    """Issue 13: a published name must get no upstream AAAA/HTTPS answer, a canary no address."""
    host, port = server_of(upstream_dns)
    upstream_dns.zone.add('pub.natloop.test', 'A', '198.51.100.1')
    upstream_dns.zone.add('pub.natloop.test', 'HTTPS', '1 . ipv4hint=198.51.100.1')
    report = probe.run({'servers': [host], 'port': port, 'empty': [
        {'name': 'upstream.natloop.test', 'type': 'MX'},     # NOERROR, no MX record
        {'name': 'canary.natloop.test', 'type': 'A'},        # NXDOMAIN
        {'name': 'pub.natloop.test', 'type': 'HTTPS'},       # an HTTPS record: fails
        {'name': 'upstream.natloop.test', 'type': 'AAAA'}]})  # an address: fails
    assert [(r['name'], r['type'], r['ok']) for r in report['results']] == [
        ('upstream.natloop.test', 'MX', True), ('canary.natloop.test', 'A', True),
        ('pub.natloop.test', 'HTTPS', False), ('upstream.natloop.test', 'AAAA', False)]
    assert report['problems'][1] == ('AAAA upstream.natloop.test from 127.0.0.1 over udp: got NOERROR 2001:db8::80, '
                                     'expected no AAAA record (NOERROR or NXDOMAIN)')


def test_a_check_after_readiness_is_reported_not_counted(upstream_dns):
    """wait.yml's probe: ready as soon as the server answers; the check says whether it already
    answers as configured (a no-op run then skips answers.yml's second probe)."""
    host, port = server_of(upstream_dns)
    spec = {'servers': [host], 'port': port, 'queries': [{'name': 'nothing.natloop.test'}],
            'check': {'transports': ['udp', 'tcp'],
                      'expect': [{'name': 'upstream.natloop.test', 'type': 'A', 'answer': '198.51.100.80'}],
                      'empty': [{'name': 'upstream.natloop.test', 'type': 'HTTPS'}]}}
    report = probe.run(spec)
    assert report['ok'] and report['check']['ok'], report
    assert [(r['transport'], r['type']) for r in report['check']['results']] == [
        ('udp', 'A'), ('udp', 'HTTPS'), ('tcp', 'A'), ('tcp', 'HTTPS')]

    # Not configured yet: the check fails at its first problem and asks nothing more; the server is ready all the same.
    spec['check']['expect'][0]['answer'] = '192.168.11.20'
    upstream_dns.zone.queries.clear()
    result = subprocess.run([sys.executable, PROBE, json.dumps(spec)], capture_output=True, text=True, check=False)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report['ok'] and not report['check']['ok'], report
    assert report['check']['problems'] == [
        'A upstream.natloop.test from 127.0.0.1 over udp: got NOERROR 198.51.100.80, expected 192.168.11.20']
    assert upstream_dns.zone.queries == [('nothing.natloop.test', 'A'), ('upstream.natloop.test', 'A')]


def test_no_check_while_the_server_is_not_ready():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    report = probe.run({'servers': ['127.0.0.1'], 'port': port, 'timeout': 0.5, 'queries': [{'name': 'a.test'}],
                        'check': {'expect': [{'name': 'a.test', 'type': 'A', 'answer': '192.168.11.20'}]}})
    assert not report['ok'] and 'check' not in report
