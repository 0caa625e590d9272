#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: hairpin_nat_plan
short_description: Tell from a router's own rules whether its port forwards catch LAN clients
version_added: 0.1.0
author:
  - natloop.lan contributors (@natloop)
description:
  - Hairpin NAT has two halves. The LAN client's connection to the public address must be DNATed to
    the server, and it must be masqueraded so the answer goes back through the router. A port forward
    bound to the WAN (nftables C(iifname "wan"), iptables C(-i eth0), RouterOS C(in-interface=ether1))
    does not DNAT LAN clients, so the first half is missing too.
  - This module reads the router's forwards as they are written and decides, per service and protocol,
    which ports need a LAN-side DNAT of the role's own. It runs on the controller
    (C(delegate_to=localhost)) and changes nothing.
  - Sources it understands are C(nft -j list ruleset), C(iptables-save -t nat) (iptables-legacy and
    iptables-nft; rules that iptables-nft wrote are read from its save output, not from the nft JSON),
    and RouterOS C(/ip/firewall/nat) entries.
  - A forward with a match it cannot judge counts as not catching LAN clients, with a warning. A second
    DNAT for traffic that a user rule would also catch is harmless (the first nat chain that DNATs a new
    connection wins), a missing one leaves the service unreachable.
options:
  services:
    description: Services in the C(natloop_services) shape; C(name), C(lan_ipv4), C(public_ip) and C(ports) are used.
    type: list
    elements: dict
    required: true
  lan_cidr:
    description: The LAN as an IPv4 network, for example C(192.168.11.0/24).
    type: str
    required: true
  mode:
    description:
      - V(auto) adds the LAN-side DNAT only for ports the router's own forwards do not DNAT for LAN clients.
      - V(always) adds it for every service port, V(never) for none (only the masquerade half).
    type: str
    choices: [auto, always, never]
    default: auto
  nft_ruleset:
    description: Output of C(nft -j list ruleset) (text or parsed).
    type: raw
  skip_tables:
    description: nftables tables to leave out (the role's own).
    type: list
    elements: str
    default: []
  iptables_save:
    description: Outputs of C(iptables-legacy-save -t nat) and C(iptables-nft-save -t nat), one per item.
    type: list
    elements: str
    default: []
  ip_addr:
    description: Output of C(ip -j addr show) (text or parsed), to know the LAN interfaces of a Linux router.
    type: raw
  routeros_nat:
    description: RouterOS C(/ip/firewall/nat) entries, in order, with C(.id).
    type: list
    elements: dict
  routeros_addresses:
    description: RouterOS C(/ip/address) entries, to know the LAN interfaces.
    type: list
    elements: dict
    default: []
  routeros_interface_list_members:
    description: RouterOS C(/interface/list/member) entries, to resolve C(in-interface-list).
    type: list
    elements: dict
    default: []
  comment:
    description: Comment prefix of the rules the role owns (RouterOS); they are not read as user forwards.
    type: str
    default: natloop.lan hairpin_nat
extends_documentation_fragment:
  - natloop.lan._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
notes:
  - Assumed when a rule cannot tell it - the service's public address is the router's own (a forward
    matching C(fib daddr type local), C(--dst-type LOCAL) or C(dst-address-type=local) catches it), and
    C(accept) or C(return) rules before a forward in a nat chain are not followed.
seealso:
  - module: natloop.lan.openwrt_uci_plan
"""

EXAMPLES = r"""
- name: Read the router's rules
  ansible.builtin.command: nft -j list ruleset
  register: ruleset
  changed_when: false

- name: Read its addresses
  ansible.builtin.command: ip -j addr show
  register: addresses
  changed_when: false

- name: Decide which services need a LAN-side DNAT
  natloop.lan.hairpin_nat_plan:
    services: "{{ natloop_services }}"
    lan_cidr: 192.168.11.0/24
    nft_ruleset: "{{ ruleset.stdout }}"
    ip_addr: "{{ addresses.stdout }}"
  delegate_to: localhost
  register: plan
"""

RETURN = r"""
decisions:
  description: One entry per service and protocol.
  type: list
  elements: dict
  returned: always
  sample:
    - name: rustdesk
      proto: tcp
      ip: 192.168.11.20
      public_ip: 198.51.100.1
      ports: ["21115-21119"]
      lan_dnat: true
      lan_dnat_ports: ["21115-21119"]
      forwards: ["nftables ip lab_router chain prerouting rule handle 2"]
      reason: >-
        ports 21115-21119 are not forwarded for LAN clients: nftables ip lab_router chain prerouting rule handle 2:
        it only matches packets from interface eth1, and LAN clients come in on eth0
lan_dnat:
  description: The entries of RV(decisions) that need a LAN-side DNAT, with their C(lan_dnat_ports) as C(ports).
  type: list
  elements: dict
  returned: always
lan_interfaces:
  description: Interfaces with an address in O(lan_cidr).
  type: list
  elements: str
  returned: always
  sample: [eth0]
moves:
  description:
    - RouterOS only. C(move) commands that put the role's rules (O(comment)) before every other rule of their
      chain (C(dstnat), C(srcnat)), because RouterOS applies the first matching NAT rule.
  type: list
  elements: dict
  returned: always
  sample: [{numbers: "*101,*102", destination: "*2"}]
notes:
  description: What was assumed (also emitted as warnings).
  type: list
  elements: str
  returned: always
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.natloop.lan.plugins.module_utils._hairpin import (
    linux_lan,
    parse_iptables_save,
    parse_nft,
    parse_routeros,
    plan,
    routeros_lan,
    routeros_moves,
)


def _json(value):
    if value is None or value == '':
        return None
    if isinstance(value, (dict, list)):
        return value
    return json.loads(value)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type='list', elements='dict', required=True),
            lan_cidr=dict(type='str', required=True),
            mode=dict(type='str', choices=['auto', 'always', 'never'], default='auto'),
            nft_ruleset=dict(type='raw'),
            skip_tables=dict(type='list', elements='str', default=[]),
            iptables_save=dict(type='list', elements='str', default=[]),
            ip_addr=dict(type='raw'),
            routeros_nat=dict(type='list', elements='dict'),
            routeros_addresses=dict(type='list', elements='dict', default=[]),
            routeros_interface_list_members=dict(type='list', elements='dict', default=[]),
            comment=dict(type='str', default='natloop.lan hairpin_nat'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        rulesets = []
        moves = []
        if params['routeros_nat'] is not None:
            interfaces, lists = routeros_lan(params['routeros_addresses'], params['routeros_interface_list_members'],
                                             params['lan_cidr'])
            rulesets.append(parse_routeros(params['routeros_nat'], lists, skip_comment=params['comment']))
            moves = routeros_moves(params['routeros_nat'], params['comment'])
        else:
            interfaces = linux_lan(_json(params['ip_addr']), params['lan_cidr'])
            nft = _json(params['nft_ruleset'])
            if nft is not None:
                rulesets.append(parse_nft(nft, skip_tables=params['skip_tables']))
            for index, text in enumerate(params['iptables_save']):
                source = 'iptables-legacy' if 'iptables-save v' in text and '(nf_tables)' not in text else 'iptables-nft'
                rulesets.append(parse_iptables_save(text, source='%s#%d' % (source, index)))
        decisions, notes = plan(params['services'], params['lan_cidr'], interfaces, rulesets, mode=params['mode'])
    except (ValueError, KeyError, TypeError) as exc:
        module.fail_json(msg='Could not read the router\'s rules: %s' % to_native(exc))
    for note in notes:
        module.warn(note)
    lan_dnat = [dict(d, ports=d['lan_dnat_ports']) for d in decisions if d['lan_dnat']]
    module.exit_json(changed=False, decisions=decisions, lan_dnat=lan_dnat, lan_interfaces=interfaces,
                     moves=moves, notes=notes)


if __name__ == '__main__':
    main()
