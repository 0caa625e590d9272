# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab stand-in for a RustDesk server's ports (hbbs/hbbr): NOT RustDesk.

Listens on TCP 21115-21119 and UDP 21116. Every TCP connection and every UDP datagram gets one
line back naming this service, the port and the peer address the server saw, so a probe can tell
that it reached the real server and whether the router masqueraded it (peer = router address).
"""

import argparse
import socketserver
import threading

BANNER = "NATLOOP-RUSTDESK-STANDIN"


def reply(proto, port, peer):
    return ("%s %s/%d peer=%s\n" % (BANNER, proto, port, peer[0])).encode()


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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--tcp-ports", default="21115-21119")
    parser.add_argument("--udp-ports", default="21116")
    args = parser.parse_args()

    def ports(spec):
        bounds = spec.split("-")
        return range(int(bounds[0]), int(bounds[-1]) + 1)

    servers = [ReusableTCPServer((args.bind, p), TCPHandler) for p in ports(args.tcp_ports)]
    servers += [socketserver.ThreadingUDPServer((args.bind, p), UDPHandler) for p in ports(args.udp_ports)]
    for server in servers[:-1]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[-1].serve_forever()


if __name__ == "__main__":
    main()
