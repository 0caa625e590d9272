#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: adguard_settings
short_description: Manage the AdGuard Home settings that split DNS depends on
version_added: 0.1.0
description:
  - Set the upstream DNS servers, global filtering, DNS rewrites as a whole, and protection (ad blocking) of
    AdGuard Home, in one task.
  - Only the options given a value are read, compared and written; the others stay as they are.
  - The module reads the settings, sends only the changes needed, then reads them again and fails if AdGuard Home
    does not hold what was written.
  - Split DNS with rewrites works with ad blocking off. Switch O(protection_enabled) off, not O(filtering_enabled),
    because rewrites answer only while filtering is on.
author:
  - natloop.lan contributors (@natloop)
extends_documentation_fragment:
  - natloop.lan._adguard
  - natloop.lan._http
  - natloop.lan._writers
  - natloop.lan._writers.SETTINGS
  - natloop.lan._attributes
  - natloop.lan._attributes.ACTIONGROUP_ADGUARD
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the settings and reports exactly the changes a real run would make.
  diff_mode:
    support: full
    details:
      - Before and after cover the settings given a value.
  idempotent:
    support: full
options:
  upstream_dns:
    description:
      - The upstream DNS servers, one entry per line of the AdGuard Home setting, for example V(9.9.9.9),
        V(tls://dns.quad9.net) or V([/lan/]192.168.11.1). Compared in order.
    type: list
    elements: str
  bootstrap_dns:
    description:
      - Plain IP addresses of the servers that resolve the names of encrypted upstreams. Compared in order.
    type: list
    elements: str
  upstream_mode:
    description:
      - How AdGuard Home chooses among the upstreams. AdGuard Home reports its default, load balancing, as an empty
        mode; the module reads that as V(load_balance).
    type: str
    choices: [load_balance, parallel, fastest_addr]
  filtering_enabled:
    description:
      - Global filtering. DNS rewrites answer only while it is on, so split DNS needs V(true).
      - When switching it, the filter update interval is kept.
    type: bool
  rewrites_enabled:
    description:
      - DNS rewrites as a whole (AdGuard Home v0.107.68 and later).
      - Older versions have no such switch and always answer with their rewrites; for them V(true) is no change and
        V(false) fails.
    type: bool
  protection_enabled:
    description:
      - Protection, that is ad blocking and the other blocking features. Rewrites keep answering while it is off.
      - A timed pause counts as neither on nor off; either value makes the state permanent.
    type: bool
  nxdomain_names:
    description:
      - Names AdGuard Home answers with NXDOMAIN (no address, for every query type and for the names below them),
        also while protection is off. For the browsers' and systems' canaries, for example V(mask.icloud.com) and
        V(mask-h2.icloud.com) (iCloud Private Relay), which AdGuard Home otherwise forwards to its upstreams.
      - Each name gets one user rule C(||NAME^$dnsrewrite=NXDOMAIN;;), the form of AdGuard Home's own blocked
        service "iCloud Private Relay". AdGuard Home applies C($dnsrewrite) user rules while filtering is on, with
        protection on or off (from its source, v0.107.79). Other user rules are kept as they are.
      - Compared as a set of lower-case names. Rules in this form for names in O(nxdomain_names_scope) that are not
        listed are removed.
    type: list
    elements: str
  nxdomain_names_scope:
    description:
      - Names (V(example.com)) or patterns (V(*.example.com), V(*)) whose NXDOMAIN user rules this module owns; a
        rule of that form for a name in the scope but not in O(nxdomain_names) is removed. Rules of other names are
        never touched.
    type: list
    elements: str
seealso:
  - module: natloop.lan.adguard_rewrite
  - module: natloop.lan.pihole_settings
"""

EXAMPLES = r"""
- name: Split DNS without ad blocking, upstream to the router
  natloop.lan.adguard_settings:
    url: http://192.168.11.20
    username: admin
    password: "{{ adguard_password }}"
    upstream_dns:
      - 192.168.11.1
    filtering_enabled: true
    rewrites_enabled: true
    protection_enabled: false
  delegate_to: localhost

- name: No iCloud Private Relay on this network, also with ad blocking off
  natloop.lan.adguard_settings:
    url: http://192.168.11.20
    username: admin
    password: "{{ adguard_password }}"
    nxdomain_names: [mask.icloud.com, mask-h2.icloud.com]
    nxdomain_names_scope: [mask.icloud.com, mask-h2.icloud.com]
  delegate_to: localhost
"""

RETURN = r"""
changes:
  description: The settings changed (or, in check mode, that a real run would change), in the order written.
  returned: success
  type: list
  elements: dict
  contains:
    setting:
      description: The option name.
      type: str
    before:
      description: The value read from the server; a string for a timed pause of protection.
      type: raw
    after:
      description: The value written.
      type: raw
  sample:
    - setting: protection_enabled
      before: true
      after: false
settings:
  description: The settings given a value, as the server holds them after the run (in check mode, as a real run would leave them).
  returned: success
  type: dict
  sample:
    upstream_dns: [192.168.11.1]
    nxdomain_names: [mask-h2.icloud.com, mask.icloud.com]
    filtering_enabled: true
    rewrites_enabled: true
    protection_enabled: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natloop.lan.plugins.module_utils._adguard import (
    CONNECTION_REQUIRED_TOGETHER,
    SETTINGS,
    AdGuardSettingsBackend,
    settings_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._settings_module import run_settings, wanted_settings


def main():
    module = AnsibleModule(
        argument_spec=settings_argument_spec(),
        required_together=CONNECTION_REQUIRED_TOGETHER,
        required_one_of=[list(SETTINGS)],
        supports_check_mode=True,
    )
    run_settings(module, AdGuardSettingsBackend.from_module(module), wanted_settings(module.params, SETTINGS))


if __name__ == '__main__':
    main()
