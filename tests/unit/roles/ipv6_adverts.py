# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a LAN client hears about IPv6 DNS: RA RDNSS and DHCPv6 option 23, on the wire.

A small stand-in for rdisc6 / a DHCPv6 client, run inside a client network namespace
(`ip netns exec NS python ipv6_adverts.py IFACE`). It sends one Router Solicitation and reads
Router Advertisements with a raw ICMPv6 socket (RFC 4861; RDNSS is option 25, RFC 8106), and sends
one DHCPv6 Information-Request (RFC 8415 18.2.6) to ff02::1:2 asking for option 23 (DNS servers,
RFC 3646). Prints JSON: {"ra": [[rdnss...] per RA] or [], "dhcpv6": [addresses] or null (no reply)}.

Also a network namespace pair (router, client) joined by a veth, for the tests.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import os
import socket
import struct
import subprocess
import sys
import time

ICMPV6_RS = 133
ICMPV6_RA = 134
ND_OPT_RDNSS = 25
DHCPV6_INFORMATION_REQUEST = 11
DHCPV6_REPLY = 7
DHCPV6_OPT_CLIENTID = 1
DHCPV6_OPT_ORO = 6
DHCPV6_OPT_ELAPSED = 8
DHCPV6_OPT_DNS_SERVERS = 23


def _rdnss(options):
    found = []
    while len(options) >= 8:
        kind, length = options[0], options[1] * 8
        if length == 0:
            break
        if kind == ND_OPT_RDNSS:
            for start in range(8, length, 16):
                found.append(str(ipaddress.IPv6Address(options[start:start + 16])))
        options = options[length:]
    return found


def read_ras(iface, seconds, first_only=True):
    """Send a Router Solicitation on iface and collect the RDNSS addresses of the RAs heard (the
    first one only, by default; a router answers a solicitation at once)."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    index = socket.if_nametoindex(iface)
    sock.sendto(struct.pack('!BBHI', ICMPV6_RS, 0, 0, 0), ('ff02::2', 0, 0, index))
    ras = []
    deadline = time.time() + seconds
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, _peer = sock.recvfrom(65535)
        except socket.timeout:
            break
        if data and data[0] == ICMPV6_RA:
            ras.append(_rdnss(data[16:]))  # type, code, checksum, hop limit, flags, lifetime, 2 timers
            if first_only:
                break
    sock.close()
    return ras


def dhcpv6_dns(iface, seconds):
    """DNS servers (option 23) in the reply to one Information-Request; None without a reply."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('::', 546))
    index = socket.if_nametoindex(iface)
    xid = os.urandom(3)
    duid = struct.pack('!HH', 3, 1) + os.urandom(6)  # DUID-LL, Ethernet
    message = bytes([DHCPV6_INFORMATION_REQUEST]) + xid
    message += struct.pack('!HH', DHCPV6_OPT_CLIENTID, len(duid)) + duid
    message += struct.pack('!HHH', DHCPV6_OPT_ORO, 2, DHCPV6_OPT_DNS_SERVERS)
    message += struct.pack('!HHH', DHCPV6_OPT_ELAPSED, 2, 0)
    sock.sendto(message, ('ff02::1:2', 547, 0, index))
    deadline = time.time() + seconds
    try:
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            sock.settimeout(left)
            try:
                data, _peer = sock.recvfrom(65535)
            except socket.timeout:
                return None
            if len(data) < 4 or data[0] != DHCPV6_REPLY or data[1:4] != xid:
                continue
            servers = []
            options = data[4:]
            while len(options) >= 4:
                code, length = struct.unpack('!HH', options[:4])
                if code == DHCPV6_OPT_DNS_SERVERS:
                    for start in range(4, 4 + length, 16):
                        servers.append(str(ipaddress.IPv6Address(options[start:start + 16])))
                options = options[4 + length:]
            return servers
    finally:
        sock.close()


class NetnsPair(object):
    """Two network namespaces, router and client, joined by a veth (DAD off: usable at once)."""

    def __init__(self, tag, router_address):
        self.router = 'natloop-r-%s' % tag
        self.client = 'natloop-c-%s' % tag
        self.router_if = 'nlr%s' % tag
        self.client_if = 'nlc%s' % tag
        self.router_address = router_address
        for name in (self.router, self.client):
            subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)
            subprocess.run(['ip', 'netns', 'add', name], check=True)
        subprocess.run(['ip', 'link', 'add', self.router_if, 'netns', self.router, 'type', 'veth',
                        'peer', 'name', self.client_if, 'netns', self.client], check=True)
        for netns, iface in ((self.router, self.router_if), (self.client, self.client_if)):
            self.run(netns, 'sysctl', '-qw', 'net.ipv6.conf.%s.accept_dad=0' % iface)
            self.run(netns, 'sysctl', '-qw', 'net.ipv6.conf.%s.accept_ra=0' % iface)
            self.run(netns, 'ip', 'link', 'set', 'lo', 'up')
            self.run(netns, 'ip', 'link', 'set', iface, 'up')
        self.run(self.router, 'ip', '-6', 'addr', 'add', router_address + '/64', 'dev', self.router_if, 'nodad')
        self.run(self.router, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1')
        self.wait_link_local()

    def run(self, netns, *argv, **kwargs):
        return subprocess.run(['ip', 'netns', 'exec', netns] + list(argv), check=kwargs.pop('check', True),
                              capture_output=True, text=True, **kwargs)

    def wait_link_local(self):
        for _attempt in range(50):
            shown = [self.run(ns, 'ip', '-6', 'addr', 'show', 'dev', iface).stdout
                     for ns, iface in ((self.router, self.router_if), (self.client, self.client_if))]
            ready = all('scope link' in text and 'tentative' not in text for text in shown)
            if ready:
                return
            time.sleep(0.1)
        raise AssertionError('no link-local address on the veth pair')

    def listen(self, seconds=3.0):
        """What the client hears: {'ra': [[rdnss...] per RA], 'dhcpv6': [servers] or None}."""
        proc = self.run(self.client, sys.executable, os.path.abspath(__file__), self.client_if, str(seconds))
        return json.loads(proc.stdout)

    def close(self):
        for name in (self.router, self.client):
            subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)


def main():
    iface, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    result = {'dhcpv6': dhcpv6_dns(iface, seconds / 2)}
    result['ra'] = read_ras(iface, seconds / 2)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
