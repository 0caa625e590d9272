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
import struct
import time
from concurrent.futures import ThreadPoolExecutor, wait

try:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype
    import dns.rdtypes.svcbbase
    HAS_DNSPYTHON = True
except ImportError:  # only needed to ask a specific DNS server
    HAS_DNSPYTHON = False

VERDICTS = ("ok", "hairpin_missing", "dns_not_split", "public_secondary_dns", "ipv6_bypass",
            "stale_hosts_entry", "service_down", "ipv6_dns_bypass", "https_record_bypass", "rebind_blocked")
# Client-wide findings: warnings, never a verdict (they matter to browsers and OS resolvers, not to
# every client program: the RustDesk client resolves with plain A/AAAA queries).
FINDINGS = ("doh_canary_missing", "private_relay_canary_missing", "ddr_redirect")
# Names whose answer tells browsers and systems whether to leave the network's resolver:
# Firefox's DoH canary, Apple's Private Relay canaries, and DDR (RFC 9462).
CANARIES = (("use-application-dns.net", "A"), ("mask.icloud.com", "A"), ("mask-h2.icloud.com", "A"),
            ("_dns.resolver.arpa", "SVCB"))
# How often a UDP datagram (a DNS query, a UDP probe) is sent within one timeout when unanswered.
UDP_SENDS = 3
DEFAULT_LAN_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")
DEFAULT_LEASE_GLOBS = ("/var/lib/dhcp/*.leases", "/var/lib/dhclient/*.lease*", "/var/lib/NetworkManager/*.lease",
                       "/run/systemd/netif/leases/*")
# systemd-resolved's stub only forwards; its real upstreams are listed here.
RESOLVED_UPSTREAM_FILE = "/run/systemd/resolve/resolv.conf"
# Where Linux clients keep the IPv6 resolvers they learnt from the router: rdnssd (RA RDNSS),
# dhclient -6 and NetworkManager's dhclient (DHCPv6 option 23), systemd-networkd's per-link state
# (RA RDNSS and DHCPv6 alike).
DEFAULT_IPV6_DNS_FILES = ("/run/rdnssd/resolv.conf", "/var/lib/dhcp/dhclient6*.leases",
                          "/var/lib/dhclient/dhclient6*.lease*", "/var/lib/NetworkManager/dhclient6-*.lease",
                          "/run/systemd/netif/links/*")


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


def _is_ipv6(address):
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).version == 6
    except ValueError:
        return False


def _ipv6_source(path, text):
    if "rdnssd" in path:
        return "RA RDNSS (rdnssd, %s)" % path
    if "/netif/links/" in path:
        return "RA RDNSS or DHCPv6 (systemd-networkd, %s)" % path
    if "dhcp6." in text or "dhclient6" in path:
        return "DHCPv6 lease %s" % path
    return path


def read_ipv6_dns(file_globs):
    """IPv6 resolvers the client learnt from the router: [{file, source, servers}] per file that names any."""
    found = []
    for pattern in file_globs:
        for path in sorted(glob.glob(pattern)):
            try:
                with open(path) as handle:
                    text = handle.read()
            except (IOError, OSError):
                continue
            servers = [line.split()[1] for line in text.splitlines()
                       if line.strip().startswith("nameserver") and len(line.split()) > 1]
            # dhclient -6: "option dhcp6.name-servers a, b;" per lease block, the last block is the newest.
            leases = re.findall(r"option dhcp6\.name-servers ([^;]+);", text)
            if leases:
                servers += [s.strip() for s in leases[-1].split(",")]
            # systemd-networkd link state: DNS=a b (every resolver of the link, RA and DHCPv6 included).
            links = re.findall(r"^DNS=(.+)$", text, re.M)
            if links:
                servers += links[-1].split()
            servers = _unique(s for s in servers if _is_ipv6(_host(s)))
            if servers:
                found.append({"file": path, "source": _ipv6_source(path, text), "servers": servers})
    return found


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _ipv6_link_interfaces(path="/proc/net/if_inet6"):
    """{name: index} of the interfaces with an IPv6 link-local address (where RAs can arrive), loopback left out."""
    interfaces = {}
    try:
        with open(path) as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 6 and fields[5] != "lo" and fields[3] == "20":  # scope 0x20: link
                    interfaces[fields[5]] = int(fields[1], 16)
    except (IOError, OSError, ValueError):
        pass
    return interfaces


