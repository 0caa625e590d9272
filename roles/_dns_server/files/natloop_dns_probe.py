# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask a DNS server real questions, with the standard library only (no dnspython on servers).

Run by the natloop.lan DNS server roles on the managed host (ansible.builtin.script), with one
argument: a JSON object

    {"servers": ["192.168.11.20"], "port": 53, "timeout": 2, "transports": ["udp", "tcp"],
     "queries": [{"name": "pi.hole", "type": "A"}],
     "expect": [{"name": "nas.example.com", "type": "A", "answer": "192.168.11.20"}],
     "resolve": [{"name": "example.com", "type": "A"}],
     "empty": [{"name": "nas.example.com", "type": "HTTPS"}]}

A query in ``queries`` passes when the server sends any well-formed answer (any rcode): the
server is listening. The ``expect`` items are grouped by name and type; such a question passes
when the answer is NOERROR and its records of that type are exactly the expected addresses.
A ``resolve`` question passes when the answer is NOERROR with at least one record of its type
(a name the server resolves, whatever the address). An ``empty`` question passes when the answer is
NOERROR or NXDOMAIN without a record of its type (a name answered only locally, a canary). A server written ``address#port`` is asked
on that port instead of ``port``. Every question goes to every server over every transport.
Prints a JSON report and exits 0 when everything passed, 1 otherwise.

An optional ``check`` object (its own ``expect``, ``empty``, ``transports``, ``timeout``) is asked
after everything above passed, and only reported (``report["check"]["ok"]``), never counted in the
exit status: the wait for a server also tells whether it already answers as configured, so a run
that changes nothing needs no second probe. It stops at its first problem (a name not answered
locally yet may wait for an upstream's timeout).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import random
import socket
import struct
import sys
import time

QTYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'MX': 15, 'TXT': 16, 'AAAA': 28, 'SVCB': 64, 'HTTPS': 65}
RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED'}


class ProbeError(Exception):
    """No usable answer: timeout, refused connection, or a malformed reply."""


def encode_name(name):
    wire = b''
    for label in name.rstrip('.').split('.'):
        if not label:
            continue
        raw = label.encode('idna') if not label.isascii() else label.encode('ascii')
        if len(raw) > 63:
            raise ValueError('label too long in %r' % name)
        wire += struct.pack('!B', len(raw)) + raw
    return wire + b'\x00'


def build_query(name, qtype, query_id):
    header = struct.pack('!HHHHHH', query_id, 0x0100, 1, 0, 0, 0)  # RD set, one question
    return header + encode_name(name) + struct.pack('!HH', QTYPES[qtype], 1)


def read_name(message, offset):
    """(name, offset after the name in place), following compression pointers."""
    labels, end, jumps = [], None, 0
    while True:
        if offset >= len(message):
            raise ProbeError('truncated name')
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(message):
                raise ProbeError('truncated pointer')
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | message[offset + 1]
            jumps += 1
            if jumps > 64:
                raise ProbeError('compression loop')
            continue
        offset += 1
        if length == 0:
            break
        labels.append(message[offset:offset + length].decode('ascii', 'replace'))
        offset += length
    return '.'.join(labels), (end if end is not None else offset)


def parse_response(message, query_id):
    """{'rcode': 'NOERROR', 'records': [{'name', 'type', 'data'}]} of a reply to query_id."""
    if len(message) < 12:
        raise ProbeError('short reply (%d bytes)' % len(message))
    reply_id, flags, qdcount, ancount, _nscount, _arcount = struct.unpack('!HHHHHH', message[:12])
    if reply_id != query_id or not flags & 0x8000:
        raise ProbeError('reply does not match the query')
    offset = 12
    for _index in range(qdcount):
        _name, offset = read_name(message, offset)
        offset += 4
    records = []
    names = dict((value, key) for key, value in QTYPES.items())
    for _index in range(ancount):
        owner, offset = read_name(message, offset)
        if offset + 10 > len(message):
            raise ProbeError('truncated record')
        rtype, _rclass, _ttl, rdlength = struct.unpack('!HHIH', message[offset:offset + 10])
        offset += 10
        rdata = message[offset:offset + rdlength]
        if rtype == 1 and rdlength == 4:
            data = socket.inet_ntop(socket.AF_INET, rdata)
        elif rtype == 28 and rdlength == 16:
            data = socket.inet_ntop(socket.AF_INET6, rdata)
        elif rtype == 5:
            data = read_name(message, offset)[0]
        else:
            data = rdata.hex()
        records.append({'name': owner.lower(), 'type': names.get(rtype, str(rtype)), 'data': data})
        offset += rdlength
    return {'rcode': RCODES.get(flags & 0x0F, str(flags & 0x0F)), 'records': records}


def _family(server):
    return socket.AF_INET6 if ':' in server else socket.AF_INET


def _recv_exact(sock, count):
    data = b''
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ProbeError('connection closed by the server')
        data += chunk
    return data


