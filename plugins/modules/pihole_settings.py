#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: pihole_settings
short_description: Switch Pi-hole v6 blocking on or off for good
version_added: 0.1.0
description:
  - Make Pi-hole's blocking (ad blocking) on or off, and end a timed pause, on one API session.
  - The module reads the state, changes it only when needed, then reads it again and fails if Pi-hole does not
    hold what was written.
  - Local DNS records (split DNS) keep answering while blocking is off.
author:
  - natloop.lan contributors (@natloop)
extends_documentation_fragment:
  - natloop.lan._pihole
  - natloop.lan._http
  - natloop.lan._writers
  - natloop.lan._writers.SETTINGS
  - natloop.lan._attributes
  - natloop.lan._attributes.ACTIONGROUP_PIHOLE
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the state and reports exactly the change a real run would make.
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  blocking:
    description:
      - V(true) blocks, V(false) does not. A state with a timer (a timed pause, or blocking that a timer will switch)
        counts as neither; either value makes the state permanent.
    type: bool
    required: true
seealso:
  - module: natloop.lan.pihole_dns_record
  - module: natloop.lan.adguard_settings
"""

EXAMPLES = r"""
- name: Split DNS without ad blocking
  natloop.lan.pihole_settings:
    url: http://192.168.11.20
    password: "{{ pihole_password }}"
    blocking: false
  delegate_to: localhost
"""

RETURN = r"""
changes:
  description: The change made (or, in check mode, that a real run would make); empty when none was needed.
  returned: success
  type: list
  elements: dict
  contains:
    setting:
      description: The option name, V(blocking).
      type: str
    before:
      description: The state read from Pi-hole; a string such as C(disabled for 290 more seconds) while a timer runs.
      type: raw
    after:
      description: The value written.
      type: bool
  sample:
    - setting: blocking
      before: true
      after: false
settings:
  description: The state after the run (in check mode, as a real run would leave it).
  returned: success
  type: dict
  sample:
    blocking: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natloop.lan.plugins.module_utils._pihole import (
    SETTINGS,
    PiholeSettingsBackend,
    settings_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._settings_module import run_settings, wanted_settings


def main():
    module = AnsibleModule(argument_spec=settings_argument_spec(), supports_check_mode=True)
    run_settings(module, PiholeSettingsBackend.from_module(module), wanted_settings(module.params, SETTINGS))


if __name__ == '__main__':
    main()
