# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The verdicts of service_check, against a scripted network (real probes run in the lab)."""

import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _service_check as checks

SERVICE = {"name": "rustdesk", "domain": "rustdesk.example.com", "lan_ipv4": "192.168.11.20", "lan_ipv6": None,
           "public_ip": "198.51.100.1",
           "ports": [{"proto": "tcp", "start": 21115, "end": 21116, "port": None, "probe": None},
                     {"proto": "udp", "port": 21116, "start": None, "end": None, "probe": "reply"}]}


class ScriptedNetwork:
    """Answers like a LAN would: `reachable` is the set of addresses whose ports answer.

    `answers` scripts single questions to the client's resolvers: {(server, name, type): reply}
    (see `reply`). A question not scripted gets what the system resolver gets for the service's
    name, and NXDOMAIN for any other name (the canaries)."""

    def __init__(self, system, servers=None, reachable=("192.168.11.20",), answers=None):
        self.system = system
        self.servers = servers or {}
        self.reachable = set(reachable)
        self.answers = answers or {}
        self.probed = []
        self.asked = []

    def query(self, server, name, rdtype, timeout=None):
        self.asked.append((server, name, rdtype))
        if (server, name, rdtype) in self.answers:
            return self.answers[(server, name, rdtype)]
        if name == SERVICE["domain"] and rdtype in ("A", "AAAA"):
            return reply(self.system[rdtype])
        return reply(rcode="NOERROR" if name == SERVICE["domain"] else "NXDOMAIN")

    def resolve_system(self, domain):
        return dict(self.system, error=None if self.system["A"] or self.system["AAAA"] else "no address")

    def resolve_via(self, server, domain):
        return self.servers[server]

    def probe(self, address, proto, port):
        self.probed.append((address, proto, port))
        ok = address in self.reachable
        return {"address": address, "proto": proto, "port": port, "result": "ok" if ok else "timeout",
                "reply": "banner" if ok else None, "detail": None, "seconds": 0.0}


def run(network, tmp_path, resolv=("192.168.11.1",), hosts="", dns_servers=(), targets=("name", "lan", "public"),
        ipv6_files=None, **extra):
    """ipv6_files: {relative path: content} of the files the client learns IPv6 resolvers from."""
    (tmp_path / "resolv.conf").write_text("".join("nameserver %s\n" % s for s in resolv))
    (tmp_path / "hosts").write_text("127.0.0.1 localhost\n" + hosts)
    for name, content in (ipv6_files or {}).items():
        (tmp_path / "v6" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "v6" / name).write_text(content)
    params = {"services": [SERVICE], "dns_servers": list(dns_servers), "lan_networks": ["192.168.11.0/24"],
              "probe_targets": list(targets), "timeout": 1.0, "udp_payload": "x",
              "hosts_file": str(tmp_path / "hosts"), "resolv_conf": str(tmp_path / "resolv.conf"),
              "lease_files": [str(tmp_path / "*.leases")],
              "ipv6_dns_files": [str(tmp_path / "v6" / "rdnssd" / "resolv.conf"), str(tmp_path / "v6" / "dhclient6*.leases"),
                                 str(tmp_path / "v6" / "netif" / "links" / "*")]}
    params.update(extra)
    return checks.run_checks(params, network=network)


def answer(a=(), aaaa=()):
    return {"A": list(a), "AAAA": list(aaaa), "CNAME": [], "error": None}


def reply(addresses=(), rcode="NOERROR", records=(), error=None):
    """One answer of Network.query."""
    return {"rcode": None if error else rcode, "addresses": list(addresses), "records": list(records), "error": error}


def test_ports_expand_ranges_and_default_probes():
    assert checks.expand_ports([{"proto": "tcp", "start": 1, "end": 3}, {"proto": "udp", "port": 5}]) == [
        ("tcp", 1, "connect"), ("tcp", 2, "connect"), ("tcp", 3, "connect"), ("udp", 5, "skip")]


def test_split_dns_in_place_is_ok(tmp_path):
    net = ScriptedNetwork(answer(["192.168.11.20"]))
    result = run(net, tmp_path)
    assert result["services"][0]["verdict"] == "ok" and result["all_ok"]
    # 2 TCP ports + 1 UDP port, by name, by LAN address and by public address
    assert len(net.probed) == 9


def test_public_answer_without_hairpin_is_hairpin_missing(tmp_path):
    result = run(ScriptedNetwork(answer(["198.51.100.1"])), tmp_path)
    assert result["services"][0]["verdict"] == "hairpin_missing"
    assert not result["services"][0]["reachable_by_name"]


