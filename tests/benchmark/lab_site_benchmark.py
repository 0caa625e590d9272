# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""First run and no-op run of site.yml on the lab, deployment included.

Run from the repository root with the venv, Docker running and the lab images built
(``make images``); takes a few minutes:

    python tests/benchmark/lab_site_benchmark.py [--runs 2] [--scenario split_dns_adguard] [--pihole-cap 150]

sites_benchmark.py skips the DNS server's deployment (its stand-ins run as plain processes), so
its first run does hardly more than its no-op. Here every first run starts from a fresh lab
(lab_down, then the molecule scenario's create playbook: new containers, no DNS server yet) and
runs site.yml with the scenario's inventory, as molecule's converge does. For split_dns_adguard
that deploys the DNS server container through the role (first-run setup, waiting for it to
answer, settings, rewrites), the router's DHCP drop-in, and the verify layer's probes from the
clients. Then site.yml runs again: the no-op. The DNS server image is the lab's stand-in, already
loaded; a real first run also pulls the image.

Prints wall and CPU seconds per run and per play; figures are printed, never asserted. Takes the
lab lock (/tmp/natloop-lab.lock) like make lab-up, and leaves the lab down.

Then the start-up of the Pi-hole image the lab's Pi-hole scenarios run (natloop-peer/pihole:real,
docker-pi-hole's start scripts with the real FTL, when scripts/build-images.sh built it): on a
fresh lab with that image loaded, pihole_startup_probe.py starts it on the lab server and prints
the seconds from container start to API up and to DNS answering, for the role's container resolver
(its upstream), a restart, a resolver that refuses, and the bootstrap trap (Docker's default: the
host's resolver, which is this Pi-hole), each capped at --pihole-cap seconds.
"""

import argparse
import datetime
import fcntl
import json
import os
import platform
import resource
import subprocess
import sys
import time

import _harness as harness  # pylint: disable=import-error

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
LAB_LOCK = "/tmp/natloop-lab.lock"
NOOP_TARGET = 0.35


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PIHOLE_INVENTORY = os.path.join("molecule", "_shared", "pihole_image") + "/"


def playbook(name, scenario, json_output=False, inventories=None):
    """Run one playbook on the lab and scenario inventories: (wall s, CPU s, parsed JSON output or None)."""
    env = harness.lab_env()
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    if inventories is None:
        inventories = [os.path.join("molecule", scenario, "inventory") + "/"]
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", "inventory/lab/"]
    for inventory in inventories:
        argv += ["-i", inventory]
    argv.append(name)
    before, started = _children_cpu(), time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - started, _children_cpu() - before
    if proc.returncode != 0:
        raise SystemExit("%s failed (rc %d):\n%s\n%s" % (" ".join(argv), proc.returncode, proc.stdout[-4000:],
                                                         proc.stderr[-2000:]))
    return wall, cpu, (json.loads(proc.stdout) if json_output else None)


def _seconds(start, end):
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def per_play(data):
    """[(play name, wall s)] from the JSON callback's task durations."""
    plays = []
    for play in data["plays"]:
        tasks = play["tasks"]
        seconds = _seconds(tasks[0]["task"]["duration"]["start"], tasks[-1]["task"]["duration"]["end"]) if tasks else 0.0
        plays.append((play["play"]["name"], seconds))
    return plays


def changed_hosts(data):
    return sorted(host for host, stats in data["stats"].items() if stats["changed"])


def pihole_startup(cap):
    """Start-up of the lab's Pi-hole image on a fresh lab; prints a table. Leaves the lab up."""
    image = subprocess.run(
        [os.path.join(BIN, "ansible"), "-i", "inventory/lab/", "-i", PIHOLE_INVENTORY, "localhost", "-m",
         "ansible.builtin.debug", "-a", "msg={{ natloop_lab_pihole_image }}"],
        cwd=REPO, env=harness.lab_env(), capture_output=True, text=True, check=True).stdout
    image = image.split('"msg": "', 1)[1].split('"', 1)[0]
    print("\nPi-hole start-up, image %s in the lab server's Docker engine (each case capped at %d s):" % (image, cap))
    if not image.startswith("natloop-peer/"):
        print("skipped: the real-parts image was not built (scripts/build-images.sh says why); the stand-in starts "
              "in about a second.")
        return
    playbook("lab/lab_down.yml", None, inventories=[PIHOLE_INVENTORY])
    playbook(os.path.join("molecule", "pihole", "create.yml"), None, inventories=[PIHOLE_INVENTORY])
    with open(os.path.join(REPO, "tests", "benchmark", "pihole_startup_probe.py"), encoding="utf-8") as handle:
        probe = handle.read()
    proc = subprocess.run(["docker", "exec", "-i", "natloop-lab-server", "python3", "-", image, str(cap)],
                          input=probe, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("pihole_startup_probe.py failed (rc %d):\n%s\n%s"
                         % (proc.returncode, proc.stdout, proc.stderr[-2000:]))
    print("\n| case | API up s | DNS answering s |")
    print("|---|---|---|")
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        print("| %s | %s | %s |" % (row["case"], *[
            "%.1f" % row[key] if row[key] is not None else "> %d (not up)" % row["cap"] for key in ("api", "dns")]))
    print("Seconds from the container's State.StartedAt, polled every 0.2 s from the lab server.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=2, help="fresh labs to measure (each: first run + no-op)")
    parser.add_argument("--scenario", default="split_dns_adguard",
                        help="molecule scenario whose inventory and create playbook to use")
    parser.add_argument("--pihole-cap", type=int, default=150,
                        help="seconds to wait for each Pi-hole start-up case (0: skip the Pi-hole start-up)")
    args = parser.parse_args(argv)
    create = os.path.join("molecule", args.scenario, "create.yml")
    load = os.getloadavg()[0]
    print("natloop.lan lab benchmark: %s, %d CPUs, load %.2f at start" % (
        platform.platform(terse=True), os.cpu_count() or 0, load))
    print("one site (the lab, choices of molecule scenario %s), hosts reached with docker exec; the first run "
          "starts from fresh containers, the no-op runs the same site.yml again; verify layer included.\n"
          % args.scenario, flush=True)
    with open(LAB_LOCK, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = []
        try:
            if args.pihole_cap > 0:
                pihole_startup(args.pihole_cap)
            for run in range(1, args.runs + 1):
                playbook("lab/lab_down.yml", args.scenario)
                playbook(create, args.scenario)
                first = playbook("site.yml", args.scenario, json_output=True)
                noop = playbook("site.yml", args.scenario, json_output=True)
                rows.append((run, first, noop))
                print("run %d: first %.1f s (CPU %.1f s), no-op %.1f s (CPU %.1f s), no-op/first %.0f %%, "
                      "no-op changed: %s" % (run, first[0], first[1], noop[0], noop[1], 100 * noop[0] / first[0],
                                             changed_hosts(noop[2]) or "nothing"), flush=True)
        finally:
            playbook("lab/lab_down.yml", args.scenario)
    if not rows:
        return 0
    print("\n| play | first run s | no-op s |")
    print("|---|---|---|")
    last_first, last_noop = rows[-1][1][2], rows[-1][2][2]
    for (name, first_s), (_name, noop_s) in zip(per_play(last_first), per_play(last_noop)):
        print("| %s | %.1f | %.1f |" % (name, first_s, noop_s))
    best_ratio = min(noop[0] / first[0] for _run, first, noop in rows)
    print("\nno-op/first: best %.0f %% (target <= %.0f %%): %s" % (
        100 * best_ratio, 100 * NOOP_TARGET, "met" if best_ratio <= NOOP_TARGET else "NOT met"))
    print("Per play: wall time from the first task's start to the last task's end (last run).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
