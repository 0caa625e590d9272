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
  - All of this is one module run on the router, so a run that changes nothing costs one Python
    start there.
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
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.natloop.lan.plugins.module_utils._dnsmasq_dropin import (
    DropinError,
    dns_server_lines,
    dnsmasq_version,
    read_file,
    split_found,
    validate_and_install,
)


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
