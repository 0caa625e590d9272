# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Twenty sites converged by one site.yml run with forks, then a no-op run.

Each site has its own stand-in DNS server process (AdGuard Home or Pi-hole stand-in, NOT the
real servers) and its own dnsmasq conf dir and hosts file; every host is the controller
(sites_harness.py says how). The verify layer is skipped: its probes need a network.
Assertions read the system: records over each server's HTTP API and by DNS queries to it, the
dnsmasq drop-ins (checked again with dnsmasq --test) and the hosts blocks.
"""

import json

import pytest
from sites_harness import SitesLab

SITES = 20
FORKS = 10

pytestmark = pytest.mark.sites


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with SitesLab(tmp_path_factory.mktemp("sites"), SITES, forks=FORKS) as started:
        yield started


def test_twenty_sites_converge_in_one_run_and_the_second_run_changes_nothing(lab):
    every_host = {host for site in lab.sites for host in site.hosts.values()}
    assert len(lab.sites) >= 20
    assert {site.provider for site in lab.sites} == {"adguard_home", "pihole"}
    # Before: every site is wrong, so the checks below can fail.
    before = {problem.split(":")[0] for problem in lab.problems()}
    assert before == {site.name for site in lab.sites}

    first = lab.run()
    assert first.rc == 0, first.summary()
    assert set(first.stats) == every_host, first.summary()
    assert all(stats["failures"] == 0 and stats["unreachable"] == 0 for stats in first.stats.values()), first.summary()
    # Every layer changed something exactly where its site chose it.
    changed_hosts = {host for host, stats in first.stats.items() if stats["changed"]}
    want_changed = {site.hosts[group] for site in lab.sites for group in ("dns_servers", "routers")}
    want_changed |= {site.hosts["clients"] for site in lab.sites if "hosts" in site.fixes}
    assert changed_hosts == want_changed, first.changed()
    assert lab.problems() == []

    second = lab.run()
    assert second.rc == 0, second.summary()
    assert set(second.stats) == every_host, second.summary()
    assert {host: stats["changed"] for host, stats in second.stats.items() if stats["changed"]} == {}, second.changed()
    assert lab.problems() == []

    # The DNS servers' second probe (answers.yml) runs where the records were just written, and is
    # left out on the no-op: the wait's probe already saw every answer, and no API write changed anything.
    dns_servers = {site.hosts["dns_servers"] for site in lab.sites}
    assert probed_after_writes(first) == dns_servers
    assert probed_after_writes(second) == set()
    waited = [result for _play, task, host, result in second.task_results()
              if task.endswith("Wait for a DNS answer on every published address") and host in dns_servers]
    assert len(waited) == len(dns_servers)
    assert all(json.loads(result["stdout"])["check"]["ok"] for result in waited), waited


def probed_after_writes(run):
    return {host for _play, task, host, result in run.task_results()
            if task.endswith("Ask the DNS server for every record it should answer") and not result.get("skipped")}


def test_the_last_play_has_no_host_when_no_layer_failed(lab):
    # site.yml's last play fails the hosts whose layer failed; on a clean run it has none at all
    # (not one skipped task per DNS server and router). test_site_isolation.py covers the failures.
    run = lab.run()
    assert run.rc == 0, run.summary()
    last = [play for play in run.data["plays"] if play["play"]["name"].startswith("Fail the hosts")]
    assert len(last) == 1 and last[0]["tasks"] == [], last
