# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's facts, probed with nc and dig inside the containers (independent of the collection).

Run against a lab that is up: `pytest tests/lab --lab-expect=broken` before any fix,
`--lab-expect=fixed` after one.
"""

import subprocess

import pytest

DOMAIN = "rustdesk.example.com"
PUBLIC_IP = "198.51.100.1"
SERVER_LAN = "192.168.11.20"
BANNER = "NATLOOP-RUSTDESK-STANDIN"


def lab(host, script, timeout=20):
    return subprocess.run(["docker", "exec", "natloop-lab-%s" % host, "bash", "-c", script],
                          capture_output=True, text=True, timeout=timeout, check=False)


def tcp(host, target, port=21116):
    # -w: give up after 3 s without an answer; stdout is the server's one-line banner.
    return lab(host, "nc -n -w 3 %s %d </dev/null" % (target, port))


def udp(host, target, port=21116):
    # Up to three datagrams, 2 s apart, as a client resends: one lost packet is not an answer.
    return lab(host, "for _ in 1 2 3; do out=$(echo probe | nc -n -u -w 2 %s %d); [ -z \"$out\" ] || break; done; "
                     "printf '%%s' \"$out\"" % (target, port))


def resolve(host):
    # The system resolver, as a client application uses it: hosts file first, then DNS.
    return sorted(set(lab(host, "getent ahostsv4 %s | cut -d' ' -f1" % DOMAIN).stdout.split()))


def test_outside_reaches_service_by_name(lab_expect):
    assert resolve("outside") == [PUBLIC_IP]
    for probe in (tcp, udp):
        reply = probe("outside", PUBLIC_IP)
        assert reply.stdout.startswith(BANNER) and "peer=198.51.100.50" in reply.stdout, reply


@pytest.mark.parametrize("client", ["client", "dhcp-client"])
def test_lan_client_reaches_server_directly(lab_expect, client):
    for probe in (tcp, udp):
        reply = probe(client, SERVER_LAN)
        assert reply.stdout.startswith(BANNER), reply


@pytest.mark.parametrize("client", ["client", "dhcp-client"])
def test_lan_client_by_name(lab_expect, client):
    addresses = resolve(client)
    target = addresses[0] if addresses else DOMAIN
    replies = [probe(client, target) for probe in (tcp, udp)]
    if lab_expect == "broken":
        assert addresses == [PUBLIC_IP]
        # The reply comes from the server's LAN address and is dropped: nothing, and no error
        # like "no route to host" that would mean the lab itself is broken.
        for reply in replies:
            assert BANNER not in reply.stdout, reply
            assert "No route" not in reply.stderr and "unreachable" not in reply.stderr, reply
    else:
        for reply in replies:
            assert reply.stdout.startswith(BANNER), (addresses, reply)
