# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lab/preflight.py refuses IPv6 overlaps too (issue 13's field lab), on a scripted host.

The host here is this kind of machine: IPv4 in 172.31.250.0/24, IPv6 fd00::2/64 with a default route
via fd00::1, link-local addresses on every interface, a resolver in 10.255.255.0/24.
"""

import importlib.util
import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PREFLIGHT = os.path.join(HERE, "..", "..", "..", "lab", "preflight.py")

IP_JSON = {
    ("-4", "addr"): [{"ifname": "lo", "addr_info": [{"local": "127.0.0.1", "prefixlen": 8}]},
                     {"ifname": "eth0", "addr_info": [{"local": "172.31.250.10", "prefixlen": 24}]}],
    ("-4", "route"): [{"dst": "default", "gateway": "172.31.250.1", "dev": "eth0"},
                      {"dst": "172.31.250.0/24", "dev": "eth0"}],
    ("-6", "addr"): [{"ifname": "lo", "addr_info": [{"local": "::1", "prefixlen": 128}]},
                     {"ifname": "eth0", "addr_info": [{"local": "fd00::2", "prefixlen": 64},
                                                      {"local": "fe80::fc:ff:fe00:1", "prefixlen": 64}]},
                     {"ifname": "nl-lan0", "addr_info": [{"local": "2001:db8:11::99", "prefixlen": 64}]}],
    ("-6", "route"): [{"dst": "fd00::/64", "dev": "eth0"}, {"dst": "fe80::/64", "dev": "eth0"},
                      {"dst": "default", "gateway": "fd00::1", "dev": "eth0"}],
}


@pytest.fixture
def preflight(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("natloop_lab_preflight", PREFLIGHT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(cmd, **_kwargs):
        if cmd[0] == "ip":
            return subprocess.CompletedProcess(cmd, 0, json.dumps(IP_JSON[(cmd[2], cmd[3])]), "")
        raise OSError("no docker here")

    monkeypatch.setattr(module.subprocess, "run", run)
    monkeypatch.setattr(module, "registry_hosts", lambda: [("registry deb.debian.org", "2001:db8:ffff::80")])
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 10.255.255.254\n")
    original = module.resolvers
    monkeypatch.setattr(module, "resolvers", lambda: original(str(resolv)))

    def check(*subnets):
        monkeypatch.setattr("sys.argv", ["preflight.py"] + ["--subnet=%s" % s for s in subnets] + ["--own-bridge=nl-lan0"])
        return module.main()
    return check


def test_the_field_lab_prefixes_pass(preflight, capsys):
    assert preflight("192.168.11.0/24", "198.51.100.0/24", "2001:db8:11::/64", "2001:db8:100::/64") == 0
    assert "preflight ok" in capsys.readouterr().out


@pytest.mark.parametrize("subnet, clash", [
    ("fd00::/48", "host address on eth0 (fd00::2/64)"),
    ("fd00::/64", "default gateway (fd00::1)"),
    ("2001:db8:ffff::/48", "registry deb.debian.org (2001:db8:ffff::80)"),
    ("2001:db9::/64", "not inside the IPv6 documentation prefix 2001:db8::/32"),
])
def test_ipv6_overlaps_are_refused(preflight, capsys, subnet, clash):
    assert preflight("192.168.11.0/24", subnet) == 1
    assert clash in capsys.readouterr().err


def test_link_local_and_the_labs_own_bridge_are_no_overlap(preflight):
    # Every interface has fe80::/64; the lab's own bridge carries the lab's prefix from an earlier run.
    assert preflight("2001:db8:11::/64") == 0
