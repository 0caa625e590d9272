#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: dnsmasq_dropin
short_description: One dnsmasq drop-in file, validated by dnsmasq, and the other DNS server options
version_added: 0.1.0
author:
  - natloop.lan contributors (@natloop)
description:
  - Makes one dnsmasq configuration file (a drop-in in its conf-dir) hold exactly O(content), or
    removes it with O(state=absent).
  - A new content is written to a temporary file beside O(path) (its name starts with a dot, which
    dnsmasq skips in a conf-dir), checked with C(dnsmasq --test --conf-file=<temporary file>) and
    only then renamed over O(path). A content dnsmasq refuses leaves O(path) as it was.
  - Before anything is written, checks that dnsmasq runs (C(dnsmasq --version)) and searches
    O(search) for other lines that hand out DNS servers (DHCP option 6, C(option6:dns-server)).
  - With O(check_servers), asks the DNS servers the new content hands out before writing it (the
    check of the roles' C(natloop_dns_probe.py), see O(check_servers)), only when the drop-in would
    change and O(state=present). A server that answers wrong fails the run, nothing written.
  - All of this is one module run on the router, so a run that changes nothing costs one Python
    start there and asks no DNS question.
  - Used by the role natloop.lan.router_dhcp_dns (backend C(linux_dnsmasq)); restarting dnsmasq is
    left to the caller (C(changed)).
options:
  path:
    description: The drop-in file.
    type: path
    required: true
  state:
    description: Whether the drop-in should exist with O(content), or not at all.
    type: str
    choices: [present, absent]
    default: present
  content:
    description:
      - The whole file. Required when O(state=present).
    type: str
  mode:
    description: Permissions of the drop-in, as an octal string.
    type: str
    default: "0644"
  binary:
    description: The dnsmasq program (name on the PATH, or a path).
    type: str
    default: dnsmasq
  search:
    description:
      - Files and directories (searched recursively) to look through for other lines that hand out
        DNS servers; O(path) itself is left out. Missing or unreadable ones are skipped.
    type: list
    elements: path
    default: []
  refuse_tagged_ipv6:
    description:
      - Fail before writing when a searched file has an C(option6:dns-server) line with a tag or a
        network id (dnsmasq then advertises those IPv6 DNS servers as well as, or instead of, the
        drop-in's).
    type: bool
    default: false
  warn_competing:
    description:
      - Warn when a searched file has a DHCP option 6 line (dnsmasq uses the first one it reads, which
        may not be the drop-in's).
    type: bool
    default: true
  refuse_hint:
    description: Sentences added to the failure message of O(refuse_tagged_ipv6) (what the user can do).
    type: str
    default: ""
  check_servers:
    description:
      - Before a new content is written (O(state=present) and the drop-in would change, check mode
        included), ask every server in O(check_servers.servers) every question, from this host, over
        every transport in O(check_servers.transports). The spec and its semantics are those of the
        roles' probe C(natloop_dns_probe.py) (without its C(check) part); the report is its report.
      - When a question fails, the whole check is asked again after O(check_servers.delay) seconds, up
        to O(check_servers.retries) times (a lost UDP packet); a wrong answer fails again.
      - "Still failing, the module fails with C(Not handing out <check_handed_out>: asked from
        <check_asked_from>, <the problems>. <check_hint>) and writes nothing. In check mode it only
        returns RV(check)."
      - Omitted, or when the drop-in would not change, no question is asked.
    type: dict
    suboptions:
      servers:
        description: The servers to ask, C(address) or C(address#port).
        type: list
        elements: str
        required: true
      port:
        description: The port of servers given without one.
        type: int
        default: 53
      timeout:
        description: Seconds to wait for one answer.
        type: float
        default: 2
      transports:
        description: Ask over these transports.
        type: list
        elements: str
        choices: [udp, tcp]
        default: [udp]
      expect:
        description:
          - Answers grouped by name and type; such a question passes when the answer is NOERROR and its
            records of that type are exactly the expected addresses.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: The name to ask.
            type: str
            required: true
          type:
            description: The record type to ask.
            type: str
            choices: [A, AAAA]
            default: A
          answer:
            description: One expected address.
            type: str
            required: true
      resolve:
        description: Questions that pass when the answer is NOERROR with at least one record of their type.
        type: list
        elements: dict
        default: []
        suboptions: &question
          name:
            description: The name to ask.
            type: str
            required: true
          type:
            description: The record type to ask.
            type: str
            choices: [A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SVCB, HTTPS]
            default: A
      empty:
        description: Questions that pass when the answer is NOERROR or NXDOMAIN without a record of their type.
        type: list
        elements: dict
        default: []
        suboptions: *question
      queries:
        description: Questions that pass on any well-formed answer (the server is listening).
        type: list
        elements: dict
        default: []
        suboptions: *question
      retries:
        description: How many times a failed check is asked again.
        type: int
        default: 1
      delay:
        description: Seconds before the check is asked again.
        type: float
        default: 1
  check_handed_out:
    description: The servers the failure message of O(check_servers) names; default O(check_servers.servers).
    type: list
    elements: str
    default: []
  check_asked_from:
    description: The host the failure message of O(check_servers) says it asked from; default this host's name.
    type: str
    default: ""
  check_hint:
    description: Sentences added to the failure message of O(check_servers) (what the user can do).
    type: str
    default: ""
extends_documentation_fragment:
  - natloop.lan._attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode the new content is not validated by dnsmasq (nothing is written).
  diff_mode:
    support: full
  idempotent:
    support: full
seealso:
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Hand out the split-DNS server by DHCP
  natloop.lan.dnsmasq_dropin:
    path: /etc/dnsmasq.d/00-natloop-dhcp-dns.conf
    content: |
      dhcp-option=option:dns-server,192.168.11.20
    search: [/etc/dnsmasq.conf, /etc/dnsmasq.d]
  register: dropin
  notify: Restart dnsmasq

- name: Say which other lines hand out DNS servers
  ansible.builtin.debug:
    var: dropin.competing
"""

RETURN = r"""
version:
  description: The first line of C(dnsmasq --version).
  type: str
  returned: always
  sample: Dnsmasq version 2.90  Copyright (c) 2000-2024 Simon Kelley
found:
  description: Every line in O(search) that hands out DNS servers, as C(file:line:text).
  type: list
  elements: str
  returned: always
  sample: ["/etc/dnsmasq.conf:12:dhcp-option=6,192.168.11.1"]
competing:
  description: The lines of RV(found) with DHCP option 6 (IPv4).
  type: list
  elements: str
  returned: always
  sample: ["/etc/dnsmasq.conf:12:dhcp-option=6,192.168.11.1"]
competing_ipv6:
  description: The lines of RV(found) with a tagged C(option6:dns-server).
  type: list
  elements: str
  returned: always
  sample: ["/etc/dnsmasq.d/lan.conf:2:dhcp-option=lan,option6:dns-server,[2001:db8:100::53]"]
check:
  description:
    - The report of O(check_servers), as C(natloop_dns_probe.py) prints it, C(ok), C(results) (one per
      server, transport and question) and C(problems) (one sentence each); plus C(found), the problems
      joined or which servers answered which names.
  type: dict
  returned: when O(check_servers) was asked (the drop-in would change, O(state=present))
  sample:
    ok: false
    found: "A nas.example.com from 192.168.11.20 over udp: got NXDOMAIN no A record, expected 192.168.11.20"
    problems: ["A nas.example.com from 192.168.11.20 over udp: got NXDOMAIN no A record, expected 192.168.11.20"]
    results:
      - {server: 192.168.11.20, transport: udp, name: nas.example.com, type: A, expected: [192.168.11.20],
         rcode: NXDOMAIN, answers: [], error: null, ok: false}
"""

import os
import platform
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.natloop.lan.plugins.module_utils import _dns_check
from ansible_collections.natloop.lan.plugins.module_utils._dnsmasq_dropin import (
    DropinError,
    dns_server_lines,
    dnsmasq_version,
    read_file,
    split_found,
    validate_and_install,
)


QUESTION = dict(name=dict(type='str', required=True),
                type=dict(type='str', default='A', choices=['A', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'AAAA', 'SVCB', 'HTTPS']))
CHECK_SERVERS = dict(
    servers=dict(type='list', elements='str', required=True),
    port=dict(type='int', default=53),
    timeout=dict(type='float', default=2),
    transports=dict(type='list', elements='str', choices=['udp', 'tcp'], default=['udp']),
    expect=dict(type='list', elements='dict', default=[], options=dict(
        name=dict(type='str', required=True), type=dict(type='str', default='A', choices=['A', 'AAAA']),
        answer=dict(type='str', required=True))),
    resolve=dict(type='list', elements='dict', default=[], options=QUESTION),
    empty=dict(type='list', elements='dict', default=[], options=QUESTION),
    queries=dict(type='list', elements='dict', default=[], options=QUESTION),
    retries=dict(type='int', default=1),
    delay=dict(type='float', default=1),
)


def check_servers(module, result):
    """Ask the servers (the drop-in would change): fail, nothing written, unless they all answer."""
    params = module.params
    spec = dict(params['check_servers'])
    result['check'] = report = _dns_check.check(spec, retries=spec.pop('retries'), delay=spec.pop('delay'))
    report['found'] = _dns_check.found(spec, report)
    if not report['ok'] and not module.check_mode:
        module.fail_json(msg=('Not handing out %s: asked from %s, %s. %s' % (
            ', '.join(params['check_handed_out'] or spec['servers']), params['check_asked_from'] or platform.node(),
            report['found'], params['check_hint'])).strip(), **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            content=dict(type='str'),
            mode=dict(type='str', default='0644'),
            binary=dict(type='str', default='dnsmasq'),
            search=dict(type='list', elements='path', default=[]),
            refuse_tagged_ipv6=dict(type='bool', default=False),
            warn_competing=dict(type='bool', default=True),
            refuse_hint=dict(type='str', default=''),
            check_servers=dict(type='dict', options=CHECK_SERVERS),
            check_handed_out=dict(type='list', elements='str', default=[]),
            check_asked_from=dict(type='str', default=''),
            check_hint=dict(type='str', default=''),
        ),
        required_if=[('state', 'present', ['content'])],
        supports_check_mode=True,
    )
    params = module.params
    path = params['path']
    result = dict(changed=False, version='', found=[], competing=[], competing_ipv6=[])
    try:
        mode = int(params['mode'], 8)
    except ValueError:
        module.fail_json(msg='mode must be an octal string such as 0644, got %r' % params['mode'], **result)

    try:
        result['version'] = dnsmasq_version(params['binary'])
    except DropinError as exc:
        module.fail_json(msg=str(exc), **result)
    result['found'] = dns_server_lines(params['search'], exclude=path)
    result['competing'], result['competing_ipv6'] = split_found(result['found'])
    if params['refuse_tagged_ipv6'] and result['competing_ipv6']:
        refused = '; '.join(result['competing_ipv6'])
        module.fail_json(msg=('Not changing the IPv6 DNS adverts: other dnsmasq configuration advertises IPv6 DNS '
                              'servers to tagged clients (%s). %s' % (refused, params['refuse_hint'])).strip(), **result)

    if params['warn_competing'] and result['competing']:
        module.warn('Other dnsmasq configuration also hands out DNS servers (option 6); dnsmasq uses the first one it '
                    'reads, which may not be %s. Remove these lines: %s' % (path, '; '.join(result['competing'])))

    before = read_file(path)
    after = to_bytes(params['content']) if params['state'] == 'present' else None
    mode_wrong = (before is not None and after is not None
                  and stat.S_IMODE(os.stat(path).st_mode) != mode)
    result['changed'] = before != after or mode_wrong
    if result['changed'] and after is not None and params['check_servers']:
        check_servers(module, result)
    if module._diff:
        result['diff'] = dict(before_header=path, after_header=path,
                              before=to_text(before or b''), after=to_text(after or b''))
    if result['changed'] and not module.check_mode:
        try:
            if after is None:
                os.unlink(path)
            elif before != after:
                validate_and_install(path, after, params['binary'], mode)
            else:
                os.chmod(path, mode)
        except DropinError as exc:
            module.fail_json(msg='%s: %s' % (path, exc), **result)
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot write %s: %s' % (path, exc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
