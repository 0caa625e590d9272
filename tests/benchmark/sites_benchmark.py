# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall time of site.yml against the number of sites: first run and no-op run.

Run from the repository root with the venv (several minutes):

    python tests/benchmark/sites_benchmark.py [--sites 5,10,20,40] [--forks 10] [--fact-cache]

For each size it builds the sites of tests/sites/sites_harness.py (a stand-in DNS server process
per site, every host the controller, verify layer skipped), times the first run and a second,
no-op run, and checks that both converged (the state is read back from the servers and files).
With --fact-cache the runs keep their facts in a jsonfile cache, as many-site users do: the no-op
then skips the roles' fact gathering.
Prints one table; the figures are printed, never asserted.

Targets (issue 6): the no-op run takes at most 35 % of the first run, and at forks >= 10 the time
grows less than linearly with the number of sites (log-log slope below 1).
"""

import argparse
import math
import os
import platform
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sites"))

# pylint: disable=wrong-import-position
from sites_harness import SitesLab  # noqa: E402

NOOP_TARGET = 0.35


class Measurement:
    def __init__(self, sites, hosts, forks, first, noop, noop_changed):
        self.sites = sites
        self.hosts = hosts
        self.forks = forks
        self.first = first.seconds
        self.noop = noop.seconds
        self.first_cpu = first.cpu_seconds
        self.noop_cpu = noop.cpu_seconds
        self.noop_changed = noop_changed
        # Other work on the machine inflates the figures: show how busy it was.
        self.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    @property
    def ratio(self):
        return self.noop / self.first

    def row(self):
        note = "" if not self.noop_changed else " (no-op run changed %d hosts!)" % self.noop_changed
        return "| %5d | %5d | %5d | %11.1f | %7.1f | %11.0f %% | %10.2f | %11.0f | %11.0f | %7.1f |%s" % (
            self.sites, self.hosts, self.forks, self.first, self.noop, 100 * self.ratio, self.first / self.sites,
            self.first_cpu, self.noop_cpu, self.load, note)


def measure(count, forks, fact_cache=False):
    """Converge ``count`` fresh sites, then run again; fail loudly if either run is wrong."""
    with tempfile.TemporaryDirectory(prefix="natloop-sites-") as root:
        with SitesLab(root, count, forks=forks, fact_cache=fact_cache) as lab:
            first = lab.run()
            if first.rc != 0:
                raise SystemExit("first run with %d sites failed:\n%s" % (count, first.summary()))
            problems = lab.problems()
            if problems:
                raise SystemExit("first run with %d sites did not converge: %s" % (count, problems[:10]))
            noop = lab.run()
            if noop.rc != 0:
                raise SystemExit("no-op run with %d sites failed:\n%s" % (count, noop.summary()))
            changed = sum(1 for stats in noop.stats.values() if stats["changed"])
            return Measurement(count, lab.host_count, forks, first, noop, changed)


def slope(points):
    """Least-squares slope of log(time) over log(sites): 1 is linear, below 1 sublinear."""
    xs = [math.log(x) for x, _y in points]
    ys = [math.log(y) for _x, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread if spread else float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sites", default="5,10,20,40", help="comma-separated numbers of sites")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--fact-cache", action="store_true",
                        help="keep facts in a jsonfile fact cache between the two runs")
    args = parser.parse_args(argv)
    sizes = [int(value) for value in args.sites.split(",") if value.strip()]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print("natloop.lan many-sites benchmark: %s, %d CPUs, load %.2f at start, Python %s" % (
        platform.platform(terse=True), os.cpu_count() or 0, load, platform.python_version()))
    print("3 hosts per site (DNS server, router, client), all local; layers: preflight, DNS records "
          "(stand-ins), router DHCP (dnsmasq drop-in), hosts entries; verify skipped; fact cache: %s.\n"
          % ("jsonfile" if args.fact_cache else "none"), flush=True)
    header = ("| sites | hosts | forks | first run s | no-op s | no-op/first % | s per site "
              "| first CPU s | no-op CPU s | load 1m |")
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|", flush=True)
    results = []
    for count in sizes:
        result = measure(count, args.forks, args.fact_cache)
        results.append(result)
        print(result.row(), flush=True)

    print()
    worst = max(results, key=lambda result: result.ratio)
    print("no-op/first: worst %.0f %% at %d sites (target <= %.0f %%): %s" % (
        100 * worst.ratio, worst.sites, 100 * NOOP_TARGET, "met" if worst.ratio <= NOOP_TARGET else "NOT met"))
    if len(results) > 1:
        low, high = results[0], results[-1]
        for name, pick in (("first run", lambda r: r.first), ("no-op run", lambda r: r.noop)):
            value = slope([(result.sites, pick(result)) for result in results])
            verdict = "less than linear" if value <= 0.9 else ("about linear" if value < 1.1 else "MORE than linear")
            print("%s: x%.1f sites -> x%.1f time; time ~ sites^%.2f: %s" % (
                name, high.sites / low.sites, pick(high) / pick(low), value, verdict))
    print("CPU s: user+system seconds of ansible-playbook and all it ran; unlike wall time it hardly depends on "
          "other work on the machine. Wall time on an otherwise idle machine is at least CPU s / CPUs.")
    print("load 1m: the machine's load average after each size; above the number of CPUs, other work "
          "inflated the wall times.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
