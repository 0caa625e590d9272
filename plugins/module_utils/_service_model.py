# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The service model (natloop_services) and a site's choices, checked before anything changes.

Private to natloop.lan, not a public API: it may change without notice. Used by the
service_model_errors filter and the site_preflight action (on the controller).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.module_utils.common.text.converters import to_text

FIXES = ("split_dns", "hairpin", "hosts")
DNS_PROVIDERS = ("adguard_home", "pihole")


def _ip(value, version):
    try:
        return ipaddress.ip_address(to_text(value)).version in version
    except ValueError:
        return False


def _port_errors(port):
    if not isinstance(port, dict):
        return ["port %r is not a mapping" % (port,)]
    errors = []
    if port.get("proto") not in ("tcp", "udp"):
        errors.append("proto must be tcp or udp, got %r" % (port.get("proto"),))
    numbers = [port.get(k) for k in ("port", "start", "end") if port.get(k) is not None]
    if ("port" in port) == ("start" in port):
        errors.append("give either port or start/end")
    if any(not isinstance(n, int) or not 1 <= n <= 65535 for n in numbers):
        errors.append("ports must be integers from 1 to 65535, got %r" % (numbers,))
    elif "start" in port and port.get("end") is not None and port["end"] < port["start"]:
        errors.append("end %d is before start %d" % (port["end"], port["start"]))
    return errors


def service_model_errors(services, need_public_ip=False):
    """Every problem in a natloop_services list, as sentences naming the service and the field."""
    if not isinstance(services, list):
        return ["natloop_services must be a list, got %s" % type(services).__name__]
    errors = []
    seen = set()
    for index, service in enumerate(services):
        if not isinstance(service, dict):
            errors.append("service #%d is not a mapping" % index)
            continue
        label = "service %s" % (service.get("name") or service.get("domain") or "#%d" % index)
        domain = to_text(service.get("domain") or "")
        if not domain or " " in domain or domain.startswith(".") or domain.endswith("."):
            errors.append("%s: domain %r is not a host name" % (label, domain))
        elif domain.lower() in seen:
            errors.append("%s: domain %s appears twice" % (label, domain))
        seen.add(domain.lower())
        if not _ip(service.get("lan_ipv4"), (4,)):
            errors.append("%s: lan_ipv4 %r is not an IPv4 address" % (label, service.get("lan_ipv4")))
        if service.get("lan_ipv6") and not _ip(service["lan_ipv6"], (6,)):
            errors.append("%s: lan_ipv6 %r is not an IPv6 address" % (label, service["lan_ipv6"]))
        if service.get("public_ip") and not _ip(service["public_ip"], (4, 6)):
            errors.append("%s: public_ip %r is not an IP address" % (label, service["public_ip"]))
        elif need_public_ip and not service.get("public_ip"):
            errors.append("%s: public_ip is needed for hairpin NAT" % label)
        ports = service.get("ports")
        if not isinstance(ports, list) or not ports:
            errors.append("%s: ports must be a non-empty list" % label)
        else:
            errors.extend("%s: %s" % (label, error) for port in ports for error in _port_errors(port))
    return errors


def site_errors(services, fixes, dns_provider, dns_servers):
    """Every problem of one site's model and choices, as sentences naming the inventory variable."""
    errors = service_model_errors(services, need_public_ip=isinstance(fixes, list) and "hairpin" in fixes)
    if (not isinstance(fixes, list) or not set(fixes) <= set(FIXES)
            or ("split_dns" in fixes and (not isinstance(dns_servers, list) or not dns_servers))):
        errors.append("natloop_fixes must be a subset of [split_dns, hairpin, hosts] (got %s); split_dns needs "
                      "natloop_dns_provider (adguard_home or pihole, got %s) and natloop_dns_servers (the split-DNS "
                      "servers' LAN addresses, got %s)." % (fixes, dns_provider, dns_servers))
    elif dns_provider not in DNS_PROVIDERS:
        errors.append("natloop_dns_provider must be one of: adguard_home, pihole (got %s)." % (dns_provider,))
    return errors


def fix_groups(fixes):
    """The group a host of a site with these fixes joins, and that group's parents: one group per
    combination (natloop_fixes_hairpin_split_dns) under one group per fix (natloop_fix_hairpin,
    natloop_fix_split_dns), so that one result puts the host in every fix's group."""
    chosen = sorted(set(fixes))
    if not chosen:
        return None, []
    return "natloop_fixes_" + "_".join(chosen), ["natloop_fix_" + fix for fix in chosen]
