# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""service_check's new verdicts on real DNS answers: dnsmasq instances on loopback play the ISP
resolver (public A/AAAA, an HTTPS record with hints, the canaries answered as on the internet,
a DDR SVCB), the split-DNS server, and the router's forwarder with rebind protection on and
with a per-name exception. Only the system resolver and the port probes are scripted (they
cannot be pointed at a loopback port); every DNS question goes over the wire.

dnsmasq options used (man dnsmasq, 2.90): --host-record, --cname, --dns-rr (raw RDATA in hex),
--address=/name/ (NXDOMAIN), --stop-dns-rebind, --rebind-domain-ok, --server=/name/addr#port."""

import random
import shutil
import socket
import subprocess
import time

import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _service_check as checks

rdata = pytest.importorskip("dns.rdata")

DOMAIN = "rustdesk.example.com"
LAN, PUBLIC, PUBLIC_V6 = "192.168.11.20", "198.51.100.1", "2001:db8:100::1"
SPLIT_ADDR, ROUTER_ADDR, FIXED_ROUTER_ADDR, ISP_ADDR = "127.0.13.20", "127.0.13.1", "127.0.13.2", "::1"
SERVICE = {"name": "rustdesk", "domain": DOMAIN, "lan_ipv4": LAN, "lan_ipv6": None, "public_ip": PUBLIC,
           "ports": [{"proto": "tcp", "port": 21116}]}

pytestmark = pytest.mark.skipif(not shutil.which("dnsmasq"), reason="dnsmasq is not installed")


def rdata_hex(rdtype, text):
    return rdata.from_text("IN", rdtype, text).to_wire().hex()


def free_port():
    """A port free for UDP and TCP on every loopback address used here."""
    for _attempt in range(50):
        port = random.randint(20000, 60000)
        try:
            for family, address in ((socket.AF_INET, SPLIT_ADDR), (socket.AF_INET6, ISP_ADDR)):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(family, kind) as probe:
                        probe.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def ask_until_up(server, port):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if checks.query("%s:%d" % (server, port) if ":" not in server else "[%s]:%d" % (server, port),
                        "version.bind", "A", 0.3)["error"] is None:
            return
        time.sleep(0.1)
    raise RuntimeError("dnsmasq on %s did not answer" % server)


@pytest.fixture(scope="module")
def resolvers(tmp_path_factory):
    port = free_port()
    tmp = tmp_path_factory.mktemp("dnsmasq")
    common = ["-k", "-C", "/dev/null", "--no-hosts", "--no-resolv", "--bind-interfaces", "--port=%d" % port,
              "--user=root", "--log-facility=-", "--cache-size=0"]
    instances = {
        # The ISP resolver as the internet answers: public A/AAAA, an HTTPS record with public hints,
        # the DoH canary, Private Relay through a CNAME like Apple's, DDR naming a public resolver.
        ISP_ADDR: ["--host-record=%s,%s,%s" % (DOMAIN, PUBLIC, PUBLIC_V6),
                   "--dns-rr=%s,65,%s" % (DOMAIN, rdata_hex("HTTPS", "1 . alpn=h2,h3 ipv4hint=%s ipv6hint=%s" % (
                       PUBLIC, PUBLIC_V6))),
                   "--host-record=use-application-dns.net,198.51.100.71",
                   "--cname=mask.icloud.com,mask.apple-dns.net", "--host-record=mask.apple-dns.net,198.51.100.72",
                   "--host-record=mask-h2.icloud.com,198.51.100.73",
                   "--dns-rr=_dns.resolver.arpa,64,%s" % rdata_hex(
                       "SVCB", "1 dns.example.net. alpn=dot ipv4hint=198.51.100.74")],
        # The split-DNS server with the fixes: the name local, the canaries NXDOMAIN.
        SPLIT_ADDR: ["--host-record=%s,%s" % (DOMAIN, LAN), "--address=/use-application-dns.net/",
                     "--address=/mask.icloud.com/", "--address=/mask-h2.icloud.com/", "--address=/resolver.arpa/"],
        # The router's dnsmasq, rebind protection on like OpenWrt, forwarding the name to split DNS.
        ROUTER_ADDR: ["--stop-dns-rebind", "--server=/%s/%s#%d" % (DOMAIN, SPLIT_ADDR, port)],
        # The same with the per-name exception router_dhcp_dns_rebind_exceptions adds.
        FIXED_ROUTER_ADDR: ["--stop-dns-rebind", "--rebind-domain-ok=/%s/" % DOMAIN,
                            "--server=/%s/%s#%d" % (DOMAIN, SPLIT_ADDR, port)],
    }
    processes = []
    try:
        for address, options in instances.items():
            log = open(str(tmp / ("%s.log" % address.replace(":", "_"))), "w")
            processes.append(subprocess.Popen(
                ["dnsmasq"] + common + ["--listen-address=%s" % address, "--pid-file=%s" % (tmp / ("%d.pid" % len(processes)))]
                + options, stdout=log, stderr=subprocess.STDOUT))
        for address in instances:
            ask_until_up(address, port)
        yield {"port": port, "isp": "[%s]:%d" % (ISP_ADDR, port), "split": "%s:%d" % (SPLIT_ADDR, port),
               "router": "%s:%d" % (ROUTER_ADDR, port), "fixed_router": "%s:%d" % (FIXED_ROUTER_ADDR, port)}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def test_query_parses_real_answers(resolvers):
    isp, split = resolvers["isp"], resolvers["split"]
    assert checks.query(isp, DOMAIN, "A", 2)["addresses"] == [PUBLIC]
    assert checks.query(isp, DOMAIN, "AAAA", 2)["addresses"] == [PUBLIC_V6]
    assert checks.query(isp, DOMAIN, "HTTPS", 2)["records"] == [
        {"priority": 1, "target": ".", "ipv4hint": [PUBLIC], "ipv6hint": [PUBLIC_V6], "alpn": ["h2", "h3"]}]
    # The CNAME in front of the answer is followed, not taken for an address.
    assert checks.query(isp, "mask.icloud.com", "A", 2)["addresses"] == ["198.51.100.72"]
    assert checks.query(isp, "_dns.resolver.arpa", "SVCB", 2)["records"][0]["target"] == "dns.example.net."
    assert checks.query(split, "use-application-dns.net", "A", 2)["rcode"] == "NXDOMAIN"
    assert checks.query(split, DOMAIN, "HTTPS", 2)["records"] == []
    blocked = checks.query(resolvers["router"], DOMAIN, "A", 2)
    assert blocked["error"] is None and blocked["addresses"] == []
    assert checks.query(resolvers["fixed_router"], DOMAIN, "A", 2)["addresses"] == [LAN]


