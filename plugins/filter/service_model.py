# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.module_utils.common.text.converters import to_text


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


class FilterModule(object):
    def filters(self):
        return {"service_model_errors": service_model_errors}
