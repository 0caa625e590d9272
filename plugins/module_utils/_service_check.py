# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-side checks of a published service: resolve, probe, classify.

Private to natloop.lan, not a public API: it may change without notice.

Everything here only reads: files (resolv.conf, DHCP leases, hosts) and the network (DNS
queries, TCP connects, UDP exchanges). The verdict says which NAT loopback fix a client needs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import glob
import ipaddress
import os
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rdatatype
    HAS_DNSPYTHON = True
except ImportError:  # only needed to ask a specific DNS server
    HAS_DNSPYTHON = False

VERDICTS = ("ok", "hairpin_missing", "dns_not_split", "public_secondary_dns", "ipv6_bypass",
            "stale_hosts_entry", "service_down")
DEFAULT_LAN_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")
DEFAULT_LEASE_GLOBS = ("/var/lib/dhcp/*.leases", "/var/lib/dhclient/*.lease*", "/var/lib/NetworkManager/*.lease",
                       "/run/systemd/netif/leases/*")
# systemd-resolved's stub only forwards; its real upstreams are listed here.
RESOLVED_UPSTREAM_FILE = "/run/systemd/resolve/resolv.conf"


def expand_ports(ports):
    """[{proto, port | start/end, probe}] -> [(proto, port, probe)] with one entry per port."""
    expanded = []
    for entry in ports or []:
        proto = entry.get("proto", "tcp")
        first = entry.get("port") if entry.get("port") is not None else entry.get("start")
        last = entry.get("end") if entry.get("end") is not None else first
        probe = entry.get("probe") or ("connect" if proto == "tcp" else "skip")
        for port in range(int(first), int(last) + 1):
            expanded.append((proto, port, probe))
    return expanded


def split_host_port(server, default_port=53):
    """'192.168.11.20' / '127.0.0.1:5353' / '[2001:db8::1]:53' / '2001:db8::1' -> (host, port)."""
    match = re.match(r"^\[(.+)\](?::(\d+))?$", server)
    if match:
        return match.group(1), int(match.group(2) or default_port)
    if server.count(":") == 1:
        host, port = server.split(":")
        return host, int(port)
    return server, default_port


def read_nameservers(path):
    try:
        with open(path) as handle:
            return [line.split()[1] for line in handle
                    if line.strip().startswith("nameserver") and len(line.split()) > 1]
    except (IOError, OSError):
        return []


def read_lease_dns(lease_globs):
    """DNS servers of the newest DHCP lease found (dhclient, NetworkManager, systemd-networkd)."""
    newest = None
    for pattern in lease_globs:
        for path in glob.glob(pattern):
            try:
                with open(path) as handle:
                    text = handle.read()
            except (IOError, OSError):
                continue
            # dhclient: "option domain-name-servers a, b;" per lease block, last block is newest.
            found = re.findall(r"option domain-name-servers ([^;]+);", text)
            servers = [s.strip() for s in found[-1].split(",")] if found else []
            # systemd-networkd / NetworkManager: DNS=a b
            if not servers:
                found = re.findall(r"^DNS=(.+)$", text, re.M)
                servers = found[-1].split() if found else []
            if servers:
                mtime = _mtime(path)
                if newest is None or mtime >= newest[0]:
                    newest = (mtime, path, servers)
    return {"file": newest[1], "servers": newest[2]} if newest else {"file": None, "servers": []}


def _mtime(path):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0


def client_dns(resolv_conf, lease_globs):
    configured = read_nameservers(resolv_conf)
    effective = configured
    if configured and all(_is_loopback(s) for s in configured):
        upstream = read_nameservers(RESOLVED_UPSTREAM_FILE)
        effective = upstream or configured
    lease = read_lease_dns(lease_globs)
    return {"resolv_conf": configured, "effective": effective, "dhcp_lease": lease["servers"],
            "dhcp_lease_file": lease["file"]}


def hosts_file_addresses(path, domain):
    addresses = []
    try:
        with open(path) as handle:
            for line in handle:
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2 and domain.lower() in (f.lower() for f in fields[1:]):
                    addresses.append(fields[0])
    except (IOError, OSError):
        pass
    return addresses


