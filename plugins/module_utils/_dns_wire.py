# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""One DNS question over UDP or TCP with the standard library only (RFC 1035 wire format).

The record modules run wherever ``delegate_to`` points, where dnspython may be missing; they only
need to ask a server one question and read the CNAME and address records of the answer.
``_dns_check`` (the router's server check in ``natloop.lan.dnsmasq_dropin``) asks over both
transports with ``ask``.
"""

import ipaddress
import os
import socket
import struct
import time

# The types natloop_dns_probe.py can ask (its QTYPES); only A, AAAA and CNAME data are decoded.
TYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'MX': 15, 'TXT': 16, 'AAAA': 28, 'SVCB': 64, 'HTTPS': 65}
TYPE_NAMES = dict((value, key) for key, value in TYPES.items())
RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED'}


class DnsAnswer(object):
    def __init__(self, rcode, records):
        self.rcode = rcode          # 'NOERROR', 'NXDOMAIN', ...
        self.records = records      # [(owner, type name or number, value)], names lower-case without the dot

    def values(self, owner, rtype):
        return [value for name, kind, value in self.records if name == owner and kind == rtype]

    def __repr__(self):
        return 'DnsAnswer({0}, {1!r})'.format(self.rcode, self.records)


def split_host_port(address, default_port=53):
    """'198.51.100.151' / '198.51.100.151:5335' / '[2001:db8::1]:53' / '2001:db8::1' / 'pi.lan:53' -> (host, port)."""
    address = address.strip()
    if address.startswith('['):
        host, rest = address[1:].partition(']')[::2]
        return host, int(rest[1:]) if rest.startswith(':') else default_port
    if address.count(':') == 1:
        host, port = address.split(':')
        return host, int(port)
    return address, default_port


# The same wire format as roles/_dns_server/files/natloop_dns_probe.py (encode_name, build_query),
# which is shipped to hosts on its own and cannot import this file: the unit test
# tests/unit/plugins/module_utils/test_dns_wire_probe.py proves both encode every question alike.
def _encode_name(name):
    out = b''
    for label in name.rstrip('.').split('.'):
        if not label:
            continue                            # 'a..b' has no empty label on the wire
        try:
            raw = label.encode('ascii')
        except UnicodeError:
            raw = label.encode('idna')          # an internationalised label: its xn-- form
        if len(raw) > 63:
            raise ValueError('label too long in %r' % name)
        out += struct.pack('B', len(raw)) + raw
    return out + b'\0'


def build_query(name, rtype, query_id):
    """One question (recursion desired) as a DNS message."""
    return struct.pack('>HHHHHH', query_id, 0x0100, 1, 0, 0, 0) + _encode_name(name) + struct.pack('>HH', TYPES[rtype], 1)


def _read_name(packet, offset):
    labels = []
    end = None
    for dummy in range(128):                   # bounded: a pointer loop cannot hang us
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | packet[offset + 1]
            continue
        offset += 1
        if length == 0:
            break
        labels.append(packet[offset:offset + length].decode('ascii', 'replace'))
        offset += length
    return '.'.join(labels).lower(), (end if end is not None else offset)


def parse_response(packet, query_id):
    ident, flags, qdcount, ancount = struct.unpack('>HHHH', packet[:8])
    if ident != query_id or not flags & 0x8000:
        raise ValueError('not the answer to our question')
    offset = 12
    for dummy in range(qdcount):
        offset = _read_name(packet, offset)[1] + 4
    records = []
    for dummy in range(ancount):
        owner, offset = _read_name(packet, offset)
        rtype, _rclass, _ttl, length = struct.unpack('>HHIH', packet[offset:offset + 10])
        offset += 10
        data = packet[offset:offset + length]
        if rtype == TYPES['CNAME']:
            value = _read_name(packet, offset)[0]
        elif rtype == TYPES['A'] and length == 4:
            value = str(ipaddress.IPv4Address(data))
        elif rtype == TYPES['AAAA'] and length == 16:
            value = str(ipaddress.IPv6Address(data))
        else:
            value = data
        records.append((owner, TYPE_NAMES.get(rtype, rtype), value))
        offset += length
    return DnsAnswer(RCODES.get(flags & 0xF, str(flags & 0xF)), records)


def _recv_exact(sock, count):
    data = b''
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise OSError('connection closed by the server')
        data += chunk
    return data


def ask(host, port, name, rtype='A', timeout=1.0, transport='udp'):
    """Ask ``host``:``port`` one question over ``transport`` ('udp' or 'tcp') within ``timeout``
    seconds in all; return a DnsAnswer.

    Raise socket.timeout when no answer comes in time, OSError when the server refuses (TCP, or an
    ICMP port unreachable), ValueError for a TCP reply that is not the answer.
    """
    query_id = struct.unpack('>H', os.urandom(2))[0]
    packet = build_query(name, rtype, query_id)
    deadline = time.time() + timeout
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM if transport == 'tcp' else socket.SOCK_DGRAM)
    family, sockaddr = infos[0][0], infos[0][4]
    if transport == 'tcp':
        sock = socket.create_connection(sockaddr[:2], timeout=timeout)
        try:
            sock.sendall(struct.pack('>H', len(packet)) + packet)
            length = struct.unpack('>H', _recv_exact(sock, 2))[0]
            try:
                return parse_response(_recv_exact(sock, length), query_id)
            except (IndexError, struct.error):
                raise ValueError('malformed reply')
        finally:
            sock.close()
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.connect(sockaddr)
        sock.send(packet)
        while True:
            sock.settimeout(max(0.01, deadline - time.time()))
            reply = sock.recv(65535)
            try:
                return parse_response(reply, query_id)
            except (ValueError, IndexError, struct.error):
                if time.time() >= deadline:
                    raise socket.timeout('timed out')
                # a stray or broken datagram: wait for ours
    finally:
        sock.close()


def query(address, name, rtype='A', timeout=1.0):
    """Ask the server at ``address`` (see split_host_port) one question; return a DnsAnswer.

    Raise OSError (socket.timeout included) when no answer comes.
    """
    host, port = split_host_port(address)
    query_id = struct.unpack('>H', os.urandom(2))[0]
    packet = build_query(name, rtype, query_id)
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    family, sockaddr = infos[0][0], infos[0][4]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
        sock.send(packet)
        while True:
            reply = sock.recv(4096)
            try:
                return parse_response(reply, query_id)
            except (ValueError, IndexError, struct.error):
                continue                        # a stray or broken datagram: wait for ours
    finally:
        sock.close()