def parse_router_advertisement(packet):
    """The RDNSS servers (RFC 8106 option 25) of an ICMPv6 Router Advertisement: [(address, lifetime)]."""
    if len(packet) < 16 or bytearray(packet)[0] != 134:
        return []
    data = bytearray(packet)
    servers = []
    offset = 16  # type, code, checksum, hop limit, flags, router lifetime, reachable, retrans
    while offset + 8 <= len(data):
        kind, length = data[offset], data[offset + 1] * 8
        if length == 0 or offset + length > len(data):
            break
        if kind == 25 and length >= 24:
            lifetime = struct.unpack("!I", bytes(data[offset + 4:offset + 8]))[0]
            for start in range(offset + 8, offset + length - 15, 16):
                servers.append((socket.inet_ntop(socket.AF_INET6, bytes(data[start:start + 16])), lifetime))
        offset += length
    return servers


def listen_router_advertisements(wait):
    """Ask the routers for an RA (a Router Solicitation) and read the RDNSS of the answers, for `wait` seconds at most.

    Read-only: the solicitation carries no source link-layer option, so no router records anything
    from it (RFC 4861 6.2.6); it only makes them send the RA they send anyway, sooner. Needs a raw
    ICMPv6 socket (root); stops 0.2 s after the first RA. Returns {servers: [{server, router,
    interface}], error}.
    """
    result = {"servers": [], "error": None}
    interfaces = _ipv6_link_interfaces()
    if wait <= 0 or not interfaces:
        return result
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    except OSError as exc:
        result["error"] = "cannot listen for router advertisements (needs root): %s" % exc
        return result
    names = dict((index, name) for name, index in interfaces.items())
    try:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        for index in interfaces.values():
            try:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
                sock.sendto(b"\x85\x00\x00\x00\x00\x00\x00\x00", ("ff02::2", 0, 0, index))
            except OSError:
                pass  # an interface that cannot send still receives the periodic RAs
        deadline = time.monotonic() + wait
        stop = deadline
        while True:
            remaining = stop - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                packet, source = sock.recvfrom(2048)
            except socket.timeout:
                break
            if not packet or bytearray(packet)[0] != 134:
                continue
            router = source[0].split("%", 1)[0]
            interface = names.get(source[3] if len(source) > 3 else 0, "?")
            for server, lifetime in parse_router_advertisement(packet):
                entry = {"server": server, "router": router, "interface": interface}
                if lifetime and entry not in result["servers"]:
                    result["servers"].append(entry)
            stop = min(deadline, time.monotonic() + 0.2)
    except OSError as exc:
        result["error"] = "listening for router advertisements failed: %s" % exc
    finally:
        sock.close()
    return result


def client_dns(resolv_conf, lease_globs, ipv6_dns_files=(), router_advertisements=None):
    """The resolvers this client uses, and every IPv6 resolver the network offers it."""
    configured = read_nameservers(resolv_conf)
    effective = configured
    effective_source = resolv_conf
    if configured and all(_is_loopback(s) for s in configured):
        upstream = read_nameservers(RESOLVED_UPSTREAM_FILE)
        if upstream:
            effective, effective_source = upstream, "systemd-resolved (%s)" % RESOLVED_UPSTREAM_FILE
    lease = read_lease_dns(lease_globs)
    ipv6 = read_ipv6_dns(ipv6_dns_files)
    for heard in (router_advertisements or {}).get("servers", []):
        ipv6.append({"file": None, "servers": [heard["server"]], "source": "RA RDNSS from router %s on %s" % (
            heard["router"], heard["interface"])})
    sources = {}
    for server in effective:
        sources.setdefault(server, []).append(effective_source)
    for entry in ipv6:
        for server in entry["servers"]:
            sources.setdefault(server, []).append(entry["source"])
    resolvers = [{"server": server, "sources": sources[server]}
                 for server in _unique(list(effective) + [s for e in ipv6 for s in e["servers"]])]
    return {"resolv_conf": configured, "effective": effective, "dhcp_lease": lease["servers"],
            "dhcp_lease_file": lease["file"], "ipv6": ipv6, "resolvers": resolvers,
            "router_advertisements": router_advertisements}


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


