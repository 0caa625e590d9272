# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only stand-in for ansible.windows.win_hosts.

The real module is PowerShell and needs a Windows host. This one runs on the controller with the
same options and the behaviour the natloop.lan hosts_entries role relies on, editing the text file
named by NATLOOP_FAKE_WIN_HOSTS instead of %windir%\\system32\\drivers\\etc\\hosts. It supports check
mode like the real module: it predicts the change and writes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_hosts
short_description: Test-only stand-in for ansible.windows.win_hosts
description: Edits the file named by NATLOOP_FAKE_WIN_HOSTS.
options:
  state:
    description: Entry present or absent.
    type: str
    choices: [present, absent]
    default: present
  canonical_name:
    description: Canonical name.
    type: str
  ip_address:
    description: Address.
    type: str
  aliases:
    description: Aliases.
    type: list
    elements: str
  action:
    description: How aliases are handled.
    type: str
    choices: [add, remove, set]
    default: set
author:
  - natloop.lan contributors
"""

import os

from ansible.module_utils.basic import AnsibleModule


def parse(text):
    entries = []
    for line in text.splitlines():
        words = line.split('#', 1)[0].split()
        if len(words) >= 2:
            entries.append({'ip': words[0], 'name': words[1], 'aliases': words[2:]})
        elif line.strip():
            entries.append({'raw': line})
        else:
            entries.append({'raw': ''})
    return entries


def render(entries):
    lines = []
    for entry in entries:
        if 'raw' in entry:
            lines.append(entry['raw'])
        else:
            lines.append('  '.join([entry['ip'], ' '.join([entry['name']] + entry['aliases'])]))
    return ''.join(line + '\n' for line in lines)


def family(address):
    return 6 if ':' in address else 4


def apply(entries, params):
    name, ip = params['canonical_name'], params['ip_address']
    if params['state'] == 'absent':
        return [e for e in entries if 'raw' in e or not (
            (ip is None or e['ip'] == ip) and (name is None or e['name'] == name))]
    # A name maps to one address per family: drop it from an entry with another address.
    kept = [e for e in entries if 'raw' in e or not (
        e['name'] == name and e['ip'] != ip and family(e['ip']) == family(ip))]
    matches = [e for e in kept if 'raw' not in e and e['ip'] == ip and e['name'] == name]
    aliases = params['aliases'] or []
    if matches:
        entry = matches[0]
        if params['action'] == 'add':
            entry['aliases'] = entry['aliases'] + [a for a in aliases if a not in entry['aliases']]
        elif params['action'] == 'remove':
            entry['aliases'] = [a for a in entry['aliases'] if a not in aliases]
        else:
            entry['aliases'] = list(aliases)
    else:
        kept.append({'ip': ip, 'name': name, 'aliases': [] if params['action'] == 'remove' else list(aliases)})
    return kept


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            canonical_name=dict(type='str'),
            ip_address=dict(type='str'),
            aliases=dict(type='list', elements='str'),
            action=dict(type='str', choices=['add', 'remove', 'set'], default='set'),
        ),
        required_if=[('state', 'present', ['canonical_name', 'ip_address'])],
        supports_check_mode=True,
    )
    path = os.environ['NATLOOP_FAKE_WIN_HOSTS']
    with open(path) as handle:
        before = handle.read()
    after = render(apply(parse(before), module.params))
    changed = after != render(parse(before))
    if changed and not module.check_mode:
        with open(path, 'w') as handle:
            handle.write(after)
    module.exit_json(changed=changed)


if __name__ == '__main__':
    main()
