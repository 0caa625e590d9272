# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""UDP probes and DNS queries of service_check against real loopback sockets: a lost datagram is
sent again within the same timeout, a late reply to the first send still counts, and only a reply
from the address asked (and, for DNS, to the query asked) is taken."""

import socket
import threading
import time

import dns.message
import dns.rrset
import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _service_check as checks


class UdpPeer:
    """A loopback UDP server that ignores the first `drop` datagrams and answers the rest with
    reply(data) (None: stays silent), optionally from another socket (another port)."""

    def __init__(self, reply, drop=0, answer_from_other_port=False, delay=0.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if answer_from_other_port else None
        self.reply, self.drop, self.delay = reply, drop, delay
        self.received = 0
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.received += 1
            if self.received <= self.drop:
                continue
            answer = self.reply(data)
            if answer is not None:
                time.sleep(self.delay)
                (self.other or self.sock).sendto(answer, peer)

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()
        if self.other:
            self.other.close()


@pytest.fixture
def peer():
    peers = []

    def start(*args, **kwargs):
        peers.append(UdpPeer(*args, **kwargs))
        return peers[-1]
    yield start
    for p in peers:
        p.close()


def test_a_lost_datagram_is_sent_again_within_the_timeout(peer):
    server = peer(lambda data: b"BANNER " + data, drop=1)
    outcome = checks.probe("127.0.0.1", "udp", server.port, 1.5, "probe")
    assert outcome["result"] == "ok" and outcome["reply"] == "BANNER probe", outcome
    assert server.received == 2 and outcome["seconds"] < 1.5


def test_a_slow_reply_to_the_first_send_counts(peer):
    # The reply to the first datagram comes after the resend: the same socket takes it.
    server = peer(lambda data: b"late", delay=0.8)
    assert checks.udp_exchange("127.0.0.1", server.port, b"x", 1.5) == b"late"


def test_silence_is_a_timeout_after_three_sends(peer):
    server = peer(lambda data: None)
    started = time.monotonic()
    outcome = checks.probe("127.0.0.1", "udp", server.port, 0.9, "probe")
    assert outcome["result"] == "timeout" and 0.85 < time.monotonic() - started < 1.5, outcome
    assert server.received == checks.UDP_SENDS == 3


def test_a_reply_from_another_port_is_dropped_like_a_real_client_drops_it(peer):
    # NAT loopback's failure: the answer comes from an address (here a port) not asked.
    server = peer(lambda data: b"from elsewhere", answer_from_other_port=True)
    assert checks.probe("127.0.0.1", "udp", server.port, 0.6, "probe")["result"] == "timeout"


def test_a_closed_port_is_refused():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    assert checks.probe("127.0.0.1", "udp", port, 1.0, "probe")["result"] == "refused"


def dns_answer(address, wrong_id=False):
    def reply(data):
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        if wrong_id:
            response.id = (query.id + 1) % 65536
        response.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", address))
        return response.to_wire()
    return reply


def test_a_dns_query_survives_a_lost_datagram(peer):
    server = peer(dns_answer("192.168.11.20"), drop=1)
    result = checks.query("127.0.0.1:%d" % server.port, "rustdesk.example.com", "A", 1.5)
    assert result["addresses"] == ["192.168.11.20"] and result["error"] is None, result


def test_a_reply_to_another_query_is_not_taken(peer):
    server = peer(dns_answer("198.51.100.1", wrong_id=True))
    result = checks.query("127.0.0.1:%d" % server.port, "rustdesk.example.com", "A", 0.6)
    assert result["addresses"] == [] and "timed out" in result["error"], result


def test_a_temporary_resolver_failure_is_asked_again(monkeypatch):
    """EAI_AGAIN (a resolv.conf rewritten in place, a resolver restarting) is asked again; a name
    that does not exist is not."""
    calls = []

    def getaddrinfo(domain, port, family, kind):
        calls.append(domain)
        if domain == "again.example" and len(calls) < 3:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if domain == "again.example":
            return [(family, kind, 6, "", ("192.168.11.20", 0))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(checks.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(checks.time, "sleep", lambda seconds: None)
    result = checks.resolve_system("again.example")
    assert result["A"] == ["192.168.11.20"] and result["error"] is None, result
    calls.clear()
    assert checks.resolve_system("nxdomain.example")["error"] == "[Errno -2] Name or service not known"
    assert calls == ["nxdomain.example", "nxdomain.example"]   # once per family, never again
