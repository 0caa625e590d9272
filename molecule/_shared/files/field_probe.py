# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a dual-stack LAN client of the field lab sees, measured on the client (issue 13).

Independent of the collection's service_check: it reads the RA with rdisc6, the client's
resolv.conf, asks each resolver directly (dnspython), resolves the name with the system resolver
(getaddrinfo, the order applications use) and connects by name the way applications do: to the
first address getaddrinfo returns, TCP and UDP. For each resolver it also connects to the first
address an application would take from that resolver's answers alone (AAAA before A: the order
getaddrinfo gives here for a public or LAN 2001:db8:: address next to an IPv4 one, RFC 6724; the
first probe of this script measures that). Prints one JSON object.

Usage: field_probe.py NAME TCP_PORT UDP_PORT RESOLVER... (resolvers asked besides resolv.conf's)
"""

import json
import re
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

CANARIES = [("use-application-dns.net", "A"), ("mask.icloud.com", "A"), ("mask-h2.icloud.com", "A"),
            ("_dns.resolver.arpa", "SVCB")]


def ra_rdnss():
    """The RDNSS servers of the router's RA (a router solicitation, the answer read by rdisc6)."""
    try:
        out = subprocess.run(["rdisc6", "-1", "-w", "1500", "-r", "3", "eth0"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {"answered": False, "rdnss": []}
    return {"answered": "from fe80" in out, "rdnss": re.findall(r"Recursive DNS server\s*:\s*(\S+)", out)}


def nameservers():
    with open("/etc/resolv.conf") as handle:
        return [line.split()[1] for line in handle if line.startswith("nameserver") and len(line.split()) > 1]


def ask(server, name, rdtype):
    query = dns.message.make_query(name, rdtype)
    error = None
    for _attempt in range(3):
        try:
            response = dns.query.udp(query, server, timeout=2)
            break
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            error = "%s: %s" % (type(exc).__name__, exc)
    else:
        return {"rcode": None, "answers": [], "error": error}
    wanted = dns.rdatatype.from_text(rdtype)
    return {"rcode": dns.rcode.to_text(response.rcode()), "error": None,
            "answers": [rdata.to_text() for rrset in response.answer if rrset.rdtype == wanted for rdata in rrset]}


def connect(address, proto, port):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    try:
        sock.connect((address, port))
        if proto == "udp":
            # Three sends, 1 s apart, on the same socket (a late reply to the first still counts):
            # one lost datagram is not a failure, as for any client that resends.
            sock.settimeout(1)
            for attempt in range(3):
                sock.send(b"natloop field probe\n")
                try:
                    reply = sock.recv(512).decode("utf-8", "replace").strip()
                    break
                except socket.timeout:
                    if attempt == 2:
                        raise
        else:
            sock.settimeout(3)
            reply = sock.recv(512).decode("utf-8", "replace").strip()
        return {"address": address, "proto": proto, "port": port, "result": "ok", "reply": reply}
    except socket.timeout:
        return {"address": address, "proto": proto, "port": port, "result": "timeout"}
    except ConnectionRefusedError:
        return {"address": address, "proto": proto, "port": port, "result": "refused"}
    except OSError as exc:
        return {"address": address, "proto": proto, "port": port, "result": "error: %s" % exc}
    finally:
        sock.close()


def main():
    name, tcp_port, udp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    configured = nameservers()
    servers = list(dict.fromkeys(configured + sys.argv[4:]))
    questions = [(name, t) for t in ("A", "AAAA", "HTTPS")] + CANARIES
    jobs = [(server, qname, rdtype) for server in servers for qname, rdtype in questions]
    with ThreadPoolExecutor(max_workers=len(jobs) + 1) as pool:
        ra = pool.submit(ra_rdnss)
        answers = list(pool.map(lambda job: ask(*job), jobs))
        ra = ra.result()
    resolvers = dict((server, {}) for server in servers)
    for (server, qname, rdtype), answer in zip(jobs, answers):
        resolvers[server]["%s %s" % (qname, rdtype)] = answer
    try:
        order = list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(name, tcp_port, 0, socket.SOCK_STREAM)))
        error = None
    except socket.gaierror as exc:
        order, error = [], str(exc)
    # Connections that fail wait for a timeout each: all side by side.
    firsts = dict((server, (view["%s AAAA" % name]["answers"] + view["%s A" % name]["answers"] + [None])[0])
                  for server, view in resolvers.items())
    firsts[None] = order[0] if order else None
    with ThreadPoolExecutor(max_workers=2 * len(firsts)) as pool:
        tried = dict((server, [pool.submit(connect, first, "tcp", tcp_port), pool.submit(connect, first, "udp", udp_port)]
                      if first else None) for server, first in firsts.items())
        tried = dict((server, [f.result() for f in futures] if futures else
                      [{"address": None, "proto": proto, "result": "no address"} for proto in ("tcp", "udp")])
                     for server, futures in tried.items())
    by_name = tried.pop(None)
    by_name_via = tried
    print(json.dumps({"ra": ra, "resolv_conf": configured, "resolvers": resolvers, "getaddrinfo": order,
                      "getaddrinfo_error": error, "by_name": by_name, "by_name_via": by_name_via}, indent=1))


if __name__ == "__main__":
    main()
