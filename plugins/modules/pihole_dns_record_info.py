#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: pihole_dns_record_info
short_description: List Pi-hole v6 local DNS records
version_added: 0.1.0
description:
  - List the local DNS records of Pi-hole v6 (C(dns.hosts) and C(dns.cnameRecords)), optionally only those in
    some domains.
  - A host line with several names gives one record per name. Copies stored more than once are listed as they are.
author:
  - natloop.lan contributors (@natloop)
extends_documentation_fragment:
  - natloop.lan._pihole
  - natloop.lan._http
  - natloop.lan._attributes
  - natloop.lan._attributes.INFO_MODULE
  - natloop.lan._attributes.ACTIONGROUP_PIHOLE
options:
  scope:
    description:
      - Domain patterns to list. V(example.com) selects exactly that name, V(*.example.com) every name below it,
        V(*) everything.
      - If not set, every record is listed.
    type: list
    elements: str
seealso:
  - module: natloop.lan.pihole_dns_record
"""

EXAMPLES = r"""
- name: Read the local records below example.com
  natloop.lan.pihole_dns_record_info:
    url: http://192.168.11.53
    password: "{{ pihole_password }}"
    scope:
      - "*.example.com"
  delegate_to: localhost
  register: __records

- name: Show them
  ansible.builtin.debug:
    msg: "{{ __records.records | map(attribute='domain') | list }}"
"""

RETURN = r"""
records:
  description: The records, sorted by domain, type and answer.
  returned: success
  type: list
  elements: dict
  contains:
    domain:
      description: The name, lower case.
      type: str
      sample: cloud.example.com
    answer:
      description: IP address (compressed form) or CNAME target.
      type: str
      sample: 192.168.11.20
    type:
      description: C(A), C(AAAA) or C(CNAME).
      type: str
      sample: A
    ttl:
      description: TTL of a CNAME record; V(null) when it has none and for A/AAAA records.
      type: int
      sample: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natloop.lan.plugins.module_utils._pihole import (
    PiholeBackend,
    record_info_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._record_module import run_info


def main():
    module = AnsibleModule(
        argument_spec=record_info_argument_spec(),
        supports_check_mode=True,
    )
    run_info(module, PiholeBackend.from_module(module))


if __name__ == '__main__':
    main()
