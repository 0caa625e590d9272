# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DNS plumbing shared by the stand-ins (stand-in for tests, NOT the real AdGuard Home /
Pi-hole).

* :class:`DNSListener` serves UDP and TCP on one port and asks a *resolver* object
  (``resolve(query, client_ip) -> dns.message.Message | None``) for every answer.
* :class:`Forwarder` sends unknown names upstream, but only to plain-IP upstreams
  (``IP``, ``IP:port``, ``[IPv6]:port``, ``IP#port``, optionally prefixed ``udp://`` or
  ``tcp://``) inside the allowed networks. DoH/DoT/DoQ/hostname upstreams and public
  addresses are never contacted: the query gets SERVFAIL. That is a deliberate
  deviation from the real servers, so tests and the lab never leak traffic.
* :class:`StaticZone` is a tiny authoritative resolver tests use as a fake upstream.
"""

import ipaddress
import logging
import os
import random
import socket
import socketserver
import struct
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

LOG = logging.getLogger("natloop_standins.dns")

#: Networks the forwarder may contact by default: loopback and the lab's LAN/WAN ranges.
DEFAULT_FORWARD_ALLOW = ("127.0.0.0/8", "::1/128", "192.168.0.0/16", "198.51.100.0/24")
FORWARD_ALLOW_ENV = "NATLOOP_STANDIN_FORWARD_ALLOW"


def qname_text(name):
    """Question name without the final dot, as the servers compare it."""
    return name.to_text(omit_final_dot=True) if name != dns.name.root else ""


def make_reply(query, rcode=dns.rcode.NOERROR):
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    response.set_rcode(rcode)
    return response


def add_records(response, name, rdtype, ttl, values):
    """Append one RRset (``values`` in presentation format) to the answer section."""
    if not values:
        return
    if isinstance(name, str):
        name = dns.name.from_text(name)
    response.answer.append(dns.rrset.from_text_list(name, ttl, dns.rdataclass.IN, rdtype, list(values)))


def parse_plain_upstream(text):
    """``(ip, port, tcp)`` for a plain-IP upstream, else None (DoH, DoT, hostnames...)."""
    text = text.strip()
    tcp = False
    for prefix, is_tcp in (("udp://", False), ("tcp://", True)):
        if text.lower().startswith(prefix):
            text, tcp = text[len(prefix):], is_tcp
            break
    if "://" in text or not text:
        return None
    host, port = text, 53
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            return None
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                return None
            port = int(rest[1:])
    elif "#" in text:
        host, _sep, port_text = text.partition("#")
        if not port_text.isdigit():
            return None
        port = int(port_text)
    elif text.count(":") == 1:
        host, _sep, port_text = text.partition(":")
        if not port_text.isdigit():
            return None
        port = int(port_text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not 0 < port < 65536:
        return None
    return str(address), port, tcp


def forward_allow_from_env(env=None):
    env = os.environ if env is None else env
    value = env.get(FORWARD_ALLOW_ENV)
    if not value:
        return DEFAULT_FORWARD_ALLOW
    return tuple(part.strip() for part in value.split(",") if part.strip())


class Forwarder:
    """Resolves queries through plain-IP upstreams, one after the other."""

    def __init__(self, timeout=2.0, allow=DEFAULT_FORWARD_ALLOW):
        self.timeout = timeout
        self.allow = [ipaddress.ip_network(net) for net in allow]

    def allowed(self, ip):
        address = ipaddress.ip_address(ip)
        return any(address in net for net in self.allow)

    def forward(self, query, upstreams):
        """Upstream answer with the client's query id, or None if no upstream answered."""
        for upstream in upstreams:
            spec = parse_plain_upstream(upstream)
            if spec is None:
                LOG.info("upstream %r is not a plain IP: never contacted by the stand-in", upstream)
                continue
            ip, port, tcp = spec
            if not self.allowed(ip):
                LOG.info("upstream %s is outside the allowed networks: not contacted", ip)
                continue
            outgoing = dns.message.from_wire(query.to_wire())
            outgoing.id = random.randint(0, 0xFFFF)
            try:
                if tcp:
                    answer = dns.query.tcp(outgoing, ip, timeout=self.timeout, port=port)
                else:
                    answer = dns.query.udp(outgoing, ip, timeout=self.timeout, port=port, ignore_unexpected=True)
                    if answer.flags & dns.flags.TC:
                        answer = dns.query.tcp(outgoing, ip, timeout=self.timeout, port=port)
            except (dns.exception.DNSException, OSError) as exc:
                LOG.info("upstream %s#%s failed: %s", ip, port, exc)
                continue
            answer.id = query.id
            return answer
        return None

    def resolve_name(self, query, name, upstreams):
        """Forward ``query``'s question re-targeted at ``name``; the answer keeps that name."""
        question = query.question[0]
        retargeted = dns.message.make_query(name, question.rdtype, question.rdclass)
        retargeted.id = query.id
        return self.forward(retargeted, upstreams)


def _wire_for(response, query, limit):
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        response.answer = []
        response.authority = []
        response.additional = []
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)


