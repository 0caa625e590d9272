#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: warn
short_description: Emit Ansible warnings from a role
version_added: 0.1.0
author:
  - natloop.lan contributors (@natloop)
description:
  - Shows each message as an Ansible C([WARNING]), which lands in the play recap and in the task
    result's C(warnings), unlike a message printed with M(ansible.builtin.debug).
  - The natloop.lan roles run it with C(delegate_to=localhost), so it works for hosts without
    Python (routers, Windows).
  - Changes nothing.
options:
  msg:
    description: Messages to show. Empty strings are skipped.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - natloop.lan._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Warn about a public secondary resolver
  natloop.lan.warn:
    msg:
      - "8.8.8.8 is a public resolver: clients that pick it get the public address"
  delegate_to: localhost
"""

RETURN = r"""
messages:
  description: The messages that were shown.
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(msg=dict(type='list', elements='str', required=True)),
        supports_check_mode=True,
    )
    messages = [message for message in module.params['msg'] if message]
    for message in messages:
        module.warn(message)
    module.exit_json(changed=False, messages=messages)


if __name__ == '__main__':
    main()