def test_public_answer_with_hairpin_is_ok(tmp_path):
    net = ScriptedNetwork(answer(["198.51.100.1"]), reachable=("192.168.11.20", "198.51.100.1"))
    assert run(net, tmp_path)["services"][0]["verdict"] == "ok"


def test_split_server_exists_but_client_does_not_use_it(tmp_path):
    net = ScriptedNetwork(answer(["198.51.100.1"]), servers={"192.168.11.20": answer(["192.168.11.20"])})
    result = run(net, tmp_path, dns_servers=["192.168.11.20"])
    assert result["services"][0]["verdict"] == "dns_not_split"
    assert "192.168.11.20" in result["services"][0]["reason"]


def test_public_secondary_resolver_is_flagged_even_when_it_works_now(tmp_path):
    net = ScriptedNetwork(answer(["192.168.11.20"]), servers={"198.51.100.53": answer(["198.51.100.1"])})
    result = run(net, tmp_path, resolv=("192.168.11.20", "198.51.100.53"))
    assert result["client_dns"]["effective"] == ["192.168.11.20", "198.51.100.53"]
    assert result["services"][0]["verdict"] == "public_secondary_dns"


def test_lan_secondary_resolver_is_not_flagged(tmp_path):
    net = ScriptedNetwork(answer(["192.168.11.20"]))
    assert run(net, tmp_path, resolv=("192.168.11.20", "192.168.11.1"))["services"][0]["verdict"] == "ok"


def test_foreign_aaaa_is_ipv6_bypass(tmp_path):
    net = ScriptedNetwork(answer(["192.168.11.20"], ["2001:db8::1"]))
    assert run(net, tmp_path)["services"][0]["verdict"] == "ipv6_bypass"


def test_stale_hosts_entry(tmp_path):
    net = ScriptedNetwork(answer(["192.168.11.99"]))
    result = run(net, tmp_path, hosts="192.168.11.99 rustdesk.example.com\n")
    assert result["services"][0]["verdict"] == "stale_hosts_entry"
    assert result["services"][0]["hosts_file"] == ["192.168.11.99"]


def test_hosts_entry_with_the_lan_address_is_fine(tmp_path):
    net = ScriptedNetwork(answer(["192.168.11.20"]))
    assert run(net, tmp_path, hosts="192.168.11.20 RustDesk.example.com\n")["services"][0]["verdict"] == "ok"


def test_service_down_when_lan_address_does_not_answer(tmp_path):
    net = ScriptedNetwork(answer(["192.168.11.20"]), reachable=())
    assert run(net, tmp_path)["services"][0]["verdict"] == "service_down"


def test_unresolvable_name(tmp_path):
    result = run(ScriptedNetwork(answer()), tmp_path)
    assert result["services"][0]["verdict"] == "dns_not_split"
    assert "does not resolve" in result["services"][0]["reason"]


def test_systemd_resolved_stub_is_looked_through(tmp_path, monkeypatch):
    upstream = tmp_path / "resolved.conf"
    upstream.write_text("nameserver 192.168.11.20\nnameserver 198.51.100.53\n")
    monkeypatch.setattr(checks, "RESOLVED_UPSTREAM_FILE", str(upstream))
    net = ScriptedNetwork(answer(["192.168.11.20"]), servers={"198.51.100.53": answer(["198.51.100.1"])})
    result = run(net, tmp_path, resolv=("127.0.0.53",))
    assert result["client_dns"]["effective"] == ["192.168.11.20", "198.51.100.53"]
    assert result["services"][0]["verdict"] == "public_secondary_dns"


def test_dhcp_lease_dns_is_read(tmp_path):
    (tmp_path / "dhclient.leases").write_text(
        "lease {\n  option domain-name-servers 192.168.11.1;\n}\nlease {\n  option domain-name-servers 192.168.11.20, 192.168.11.1;\n}\n")
    result = run(ScriptedNetwork(answer(["192.168.11.20"])), tmp_path)
    assert result["client_dns"]["dhcp_lease"] == ["192.168.11.20", "192.168.11.1"]


@pytest.mark.parametrize("server, expected", [("192.168.11.20", ("192.168.11.20", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
                                              ("[2001:db8::1]:53", ("2001:db8::1", 53)), ("2001:db8::1", ("2001:db8::1", 53))])
def test_split_host_port(server, expected):
    assert checks.split_host_port(server) == expected


def test_real_probe_against_loopback():
    """The socket code itself: a listening loopback port answers, a closed one refuses."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        assert checks.probe("127.0.0.1", "tcp", port, 1.0, "x")["result"] == "ok"
    finally:
        listener.close()
    assert checks.probe("127.0.0.1", "tcp", port, 1.0, "x")["result"] == "refused"