def _formerr(data):
    if len(data) < 12:
        return None
    header = bytearray(data[:12])
    header[2] = 0x80 | (header[2] & 0x01)
    header[3] = dns.rcode.FORMERR
    header[4:12] = b"\x00" * 8
    return bytes(header)


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        reply = self.server.listener.answer(data, self.client_address[0], udp=True)
        if reply:
            sock.sendto(reply, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        try:
            while True:
                header = self._read(2)
                if header is None:
                    return
                (length,) = struct.unpack("!H", header)
                data = self._read(length)
                if data is None:
                    return
                reply = self.server.listener.answer(data, self.client_address[0], udp=False)
                if reply:
                    self.request.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return

    def _read(self, size):
        chunks = b""
        while len(chunks) < size:
            chunk = self.request.recv(size - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return chunks


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    # SO_REUSEADDR would let two UDP sockets share a port on Linux: keep binds exclusive.
    allow_reuse_address = False

    def __init__(self, address, listener):
        self.address_family = _family(address[0])
        self.listener = listener
        super().__init__(address, _UDPHandler)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, listener):
        self.address_family = _family(address[0])
        self.listener = listener
        super().__init__(address, _TCPHandler)


class DNSListener:
    """UDP + TCP DNS on one ``host:port`` (port 0 picks a port free for both)."""

    def __init__(self, resolver, host, port):
        self.resolver = resolver
        self.host = host
        self.port = port
        self._servers = []
        self._threads = []

    def start(self):
        attempts = 20 if self.port == 0 else 1
        for attempt in range(attempts):
            udp = _UDPServer((self.host, self.port), self)
            port = udp.server_address[1]
            try:
                tcp = _TCPServer((self.host, port), self)
            except OSError:
                udp.server_close()
                if attempt == attempts - 1:
                    raise
                continue
            break
        self.port = port
        self._servers = [udp, tcp]
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                      name="dns-%s" % port, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=5)
        for server in self._servers:
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    @property
    def running(self):
        return bool(self._servers)

    def answer(self, data, client_ip, udp):
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return _formerr(data)
        if query.flags & dns.flags.QR or len(query.question) != 1:
            return make_reply(query, dns.rcode.FORMERR).to_wire() if not query.flags & dns.flags.QR else None
        try:
            response = self.resolver.resolve(query, client_ip)
        except Exception:  # pylint: disable=broad-exception-caught
            LOG.exception("resolver failed")
            response = make_reply(query, dns.rcode.SERVFAIL)
        if response is None:
            return None
        limit = 65535
        if udp:
            limit = max(512, query.payload) if query.edns >= 0 else 512
        return _wire_for(response, query, limit)


class StaticZone:
    """Fake upstream for tests: answers its own records, NXDOMAIN for everything else.

    ``add("nas.example", "A", "198.51.100.7")`` adds a record; ``queries`` lists the
    ``(name, type)`` pairs received, so a test can prove a query went upstream.
    """

    def __init__(self, ttl=300):
        self.ttl = ttl
        self.records = {}
        self.queries = []
        self._lock = threading.Lock()

    def add(self, name, rdtype, value):
        key = (name.lower().rstrip("."), dns.rdatatype.from_text(rdtype))
        with self._lock:
            self.records.setdefault(key, []).append(value)
        return self

    def resolve(self, query, client_ip):  # pylint: disable=unused-argument
        question = query.question[0]
        name = qname_text(question.name).lower()
        with self._lock:
            self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
            values = list(self.records.get((name, question.rdtype), []))
            known = any(key[0] == name for key in self.records)
        if not known:
            return make_reply(query, dns.rcode.NXDOMAIN)
        response = make_reply(query)
        response.flags |= dns.flags.AA
        add_records(response, question.name, question.rdtype, self.ttl, values)
        return response
