#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: natloop.lan.site_preflight runs on the controller (plugins/action/site_preflight.py).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: site_preflight
short_description: Check a site's service model and fixes, and group the host by its fixes
version_added: 1.0.0
description:
  - Checks the site's C(natloop_services) (every service's domain, LAN addresses, public address when hairpin NAT is
    chosen, ports) and its choices (C(natloop_fixes), C(natloop_dns_provider), C(natloop_dns_servers)) and fails the host
    with one message naming the site and every problem.
  - Otherwise puts the host in one group per chosen fix (C(natloop_fix_split_dns), C(natloop_fix_hairpin),
    C(natloop_fix_hosts)), through one group per combination of fixes (for example C(natloop_fixes_hairpin_split_dns))
    that is a child of each; C(groups['natloop_fix_hairpin']) and host patterns such as C(routers:&natloop_fix_hairpin)
    include its hosts.
  - Runs on the controller only, in one task per host (what the C(natloop.lan.preflight) role and C(natloop.lan.site) run).
author:
  - natloop.lan contributors (@natloop)
attributes:
  check_mode:
    support: full
    description: Only reads its arguments.
  diff_mode:
    support: none
    description: Nothing to show.
  idempotent:
    support: full
    description: The same arguments give the same result and groups.
  platform:
    support: full
    platforms: all
    description: Runs on the controller; the managed host is not contacted.
options:
  site:
    description: The site's name, for the messages (C(natloop_site)).
    type: str
    default: ""
  services:
    description: The site's C(natloop_services).
    type: raw
    default: []
  fixes:
    description: The fixes the site chose (C(natloop_fixes)), a subset of C(split_dns), C(hairpin) and C(hosts).
    type: raw
    default: []
  dns_provider:
    description: The split-DNS server software (C(natloop_dns_provider)), C(adguard_home) or C(pihole).
    type: raw
    default: adguard_home
  dns_servers:
    description: LAN addresses of the site's split-DNS servers (C(natloop_dns_servers)); needed with C(split_dns).
    type: raw
    default: []
seealso:
  - module: ansible.builtin.group_by
"""

EXAMPLES = r"""
- name: Check the site's services and choices, and group this host by its fixes
  natloop.lan.site_preflight:
    site: "{{ natloop_site | default(inventory_hostname) }}"
    services: "{{ natloop_services | default([]) }}"
    fixes: "{{ natloop_fixes | default([]) }}"
    dns_provider: "{{ natloop_dns_provider | default('adguard_home') }}"
    dns_servers: "{{ natloop_dns_servers | default([]) }}"
"""

RETURN = r"""
groups:
  description: The fix groups the host joined.
  returned: success
  type: list
  elements: str
  sample: [natloop_fix_hairpin, natloop_fix_split_dns]
errors:
  description: Every problem found, one sentence each (also joined in C(msg)).
  returned: failure
  type: list
  elements: str
  sample: ["service rustdesk: lan_ipv4 '192.168.1.300' is not an IPv4 address"]
"""
