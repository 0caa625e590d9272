# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""Ask DNS servers real questions inside a module: the probe spec of natloop_dns_probe.py.

``roles/_dns_server/files/natloop_dns_probe.py`` is the reference (shipped to hosts on its own by
ansible.builtin.script, so it cannot import this file). ``run(spec)`` takes the same spec (servers,
port, timeout, transports, queries, expect, resolve, empty; a server may be ``address#port``) and
returns the same report (``ok``, ``results``, ``problems``, in the same order and words), on top of
``_dns_wire``. ``tests/unit/plugins/module_utils/test_dns_check_probe.py`` runs both on the same real
DNS servers and compares the reports, so the two cannot drift apart unnoticed.

Used by natloop.lan.dnsmasq_dropin: the router's server check runs in the module that would write
the drop-in, only when it would change, so a run that changes nothing asks nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import socket
import time

from ansible_collections.natloop.lan.plugins.module_utils import _dns_wire

RESOLVES = 'resolves'
EMPTY = 'empty'


def _canonical(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def _key(item, default_type='A'):
    return item['name'].rstrip('.').lower(), (item.get('type') or default_type).upper()


def plan(spec):
    """[(name, type, expected)] in the order the probe asks: ``expect`` grouped by name and type
    (expected: the sorted addresses), then ``resolve`` (RESOLVES), ``empty`` (EMPTY) and
    ``queries`` (None: any answer), each question once."""
    order, expected = [], {}
    for item in spec.get('expect') or []:
        key = _key(item)
        if key not in expected:
            expected[key] = set()
            order.append(key)
        expected[key].add(_canonical(item['answer']))
    # The probe's own rules: an ``empty`` and a ``resolve`` question of one key are both asked.
    groups = {RESOLVES: [], EMPTY: [], None: []}
    for kind, items in ((EMPTY, spec.get('empty')), (RESOLVES, spec.get('resolve'))):
        for item in items or []:
            key = _key(item)
            if key not in expected and key not in groups[kind]:
                groups[kind].append(key)
    for item in spec.get('queries') or []:
        key = _key(item)
        if key not in expected and not any(key in keys for keys in groups.values()):
            groups[None].append(key)
    return ([(name, qtype, sorted(expected[(name, qtype)])) for name, qtype in order]
            + [(name, qtype, kind) for kind in (RESOLVES, EMPTY, None) for name, qtype in groups[kind]])


def _problem(rcode, answers, expected, qtype):
    """Why an answer does not meet the expectation, or None (the probe's words)."""
    if expected is None:
        return None
    if expected == EMPTY:
        if rcode in ('NOERROR', 'NXDOMAIN') and not answers:
            return None
        return 'got %s %s, expected no %s record (NOERROR or NXDOMAIN)' % (
            rcode, ', '.join(answers) or 'no %s record' % qtype, qtype)
    if expected == RESOLVES:
        if rcode == 'NOERROR' and answers:
            return None
        return 'got %s no %s record, expected an address (a name the server must resolve through its upstreams)' % (
            rcode, qtype)
    if rcode == 'NOERROR' and answers == expected:
        return None
    return 'got %s %s, expected %s' % (rcode, ', '.join(answers) or 'no %s record' % qtype, ', '.join(expected))


def _data(value):
    return value.hex() if isinstance(value, bytes) else _canonical(value)


def run(spec, ask=_dns_wire.ask):
    """The probe's report of ``spec``: every question to every server over every transport."""
    port = int(spec.get('port') if spec.get('port') is not None else 53)
    timeout = float(spec.get('timeout') if spec.get('timeout') is not None else 2)
    questions = plan(spec)
    results, problems = [], []
    for server in spec['servers']:
        address, _sep, own_port = server.partition('#')
        server_port = int(own_port) if own_port else port
        for transport in spec.get('transports') or ['udp']:
            for name, qtype, expected in questions:
                result = {'server': server, 'transport': transport, 'name': name, 'type': qtype,
                          'expected': expected, 'rcode': None, 'answers': [], 'error': None}
                try:
                    reply = ask(address, server_port, name, qtype, timeout, transport)
                except socket.timeout:
                    result['error'] = problem = 'no answer within %ss' % timeout
                except (OSError, ValueError) as exc:
                    result['error'] = problem = str(exc)
                else:
                    result['rcode'] = reply.rcode
                    result['answers'] = sorted(_data(value) for _owner, kind, value in reply.records if kind == qtype)
                    problem = _problem(reply.rcode, result['answers'], expected, qtype)
                if problem:
                    problems.append('%s %s from %s over %s: %s' % (qtype, name, server, transport, problem))
                result['ok'] = not problem
                results.append(result)
    return {'ok': not problems, 'results': results, 'problems': problems}


def found(spec, report):
    """One sentence: the problems, or which servers answered which names (the role's wording)."""
    if report['problems']:
        return '; '.join(report['problems'])
    names = []
    for result in report['results']:
        if result['name'] not in names:
            names.append(result['name'])
    return '%s answered %s' % (', '.join(spec['servers']), ', '.join(names))


def check(spec, retries=1, delay=1.0, sleep=time.sleep):
    """run(spec), asked again after ``delay`` seconds up to ``retries`` times while it fails (a lost
    UDP packet; a wrong answer is still wrong the second time). Returns the last report."""
    report = run(spec)
    for _attempt in range(retries):
        if report['ok']:
            break
        sleep(delay)
        report = run(spec)
    return report
