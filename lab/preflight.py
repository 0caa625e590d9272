# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Refuse to start the lab if one of its subnets overlaps anything this machine depends on.

Checked, for IPv4 and IPv6: the host's own addresses and routes (its default gateways too), its DNS
resolvers, the addresses of the package registries it uses (Debian mirror, PyPI), and docker
networks that are not the lab's own. A lab bridge on one of those ranges would hijack the host's
route to them. The lab's IPv6 subnets must also lie in the documentation prefix 2001:db8::/32.
"""

import argparse
import ipaddress
import json
import re
import socket
import subprocess
import sys
from urllib.parse import urlparse


def host_networks(own_bridges):
    found = []
    commands = [(["ip", "-j", family, kind], what) for family in ("-4", "-6")
                for kind, what in (("addr", "address"), ("route", "route"))]
    for cmd, what in commands:
        for entry in json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout or "[]"):
            if (entry.get("ifname") or entry.get("dev")) in own_bridges:
                continue  # the lab's own bridge, from an earlier bring-up
            if what == "address":
                for addr in entry.get("addr_info", []):
                    if addr.get("local") and not _link_local_or_loopback(addr["local"]):
                        found.append(("host address on %s" % entry["ifname"], "%s/%s" % (addr["local"], addr["prefixlen"])))
            elif entry.get("dst") not in (None, "default"):
                if _link_local_or_loopback(entry["dst"].split("/")[0]):
                    continue  # per link, never routed: the lab's own links have them too
                found.append(("host route via %s" % entry.get("dev"), entry["dst"]))
            elif entry.get("gateway"):
                found.append(("default gateway", entry["gateway"]))
    return found


def _link_local_or_loopback(address):
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_link_local or ip.is_multicast


def resolvers(path="/etc/resolv.conf"):
    try:
        with open(path) as handle:
            return [("resolver in %s" % path, line.split()[1]) for line in handle
                    if line.startswith("nameserver") and len(line.split()) > 1]
    except OSError:
        return []


def registry_hosts():
    hosts = {"pypi.org", "files.pythonhosted.org", "deb.debian.org"}
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list", "/etc/pip.conf"):
        try:
            with open(path) as handle:
                hosts.update(urlparse(u).hostname for u in re.findall(r"https?://[^\s\"']+", handle.read()))
        except OSError:
            pass
    found = []
    for name in sorted(h for h in hosts if h):
        try:
            for info in socket.getaddrinfo(name, 443, 0, socket.SOCK_STREAM):
                found.append(("registry %s" % name, info[4][0]))
        except OSError:
            pass  # a name the host cannot resolve cannot be hijacked either
    return found


def docker_networks(own):
    try:
        names = subprocess.run(["docker", "network", "ls", "--format", "{{.Name}}"], check=True,
                               capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return []
    found = []
    for name in names:
        if name in own:
            continue
        info = json.loads(subprocess.run(["docker", "network", "inspect", name], check=True,
                                         capture_output=True, text=True).stdout)[0]
        for cfg in (info.get("IPAM") or {}).get("Config") or []:
            if cfg.get("Subnet"):
                found.append(("docker network %s" % name, cfg["Subnet"]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subnet", action="append", required=True, help="lab subnet (repeat)")
    parser.add_argument("--own-network", action="append", default=[], help="lab docker network name (repeat)")
    parser.add_argument("--own-bridge", action="append", default=[], help="lab bridge device name (repeat)")
    args = parser.parse_args()

    lab = [ipaddress.ip_network(s) for s in args.subnet]
    things = host_networks(set(args.own_bridge)) + resolvers() + registry_hosts() + docker_networks(set(args.own_network))
    clashes = []
    for what, value in things:
        net = ipaddress.ip_network(value.split("%")[0], strict=False)
        clashes += ["lab subnet %s overlaps %s (%s)" % (s, what, value) for s in lab if s.overlaps(net)]
    documentation = ipaddress.ip_network("2001:db8::/32")
    clashes += ["lab subnet %s is not inside the IPv6 documentation prefix %s" % (s, documentation)
                for s in lab if s.version == 6 and not s.subnet_of(documentation)]
    if clashes:
        print("Refusing to start the lab:\n  " + "\n  ".join(clashes), file=sys.stderr)
        return 1
    print("preflight ok: %d host networks, resolvers and registry addresses checked against %s"
          % (len(things), ", ".join(map(str, lab))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