class LoopbackNetwork(checks.Network):
    """The real DNS code; the system resolver's answer and the port probes scripted."""

    def __init__(self, system, reachable):
        checks.Network.__init__(self, 2.0, "x")
        self.system, self.reachable = system, reachable

    def resolve_system(self, domain):
        return dict(self.system, error=None if self.system["A"] else "no address")

    def probe(self, address, proto, port):
        ok = address in self.reachable
        return {"address": address, "proto": proto, "port": port, "result": "ok" if ok else "timeout",
                "reply": None, "detail": None, "seconds": 0.0}


def run(tmp_path, resolvers, resolv, rdnss, system):
    (tmp_path / "resolv.conf").write_text("".join("nameserver %s\n" % resolvers[r] for r in resolv))
    (tmp_path / "rdnssd").mkdir()
    (tmp_path / "rdnssd" / "resolv.conf").write_text("".join("nameserver %s\n" % resolvers[r] for r in rdnss))
    (tmp_path / "hosts").write_text("")
    params = {"services": [SERVICE], "dns_servers": [resolvers["split"]], "lan_networks": ["192.168.11.0/24"],
              "probe_targets": ["name", "lan", "public"], "timeout": 2.0, "udp_payload": "x",
              "hosts_file": str(tmp_path / "hosts"), "resolv_conf": str(tmp_path / "resolv.conf"),
              "lease_files": [], "ipv6_dns_files": [str(tmp_path / "rdnssd" / "resolv.conf")]}
    return checks.run_checks(params, network=LoopbackNetwork(system, reachable=(LAN,)))


def test_red_site_names_every_cause(tmp_path, resolvers):
    """The client asks the router (rebind protection drops the LAN answer) and the router
    advertises the ISP's resolver by RA: the name does not resolve, and every cause is named."""
    result = run(tmp_path, resolvers, resolv=["router"], rdnss=["isp"], system={"A": [], "AAAA": []})
    service = result["services"][0]
    assert [p["verdict"] for p in service["problems"]] == ["rebind_blocked", "ipv6_dns_bypass", "https_record_bypass"]
    assert "RA RDNSS" in service["problems"][1]["reason"] and PUBLIC_V6 in service["problems"][1]["reason"]
    assert sorted((f["code"], f["server"]) for f in result["client_findings"]) == [
        ("ddr_redirect", resolvers["isp"]), ("doh_canary_missing", resolvers["isp"]),
        ("private_relay_canary_missing", resolvers["isp"])]


def test_green_site_is_ok_without_warnings(tmp_path, resolvers):
    result = run(tmp_path, resolvers, resolv=["split", "fixed_router"], rdnss=[], system={"A": [LAN], "AAAA": []})
    assert result["services"][0]["problems"] == [] and result["services"][0]["verdict"] == "ok"
    assert result["client_findings"] == []


def test_a_real_timeout_costs_one_timeout_for_the_whole_batch():
    """A resolver that never answers (a bound UDP port nobody reads): every question gets an error."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.13.99", 0))
        server = "127.0.13.99:%d" % silent.getsockname()[1]
        answers = checks.ask_resolvers(checks.Network(0.3, "x"), [server],
                                       [(DOMAIN, "A"), (DOMAIN, "AAAA"), (DOMAIN, "HTTPS")] + list(checks.CANARIES),
                                       0.3)
    assert len(answers) == 7 and all(a["error"] for a in answers.values())
