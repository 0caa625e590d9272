#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: service_check
short_description: Check from a client whether published services are reachable by name, and why not
version_added: 0.1.0
description:
  - Runs on a LAN client. For each service it resolves the name through the system resolver
    (hosts file and DNS) and through each given DNS server, reads the DNS servers the client really
    uses (C(resolv.conf), systemd-resolved upstreams, the DHCP lease), then probes every service port
    by name, by LAN address and by public address (TCP connect; UDP exchange where a reply is expected).
  - It asks every resolver the client uses (C(resolv.conf) or systemd-resolved's upstreams, and every
    IPv6 resolver the network offers it by RA RDNSS or DHCPv6, see O(ipv6_dns_files)) for the A, AAAA
    and HTTPS records of each service and for the canaries of browsers and systems
    (C(use-application-dns.net), C(mask.icloud.com), C(mask-h2.icloud.com), C(_dns.resolver.arpa) SVCB).
    All these questions go out side by side while the ports are probed; together they take one O(timeout) at most
    (after O(ra_wait) for a resolver heard only in a Router Advertisement).
  - It classifies the result as one verdict per service, naming the fix the client needs, lists every
    problem found per service (RV(services[].problems)), and reports client-wide warnings (RV(client_findings)).
  - Read-only; it never changes anything, so it is safe in check mode.
author:
  - natloop.lan contributors (@natloop)
extends_documentation_fragment:
  - natloop.lan._attributes
  - natloop.lan._attributes.INFO_MODULE
