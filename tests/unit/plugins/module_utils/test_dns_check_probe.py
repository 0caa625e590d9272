# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Two runners of one probe spec, proven alike on real DNS servers.

roles/_dns_server/files/natloop_dns_probe.py (shipped to hosts by ansible.builtin.script, one file,
so it cannot import module_utils) is the reference; plugins/module_utils/_dns_check.py runs the same
spec inside natloop.lan.dnsmasq_dropin (the router's server check). Both ask the same real servers
on loopback (the fake upstream and the AdGuard Home stand-in of tests/conftest.py, over UDP and
TCP, a refusing port, a silent one) and must print the same report: results in the same order, the
same rcodes, answers, errors and problem sentences. The question bytes are proven alike in
test_dns_wire_probe.py.
"""

import socket
import threading

import dns.message
import dns.rrset
import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _dns_check
from ansible_collections.natloop.lan.tests.unit.plugins.module_utils.test_dns_wire_probe import probe


def server_of(upstream):
    host, port = upstream.address.rsplit(':', 1)
    return host, int(port)


def both(spec):
    theirs = probe.run(spec)
    ours = _dns_check.run(spec)
    assert ours == theirs
    return ours


def test_every_kind_of_question_over_both_transports(upstream_dns):
    host, port = server_of(upstream_dns)
    upstream_dns.zone.add('two.natloop.test', 'A', '198.51.100.81')
    upstream_dns.zone.add('two.natloop.test', 'A', '198.51.100.82')
    upstream_dns.zone.add('pub.natloop.test', 'A', '198.51.100.1')
    upstream_dns.zone.add('pub.natloop.test', 'HTTPS', '1 . alpn=h2 ipv4hint=198.51.100.1')
    report = both({'servers': [host, '%s#%d' % (host, port)], 'port': port, 'timeout': 2, 'transports': ['udp', 'tcp'],
                   'expect': [{'name': 'Upstream.Natloop.Test.', 'type': 'A', 'answer': '198.51.100.80'},
                              {'name': 'upstream.natloop.test', 'type': 'AAAA', 'answer': '2001:DB8:0::80'},
                              {'name': 'two.natloop.test', 'type': 'A', 'answer': '198.51.100.81'},   # one missing
                              {'name': 'missing.natloop.test', 'type': 'A', 'answer': '192.168.11.20'}],
                   'resolve': [{'name': 'upstream.example.com'}, {'name': 'nothing.natloop.test'},
                               {'name': 'pub.natloop.test', 'type': 'HTTPS'}],
                   'empty': [{'name': 'pub.natloop.test', 'type': 'HTTPS'}, {'name': 'upstream.natloop.test', 'type': 'MX'},
                             {'name': 'ads.natloop.test'}],
                   'queries': [{'name': 'nothing.natloop.test'}, {'name': 'else.natloop.test', 'type': 'TXT'}]})
    # The spec really went out and got every kind of verdict.
    assert len(report['results']) == 2 * 2 * 11
    assert {result['ok'] for result in report['results']} == {True, False}
    assert 'A two.natloop.test from %s over tcp: got NOERROR 198.51.100.81, 198.51.100.82, expected 198.51.100.81' % host \
        in report['problems']


def test_a_forwarder_answering_rewrites_and_cnames(adguard_standin_factory, upstream_dns):
    from natloop_standins.fixtures import adguard_config   # tests/standins, on the path via tests/conftest.py
    config = adguard_config(upstream_dns, rewrites=[
        {'domain': 'alias.natloop.test', 'answer': 'upstream.natloop.test', 'enabled': True},
        {'domain': 'nas.natloop.test', 'answer': '192.168.11.20', 'enabled': True}])
    handle = adguard_standin_factory(config=config)
    report = both({'servers': [handle.host], 'port': handle.dns_port, 'transports': ['udp', 'tcp'],
                   'expect': [{'name': 'alias.natloop.test', 'type': 'A', 'answer': '198.51.100.80'},
                              {'name': 'nas.natloop.test', 'type': 'A', 'answer': '192.168.11.21'}],
                   'resolve': [{'name': 'upstream.natloop.test'}]})
    assert [result['ok'] for result in report['results']] == [True, False, True] * 2


def closed_port(kind):
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize('transport', ['udp', 'tcp'])
def test_a_refusing_port(transport):
    report = both({'servers': ['127.0.0.1'], 'port': closed_port(socket.SOCK_DGRAM if transport == 'udp' else socket.SOCK_STREAM),
                   'timeout': 0.5, 'transports': [transport], 'expect': [{'name': 'nas.lan', 'type': 'A', 'answer': '192.168.11.20'}]})
    assert report['results'][0]['error'] and not report['ok'], report


def test_a_silent_server():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    try:
        report = both({'servers': ['127.0.0.1#%d' % port], 'timeout': 0.3, 'queries': [{'name': 'pi.hole'}]})
    finally:
        sock.close()
    assert report['problems'] == ['A pi.hole from 127.0.0.1#%d over udp: no answer within 0.3s' % port]


def server_losing_the_first_question():
    """A real UDP DNS server on loopback that drops the first datagram and answers the next ones."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    sock.settimeout(10)
    seen = []

    def serve():
        try:
            while True:
                data, peer = sock.recvfrom(4096)
                seen.append(data)
                if len(seen) > 1:
                    query = dns.message.from_wire(data)
                    response = dns.message.make_response(query)
                    response.answer.append(dns.rrset.from_text(query.question[0].name, 0, 'IN', 'A', '192.168.11.20'))
                    sock.sendto(response.to_wire(), peer)
        except OSError:
            pass
    threading.Thread(target=serve, daemon=True).start()
    return sock, seen


@pytest.mark.parametrize('retries, ok', [(0, False), (1, True)])
def test_check_asks_again_after_a_lost_packet(retries, ok):
    sock, seen = server_losing_the_first_question()
    try:
        spec = {'servers': ['127.0.0.1#%d' % sock.getsockname()[1]], 'timeout': 0.3,
                'expect': [{'name': 'nas.lan', 'type': 'A', 'answer': '192.168.11.20'}]}
        report = _dns_check.check(spec, retries=retries, delay=0.1)
    finally:
        sock.close()
    assert report['ok'] is ok, report
    assert len(seen) == 1 + retries