def resolve_system(domain):
    """Addresses the operating system's resolver gives (hosts file, then DNS), per family."""
    result = {"A": [], "AAAA": [], "error": None}
    for family, key in ((socket.AF_INET, "A"), (socket.AF_INET6, "AAAA")):
        try:
            infos = socket.getaddrinfo(domain, None, family, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            if family == socket.AF_INET:
                result["error"] = str(exc)
            continue
        for info in infos:
            address = info[4][0]
            if address not in result[key]:
                result[key].append(address)
    return result


class DnspythonMissing(Exception):
    """Raised when a DNS server must be asked directly and dnspython is not installed."""


def resolve_via(server, domain, timeout):
    """Ask one DNS server directly (UDP, then TCP if truncated)."""
    if not HAS_DNSPYTHON:
        raise DnspythonMissing()
    host, port = split_host_port(server)
    result = {"A": [], "AAAA": [], "CNAME": [], "error": None}
    for rdtype in ("A", "AAAA"):
        query = dns.message.make_query(domain, rdtype)
        try:
            response = dns.query.udp(query, host, port=port, timeout=timeout)
            if response.flags & 0x0200:  # TC: the answer did not fit, ask again over TCP
                response = dns.query.tcp(query, host, port=port, timeout=timeout)
        except (dns.exception.DNSException, OSError) as exc:
            result["error"] = "%s query to %s failed: %s" % (rdtype, server, exc or type(exc).__name__)
            continue
        for rrset in response.answer:
            for rdata in rrset:
                kind = dns.rdatatype.to_text(rrset.rdtype)
                value = rdata.to_text().rstrip(".") if kind == "CNAME" else rdata.to_text()
                if kind in result and value not in result[kind]:
                    result[kind].append(value)
    return result


def _error_result(exc):
    if isinstance(exc, socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if getattr(exc, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "no_route"
    return "error"


def probe(address, proto, port, timeout, udp_payload):
    """One TCP connect or UDP exchange. result: ok, timeout, refused, reset, no_route, error."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    started = time.monotonic()
    outcome = {"address": address, "proto": proto, "port": port, "result": "ok", "reply": None, "detail": None}
    sock = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        if proto == "udp":
            # A connected UDP socket only accepts replies from the address it sent to, exactly
            # like a real client: a reply from the server's LAN address is dropped.
            sock.send(udp_payload.encode())
            outcome["reply"] = sock.recv(512).decode("utf-8", "replace").strip()
        else:
            # Connected is enough for TCP. A banner, if the service sends one, is a bonus worth
            # the wait: probes run side by side, so waiting costs one timeout in all, not one each.
            try:
                outcome["reply"] = sock.recv(512).decode("utf-8", "replace").strip() or None
            except (socket.timeout, OSError):
                pass
    except (socket.timeout, OSError) as exc:
        outcome["result"] = _error_result(exc)
        outcome["detail"] = str(exc) or type(exc).__name__
    finally:
        sock.close()
    outcome["seconds"] = round(time.monotonic() - started, 3)
    return outcome


class Network:
    """What the checks need from the outside world; tests replace it with a scripted one."""

    def __init__(self, timeout, udp_payload):
        self.timeout = timeout
        self.udp_payload = udp_payload

    def resolve_system(self, domain):
        return resolve_system(domain)

    def resolve_via(self, server, domain):
        return resolve_via(server, domain, self.timeout)

    def probe(self, address, proto, port):
        return probe(address, proto, port, self.timeout, self.udp_payload)


def in_networks(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks if net.version == ip.version)


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_service(service, network, dns_info, dns_servers, lan_networks, targets, hosts_file):
    """Resolve and probe one service from this client, and say what is wrong if anything is."""
    domain = service["domain"]
    lan_ips = [ip for ip in (service.get("lan_ipv4"), service.get("lan_ipv6")) if ip]
    public_ip = service.get("public_ip")
    ports = [(proto, port) for proto, port, how in expand_ports(service.get("ports")) if how != "skip"]

    system = network.resolve_system(domain)
    via = dict((server, network.resolve_via(server, domain)) for server in dns_servers)
    public_resolvers = [s for s in dns_info["effective"][1:]
                        if not in_networks(split_host_port(s)[0], lan_networks) and not _is_loopback(s)]
    via_public = dict((server, network.resolve_via(server, domain)) for server in public_resolvers if server not in via)

    addresses = {"lan": service.get("lan_ipv4"), "public": public_ip,
                 "name": (system["A"] or system["AAAA"] or [None])[0]}
    plan = [(target, addresses[target], proto, port) for target in targets if addresses.get(target)
            for proto, port in ports]
    # Probes that fail wait for a timeout each: run them side by side, keep the planned order.
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(plan)))) as pool:
        outcomes = list(pool.map(lambda step: network.probe(step[1], step[2], step[3]), plan))
    probes = []
    for (target, _address, _proto, _port), outcome in zip(plan, outcomes):
        outcome["target"] = target
        probes.append(outcome)

    def all_ok(target):
        mine = [p for p in probes if p["target"] == target]
        return bool(mine) and all(p["result"] == "ok" for p in mine)

    result = {
        "name": service.get("name", domain), "domain": domain, "resolved": {"system": system, "servers": via},
        "public_resolvers": via_public, "hosts_file": hosts_file_addresses(hosts_file, domain),
        "probes": probes, "reachable_by_name": all_ok("name"),
    }
    result["verdict"], result["reason"] = classify(
        service, result, lan_ips, probes_ok=dict((t, all_ok(t)) for t in targets),
        lan_networks=lan_networks)
    return result


def classify(service, result, lan_ips, probes_ok, lan_networks):
    """Pick the one verdict that tells a person which fix this client needs, and why."""
    domain = result["domain"]
    system = result["resolved"]["system"]
    public_ip = service.get("public_ip")
    resolved = system["A"] + system["AAAA"]
    stale = [a for a in result["hosts_file"] if a not in lan_ips and a != public_ip]

    if "lan" in probes_ok and not probes_ok["lan"]:
        return "service_down", "the service does not answer on its LAN address %s" % service.get("lan_ipv4")
    if stale:
        return "stale_hosts_entry", "the hosts file pins %s to %s, which is not the service's address" % (
            domain, ", ".join(stale))
    if not resolved:
        return "dns_not_split", "%s does not resolve on this client (%s)" % (domain, system.get("error"))

    foreign_v6 = [a for a in system["AAAA"] if a not in lan_ips]
    split_servers = [s for s, r in result["resolved"]["servers"].items() if set(r["A"] + r["AAAA"]) & set(lan_ips)]
    leaky = [s for s, r in result["public_resolvers"].items() if public_ip and public_ip in r["A"] + r["AAAA"]]
    hairpin_works = probes_ok.get("public", False)

    if probes_ok.get("name", False):
        if foreign_v6 and not hairpin_works:
            return "ipv6_bypass", "%s has AAAA %s that is not on the LAN: IPv6 clients go around split DNS" % (
                domain, ", ".join(foreign_v6))
        if leaky and not hairpin_works:
            return "public_secondary_dns", (
                "works now, but this client also uses %s, which answers the public address %s; "
                "whenever it asks that server the connection fails (no hairpin NAT)" % (", ".join(leaky), public_ip))
        return "ok", "%s reaches the service" % domain

    if set(resolved) & set(lan_ips):
        return "service_down", "%s resolves to the LAN address but the service does not answer by name" % domain
    if split_servers:
        return "dns_not_split", (
            "%s resolves to %s here, but the split-DNS server(s) %s answer the LAN address: this client "
            "does not use them (DHCP DNS option, static resolver or a public secondary)" % (
                domain, ", ".join(resolved), ", ".join(split_servers)))
    if public_ip and public_ip in resolved:
        return "hairpin_missing", (
            "%s resolves to the public address %s and the router does not loop LAN traffic back to "
            "the server (fix: split DNS, hairpin NAT or a hosts entry)" % (domain, public_ip))
    return "dns_not_split", "%s resolves to %s, neither the LAN nor the public address" % (domain, ", ".join(resolved))


def run_checks(params, network=None):
    lan_networks = [ipaddress.ip_network(n, strict=False) for n in params["lan_networks"]]
    network = network or Network(params["timeout"], params["udp_payload"])
    dns_info = client_dns(params["resolv_conf"], params["lease_files"])
    services = [check_service(service, network, dns_info, params["dns_servers"] or [], lan_networks,
                              params["probe_targets"], params["hosts_file"])
                for service in params["services"]]
    summary = dict((verdict, 0) for verdict in VERDICTS)
    for service in services:
        summary[service["verdict"]] += 1
    return {"client_dns": dns_info, "services": services, "summary": summary,
            "all_ok": all(s["verdict"] == "ok" for s in services)}