options:
  services:
    description:
      - The published services, in the shape of the collection's C(natloop_services) variable.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A label for the service.
        type: str
      domain:
        description: The name clients use, for example C(rustdesk.example.com).
        type: str
        required: true
      lan_ipv4:
        description: The server's IPv4 address on the LAN.
        type: str
        required: true
      lan_ipv6:
        description: The server's IPv6 address on the LAN, if it has one.
        type: str
      public_ip:
        description: The public address the router forwards to the server.
        type: str
      ports:
        description: Ports to probe, one port or a range per item.
        type: list
        elements: dict
        default: []
        suboptions:
          proto:
            description: The transport.
            type: str
            choices: [tcp, udp]
            default: tcp
          port:
            description: A single port. Mutually exclusive with O(services[].ports[].start).
            type: int
          start:
            description: First port of a range.
            type: int
          end:
            description: Last port of a range (defaults to O(services[].ports[].start)).
            type: int
          probe:
            description:
              - How to probe. C(connect) is a TCP connect (the TCP default). C(reply) sends a datagram and waits
                for an answer, for UDP services that answer any datagram. C(skip) does not probe (the UDP default).
            type: str
            choices: [connect, reply, skip]
  dns_servers:
    description:
      - The site's split-DNS servers (C(IP) or C(IP:port)), asked directly to tell
        C(dns_not_split) from C(hairpin_missing). Needs dnspython on the client.
    type: list
    elements: str
    default: []
  lan_networks:
    description:
      - Networks that count as the LAN. A DNS server of the client outside them (and not loopback)
        counts as public, for C(public_secondary_dns).
    type: list
    elements: str
    default: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, fe80::/10]
  probe_targets:
    description: Which addresses to probe.
    type: list
    elements: str
    choices: [name, lan, public]
    default: [name, lan, public]
  timeout:
    description:
      - Seconds to wait for each DNS answer, connect or UDP reply.
      - A DNS query or UDP probe without a reply is sent again after each third of this time (three
        sends in all, on one socket), as resolvers do, so that one lost datagram is not a wrong verdict.
    type: float
    default: 2.0
  udp_payload:
    description: The datagram sent to UDP ports probed with C(reply).
    type: str
    default: "natloop-probe"
  hosts_file:
    description: The hosts file to look for pinned entries in.
    type: path
    default: /etc/hosts
  resolv_conf:
    description: The resolver configuration to read.
    type: path
    default: /etc/resolv.conf
  ipv6_dns_files:
    description:
      - Glob patterns of files the client keeps the IPv6 resolvers it learnt from the router in
        (C(nameserver) lines, dhclient's C(option dhcp6.name-servers), systemd-networkd's C(DNS=)).
      - The defaults are rdnssd's file (RA RDNSS), dhclient's and NetworkManager's DHCPv6 leases and
        systemd-networkd's link state. Every IPv6 resolver found is asked, also when C(resolv.conf) does not
        list it, because other clients on the LAN (Windows, Android, macOS) use what the router advertises.
    type: list
    elements: str
    default:
      - /run/rdnssd/resolv.conf
      - /var/lib/dhcp/dhclient6*.leases
      - /var/lib/dhclient/dhclient6*.lease*
      - /var/lib/NetworkManager/dhclient6-*.lease
      - /run/systemd/netif/links/*
  ra_wait:
    description:
      - Seconds to listen for IPv6 Router Advertisements and read the resolvers they advertise (RDNSS), so an
        IPv6 resolver the router advertises is found even when no program on this client keeps it in a file.
      - The client sends one Router Solicitation without a link-layer address option (routers record nothing from
        it) on each interface with an IPv6 link-local address, and stops listening 0.2 seconds after the first answer.
        Needs root (a raw ICMPv6 socket); without it, or without IPv6, this is skipped. C(0) turns it off.
    type: float
    default: 1.0
  lease_files:
    description: Glob patterns of DHCP lease files to read the offered DNS servers from.
    type: list
    elements: str
    default:
      - /var/lib/dhcp/*.leases
      - /var/lib/dhclient/*.lease*
      - /var/lib/NetworkManager/*.lease
      - /run/systemd/netif/leases/*
requirements:
  - dnspython (to ask DNS servers directly; without it only the system resolver and the probes are checked, with a warning)
notes:
  - "Verdicts are failures: C(verify_fail_on_problems) of the C(natloop.lan.verify) role fails the run on any but C(ok).
    When several apply, the verdict is the first in this order (RV(services[].problems) lists them all):"
  - C(service_down) the service does not answer on its LAN address (or by name while the name gives the LAN address).
  - C(stale_hosts_entry) the hosts file pins the name to an address that is not the service's.
  - C(rebind_blocked) a resolver of the client answers no address (NXDOMAIN, empty or REFUSED) while a split-DNS
    server (O(dns_servers)) answers the LAN address; a forwarder drops private answers (dnsmasq C(stop-dns-rebind),
    OpenWrt C(rebind_protection)). First when the name does not resolve at all, last when it works through another resolver.
  - C(ipv6_dns_bypass) an IPv6 resolver of the client (RA RDNSS, DHCPv6 or C(resolv.conf)) that is not a split-DNS
    server answers an address other than the LAN address (A or AAAA) and not the LAN address; the reason names the resolver, where the client
    got it and what to set on the router (C(router_dhcp_dns_servers_ipv6)).
  - C(ipv6_bypass) the name works, but it has an AAAA record outside the LAN and the router does not loop back.
  - C(https_record_bypass) a resolver of the client answers an HTTPS record for the name whose C(ipv4hint)/C(ipv6hint)
    is not the LAN address, or whose target is another name.
  - "C(ipv6_dns_bypass) and C(https_record_bypass) are not given when the public address works from the LAN (hairpin NAT),
    as C(ipv6_bypass) is not: the router then takes LAN clients to the service by its public addresses."
  - C(public_secondary_dns) the name works now, but the client also uses a public resolver that answers the public address.
  - C(dns_not_split) the name resolves to the public address while the site's DNS servers answer the LAN address.
  - C(hairpin_missing) the name resolves to the public address and the router does not loop back.
  - C(ok) the name reaches the service and no resolver of the client sends it elsewhere.
  - "Client findings are warnings, never failures (they matter to browsers and operating systems, not to the RustDesk
    client, which resolves with plain A/AAAA queries): C(doh_canary_missing) a resolver answers
    C(use-application-dns.net) with an address, so Firefox keeps DNS over HTTPS on; C(private_relay_canary_missing)
    it answers C(mask.icloud.com) or C(mask-h2.icloud.com) with an address, so iCloud Private Relay stays on;
    C(ddr_redirect) it answers C(_dns.resolver.arpa) SVCB (DDR, RFC 9462) naming an encrypted resolver that is not
    itself (hints neither the address asked nor on the LAN), so Windows 11 and Apple systems may move to it.
    A 0.0.0.0 answer counts as an address: it turns DoH on rather than off."
"""

EXAMPLES = r"""
- name: Check the RustDesk server from every LAN client
  natloop.lan.service_check:
    services: "{{ natloop_services }}"
    dns_servers: [192.168.11.20]
    lan_networks: [192.168.11.0/24]
  register: check

- name: Fail unless every service is reachable by name
  ansible.builtin.assert:
    that: check.all_ok
    fail_msg: "{{ check.services | map(attribute='reason') | list }}"
"""

RETURN = r"""
all_ok:
  description: Whether every service got the verdict C(ok).
  returned: always
  type: bool
summary:
  description: Number of services per verdict.
  returned: always
  type: dict
  sample: {ok: 1, hairpin_missing: 0}
client_dns:
  description: The DNS servers this client uses.
  returned: always
  type: dict
  contains:
    resolv_conf:
      description: Name servers in the resolver configuration.
      type: list
      elements: str
    effective:
      description: The servers really asked (systemd-resolved's upstreams instead of its stub).
      type: list
      elements: str
    dhcp_lease:
      description: DNS servers offered by the newest DHCP lease found.
      type: list
      elements: str
    dhcp_lease_file:
      description: The lease file they were read from.
      type: str
    ipv6:
      description: IPv6 resolvers found in O(ipv6_dns_files), with C(file), C(source) (RA RDNSS, DHCPv6 lease, ...) and C(servers).
      type: list
      elements: dict
    resolvers:
      description: Every resolver asked for the checks of the client, with C(server) and C(sources) (where the client got it).
      type: list
      elements: dict
    router_advertisements:
      description: >-
        What listening for Router Advertisements found (O(ra_wait)): C(servers) (each with C(server), C(router),
        C(interface)) and C(error); null when it did not listen.
      type: dict
client_findings:
  description:
    - Client-wide warnings, one per resolver and canary; they never change a verdict or RV(all_ok).
    - The resolvers are the client's and the site's split-DNS servers (O(dns_servers)), also those this client does not use.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: C(doh_canary_missing), C(private_relay_canary_missing) or C(ddr_redirect).
      type: str
    severity:
      description: Always C(warning).
      type: str
    server:
      description: The resolver that answered.
      type: str
    reason:
      description: What it answered, what that does to clients, and what to change.
      type: str
  sample:
    - code: doh_canary_missing
      severity: warning
      server: 192.168.11.20
      reason: "192.168.11.20 (/etc/resolv.conf) answers use-application-dns.net with 0.0.0.0: Firefox keeps ..."
canaries:
  description: The answers of each resolver to the canaries, by resolver and C(name type), as in RV(services[].client_resolvers).
  returned: always
  type: dict
resolvers_asked:
  description: Whether the client's resolvers were asked (false without dnspython on the client).
  returned: always
  type: bool
services:
  description: One result per service.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The service's label.
      type: str
    domain:
      description: The name checked.
      type: str
    verdict:
      description: >-
        One of C(ok), C(hairpin_missing), C(dns_not_split), C(public_secondary_dns), C(ipv6_bypass),
        C(stale_hosts_entry), C(service_down), C(ipv6_dns_bypass), C(https_record_bypass), C(rebind_blocked):
        the first of RV(services[].problems), or C(ok) when it is empty.
      type: str
    reason:
      description: A sentence saying why, and what to change.
      type: str
    problems:
      description: Every failure verdict that applies, in the order of the notes, each with C(verdict) and C(reason).
      type: list
      elements: dict
    client_resolvers:
      description: >-
        What each resolver of the client answered for the name: C(A), C(AAAA), C(HTTPS) (records with C(priority),
        C(target), C(ipv4hint), C(ipv6hint), C(alpn)), C(rcode) of the A question, C(error), C(sources).
      type: dict
    reachable_by_name:
      description: Whether every probed port answered when reached by name.
      type: bool
    resolved:
      description: Addresses from the system resolver (C(system)) and from each DNS server asked (C(servers)).
      type: dict
    public_resolvers:
      description: Answers of the client's public secondary resolvers, if any.
      type: dict
    hosts_file:
      description: Addresses the hosts file gives the name.
      type: list
      elements: str
    probes:
      description:
        - Each probe with C(target) (name, lan, public), C(address), C(proto), C(port), C(reply) and C(seconds).
        - C(result) is one of C(ok), C(timeout), C(refused), C(reset), C(no_route), C(error).
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.natloop.lan.plugins.module_utils import _service_check as checks


def main():
    port_spec = dict(proto=dict(type="str", choices=["tcp", "udp"], default="tcp"), port=dict(type="int"),
                     start=dict(type="int"), end=dict(type="int"),
                     probe=dict(type="str", choices=["connect", "reply", "skip"]))
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str"), domain=dict(type="str", required=True), lan_ipv4=dict(type="str", required=True),
                lan_ipv6=dict(type="str"), public_ip=dict(type="str"),
                ports=dict(type="list", elements="dict", default=[], options=port_spec,
                           required_one_of=[["port", "start"]], mutually_exclusive=[["port", "start"]]))),
            dns_servers=dict(type="list", elements="str", default=[]),
            lan_networks=dict(type="list", elements="str", default=list(checks.DEFAULT_LAN_NETWORKS)),
            probe_targets=dict(type="list", elements="str", choices=["name", "lan", "public"],
                               default=["name", "lan", "public"]),
            timeout=dict(type="float", default=2.0),
            udp_payload=dict(type="str", default="natloop-probe"),
            hosts_file=dict(type="path", default="/etc/hosts"),
            resolv_conf=dict(type="path", default="/etc/resolv.conf"),
            lease_files=dict(type="list", elements="str", default=list(checks.DEFAULT_LEASE_GLOBS)),
            ipv6_dns_files=dict(type="list", elements="str", default=list(checks.DEFAULT_IPV6_DNS_FILES)),
            ra_wait=dict(type="float", default=1.0),
        ),
        supports_check_mode=True,
    )
    try:
        result = checks.run_checks(module.params)
    except checks.DnspythonMissing:
        module.fail_json(msg=missing_required_lib("dnspython") + " It is needed to ask a DNS server directly.")
    except ValueError as exc:
        module.fail_json(msg="Invalid input: %s" % exc)
    if not result["resolvers_asked"]:
        module.warn("dnspython is not installed on this client: its resolvers were not asked, so ipv6_dns_bypass, "
                    "https_record_bypass, rebind_blocked and the canary warnings are not checked. " +
                    missing_required_lib("dnspython"))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
