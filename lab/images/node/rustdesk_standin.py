# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab stand-in for a RustDesk server's ports (hbbs/hbbr): NOT RustDesk.

Listens on TCP 21115-21119 and UDP 21116, IPv4 and IPv6 (one dual-stack socket per port where the
host has IPv6, as in the field lab; IPv4 only otherwise). Every TCP connection and every UDP
datagram gets one line back naming this service, the port and the peer address the server saw, so
a probe can tell that it reached the real server and whether the router masqueraded it (peer =
router address; an IPv4 peer is written as IPv4, never as ::ffff:a.b.c.d).
"""

import argparse
import socket
import socketserver
import threading

BANNER = "NATLOOP-RUSTDESK-STANDIN"


def reply(proto, port, peer):
    address = peer[0][len("::ffff:"):] if peer[0].startswith("::ffff:") and "." in peer[0] else peer[0]
    return ("%s %s/%d peer=%s\n" % (BANNER, proto, port, address)).encode()


class TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(reply("tcp", self.server.server_address[1], self.client_address))


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request[1]
        sock.sendto(reply("udp", self.server.server_address[1], self.client_address), self.client_address)


class ReusableTCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class DualStack:
    """On "::", also accept IPv4 (IPV6_V6ONLY off)."""
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class DualStackTCPServer(DualStack, ReusableTCPServer):
    pass


class DualStackUDPServer(DualStack, socketserver.ThreadingUDPServer):
    pass


def dual_stack():
    """True where IPv6 works here (the field lab turns it on in the containers)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            probe.bind(("::", 0))
        with open("/proc/sys/net/ipv6/conf/all/disable_ipv6") as handle:
            return handle.read().strip() == "0"
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", default=None, help="default: :: (dual stack) where IPv6 works, else 0.0.0.0")
    parser.add_argument("--tcp-ports", default="21115-21119")
    parser.add_argument("--udp-ports", default="21116")
    args = parser.parse_args()

    def ports(spec):
        bounds = spec.split("-")
        return range(int(bounds[0]), int(bounds[-1]) + 1)

    six = args.bind == "::" or (args.bind is None and dual_stack())
    bind = "::" if six else (args.bind or "0.0.0.0")
    tcp, udp = (DualStackTCPServer, DualStackUDPServer) if six else (ReusableTCPServer, socketserver.ThreadingUDPServer)
    servers = [tcp((bind, p), TCPHandler) for p in ports(args.tcp_ports)]
    servers += [udp((bind, p), UDPHandler) for p in ports(args.udp_ports)]
    for server in servers[:-1]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[-1].serve_forever()


if __name__ == "__main__":
    main()
