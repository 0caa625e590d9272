# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A failed DNS layer stops its site, not the fleet (issue 16), on the many-sites harness.

Three sites in one site.yml run (stand-in DNS servers, NOT the real AdGuard Home / Pi-hole;
sites_harness.py says how):

* site01: its DNS server is down (the stand-in process is stopped before the run), so its DNS
  layer fails; the router play must leave site01's router alone (no drop-in), saying why;
* site02: its DNS server runs and holds the records, but its upstream is dead, so it cannot
  resolve ordinary names; the router's check before pointing must refuse it (no drop-in), with
  an error naming the server, the question and the answer;
* site03: healthy; every layer must still be applied there.

The run ends non-zero. Assertions read the system: the dnsmasq drop-ins, the records on the
servers and their DNS answers (Site.problems), and the JSON output for the messages.
"""

import os

import pytest
from sites_harness import UPSTREAM_NAME, SitesLab

pytestmark = pytest.mark.sites


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with SitesLab(tmp_path_factory.mktemp("isolation"), 3, forks=10, dead_upstream=(2,)) as started:
        yield started


def test_a_failed_dns_layer_or_a_server_that_cannot_resolve_leaves_only_that_sites_router_alone(lab):
    down, no_upstream, healthy = lab.sites
    down.standin.stop()
    # Give up on the dead server after one retry, not the role's default of minutes.
    down.extra_vars["pihole_wait_timeout"] = 2
    lab.write_inventory()

    run = lab.run()
    assert run.rc != 0, run.summary()

    # site01: the DNS layer failed, so the router play stopped before the role (no server check ran).
    assert run.stats[down.hosts["dns_servers"]]["failures"] == 1, run.summary()
    assert not os.path.exists(down.drop_in), down.drop_in_text()
    router = down.hosts["routers"]
    tasks = [task for _play, task, host, _result in run.task_results() if host == router]
    assert any("Warn that the site's router is not changed" in task for task in tasks), tasks
    assert not any("router_dhcp_dns" in task for task in tasks), tasks
    warnings = [w for _p, _t, host, result in run.task_results() if host == router for w in result.get("warnings", [])]
    assert any("Site site01: the DNS layer failed on site01-dns" in w and "left as it was" in w for w in warnings), warnings
    assert run.stats[router]["failures"] == 0, run.summary()

    # site02: the DNS layer succeeded (records on the server), the router refused the server.
    assert run.stats[no_upstream.hosts["dns_servers"]]["failures"] == 0, run.summary()
    assert not os.path.exists(no_upstream.drop_in), no_upstream.drop_in_text()
    refused = [msg for msg in run.failed() if msg.startswith(no_upstream.hosts["routers"] + ":")]
    asked = "%s#%d" % (no_upstream.standin.host, no_upstream.standin.dns_port)
    assert refused and all("Not handing out %s" % no_upstream.dns_server in msg for msg in refused), run.summary()
    assert any("A %s from %s over udp: " % (UPSTREAM_NAME, asked) in msg for msg in refused), refused
    assert [p for p in no_upstream.problems() if "drop-in" not in p] == [], no_upstream.problems()

    # site03: every layer applied, as if the other sites were fine.
    assert healthy.problems() == [], healthy.problems()
    assert run.stats[healthy.hosts["routers"]]["changed"] > 0 and run.stats[healthy.hosts["routers"]]["failures"] == 0