def _getaddrinfo_again(domain, family, tries=3, pause=0.5):
    """getaddrinfo, asked again after EAI_AGAIN ("temporary failure"), as applications do: a resolver
    restarting, a resolv.conf being rewritten, a lost answer must not decide the verdict."""
    for attempt in range(tries):
        try:
            return socket.getaddrinfo(domain, None, family, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            if exc.errno != socket.EAI_AGAIN or attempt == tries - 1:
                raise
            time.sleep(pause)
    raise AssertionError("not reached")


def resolve_system(domain):
    """Addresses the operating system's resolver gives (hosts file, then DNS), per family."""
    result = {"A": [], "AAAA": [], "error": None}
    for family, key in ((socket.AF_INET, "A"), (socket.AF_INET6, "AAAA")):
        try:
            infos = _getaddrinfo_again(domain, family)
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


def udp_exchange(address, port, payload, timeout, accept=None):
    """Send one datagram and return the first reply accept() takes, from that address and port only.

    The datagram is sent again after each third of the timeout without a reply (UDP_SENDS in all,
    on the same socket, so a late reply to an earlier send still counts), as resolvers do: one lost
    packet on a busy LAN must not turn into a wrong verdict. Raises socket.timeout after timeout
    seconds, and what connect/recv raise (ConnectionRefusedError for an ICMP port unreachable).
    """
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # Connected: only replies from the address sent to are received, exactly like a real client
        # (a reply from the server's LAN address to a query sent to the public one is dropped).
        sock.connect((address, port))
        deadline = time.monotonic() + timeout
        sends, next_send = 0, 0.0
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise socket.timeout("timed out")
            if sends < UDP_SENDS and now >= next_send:
                sock.send(payload)
                sends += 1
                next_send = now + timeout / UDP_SENDS
            sock.settimeout(max(0.001, (next_send if sends < UDP_SENDS else deadline) - now))
            try:
                data = sock.recv(65535)
            except socket.timeout:
                continue
            if accept is None or accept(data):
                return data
    finally:
        sock.close()


def dns_udp(message, host, port, timeout):
    """A DNS query over UDP (udp_exchange: sent again when unanswered); the reply to this query only."""
    def answers_query(data):
        try:
            return message.is_response(dns.message.from_wire(data))
        except dns.exception.DNSException:
            return False
    return dns.message.from_wire(udp_exchange(host, port, message.to_wire(), timeout, answers_query))


def resolve_via(server, domain, timeout):
    """Ask one DNS server directly (UDP, then TCP if truncated)."""
    if not HAS_DNSPYTHON:
        raise DnspythonMissing()
    host, port = split_host_port(server)
    result = {"A": [], "AAAA": [], "CNAME": [], "error": None}
    for rdtype in ("A", "AAAA"):
        query = dns.message.make_query(domain, rdtype)
        try:
            response = dns_udp(query, host, port, timeout)
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


def query(server, name, rdtype, timeout):
    """Ask one DNS server one question (UDP, then TCP if truncated).

    Returns {rcode, addresses (A/AAAA values of the asked type), records (HTTPS/SVCB:
    priority, target, ipv4hint, ipv6hint, alpn), error}; error is set when there was no answer.
    """
    if not HAS_DNSPYTHON:
        raise DnspythonMissing()
    host, port = split_host_port(server)
    result = {"rcode": None, "addresses": [], "records": [], "error": None}
    started = time.monotonic()
    message = dns.message.make_query(name, rdtype)
    try:
        response = dns_udp(message, host, port, timeout)
        if response.flags & 0x0200:  # TC: the answer did not fit, ask again over TCP in the time left
            response = dns.query.tcp(message, host, port=port,
                                     timeout=max(0.1, timeout - (time.monotonic() - started)))
    except (dns.exception.DNSException, OSError) as exc:
        result["error"] = "%s %s query to %s failed: %s" % (name, rdtype, server, exc or type(exc).__name__)
        return result
    result["rcode"] = dns.rcode.to_text(response.rcode())
    wanted = dns.rdatatype.from_text(rdtype)
    for rrset in response.answer:
        if rrset.rdtype != wanted:
            continue  # the CNAME chain in front of the answer
        for rdata in rrset:
            if rdtype in ("A", "AAAA"):
                result["addresses"] = _unique(result["addresses"] + [rdata.to_text()])
            else:
                result["records"].append(svcb_record(rdata))
    return result


def svcb_record(rdata):
    """An HTTPS/SVCB rdata as plain data: the fields that decide where a client connects."""
    record = {"priority": rdata.priority, "target": rdata.target.to_text(), "ipv4hint": [], "ipv6hint": [],
              "alpn": []}
    for key, value in rdata.params.items():
        key_name = dns.rdtypes.svcbbase.ParamKey.to_text(key).lower()
        if key_name in ("ipv4hint", "ipv6hint"):
            record[key_name] = [str(a) for a in value.addresses]
        elif key_name == "alpn":
            record["alpn"] = [a.decode("ascii", "replace") for a in value.ids]
    return record


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
    started = time.monotonic()
    outcome = {"address": address, "proto": proto, "port": port, "result": "ok", "reply": None, "detail": None}
    try:
        if proto == "udp":
            outcome["reply"] = udp_exchange(address, port, udp_payload.encode(), timeout).decode(
                "utf-8", "replace").strip()
        else:
            outcome["reply"] = tcp_banner(address, port, timeout)
    except (socket.timeout, OSError) as exc:
        outcome["result"] = _error_result(exc)
        outcome["detail"] = str(exc) or type(exc).__name__
    outcome["seconds"] = round(time.monotonic() - started, 3)
    return outcome


def tcp_banner(address, port, timeout):
    """Connect (what counts for TCP); return the service's banner if it sends one in time, else None."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        # A banner is a bonus worth the wait: probes run side by side, so waiting costs one
        # timeout in all, not one each.
        try:
            return sock.recv(512).decode("utf-8", "replace").strip() or None
        except (socket.timeout, OSError):
            return None
    finally:
        sock.close()


class Network:
    """What the checks need from the outside world; tests replace it with a scripted one."""

    def __init__(self, timeout, udp_payload):
        self.timeout = timeout
        self.udp_payload = udp_payload

    def resolve_system(self, domain):
        return resolve_system(domain)

    def resolve_via(self, server, domain):
        return resolve_via(server, domain, self.timeout)

    def query(self, server, name, rdtype, timeout=None):
        return query(server, name, rdtype, self.timeout if timeout is None else timeout)

    def router_advertisements(self, wait):
        return listen_router_advertisements(wait)

    def probe(self, address, proto, port):
        return probe(address, proto, port, self.timeout, self.udp_payload)


def ask_resolvers(network, servers, questions, timeout, extra_jobs=()):
    """Every (server, name, type) question side by side; the whole batch takes one timeout at most.

    Returns {(server, name, type): query result}; a question without an answer in time gets an error.
    """
    jobs = [(server, name, rdtype) for server in servers for name, rdtype in questions]
    jobs += [job for job in extra_jobs if job not in jobs]
    if not jobs:
        return {}
    answers = {}
    pool = ThreadPoolExecutor(max_workers=min(64, len(jobs)))
    try:
        futures = dict((pool.submit(network.query, server, name, rdtype, timeout), (server, name, rdtype))
                       for server, name, rdtype in jobs)
        done, _pending = wait(futures, timeout=timeout + 0.5)
        for future, job in futures.items():
            if future in done and future.exception() is None:
                answers[job] = future.result()
            elif future in done and isinstance(future.exception(), DnspythonMissing):
                raise DnspythonMissing()
            else:
                answers[job] = {"rcode": None, "addresses": [], "records": [],
                                "error": "%s %s query to %s: %s" % (job[1], job[2], job[0], future.exception()
                                                                    if future in done else "no answer in time")}
    finally:
        pool.shutdown(wait=False)
    return answers


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


def _host(server):
    return split_host_port(server)[0]


def _describe(server, view):
    return "%s (%s)" % (server, ", ".join(view.get("sources") or ["the client's resolver"]))


def resolver_views(domain, resolvers, answers):
    """What each resolver of the client answered for the name: A, AAAA, HTTPS, the A rcode."""
    views = {}
    for entry in resolvers:
        server = entry["server"]
        a, aaaa, https = (answers.get((server, domain, t)) for t in ("A", "AAAA", "HTTPS"))
        if a is None:
            continue
        views[server] = {"sources": entry["sources"], "A": a["addresses"], "AAAA": (aaaa or {}).get("addresses", []),
                         "HTTPS": (https or {}).get("records", []), "rcode": a["rcode"],
                         "error": a["error"] or (aaaa or {}).get("error")}
    return views


def check_service(service, network, dns_info, dns_servers, lan_networks, targets, hosts_file, answers=None):
    """Resolve and probe one service from this client, and say what is wrong if anything is.

    answers: what the client's resolvers answered ({(server, name, type): result}), or a callable
    giving (dns_info, answers) once they are in: it is called after the probes, which run meanwhile.
    """
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

    if callable(answers):
        dns_info, answers = answers()
    result = {
        "name": service.get("name", domain), "domain": domain, "resolved": {"system": system, "servers": via},
        "client_resolvers": resolver_views(domain, dns_info.get("resolvers", []), answers or {}),
        "public_resolvers": via_public, "hosts_file": hosts_file_addresses(hosts_file, domain),
        "probes": probes, "reachable_by_name": all_ok("name"),
    }
    result["problems"] = find_problems(
        service, result, lan_ips, probes_ok=dict((t, all_ok(t)) for t in targets), lan_networks=lan_networks,
        dns_servers=dns_servers)
    result["verdict"], result["reason"] = (result["problems"][0]["verdict"], result["problems"][0]["reason"]) \
        if result["problems"] else ("ok", "%s reaches the service" % domain)
    return result


def classify(service, result, lan_ips, probes_ok, lan_networks, dns_servers=()):
    """The one verdict that tells a person which fix this client needs first, and why."""
    problems = find_problems(service, result, lan_ips, probes_ok, lan_networks, dns_servers)
    if problems:
        return problems[0]["verdict"], problems[0]["reason"]
    return "ok", "%s reaches the service" % result["domain"]


ROUTER_IPV6_FIX = ("have the router advertise the split-DNS servers over IPv6 (natloop.lan.router_dhcp_dns with "
                   "router_dhcp_dns_ipv6: true and router_dhcp_dns_servers_ipv6: [their IPv6 addresses]), or no IPv6 "
                   "resolver at all (router_dhcp_dns_servers_ipv6: [])")
LOCAL_NAMES_FIX = ("make the published names local on the split-DNS server (pihole_local_names / "
                   "adguard_home_local_names: true), so it answers no AAAA or HTTPS record from upstream for them")
USE_SPLIT_FIX = ("have clients use only the split-DNS servers (router_dhcp_dns_servers and, for IPv6, "
                 "router_dhcp_dns_servers_ipv6; no public or static secondary resolver)")
CANARY_FIX = "pihole_answer_canaries / adguard_home_answer_canaries: true"
REBIND_FIX = ("add per-name rebind exceptions on the forwarder (router_dhcp_dns_rebind_exceptions: true: dnsmasq "
              "rebind-domain-ok, OpenWrt rebind_domain), or hand out the split-DNS server itself")


def _rebind_blocked(domain, views, split_hosts, split_lan, lan_ips):
    blocked = [(s, v) for s, v in views.items() if _host(s) not in split_hosts and v["error"] is None
               and not set(v["A"] + v["AAAA"])]
    if not blocked or not split_lan:
        return None
    return "%s %s no address for %s (%s) while the split-DNS server(s) %s answer %s: a forwarder drops " \
        "private answers (DNS rebind protection: dnsmasq stop-dns-rebind, OpenWrt rebind_protection) or does not " \
        "forward the name; fix: %s" % (
            ", ".join(_describe(s, v) for s, v in blocked), "gives" if len(blocked) == 1 else "give", domain,
            ", ".join(sorted(set(v["rcode"] + (" (empty)" if v["rcode"] == "NOERROR" else "") for _s, v in blocked))),
            ", ".join(split_lan), ", ".join(lan_ips), REBIND_FIX)


def find_problems(service, result, lan_ips, probes_ok, lan_networks, dns_servers=()):
    """Every failure verdict that applies, most useful first: [{verdict, reason}] (empty: ok).

    Order (the first is the verdict): what breaks everything first, then what explains today's
    result, then what breaks it for other programs or at random:
    1. service_down (the LAN address does not answer), stale_hosts_entry (the hosts file wins over DNS);
    2. no address at all: rebind_blocked (a resolver of the client answers nothing while a split-DNS
       server answers the LAN address), else dns_not_split;
    3. ipv6_dns_bypass: an IPv6 resolver of the client that is not a split-DNS server answers a
       foreign address (its own configuration, so it goes before what the name resolves to);
    4. the name works: ipv6_bypass (a public AAAA reached the client), https_record_bypass,
       public_secondary_dns, rebind_blocked on a secondary resolver;
       the name fails: dns_not_split / hairpin_missing / service_down by name, then
       https_record_bypass and rebind_blocked on another resolver.
    """
    domain = result["domain"]
    system = result["resolved"]["system"]
    public_ip = service.get("public_ip")
    resolved = system["A"] + system["AAAA"]
    stale = [a for a in result["hosts_file"] if a not in lan_ips and a != public_ip]
    views = result.get("client_resolvers") or {}
    split_hosts = set(_host(s) for s in dns_servers)
    split_lan = [s for s, r in result["resolved"]["servers"].items() if set(r["A"] + r["AAAA"]) & set(lan_ips)]
    hairpin_works = probes_ok.get("public", False)
    works = probes_ok.get("name", False)
    problems = []

    def add(verdict, reason):
        problems.append({"verdict": verdict, "reason": reason})

    def foreign(addresses):
        # As for ipv6_bypass: when the public address works from the LAN (hairpin NAT), the router takes
        # LAN clients to the service by its public addresses, and those answers are no bypass.
        return [] if hairpin_works else [a for a in addresses if a not in lan_ips]

    if "lan" in probes_ok and not probes_ok["lan"]:
        add("service_down", "the service does not answer on its LAN address %s" % service.get("lan_ipv4"))
    if stale:
        add("stale_hosts_entry", "the hosts file pins %s to %s, which is not the service's address" % (
            domain, ", ".join(stale)))
    rebind = _rebind_blocked(domain, views, split_hosts, split_lan, lan_ips)
    if not resolved:
        if rebind:
            add("rebind_blocked", rebind)
        else:
            add("dns_not_split", "%s does not resolve on this client (%s)" % (domain, system.get("error")))

    prefix = "works now, but " if works else ""
    # A resolver that answers the LAN address is a split-DNS server (perhaps asked by its IPv6 address):
    # a public AAAA from it is ipv6_bypass (the server passes upstream answers on), not this.
    v6_leaks = [(s, v, foreign(v["A"] + v["AAAA"])) for s, v in views.items()
                if _is_ipv6(_host(s)) and _host(s) not in split_hosts and not set(v["A"] + v["AAAA"]) & set(lan_ips)]
    v6_leaks = [(s, v, bad) for s, v, bad in v6_leaks if bad]
    if v6_leaks:
        add("ipv6_dns_bypass", "%sthe client's IPv6 resolver %s answers %s for %s, not the LAN address: dual-stack "
            "clients (Windows, Android, macOS, systemd-resolved) ask it, often first; fix: %s" % (
                prefix, "; ".join(_describe(s, v) for s, v, _bad in v6_leaks),
                ", ".join(_unique(a for _s, _v, bad in v6_leaks for a in bad)), domain, ROUTER_IPV6_FIX))
    https_leaks = []
    for server, view in views.items():
        for record in view["HTTPS"]:
            bad = foreign(record["ipv4hint"] + record["ipv6hint"])
            target = record["target"]
            if target not in (".", domain.rstrip(".") + "."):
                bad.append("target %s" % target)
            if bad:
                https_leaks.append((server, "%s: %s" % (_describe(server, view), ", ".join(bad))))
    https_fix = [LOCAL_NAMES_FIX] if [s for s, _t in https_leaks if _host(s) in split_hosts] else []
    if [s for s, _t in https_leaks if _host(s) not in split_hosts]:
        https_fix.append(USE_SPLIT_FIX)
    https_reason = ("%sthe client's resolver answers an HTTPS record for %s that points elsewhere than the LAN "
                    "address (%s): browsers connect to its hints and go around split DNS; fix: %s" % (
                        prefix, domain, "; ".join(t for _s, t in https_leaks), "; and ".join(https_fix)))
    if not resolved:
        if https_leaks:
            add("https_record_bypass", https_reason)
        return problems
    foreign_v6 = [a for a in system["AAAA"] if a not in lan_ips]
    if works and foreign_v6 and not hairpin_works:
        add("ipv6_bypass", "%s has AAAA %s that is not on the LAN: IPv6 clients go around split DNS; fix: %s" % (
            domain, ", ".join(foreign_v6), LOCAL_NAMES_FIX))
    if https_leaks:
        add("https_record_bypass", https_reason)

    leaky = [s for s, r in result["public_resolvers"].items() if public_ip and public_ip in r["A"] + r["AAAA"]]
    if works:
        if leaky and not hairpin_works:
            add("public_secondary_dns", (
                "works now, but this client also uses %s, which answers the public address %s; "
                "whenever it asks that server the connection fails (no hairpin NAT)" % (", ".join(leaky), public_ip)))
        if rebind:
            add("rebind_blocked", "works now, but " + rebind)
        return problems

    if set(resolved) & set(lan_ips):
        add("service_down", "%s resolves to the LAN address but the service does not answer by name" % domain)
    elif split_lan:
        add("dns_not_split", (
            "%s resolves to %s here, but the split-DNS server(s) %s answer the LAN address: this client "
            "does not use them (DHCP DNS option, static resolver or a public secondary)" % (
                domain, ", ".join(resolved), ", ".join(split_lan))))
    elif public_ip and public_ip in resolved:
        add("hairpin_missing", (
            "%s resolves to the public address %s and the router does not loop LAN traffic back to "
            "the server (fix: split DNS, hairpin NAT or a hosts entry)" % (domain, public_ip)))
    else:
        add("dns_not_split", "%s resolves to %s, neither the LAN nor the public address" % (domain, ", ".join(resolved)))
    if rebind:
        add("rebind_blocked", rebind)
    # The failure that explains today's result comes first; the leaks follow it, in the order above.
    order = {"service_down": 0, "stale_hosts_entry": 1, "ipv6_dns_bypass": 2, "https_record_bypass": 4,
             "rebind_blocked": 4}
    problems.sort(key=lambda p: order.get(p["verdict"], 3))
    return problems


def client_findings(resolvers, answers, lan_networks, dns_servers=()):
    """Warnings per resolver of the client: the DoH, Private Relay and DDR canaries."""
    findings = []
    split_hosts = set(_host(s) for s in dns_servers)

    def add(code, server, reason):
        fix = CANARY_FIX if _host(server) in split_hosts or not split_hosts else "%s; and %s" % (CANARY_FIX, USE_SPLIT_FIX)
        findings.append({"code": code, "severity": "warning", "server": server, "reason": "%s; fix: %s" % (reason, fix)})

    for entry in resolvers:
        server = entry["server"]
        where = _describe(server, entry)
        doh = answers.get((server, "use-application-dns.net", "A")) or {}
        if doh.get("addresses"):
            add("doh_canary_missing", server, (
                "%s answers use-application-dns.net with %s: Firefox keeps DNS over HTTPS on and resolves the "
                "published names at its DoH provider, around split DNS. The resolver must answer NXDOMAIN or "
                "no address (never 0.0.0.0)" % (where, ", ".join(doh["addresses"]))))
        relay = [(name, (answers.get((server, name, "A")) or {}).get("addresses"))
                 for name in ("mask.icloud.com", "mask-h2.icloud.com")]
        relay = [(name, addresses) for name, addresses in relay if addresses]
        if relay:
            add("private_relay_canary_missing", server, (
                "%s answers %s: Apple devices with iCloud Private Relay send Safari's lookups through the relay, "
                "around split DNS. The resolver must answer NXDOMAIN or no address" % (
                    where, ", ".join("%s with %s" % (name, ", ".join(a)) for name, a in relay))))
        ddr = answers.get((server, "_dns.resolver.arpa", "SVCB")) or {}
        asked = _host(server).split("%", 1)[0]
        elsewhere = []
        for record in ddr.get("records", []):
            hints = record["ipv4hint"] + record["ipv6hint"]
            if asked in hints:
                continue
            if not hints or [h for h in hints if not in_networks(h, lan_networks)]:
                elsewhere.append("%s %s" % (record["target"], ", ".join(hints) or "(no address hints)"))
        if elsewhere:
            add("ddr_redirect", server, (
                "%s answers _dns.resolver.arpa (DDR) with the encrypted resolver %s, not itself: Windows 11 and "
                "Apple systems may move to it and leave split DNS" % (
                    where, "; ".join(elsewhere))))
    return findings


def run_checks(params, network=None):
    lan_networks = [ipaddress.ip_network(n, strict=False) for n in params["lan_networks"]]
    network = network or Network(params["timeout"], params["udp_payload"])
    ra_wait = params.get("ra_wait") or 0.0
    dns_servers = params["dns_servers"] or []
    ipv6_files = params.get("ipv6_dns_files", DEFAULT_IPV6_DNS_FILES)
    base = client_dns(params["resolv_conf"], params["lease_files"], ipv6_files)
    # Every resolver of the client gets every question at once: A, AAAA and HTTPS per service, and
    # the canaries; the site's split-DNS servers get the canaries too, also those this client does
    # not use (yet): they are where its clients should end up. The batch costs one timeout at most,
    # and runs while the services are probed, as does listening for Router Advertisements.
    questions = [(service["domain"], rdtype) for service in params["services"] for rdtype in ("A", "AAAA", "HTTPS")]
    questions += list(CANARIES)
    # Without dnspython (and the real network) these checks are left out, with a warning, as before them.
    asked = HAS_DNSPYTHON or not isinstance(network, Network)

    def canary_resolvers(info):
        known = [r["server"] for r in info["resolvers"]]
        return info["resolvers"] + [{"server": server, "sources": ["split-DNS server of the site (dns_servers)"]}
                                    for server in dns_servers if server not in known] if asked else []

    def canary_jobs(resolvers):
        return [(r["server"], name, rdtype) for r in resolvers for name, rdtype in CANARIES]

    base_servers = [r["server"] for r in base["resolvers"]] if asked else []
    state = {}
    background = ThreadPoolExecutor(max_workers=2)
    try:
        heard = background.submit(network.router_advertisements, ra_wait) if ra_wait > 0 and asked else None
        first = background.submit(ask_resolvers, network, base_servers, questions, params["timeout"],
                                  canary_jobs(canary_resolvers(base)))

        def complete():
            if not state:
                info = base
                answers = dict(first.result())
                ra = heard.result() if heard else None
                if ra is not None:
                    info = client_dns(params["resolv_conf"], params["lease_files"], ipv6_files, ra)
                    new = [r["server"] for r in info["resolvers"] if r["server"] not in base_servers]
                    answers.update(ask_resolvers(network, new, questions, params["timeout"]))
                state.update(info=info, answers=answers)
            return state["info"], state["answers"]

        services = [check_service(service, network, base, dns_servers, lan_networks, params["probe_targets"],
                                  params["hosts_file"], complete)
                    for service in params["services"]]
        dns_info, answers = complete()
    finally:
        background.shutdown(wait=False)
    summary = dict((verdict, 0) for verdict in VERDICTS)
    for service in services:
        summary[service["verdict"]] += 1
    resolvers = canary_resolvers(dns_info)
    canaries = dict((r["server"], dict(("%s %s" % (name, rdtype), answers[(r["server"], name, rdtype)])
                                       for name, rdtype in CANARIES)) for r in resolvers)
    return {"client_dns": dns_info, "services": services, "summary": summary,
            "all_ok": all(s["verdict"] == "ok" for s in services),
            "client_findings": client_findings(resolvers, answers, lan_networks, dns_servers),
            "canaries": canaries, "resolvers_asked": asked}
