# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only stand-in for ansible.windows.win_command: records the command line.

Like the real module it does not support check mode (Ansible skips it there). Each run appends
the command to the file named by NATLOOP_FAKE_WIN_COMMAND_LOG.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: win_command
short_description: Test-only stand-in for ansible.windows.win_command
description: Appends the command to the file named by NATLOOP_FAKE_WIN_COMMAND_LOG.
options:
  cmd:
    description: Command line.
    type: str
    required: true
author:
  - natloop.lan contributors
"""

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(cmd=dict(type='str', required=True)))
    with open(os.environ['NATLOOP_FAKE_WIN_COMMAND_LOG'], 'a') as handle:
        handle.write(module.params['cmd'] + '\n')
    module.exit_json(changed=True, rc=0, stdout='', stderr='')


if __name__ == '__main__':
    main()
