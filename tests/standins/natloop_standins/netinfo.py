# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Local interfaces and subnets (stand-in for tests, NOT the real AdGuard Home / Pi-hole).

Linux only (ioctl + /proc), which is where the stand-ins run."""

import fcntl
import ipaddress
import socket
import struct

_SIOCGIFADDR = 0x8915
_SIOCGIFNETMASK = 0x891B


def _read_sys(name, item, default=""):
    try:
        with open("/sys/class/net/%s/%s" % (name, item), encoding="ascii") as stream:
            return stream.read().strip()
    except OSError:
        return default


def _ioctl_ipv4(name, request):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = fcntl.ioctl(sock.fileno(), request, struct.pack("256s", name[:15].encode()))
        return socket.inet_ntoa(packed[20:24])
    except OSError:
        return None
    finally:
        sock.close()


def _ipv6_networks():
    found = {}
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as stream:
            for line in stream:
                fields = line.split()
                if len(fields) == 6:
                    address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
                    found.setdefault(fields[5], []).append(ipaddress.IPv6Interface("%s/%d" % (address, int(fields[2], 16))))
    except OSError:
        pass
    return found


def interface_networks():
    """``{name: [IPv4Interface | IPv6Interface, ...]}`` for every interface with an address."""
    ipv6 = _ipv6_networks()
    result = {}
    for _index, name in socket.if_nameindex():
        networks = []
        address = _ioctl_ipv4(name, _SIOCGIFADDR)
        if address:
            netmask = _ioctl_ipv4(name, _SIOCGIFNETMASK) or "255.255.255.255"
            networks.append(ipaddress.IPv4Interface("%s/%s" % (address, netmask)))
        networks.extend(ipv6.get(name, []))
        if networks:
            result[name] = networks
    return result


def interfaces_for_web():
    """The ``interfaces`` object of AdGuard's /control/install/get_addresses."""
    result = {}
    for name, networks in interface_networks().items():
        flags = "up" if _read_sys(name, "operstate") in ("up", "unknown") else "down"
        result[name] = {"hardware_address": _read_sys(name, "address"), "flags": flags,
                        "ip_addresses": [str(net.ip) for net in networks], "name": name,
                        "mtu": int(_read_sys(name, "mtu", "0") or 0)}
    return result


def is_local_client(ip):
    """True if ``ip`` is loopback or inside a directly connected subnet (dnsmasq local-service)."""
    address = ipaddress.ip_address(ip)
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    if address.is_loopback:
        return True
    return any(address in net.network for networks in interface_networks().values() for net in networks
               if net.version == address.version)


def primary_address():
    """First non-loopback IPv4 address of this host (Pi-hole answers pi.hole with it)."""
    for networks in interface_networks().values():
        for net in networks:
            if net.version == 4 and not net.ip.is_loopback:
                return str(net.ip)
    return "127.0.0.1"
