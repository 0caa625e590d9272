# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean

# DoH canary (Firefox), iCloud Private Relay, and DDR (RFC 9462: Windows and Apple systems ask it
# to move to an encrypted resolver). The one list both DNS-server roles use.
CANARIES = ['use-application-dns.net', 'mask.icloud.com', 'mask-h2.icloud.com', '_dns.resolver.arpa']
IPV4 = re.compile(r'^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$')
LISTEN_IPV4 = re.compile(r'^[0-9]{1,3}(\.[0-9]{1,3}){3}$')


def _unique(values):
    seen, out = set(), []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def _plain_name(domain):
    return re.sub(r'\.$', '', to_text(domain).lower())


def dns_server_plan(services, listen_addresses=None, default_address='', ports=None, loopback_ports=None,
                    ipv6_records=True, extra_records=None, purge_scope=None, local_names=True,
                    answer_canaries=True, caller='<role>'):
    """Addresses, port bindings, records and the DNS answers to check, for a DNS-server role."""
    listen_addresses = list(listen_addresses or [])
    listen = listen_addresses if listen_addresses else [address for address in [to_text(default_address or '')] if address]
    if (not listen or any(not LISTEN_IPV4.match(address) and ':' not in address for address in listen)
            or len(set(listen)) != len(listen)):
        raise AnsibleFilterError(
            '%s_listen_addresses must be distinct IP addresses of this host (empty: the default IPv4 address from facts%s;'
            ' got %s).' % (caller, ', which this host lacks' if not listen_addresses else '', listen_addresses))
    local_names = boolean(local_names, strict=False)
    answer_canaries = boolean(answer_canaries, strict=False)

    bindings = []
    for address in listen:
        for port in ports or []:
            for proto in port.get('protos') or ['tcp']:
                bindings.append({'proto': proto, 'address': address, 'port': int(port['port']),
                                 'container_port': int(port['container_port']), 'variable': port['variable']})
    for port in loopback_ports or []:
        bindings.append({'proto': 'tcp', 'address': '127.0.0.1', 'port': int(port['port']),
                         'container_port': int(port['container_port']), 'variable': port['variable']})
    published = []
    for binding in bindings:
        host = '[%s]' % binding['address'] if ':' in binding['address'] else binding['address']
        published.append('%s:%s:%s/%s' % (host, binding['port'], binding['container_port'], binding['proto']))

    records = []
    for service in services or []:
        records.append({'domain': service['domain'], 'answer': service['lan_ipv4']})
        if boolean(ipv6_records, strict=False) and service.get('lan_ipv6'):
            records.append({'domain': service['domain'], 'answer': service['lan_ipv6']})
    records += list(extra_records or [])

    expected = []
    for record in records:
        if not record.get('enabled', True) or '*' in record['domain']:
            continue
        answer = to_text(record['answer'])
        if IPV4.match(answer):
            expected.append({'name': record['domain'], 'type': 'A', 'answer': record['answer']})
        elif ':' in answer:
            expected.append({'name': record['domain'], 'type': 'AAAA', 'answer': record['answer']})

    names = _unique(name for name in (_plain_name(record['domain']) for record in records) if '*' not in name)
    # Published names whose records are all addresses: no HTTPS record, and no AAAA unless one is
    # published; the canaries that are looked up by address: no address.
    empty = []
    if local_names:
        for name in names:
            pattern = re.compile('(?i)^' + re.escape(name) + r'\.?$')
            answers = [to_text(record['answer']) for record in records if pattern.match(to_text(record['domain']))]
            if not [answer for answer in answers if not IPV4.match(answer) and ':' not in answer]:
                empty.append({'name': name, 'type': 'HTTPS'})
                if not [answer for answer in answers if ':' in answer]:
                    empty.append({'name': name, 'type': 'AAAA'})
    if answer_canaries:
        empty += [{'name': name, 'type': 'A'} for name in CANARIES if name != '_dns.resolver.arpa']

    return {
        'listen_addresses': listen,
        # Where the host itself reaches the server: a wildcard address is reached on loopback.
        'local_addresses': ['127.0.0.1' if address == '0.0.0.0' else '::1' if address == '::' else address
                            for address in listen],
        'bindings': bindings,
        'published_ports': published,
        'records': records,
        # Purge covers the managed names exactly, plus the caller's extra patterns.
        'purge_scope': _unique([_plain_name(record['domain']) for record in records] + list(purge_scope or [])),
        'expected_answers': expected,
        'published_names': names,
        'local_names': names if local_names else [],
        'canary_names': list(CANARIES) if answer_canaries else [],
        'canary_scope': list(CANARIES),
        'expected_empty': empty,
    }


class FilterModule(object):
    def filters(self):
        return {'dns_server_plan': dns_server_plan}
