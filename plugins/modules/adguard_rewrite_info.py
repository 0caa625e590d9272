#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: adguard_rewrite_info
short_description: List AdGuard Home DNS rewrites
version_added: 0.1.0
description:
  - List the DNS rewrites of AdGuard Home, optionally only those in some domains.
  - Copies of the same rewrite stored more than once are listed as they are.
author:
  - natloop.lan contributors (@natloop)
extends_documentation_fragment:
  - natloop.lan._adguard
  - natloop.lan._http
  - natloop.lan._attributes
  - natloop.lan._attributes.INFO_MODULE
  - natloop.lan._attributes.ACTIONGROUP_ADGUARD
options:
  scope:
    description:
      - Domain patterns to list. V(example.com) selects exactly that name, V(*.example.com) every name below it,
        V(*) everything.
      - If not set, every rewrite is listed.
    type: list
    elements: str
seealso:
  - module: natloop.lan.adguard_rewrite
"""

EXAMPLES = r"""
- name: Read the rewrites below example.com
  natloop.lan.adguard_rewrite_info:
    url: http://192.168.11.53
    username: admin
    password: "{{ adguard_password }}"
    scope:
      - example.com
      - "*.example.com"
  delegate_to: localhost
  register: __rewrites

- name: Show them
  ansible.builtin.debug:
    msg: "{{ __rewrites.rewrites | map(attribute='domain') | list }}"
"""

RETURN = r"""
rewrites:
  description: The rewrites, sorted by domain, type and answer.
  returned: success
  type: list
  elements: dict
  contains:
    domain:
      description: The rewritten name, lower case.
      type: str
      sample: cloud.example.com
    answer:
      description: IP address (compressed form), CNAME target, or the keyword C(A) or C(AAAA).
      type: str
      sample: 192.168.11.20
    type:
      description: C(A), C(AAAA) or C(CNAME).
      type: str
      sample: A
    enabled:
      description: Whether the rewrite answers queries (always V(true) before AdGuard Home v0.107.68).
      type: bool
      sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natloop.lan.plugins.module_utils._adguard import (
    CONNECTION_REQUIRED_TOGETHER,
    AdGuardBackend,
    rewrite_info_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._record_module import run_info


def main():
    module = AnsibleModule(
        argument_spec=rewrite_info_argument_spec(),
        required_together=CONNECTION_REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    run_info(module, AdGuardBackend.from_module(module))


if __name__ == '__main__':
    main()