def ask(server, port, name, qtype, transport, timeout):
    query_id = random.randint(0, 0xFFFF)
    query = build_query(name, qtype, query_id)
    deadline = time.time() + timeout
    try:
        if transport == 'tcp':
            sock = socket.create_connection((server, port), timeout=timeout)
            try:
                sock.sendall(struct.pack('!H', len(query)) + query)
                length = struct.unpack('!H', _recv_exact(sock, 2))[0]
                return parse_response(_recv_exact(sock, length), query_id)
            finally:
                sock.close()
        sock = socket.socket(_family(server), socket.SOCK_DGRAM)
        try:
            sock.settimeout(timeout)
            sock.connect((server, port))
            sock.send(query)
            while True:
                sock.settimeout(max(0.01, deadline - time.time()))
                message = sock.recv(65535)
                try:
                    return parse_response(message, query_id)
                except ProbeError:
                    if time.time() >= deadline:
                        raise
        finally:
            sock.close()
    except socket.timeout:
        raise ProbeError('no answer within %ss' % timeout)
    except (OSError, struct.error) as exc:
        raise ProbeError(str(exc))


def _canonical(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


RESOLVES = 'resolves'
EMPTY = 'empty'


def plan(spec):
    """[(name, type, expected)], expectations grouped by name and type: expected is a sorted list
    of addresses, RESOLVES (any address will do) or None (any answer will do)."""
    questions, expected = [], {}
    for item in spec.get('expect') or []:
        key = (item['name'].rstrip('.').lower(), item['type'].upper())
        if key not in expected:
            expected[key] = set()
            questions.append(key)
        expected[key].add(_canonical(item['answer']))
    resolve, plain, empty = [], [], []
    for item in spec.get('empty') or []:
        key = (item['name'].rstrip('.').lower(), item.get('type', 'A').upper())
        if key not in expected and key not in empty:
            empty.append(key)
    for item in spec.get('resolve') or []:
        key = (item['name'].rstrip('.').lower(), item.get('type', 'A').upper())
        if key not in expected and key not in resolve:
            resolve.append(key)
    for item in spec.get('queries') or []:
        key = (item['name'].rstrip('.').lower(), item.get('type', 'A').upper())
        if key not in expected and key not in resolve and key not in plain and key not in empty:
            plain.append(key)
    return [(name, qtype, sorted(expected[(name, qtype)])) for name, qtype in questions] + \
        [(name, qtype, RESOLVES) for name, qtype in resolve] + [(name, qtype, EMPTY) for name, qtype in empty] + \
        [(name, qtype, None) for name, qtype in plain]


def server_port(server, port):
    """(address, port) of a server given as ``address`` or ``address#port``."""
    address, _sep, own_port = server.partition('#')
    return address, int(own_port) if own_port else port


def _answer_problem(reply, answers, expected, qtype):
    """Why an answer does not meet the expectation, or None."""
    if expected is None:
        return None
    if expected == EMPTY:
        if reply['rcode'] in ('NOERROR', 'NXDOMAIN') and not answers:
            return None
        return 'got %s %s, expected no %s record (NOERROR or NXDOMAIN)' % (
            reply['rcode'], ', '.join(answers) or 'no %s record' % qtype, qtype)
    if expected == RESOLVES:
        if reply['rcode'] == 'NOERROR' and answers:
            return None
        return 'got %s %s, expected an address (a name the server must resolve through its upstreams)' % (
            reply['rcode'], 'no %s record' % qtype)
    if reply['rcode'] == 'NOERROR' and answers == expected:
        return None
    return 'got %s %s, expected %s' % (reply['rcode'], ', '.join(answers) or 'no %s record' % qtype, ', '.join(expected))


def run(spec, stop_at_first_problem=False):
    port = int(spec.get('port', 53))
    timeout = float(spec.get('timeout', 2))
    results, problems = [], []
    for server in spec['servers']:
        address, server_port_number = server_port(server, port)
        for transport in spec.get('transports') or ['udp']:
            for name, qtype, expected in plan(spec):
                result = {'server': server, 'transport': transport, 'name': name, 'type': qtype,
                          'expected': expected, 'rcode': None, 'answers': [], 'error': None}
                where = '%s %s from %s over %s' % (qtype, name, server, transport)
                try:
                    reply = ask(address, server_port_number, name, qtype, transport, timeout)
                except ProbeError as exc:
                    result['error'] = problem = str(exc)
                else:
                    result['rcode'] = reply['rcode']
                    result['answers'] = sorted(_canonical(record['data']) for record in reply['records']
                                               if record['type'] == qtype)
                    problem = _answer_problem(reply, result['answers'], expected, qtype)
                if problem:
                    problems.append('%s: %s' % (where, problem))
                result['ok'] = not problem
                results.append(result)
                if problem and stop_at_first_problem:
                    return {'ok': False, 'results': results, 'problems': problems}
    report = {'ok': not problems, 'results': results, 'problems': problems}
    if report['ok'] and spec.get('check'):
        check = dict(spec['check'], servers=spec['servers'], port=port)
        report['check'] = run(check, stop_at_first_problem=True)
    return report


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(json.dumps({'ok': False, 'problems': ['usage: natloop_dns_probe.py JSON-SPEC']}))
        return 2
    report = run(json.loads(argv[0]))
    print(json.dumps(report, sort_keys=True))
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
