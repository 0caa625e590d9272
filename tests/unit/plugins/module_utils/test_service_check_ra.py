# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IPv6 resolvers a router advertises (RA RDNSS, RFC 8106): parsing, and a real dnsmasq
router advertising the ISP's resolver to a client, across a veth pair between two private
network namespaces (nothing reaches this machine's own networks). The router side is dnsmasq
--enable-ra with option6:dns-server, as the lab's router (man dnsmasq 2.90, --enable-ra,
--dhcp-range=::,constructor:<if>,ra-stateless)."""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import uuid

import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _service_check as checks

ISP_V6 = "2001:db8:100::53"


def rdnss_option(lifetime, *servers):
    body = b"".join(socket.inet_pton(socket.AF_INET6, s) for s in servers)
    return struct.pack("!BBHI", 25, 1 + 2 * len(servers), 0, lifetime) + body


def router_advertisement(*options):
    header = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
    return header + b"".join(options)


def test_rdnss_servers_are_read_from_a_router_advertisement():
    prefix_info = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, "2001:db8:11::")
    packet = router_advertisement(prefix_info, rdnss_option(1200, ISP_V6, "2001:db8:100::54"), rdnss_option(0, "2001:db8::9"))
    assert checks.parse_router_advertisement(packet) == [(ISP_V6, 1200), ("2001:db8:100::54", 1200), ("2001:db8::9", 0)]


@pytest.mark.parametrize("packet", [b"", b"\x86" * 8, struct.pack("!BBHBBHII", 133, 0, 0, 0, 0, 0, 0, 0),
                                    router_advertisement(b"\x19\x00" + b"\x00" * 30)])  # zero length: stop
def test_other_packets_give_no_servers(packet):
    assert checks.parse_router_advertisement(packet) == []


def test_advertised_resolvers_join_the_client_resolvers(tmp_path):
    (tmp_path / "resolv.conf").write_text("nameserver 192.168.11.20\n")
    heard = {"servers": [{"server": ISP_V6, "router": "fe80::1", "interface": "eth0"}], "error": None}
    info = checks.client_dns(str(tmp_path / "resolv.conf"), [], [], heard)
    assert info["resolvers"] == [{"server": "192.168.11.20", "sources": [str(tmp_path / "resolv.conf")]},
                                 {"server": ISP_V6, "sources": ["RA RDNSS from router fe80::1 on eth0"]}]


def _can_make_namespaces():
    return os.geteuid() == 0 and shutil.which("ip") and shutil.which("dnsmasq") and sys.platform.startswith("linux")


@pytest.fixture
def router_and_client(tmp_path):
    """Two network namespaces joined by a veth pair; dnsmasq in the router's advertises ISP_V6."""
    if not _can_make_namespaces():
        pytest.skip("needs root, ip and dnsmasq")
    tag = uuid.uuid4().hex[:6]
    router, client = "natloop-r-%s" % tag, "natloop-c-%s" % tag

    def ip(*args):
        subprocess.run(["ip"] + list(args), check=True, capture_output=True, timeout=30)

    process = None
    try:
        try:
            ip("netns", "add", router)
            ip("netns", "add", client)
        except subprocess.CalledProcessError as exc:
            pytest.skip("cannot make network namespaces here: %s" % exc.stderr)
        ip("link", "add", "nlr%s" % tag, "netns", router, "type", "veth", "peer", "name", "nlc%s" % tag, "netns", client)
        ip("-n", router, "addr", "add", "2001:db8:ff::1/64", "dev", "nlr%s" % tag, "nodad")
        ip("-n", router, "link", "set", "nlr%s" % tag, "up")
        ip("-n", client, "link", "set", "nlc%s" % tag, "up")
        process = subprocess.Popen(
            ["ip", "netns", "exec", router, "dnsmasq", "-k", "-C", "/dev/null", "--no-hosts", "--no-resolv",
             "--bind-interfaces", "--interface=nlr%s" % tag, "--port=0", "--user=root", "--enable-ra",
             "--dhcp-range=::,constructor:nlr%s,ra-stateless" % tag, "--dhcp-option=option6:dns-server,[%s]" % ISP_V6,
             "--pid-file=%s" % (tmp_path / "ra.pid"), "--dhcp-leasefile=%s" % (tmp_path / "leases")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield client, "nlc%s" % tag
    finally:
        if process:
            process.terminate()
            process.wait(10)
        for namespace in (router, client):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30, check=False)


def test_a_real_router_advertisement_names_the_isp_resolver(router_and_client):
    client, interface = router_and_client
    code = ("import json; from ansible_collections.natloop.lan.plugins.module_utils import _service_check as c; "
            "print(json.dumps(c.listen_router_advertisements(5.0)))")
    # The client's link-local address needs a moment (DAD) before it can solicit.
    output = subprocess.run(["ip", "netns", "exec", client, "sh", "-c", "sleep 2; exec \"$0\" -c \"$1\"",
                             sys.executable, code], check=True, capture_output=True, text=True, timeout=60,
                            env=dict(os.environ)).stdout
    heard = json.loads(output)
    assert heard["error"] is None
    assert [(s["server"], s["interface"]) for s in heard["servers"]] == [(ISP_V6, interface)]
    assert heard["servers"][0]["router"].startswith("fe80::")
