#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: hosts_block
short_description: Manage one marker-delimited block of entries in a hosts file
version_added: 0.1.0
author:
  - natloop.lan contributors (@natloop)
description:
  - Keeps exactly one block of address-to-name entries, between a begin and an end marker line, in a
    POSIX hosts file such as C(/etc/hosts).
  - Every line outside the block is kept byte for byte.
  - The file is replaced atomically (temporary file in the same directory, then rename). When the
    path cannot be replaced because it is a bind mount (Docker mounts C(/etc/hosts) into each
    container, and renaming onto it fails with C(EBUSY)), the file is rewritten in place instead.
  - With O(state=absent) exactly the block is removed.
options:
  path:
    description: Hosts file to manage.
    type: path
    default: /etc/hosts
  entries:
    description:
      - Entries of the block, in order. Each becomes one line C(ip name1 name2 ...).
      - Required when O(state=present).
    type: list
    elements: dict
    default: []
    suboptions:
      ip:
        description: IPv4 or IPv6 address.
        type: str
        required: true
      names:
        description: Host names that resolve to O(entries[].ip).
        type: list
        elements: str
        required: true
  state:
    description: Whether the block should be present or absent.
    type: str
    choices: [present, absent]
    default: present
  marker:
    description:
      - Template of the marker lines. C({mark}) is replaced by C(BEGIN) and C(END).
      - Changing it on a file that already has a block makes a second block, so remove the old one first.
    type: str
    default: "# {mark} natloop.lan managed block"
  backup:
    description: Keep a timestamped copy of the file before it is changed.
    type: bool
    default: false
extends_documentation_fragment:
  - natloop.lan._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
notes:
  - A name that is also mapped on a line outside the block produces a warning, because resolvers use
    the first matching line of the file.
  - If the file's last line has no line ending, one is added before the block is appended.
seealso:
  - module: ansible.builtin.blockinfile
  - module: ansible.windows.win_hosts
"""

EXAMPLES = r"""
- name: Point the LAN at the self-hosted service directly
  natloop.lan.hosts_block:
    entries:
      - ip: 192.168.11.20
        names: [rustdesk.example.com]
  notify: Flush name caches

- name: Remove the block again
  natloop.lan.hosts_block:
    state: absent
"""

RETURN = r"""
write_method:
  description: How the file was written. V(none) when nothing changed or in check mode.
  type: str
  returned: always
  sample: in_place
  choices: [none, atomic, in_place]
backup_file:
  description: Path of the backup copy.
  type: str
  returned: when O(backup=true) and the file changed
  sample: /etc/hosts.1234.2026-01-01@12:00:00~
conflicts:
  description: Lines outside the block that map one of the block's names.
  type: list
  elements: str
  returned: always
  sample: ["192.168.11.20 rustdesk.example.com"]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.natloop.lan.plugins.module_utils._hosts_block import (
    HostsBlockError,
    apply_block,
    conflicting_lines,
    write_file,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/hosts'),
            entries=dict(type='list', elements='dict', default=[], options=dict(
                ip=dict(type='str', required=True),
                names=dict(type='list', elements='str', required=True),
            )),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            marker=dict(type='str', default='# {mark} natloop.lan managed block'),
            backup=dict(type='bool', default=False),
        ),
        required_if=[('state', 'present', ['entries'])],
        supports_check_mode=True,
    )
    path = module.params['path']
    state = module.params['state']
    entries = module.params['entries']
    result = dict(changed=False, write_method='none', conflicts=[])

    if os.path.exists(path):
        with open(path, 'rb') as handle:
            before = handle.read()
    elif state == 'absent':
        module.exit_json(**result)
    else:
        before = b''

    try:
        after = apply_block(before, entries, state, module.params['marker'])
        if state == 'present':
            names = [name for entry in entries for name in entry['names']]
            result['conflicts'] = conflicting_lines(before, names, module.params['marker'])
    except HostsBlockError as exc:
        module.fail_json(msg='%s: %s; fix the markers by hand' % (path, to_native(exc)), **result)
    for line in result['conflicts']:
        module.warn('%s maps a managed name outside the managed block, and the first match wins: %s'
                    % (path, line))

    result['changed'] = after != before
    if module._diff:
        result['diff'] = dict(before_header=path, after_header=path,
                              before=to_text(before), after=to_text(after))
    if result['changed'] and not module.check_mode:
        if module.params['backup'] and os.path.exists(path):
            result['backup_file'] = module.backup_local(path)
        try:
            result['write_method'] = write_file(path, after)
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot write %s: %s' % (path, to_native(exc)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
