# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many sites converged by one site.yml run, without many real LANs.

Shared by tests/sites/test_many_sites.py and tests/benchmark/sites_benchmark.py.

``SitesLab(root, count)`` builds, under ``root``:

* one stand-in DNS server *process* per site on 127.0.0.1 with ephemeral DNS and HTTP ports
  (AdGuard Home stand-in for even site numbers, Pi-hole stand-in for odd ones; stand-ins for
  tests, NOT the real servers); their upstream is one fake upstream DNS server on loopback
  (``FakeUpstream``, in this process) that knows ``upstream.example.com``, the ordinary name the
  router layer asks every server before handing it out; a site built with
  ``dead_upstream=True`` gets the dead port 127.0.0.1:9 instead;
* an inventory with, per site, a group ``siteNN`` holding a ``dns_servers`` host, a ``routers``
  host and a ``clients`` host, all ``ansible_connection: local`` (the controller):
  - DNS layer: the provider role manages the records of the site's running stand-in through its
    HTTP API; the roles' install and deploy steps (Docker, ports, container, first-run setup) are
    skipped by their tags (DEPLOY_TAGS), so no container is deployed;
  - router layer: router_dhcp_dns, backend linux_dnsmasq, writing into a per-site conf dir,
    validated by the real ``dnsmasq --test``; the restart command is a harmless ``true``; its
    server check asks the site's stand-in (``router_dhcp_dns_check_addresses`` maps the handed-out
    address 10.N.0.53 to the stand-in's loopback port);
  - hosts layer: hosts_entries on a per-site temp hosts file (every fourth site does not choose
    ``hosts``, to prove that a layer only runs where the site chose it);
  - no hairpin layer (it would change the controller's nftables ruleset).

``lab.run()`` runs ``site.yml`` once with ``--skip-tags verify`` (and DEPLOY_TAGS): the verify
layer probes the services' LAN addresses over the network, and these sites have no network
behind them.
"""

import ctypes
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import types

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STANDINS = os.path.join(REPO, "tests", "standins")
COLLECTIONS = os.path.join(REPO, ".collections")
SITE_PLAYBOOK = os.path.join(REPO, "site.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

if STANDINS not in sys.path:
    sys.path.insert(0, STANDINS)

# pylint: disable=wrong-import-position
from natloop_standins.fixtures import (  # noqa: E402
    ADGUARD_PASSWORD, ADGUARD_USER, PIHOLE_PASSWORD, FakeUpstream, adguard_config)
from natloop_standins.persist import atomic_write, dump_yaml  # noqa: E402
from natloop_standins.testclient import addresses, basic_auth, dns_query, http_request  # noqa: E402

LOOPBACK = "127.0.0.1"
# Nothing listens here: a site whose server cannot resolve ordinary names forwards to it.
DEAD_UPSTREAM = "127.0.0.1:9"
# The ordinary name the fake upstream answers; the router layer asks each server for it.
UPSTREAM_NAME = "upstream.example.com"
DNSMASQ = "dnsmasq"
HOSTS_BASE = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"
HOSTS_MARKER = "# {mark} natloop.lan managed block"
# The DNS roles' steps that install Docker and deploy the container: the stand-ins already run.
DEPLOY_TAGS = ("adguard_home_install", "adguard_home_deploy", "pihole_install", "pihole_deploy")


def site_services(index):
    """The service model of site ``index``: two services, one with IPv6, on the site's own LAN."""
    tag = "site%02d" % index
    return [
        {"name": "rustdesk", "domain": "rustdesk.%s.example.test" % tag,
         "lan_ipv4": "10.%d.0.20" % index, "lan_ipv6": "fd00:%x::20" % index,
         "public_ip": "198.51.100.%d" % index,
         "ports": [{"proto": "tcp", "start": 21115, "end": 21119}, {"proto": "udp", "port": 21116}]},
        {"name": "cloud", "domain": "cloud.%s.example.test" % tag,
         "lan_ipv4": "10.%d.0.21" % index,
         "public_ip": "198.51.100.%d" % index,
         "ports": [{"proto": "tcp", "port": 443}]},
    ]


def expected_records(services):
    """{(domain, type, address)} the site's split-DNS server must hold: A, and AAAA where given."""
    records = set()
    for service in services:
        records.add((service["domain"], "A", service["lan_ipv4"]))
        if service.get("lan_ipv6"):
            records.add((service["domain"], "AAAA", service["lan_ipv6"]))
    return records


def _die_with_parent():
    """In the stand-in's process: get SIGTERM when the test or benchmark dies (Linux prctl)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _record_type(address):
    return "AAAA" if ":" in address else "A"


class StandinProcess:
    """One stand-in server run as its own process (``python3 -m natloop_standins.<kind>``)."""

    def __init__(self, kind, directory, host=LOOPBACK, dns_port=0, upstream=DEAD_UPSTREAM):
        self.kind = kind
        self.upstream = upstream
        self.directory = directory
        self.host = host
        self.log_path = os.path.join(directory, "standin.log")
        self.web_port = None
        self.dns_port = dns_port
        self.process = None

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.web_port)

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([STANDINS, os.environ.get("PYTHONPATH", "")]))
        listen = ["--listen-host", self.host, "--web-port", "0", "--dns-port", str(self.dns_port)]
        if self.kind == "adguard":
            config = os.path.join(self.directory, "conf", "AdGuardHome.yaml")
            atomic_write(config, dump_yaml(adguard_config(types.SimpleNamespace(address=self.upstream))))
            argv = ["-m", "natloop_standins.adguard", "--no-check-update", "-c", config,
                    "-w", os.path.join(self.directory, "work")] + listen
        else:
            env.update({"FTLCONF_webserver_api_password": PIHOLE_PASSWORD,
                        "FTLCONF_dns_upstreams": self.upstream.replace(":", "#")})
            argv = ["-m", "natloop_standins.pihole", "--config-dir", os.path.join(self.directory, "etc-pihole"),
                    "--secrets-dir", os.path.join(self.directory, "secrets"), "--restart-seconds", "0.3"] + listen
            os.makedirs(os.path.join(self.directory, "etc-pihole"), exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable] + argv, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, cwd=self.directory,
                                            preexec_fn=_die_with_parent)  # pylint: disable=subprocess-popen-preexec-fn
        return self

    def wait_listening(self, timeout=30.0):
        """Read both ports from the stand-in's log (it binds ephemeral ports and logs them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                text = log.read()
            web = re.search(r"web interface listening on [^ ]+:(\d+)", text)
            dns = re.search(r"DNS listening on [^ ]+:(\d+)", text)
            if web and dns:
                self.web_port, self.dns_port = int(web.group(1)), int(dns.group(1))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("%s stand-in in %s did not start:\n%s" % (self.kind, self.directory, text[-2000:]))

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # -- reading the server's state back, not through the collection's modules ----------------
    def records(self):
        """{(domain, type, address)} of the A/AAAA records the server holds, read over its HTTP API."""
        if self.kind == "adguard":
            reply = http_request("GET", self.base_url + "/control/rewrite/list",
                                 headers={"Authorization": basic_auth(ADGUARD_USER, ADGUARD_PASSWORD)})
            assert reply.status == 200, reply
            return {(item["domain"], _record_type(item["answer"]), item["answer"]) for item in reply.json()}
        login = http_request("POST", self.base_url + "/api/auth", json_body={"password": PIHOLE_PASSWORD})
        assert login.status == 200, login
        sid = login.json()["session"]["sid"]
        try:
            reply = http_request("GET", self.base_url + "/api/config/dns/hosts", headers={"X-FTL-SID": sid})
            assert reply.status == 200, reply
            found = set()
            for line in reply.json()["config"]["dns"]["hosts"]:
                address, *names = line.split()
                found.update((name, _record_type(address), address) for name in names)
            return found
        finally:
            http_request("DELETE", self.base_url + "/api/auth", headers={"X-FTL-SID": sid})

    def resolve(self, name, rdtype="A"):
        """Sorted addresses in the answer to a real DNS query sent to the stand-in's DNS port."""
        return addresses(dns_query(self.dns_port, name, rdtype, host=self.host), rdtype)


def _children_cpu():
    """CPU seconds of this process's finished children and their descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Site:
    """One generated site: its service model, choices, stand-in and the files its layers write."""

    def __init__(self, index, root, upstream=DEAD_UPSTREAM):
        self.index = index
        self.upstream = upstream
        self.name = "site%02d" % index
        self.directory = os.path.join(root, self.name)
        self.provider = "adguard_home" if index % 2 == 0 else "pihole"
        self.services = site_services(index)
        self.dns_server = "10.%d.0.53" % index
        self.fixes = ["split_dns"] + ([] if index % 4 == 3 else ["hosts"])
        self.standin = StandinProcess("adguard" if self.provider == "adguard_home" else "pihole",
                                      os.path.join(self.directory, "standin"), upstream=upstream)
        self.dnsmasq_dir = os.path.join(self.directory, "dnsmasq.d")
        self.drop_in = os.path.join(self.dnsmasq_dir, "00-natloop-dhcp-dns.conf")
        self.hosts_path = os.path.join(self.directory, "hosts")
        # Extra group variables of this site (a test's own settings), over the generated ones.
        self.extra_vars = {}

    @property
    def hosts(self):
        """Inventory host names of the site, by role group."""
        return {"dns_servers": self.name + "-dns", "routers": self.name + "-router", "clients": self.name + "-client"}

    def prepare(self):
        os.makedirs(self.dnsmasq_dir, exist_ok=True)
        with open(self.hosts_path, "w", encoding="utf-8") as handle:
            handle.write(HOSTS_BASE)

    def dns_layer_vars(self):
        """How the provider role reaches the site's running server: records (and settings) only.

        The deployment steps are skipped by tag (DEPLOY_TAGS); the role talks to the stand-in's
        API and checks its answers with DNS queries to its DNS port.
        """
        prefix = "adguard_home" if self.provider == "adguard_home" else "pihole"
        role_vars = {
            prefix + "_listen_addresses": [self.standin.host],
            prefix + "_dns_port": self.standin.dns_port,
            prefix + "_api_url": self.standin.base_url,
            prefix + "_admin_password": ADGUARD_PASSWORD if prefix == "adguard_home" else PIHOLE_PASSWORD,
            # Never a real resolver: the fake upstream on loopback (or the dead loopback port).
            prefix + "_upstream_dns": [self.upstream if prefix == "adguard_home" else self.upstream.replace(":", "#")],
        }
        if prefix == "adguard_home":
            role_vars["adguard_home_admin_user"] = ADGUARD_USER
        return role_vars

    def group_vars(self):
        site_vars = {
            "natloop_site": self.name,
            "natloop_fixes": self.fixes,
            "natloop_dns_provider": self.provider,
            "natloop_dns_servers": [self.dns_server],
            "natloop_lan_networks": ["10.%d.0.0/24" % self.index],
            "natloop_services": self.services,
            # Router layer: the real dnsmasq validates the drop-in; nothing is restarted.
            "router_dhcp_dns_dnsmasq_conf_dir": self.dnsmasq_dir,
            "router_dhcp_dns_dnsmasq_other_configs": [],
            "router_dhcp_dns_dnsmasq_restart_command": ["true"],
            "router_dhcp_dns_warn_single_server": False,
            # The server check reaches the handed-out address at the stand-in's loopback port.
            "router_dhcp_dns_check_addresses": {self.dns_server: "%s#%d" % (self.standin.host, self.standin.dns_port)},
            "router_dhcp_dns_check_upstream_names": [UPSTREAM_NAME],
            # Hosts layer: a hosts file of the site's own; the controller's name caches stay alone.
            "hosts_entries_path": self.hosts_path,
            "hosts_entries_flush_cache": False,
        }
        site_vars.update(self.dns_layer_vars())
        site_vars.update(self.extra_vars)
        return site_vars

    # -- what the layers left on the system -------------------------------------------------
    def drop_in_text(self):
        with open(self.drop_in, encoding="utf-8") as handle:
            return handle.read()

    def hosts_text(self):
        with open(self.hosts_path, encoding="utf-8") as handle:
            return handle.read()

    def hosts_block(self):
        """The lines between the managed block's markers, or None when there is no block."""
        lines = self.hosts_text().splitlines()
        begin, end = HOSTS_MARKER.format(mark="BEGIN"), HOSTS_MARKER.format(mark="END")
        if begin not in lines:
            return None
        return lines[lines.index(begin) + 1:lines.index(end)]

    def problems(self):
        """Every way this site's system state differs from its service model (empty when right)."""
        found = []
        want = expected_records(self.services)
        held = self.standin.records()
        if held != want:
            found.append("%s: server holds %s, want %s" % (self.name, sorted(held), sorted(want)))
        for domain, rdtype, address in sorted(want):
            answer = self.standin.resolve(domain, rdtype)
            if answer != [address]:
                found.append("%s: DNS %s %s answered %s, want %s" % (self.name, rdtype, domain, answer, address))
        if not os.path.exists(self.drop_in):
            found.append("%s: no dnsmasq drop-in %s" % (self.name, self.drop_in))
        else:
            options = [line for line in self.drop_in_text().splitlines() if line.startswith("dhcp-option")]
            # DHCPv4 names the site's server; no IPv6 server is given, so the router advertises
            # no IPv6 resolver at all (router_dhcp_dns_servers_ipv6 empty, issue 13).
            if options != ["dhcp-option=option:dns-server,%s" % self.dns_server,
                           "dhcp-option=tag:natloop_dns6,option6:dns-server"]:
                found.append("%s: drop-in hands out %s" % (self.name, options))
            check = subprocess.run([DNSMASQ, "--test", "--conf-file=" + self.drop_in],
                                   capture_output=True, text=True, check=False)
            if check.returncode != 0:
                found.append("%s: dnsmasq --test refuses the drop-in: %s" % (self.name, check.stderr.strip()))
        block = self.hosts_block()
        if "hosts" in self.fixes:
            want_lines = sorted("%s %s" % (address, domain) for domain, _type, address in want)
            got = sorted(" ".join(line.split()) for line in block or [])
            if got != want_lines:
                found.append("%s: hosts block %s, want %s" % (self.name, got, want_lines))
            if not self.hosts_text().startswith(HOSTS_BASE):
                found.append("%s: the hosts file's own lines changed" % self.name)
        elif self.hosts_text() != HOSTS_BASE:
            found.append("%s: hosts file changed although the site did not choose hosts" % self.name)
        return found


class PlaybookRun:
    """One ansible-playbook run: wall time, return code and its JSON callback output."""

    def __init__(self, argv, proc, seconds, cpu_seconds):
        self.argv = argv
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.seconds = seconds
        # User + system time of ansible-playbook and everything it ran (load-independent).
        self.cpu_seconds = cpu_seconds
        try:
            self.data = json.loads(proc.stdout)
        except ValueError:
            self.data = {"plays": [], "stats": {}}

    @property
    def stats(self):
        """{host: {ok, changed, failures, ...}} as in the PLAY RECAP."""
        return self.data.get("stats", {})

    def task_results(self):
        """[(play, task, host, result)] of every task that ran."""
        found = []
        for play in self.data.get("plays", []):
            for task in play["tasks"]:
                for host, result in task["hosts"].items():
                    found.append((play["play"]["name"], task["task"]["name"], host, result))
        return found

    def changed(self):
        """['host: task'] of every change."""
        return ["%s: %s" % (host, task) for _play, task, host, result in self.task_results() if result.get("changed")]

    def failed(self):
        return ["%s: %s: %s" % (host, task, result.get("msg", result))
                for _play, task, host, result in self.task_results() if result.get("failed")]

    def summary(self):
        """Why a run is not what was expected, for assertion messages."""
        return "rc=%s %s\nfailed: %s\nstderr: %s\nstdout tail: %s" % (
            self.rc, " ".join(self.argv), self.failed()[:10], self.stderr[-3000:], self.stdout[-2000:])


class SitesLab:
    """``count`` sites with their stand-ins and inventory under ``root``; use as a context manager."""

    def __init__(self, root, count, forks=10, fact_cache=False, dead_upstream=()):
        """``dead_upstream``: indexes of sites whose server cannot resolve ordinary names."""
        self.root = str(root)
        self.forks = forks
        self.upstream = FakeUpstream()
        # A jsonfile fact cache, as many-site users keep one: the roles gather facts only when
        # the facts they read are missing, so a later run skips those module runs.
        self.fact_cache = os.path.join(self.root, "facts") if fact_cache else None
        self.sites = [Site(index, self.root, DEAD_UPSTREAM if index in dead_upstream else self.upstream.address)
                      for index in range(1, count + 1)]
        self.inventory = os.path.join(self.root, "inventory", "hosts.yml")

    @property
    def host_count(self):
        return sum(len(site.hosts) for site in self.sites)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        for site in self.sites:
            site.prepare()
            site.standin.start()
        try:
            for site in self.sites:
                site.standin.wait_listening()
        except Exception:
            self.stop()
            raise
        self.write_inventory()
        return self

    def stop(self):
        stoppers = [threading.Thread(target=site.standin.stop) for site in self.sites]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self.upstream.stop()

    def inventory_data(self):
        children = {group: {"hosts": {}} for group in ("dns_servers", "routers", "clients")}
        for site in self.sites:
            children[site.name] = {"hosts": {host: None for host in site.hosts.values()}, "vars": site.group_vars()}
            for group, host in site.hosts.items():
                children[group]["hosts"][host] = None
        return {"all": {
            "vars": {
                # Every host is this controller: no SSH, the venv's Python runs the modules.
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
            },
            "children": children,
        }}

    def write_inventory(self):
        os.makedirs(os.path.dirname(self.inventory), exist_ok=True)
        with open(self.inventory, "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.inventory_data(), handle, default_flow_style=False, sort_keys=False)

    def env(self):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_GALAXY_SERVER": "http://127.0.0.1:9",
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            # Reports of the verify layer (skipped here) would land in the temp dir, not the repo.
            "NATLOOP_REPORT_DIR": os.path.join(self.root, "reports"),
        })
        if self.fact_cache:
            env.update({"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
                        "ANSIBLE_CACHE_PLUGIN_CONNECTION": self.fact_cache})
        return env

    def run(self, extra_args=(), playbook=SITE_PLAYBOOK, env=None):
        """Run site.yml over every site once; skipped: verify (no network behind the sites), deployment.

        ``playbook``: another playbook over the same inventory, forks and settings (the benchmark's
        floor); ``env``: extra environment variables.
        """
        argv = [ANSIBLE_PLAYBOOK, "-i", self.inventory, playbook, "--forks", str(self.forks)]
        if playbook == SITE_PLAYBOOK:
            argv += ["--skip-tags", ",".join(("verify",) + DEPLOY_TAGS)]
        argv += list(extra_args)
        before = _children_cpu()
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, env=dict(self.env(), **(env or {})),
                              cwd=self.root, check=False)
        return PlaybookRun(argv, proc, time.monotonic() - started, _children_cpu() - before)

    def problems(self):
        return [problem for site in self.sites for problem in site.problems()]
