#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: adguard_rewrite
short_description: Manage AdGuard Home DNS rewrites as a list
version_added: 0.1.0
description:
  - Make a list of DNS rewrites present on, or absent from, AdGuard Home, in one task.
  - A rewrite is identified by its domain (compared in lower case) together with its answer. An A and an AAAA
    answer for one name are two rewrites and coexist.
  - The module reads the rewrite list once, then sends only the changes needed, then reads the list again and
    fails if AdGuard Home does not hold what was written.
  - AdGuard Home stores the same rewrite twice if asked to. Copies of a listed rewrite are collapsed to one.
  - The whole input is validated before the first request; a bad item fails the task without any change.
author:
  - natloop.lan contributors (@natloop)
extends_documentation_fragment:
  - natloop.lan._adguard
  - natloop.lan._http
  - natloop.lan._writers
  - natloop.lan._writers.RECORDS
  - natloop.lan._attributes
  - natloop.lan._attributes.ACTIONGROUP_ADGUARD
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the server and reports exactly the changes a real run would make.
  diff_mode:
    support: full
    details:
      - Before and after cover the managed rewrites, those in O(rewrites) and, with O(purge), those in O(purge_scope).
  idempotent:
    support: full
options:
  rewrites:
    description:
      - The rewrites to make present or absent.
      - Each domain/answer pair may be listed only once. A domain can have at most one CNAME answer, and a CNAME
        answer cannot be combined with other answers for the same domain.
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description:
          - The name to rewrite, for example V(nas.example.com), or a wildcard such as V(*.example.com), which
            matches every name below V(example.com) but not V(example.com) itself.
          - Stored in lower case. A trailing dot is dropped.
        type: str
        required: true
      answer:
        description:
          - An IPv4 address (A record), an IPv6 address (AAAA record), or a domain name (CNAME target).
          - The keywords V(A) or V(AAAA) keep the upstream records of that type for the domain (written in capitals).
          - An answer equal to the domain makes AdGuard Home send queries for it upstream, an exception to a
            wildcard rewrite.
        type: str
        required: true
      enabled:
        description:
          - Whether the rewrite answers queries.
          - Needs AdGuard Home v0.107.68 or later. Older versions have no such flag; there V(false) is ignored with
            a warning and the rewrite is active.
        type: bool
        default: true
  state:
    description:
      - V(present) adds missing rewrites and updates O(rewrites[].enabled).
      - V(absent) removes the listed rewrites, including all copies of them. O(rewrites[].enabled) is not used.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With V(true) and O(state=present), rewrites whose domain is inside O(purge_scope) but that are not in
        O(rewrites) are removed. Rewrites outside O(purge_scope) are never touched.
    type: bool
    default: false
  purge_scope:
    description:
      - Domain patterns that O(purge) may clean up. Required with O(purge=true).
      - V(example.com) covers exactly that name; V(*.example.com) covers every name below V(example.com),
        including wildcard rewrites such as V(*.example.com) itself; V(*) covers every rewrite.
    type: list
    elements: str
  settings:
    description:
      - Settings of M(natloop.lan.adguard_settings), set first, under the same lock and in the same run, so that a
        role that sets both makes one module run per server. Same semantics as that module's options, only the ones
        given a value are read, compared and written, then read again.
      - Nothing of the rewrites is changed when the settings fail.
    type: dict
    suboptions:
      upstream_dns:
        description: As O(natloop.lan.adguard_settings#module:upstream_dns).
        type: list
        elements: str
      bootstrap_dns:
        description: As O(natloop.lan.adguard_settings#module:bootstrap_dns).
        type: list
        elements: str
      upstream_mode:
        description: As O(natloop.lan.adguard_settings#module:upstream_mode).
        type: str
        choices: [load_balance, parallel, fastest_addr]
      filtering_enabled:
        description: As O(natloop.lan.adguard_settings#module:filtering_enabled).
        type: bool
      rewrites_enabled:
        description: As O(natloop.lan.adguard_settings#module:rewrites_enabled).
        type: bool
      protection_enabled:
        description: As O(natloop.lan.adguard_settings#module:protection_enabled).
        type: bool
      nxdomain_names:
        description: As O(natloop.lan.adguard_settings#module:nxdomain_names).
        type: list
        elements: str
      nxdomain_names_scope:
        description: As O(natloop.lan.adguard_settings#module:nxdomain_names_scope).
        type: list
        elements: str
seealso:
  - module: natloop.lan.adguard_rewrite_info
  - module: natloop.lan.pihole_dns_record
"""

EXAMPLES = r"""
- name: Answer the LAN names of the services with their LAN addresses
  natloop.lan.adguard_rewrite:
    url: http://192.168.11.53
    username: admin
    password: "{{ adguard_password }}"
    rewrites:
      - domain: cloud.example.com
        answer: 192.168.11.20
      - domain: cloud.example.com
        answer: fd00:11::20
      - domain: www.example.com
        answer: cloud.example.com
  delegate_to: localhost

- name: Own everything below example.com, remove what is not listed
  natloop.lan.adguard_rewrite:
    rewrites:
      - domain: "*.example.com"
        answer: 192.168.11.20
      - domain: mail.example.com
        answer: mail.example.com   # exception: ask upstream
    purge: true
    purge_scope:
      - example.com
      - "*.example.com"
  module_defaults:
    group/natloop.lan.adguard:
      url: http://192.168.11.53
      username: admin
      password: "{{ adguard_password }}"

- name: Remove two rewrites
  natloop.lan.adguard_rewrite:
    url: http://192.168.11.53
    username: admin
    password: "{{ adguard_password }}"
    state: absent
    rewrites:
      - domain: old.example.com
        answer: 192.168.11.99
      - domain: old.example.com
        answer: A
"""

RETURN = r"""
settings:
  description: The settings given in O(settings), as the server holds them after the run (predicted in check mode).
  returned: when O(settings) gives a value
  type: dict
settings_changes:
  description: The settings changed (or, in check mode, that a real run would change), as the settings module's C(changes).
  returned: when O(settings) gives a value
  type: list
  elements: dict
rewrites:
  description:
    - The managed rewrites after the run (predicted in check mode), sorted by domain, type and answer.
    - Managed are the rewrites with a domain/answer pair from O(rewrites) and, with O(purge), every rewrite in O(purge_scope).
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
created:
  description: Number of rewrites added.
  returned: success
  type: int
  sample: 1
updated:
  description: Number of rewrites changed in place, including rewrites whose duplicate copies were collapsed.
  returned: success
  type: int
  sample: 0
deleted:
  description: Number of rewrites removed (each counted once, however many copies it had).
  returned: success
  type: int
  sample: 0
changes:
  description: The changes made (or, in check mode, that a real run would make), one per rewrite.
  returned: success
  type: list
  elements: dict
  contains:
    action:
      description: C(create), C(update) or C(delete).
      type: str
    domain:
      description: The rewritten name.
      type: str
    answer:
      description: The answer.
      type: str
    type:
      description: C(A), C(AAAA) or C(CNAME).
      type: str
    enabled:
      description: The enabled flag after the change (before it, for deletes).
      type: bool
    reason:
      description: Why the change is needed.
      type: str
      sample: "enabled: true -> false"
  sample:
    - action: create
      domain: cloud.example.com
      answer: 192.168.11.20
      type: A
      enabled: true
      reason: not on the server
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natloop.lan.plugins.module_utils._adguard import (
    CONNECTION_REQUIRED_TOGETHER,
    AdGuardBackend,
    rewrite_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._record_module import run_sync


def main():
    module = AnsibleModule(
        argument_spec=rewrite_argument_spec(),
        required_together=CONNECTION_REQUIRED_TOGETHER,
        required_if=[('purge', True, ['purge_scope'])],
        supports_check_mode=True,
    )
    run_sync(module, AdGuardBackend.from_module(module))


if __name__ == '__main__':
    main()
