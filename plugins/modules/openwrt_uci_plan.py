#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: openwrt_uci_plan
short_description: Plan the uci commands that bring an OpenWrt package to a wanted state
version_added: 0.1.0
author:
  - natloop.lan contributors (@natloop)
description:
  - OpenWrt devices usually have no Python. The natloop.lan roles read a package with
    C(uci -X show PACKAGE) over M(ansible.builtin.raw), plan the change with this module on the
    controller (C(delegate_to=localhost)), and run the returned RV(script) over raw only when
    it is not empty.
  - This module never contacts the device and never writes anything; it only computes.
  - Exactly one of O(dhcp_dns) and O(redirect_reflection) says what is wanted.
options:
  package:
    description: The uci package (config file) that O(show) was read from.
    type: str
    required: true
  show:
    description: Output of C(uci -X show PACKAGE) on the device.
    type: str
    required: true
  pending_changes:
    description:
      - Output of C(uci changes PACKAGE) on the device.
      - Uncommitted changes that someone else staged would be committed together with ours, so
        the module fails when this is not empty.
    type: str
    default: ""
  dhcp_dns:
    description:
      - Hand out DNS servers (DHCP option 6) through the C(dhcp_option) list of a dhcp section.
      - Entries for option 6 (C(6,...) or C(option:dns-server,...)) are replaced by one entry; every
        other entry keeps its value and position.
      - An old-style C(option dhcp_option '3,a 6,b') (several values in one option, split at white
        space by OpenWrt's dnsmasq init) is rewritten as a list with one entry per value.
      - The option 6 entries it replaces are recorded in the section C(natloop_dns_SECTION) (type
        C(natloop_dhcp_dns), list C(before)), committed together with the change.
    type: dict
    suboptions:
      section:
        description: Name of the C(dhcp) section, as in C(dhcp.lan).
        type: str
        default: lan
      servers:
        description: DNS server addresses, primary first. Required when O(dhcp_dns.state=present).
        type: list
        elements: str
        default: []
      state:
        description:
          - V(absent) puts back the option 6 entries recorded by V(present) (none if there were none)
            and deletes the record. Without a record it changes nothing.
        type: str
        choices: [present, absent]
        default: present
      ipv6:
        description:
          - Also set the IPv6 DNS adverts of the section (RA RDNSS and DHCPv6 option 23, sent by odhcpd,
            or by dnsmasq where it does RA), from its C(dns) list.
          - With O(dhcp_dns.servers_ipv6), C(dns) holds exactly those IPv6 addresses (IPv4 entries are kept);
            without, C(dns) holds no IPv6 address and C(dns_service) is C(0), so no IPv6 resolver is advertised.
          - The options changed and their values before are recorded in the same record section
            (C(ipv6_changed), C(dns_before), C(dns_service_before)); V(absent) puts them back.
        type: bool
        default: false
      servers_ipv6:
        description: IPv6 addresses of the split-DNS servers to advertise (with O(dhcp_dns.ipv6)).
        type: list
        elements: str
        default: []
      forward_domains:
        description:
          - Names the router's resolver forwards to the first of O(dhcp_dns.servers)
            (C(list server '/NAME/ADDRESS') of the first C(dnsmasq) section).
          - The values added are recorded (C(server_added)); V(absent) removes exactly those.
        type: list
        elements: str
        default: []
      rebind_exceptions:
        description:
          - For every name of O(dhcp_dns.forward_domains), a C(list rebind_domain) entry of the first C(dnsmasq)
            section, so its private answer passes OpenWrt's rebind protection. Protection is never turned off.
          - The values added are recorded (C(rebind_domain_added)); V(absent) removes exactly those.
        type: bool
        default: false
  redirect_reflection:
    description:
      - Make firewall4 reflect (hairpin NAT) the enabled port forwards (C(redirect) sections with
        target C(DNAT)) that lead to the given services, to their own LAN zone. All values of list
        options count (LuCI saves a TCP+UDP forward as C(list proto 'tcp') / C(list proto 'udp')).
      - Only the options that keep firewall4 from reflecting are changed (C(reflection 0), another
        C(reflection_src), a C(reflection_zone) without the forward's C(dest) zone), so a forward
        firewall4 already reflects is left alone, because firewall4 reflects by default.
      - What is changed, and the values before, are recorded in a section of type C(natloop_hairpin)
        per forward (named after a hash of the forward's other options), committed together with
        the change. firewall4 ignores section types it does not know, without a warning.
      - V(absent) undoes exactly what the records say and deletes them; reflection the role did not
        enable is never switched off.
    type: dict
    suboptions:
      services:
        description: Services whose port forwards get reflection.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Service name, for messages.
            type: str
            required: true
          ip:
            description: LAN address the port forward leads to (C(dest_ip)).
            type: str
            required: true
          ports:
            description: Ports of the service.
            type: list
            elements: dict
            required: true
            suboptions:
              proto:
                description: Protocol.
                type: str
                choices: [tcp, udp]
                required: true
              start:
                description: First port.
                type: int
                required: true
              end:
                description: Last port (same as O(redirect_reflection.services[].ports[].start) for one port).
                type: int
                required: true
      reflection_src:
        description: Which address reflected traffic gets as source.
        type: str
        choices: [internal, external]
        default: internal
      state:
        description: V(present) makes the forwards reflect; V(absent) undoes what V(present) recorded.
        type: str
        choices: [present, absent]
        default: present
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
  - C(changed) means that the returned commands would change the device; the module itself changes nothing.
seealso:
  - module: ansible.builtin.raw
"""

EXAMPLES = r"""
- name: Read the dhcp package
  ansible.builtin.raw: uci -X show dhcp && echo '--- changes' && uci changes dhcp
  register: uci_dhcp
  changed_when: false
  check_mode: false

- name: Plan option 6 on dhcp.lan
  natloop.lan.openwrt_uci_plan:
    package: dhcp
    show: "{{ uci_dhcp.stdout.split('--- changes')[0] }}"
    pending_changes: "{{ uci_dhcp.stdout.split('--- changes')[1] }}"
    dhcp_dns:
      section: lan
      servers: [192.168.11.2, 192.168.11.3]
  delegate_to: localhost
  register: plan

- name: Apply
  ansible.builtin.raw: "{{ plan.script }}"
  when: plan.changed
"""

RETURN = r"""
commands:
  description: The uci commands to run, shell-quoted, without the final C(uci commit).
  type: list
  elements: str
  returned: always
  sample: ["uci delete dhcp.lan.dhcp_option", "uci add_list dhcp.lan.dhcp_option=6,192.168.11.2"]
script:
  description:
    - Shell script that runs RV(commands), commits the package, and reverts the package's
      staged changes if a command fails. Empty when nothing changes.
  type: str
  returned: always
sections:
  description: Names of the sections the plan touches or inspected for a match.
  type: list
  elements: str
  returned: always
  sample: ["cfg0a92bd"]
unmatched_services:
  description: Services (O(redirect_reflection)) for which no port forward was found.
  type: list
  elements: str
  returned: always
  sample: ["rustdesk"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.natloop.lan.plugins.module_utils._uci import (
    UciError,
    apply_desired,
    dhcp_dns_desired,
    matching_redirects,
    parse_show,
    plan_commands,
    reflection_desired,
)

PORT_SPEC = dict(
    proto=dict(type='str', choices=['tcp', 'udp'], required=True),
    start=dict(type='int', required=True),
    end=dict(type='int', required=True),
)
SERVICE_SPEC = dict(
    name=dict(type='str', required=True),
    ip=dict(type='str', required=True),
    ports=dict(type='list', elements='dict', required=True, options=PORT_SPEC),
)


def _plan(module, sections):
    package = module.params['package']
    if module.params['dhcp_dns']:
        wanted = module.params['dhcp_dns']
        if wanted['state'] == 'present' and not wanted['servers']:
            module.fail_json(msg='dhcp_dns.servers must not be empty when dhcp_dns.state=present')
        ipv6 = {'servers': wanted['servers_ipv6']} if wanted['ipv6'] or wanted['state'] == 'absent' else None
        forward = None
        if wanted['forward_domains'] or wanted['state'] == 'absent':
            forward = {'domains': wanted['forward_domains'], 'server': (wanted['servers'] or [''])[0],
                       'rebind_exceptions': wanted['rebind_exceptions']}
        desired, warnings = dhcp_dns_desired(sections, wanted['section'], wanted['servers'], wanted['state'],
                                             ipv6=ipv6, forward=forward)
        return desired, [], warnings
    wanted = module.params['redirect_reflection']
    redirects, unmatched = matching_redirects(sections, wanted['services'])
    warnings = []
    if wanted['state'] == 'present':
        for name in unmatched:
            warnings.append('%s: no port forward (redirect with target DNAT) to service %s found, so there '
                            'is nothing to reflect for it; create the port forward first' % (package, name))
    desired, more = reflection_desired(sections, redirects, wanted['state'], wanted['reflection_src'])
    return desired, unmatched, warnings + more


def main():
    module = AnsibleModule(
        argument_spec=dict(
            package=dict(type='str', required=True),
            show=dict(type='str', required=True),
            pending_changes=dict(type='str', default=''),
            dhcp_dns=dict(type='dict', options=dict(
                section=dict(type='str', default='lan'),
                servers=dict(type='list', elements='str', default=[]),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
                ipv6=dict(type='bool', default=False),
                servers_ipv6=dict(type='list', elements='str', default=[]),
                forward_domains=dict(type='list', elements='str', default=[]),
                rebind_exceptions=dict(type='bool', default=False),
            )),
            redirect_reflection=dict(type='dict', options=dict(
                services=dict(type='list', elements='dict', required=True, options=SERVICE_SPEC),
                reflection_src=dict(type='str', choices=['internal', 'external'], default='internal'),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
            )),
        ),
        mutually_exclusive=[('dhcp_dns', 'redirect_reflection')],
        required_one_of=[('dhcp_dns', 'redirect_reflection')],
        supports_check_mode=True,
    )
    package = module.params['package']
    if module.params['pending_changes'].strip():
        module.fail_json(msg='the uci package %s has uncommitted changes that are not ours; commit or '
                             'revert them first (uci changes %s): %s'
                             % (package, package, module.params['pending_changes'].strip()))
    try:
        sections = parse_show(module.params['show'], package)
        desired, unmatched, warnings = _plan(module, sections)
        commands = plan_commands(sections, package, desired)
    except UciError as exc:
        module.fail_json(msg=to_native(exc))
    for warning in warnings:
        module.warn(warning)

    script = ''
    if commands:
        script = '{ %s && uci commit %s; } || { uci revert %s; exit 1; }' % (
            ' && '.join(commands), package, package)
    result = dict(
        changed=bool(commands),
        commands=commands,
        script=script,
        sections=sorted(desired),
        unmatched_services=unmatched,
    )
    if module._diff:
        after = apply_desired(sections, desired)
        result['diff'] = dict(
            before=dict((name, sections[name]) for name in desired if name in sections),
            after=dict((name, after[name]) for name in desired if name in after),
        )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
