# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How long LAN clients get no DNS answer while the DNS-server role recreates its container.

Run from the repository root with the venv, Docker running and the lab images built
(``make images``); takes a few minutes:

    python tests/benchmark/dns_gap_benchmark.py [--runs 3] [--scenario split_dns_adguard]

Brings up a fresh lab and converges site.yml with the scenario's inventory (the split-DNS server
runs in a container on the lab server, DHCP hands it out). Then, per run, a LAN client
(natloop-lab-client) asks the split-DNS server for the published name every 50 ms (UDP, 200 ms
timeout, the collection's own probe, natloop_dns_probe.py), while site.yml's DNS layer runs with
a setting that forces the container to be recreated (one more log file kept: Docker cannot change
the log configuration of a running container). Prints, per run, the longest stretch without an
answer (from the last answer before it to the first answer after it), the queries lost, and the
DNS layer's wall time. Figures are printed, never asserted. Takes the lab lock
(/tmp/natloop-lab.lock), builds or retags the lab images inside it (scripts/build-images.sh), and
leaves the lab down.

The server is the project's stand-in image, not the real AdGuard Home or Pi-hole: their start-up
time differs, the container steps (stop, remove, create, start) are the same.
"""

import argparse
import fcntl
import json
import os
import platform
import subprocess
import sys
import time

import _harness as harness  # pylint: disable=import-error

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
LAB_LOCK = "/tmp/natloop-lab.lock"
CLIENT = "natloop-lab-client"
PROBE = os.path.join(REPO, "roles", "_dns_server", "files", "natloop_dns_probe.py")
STOP_FILE = "/tmp/natloop-gap-stop"
# Runs in the client container: one line "time ok" per question, until STOP_FILE exists.
ASKER = """
import os, sys, time
sys.path.insert(0, '/tmp')
import natloop_dns_probe as probe
server, name, stop = sys.argv[1], sys.argv[2], sys.argv[3]
deadline = time.time() + 300
while not os.path.exists(stop) and time.time() < deadline:
    started = time.time()
    try:
        reply = probe.ask(server, 53, name, 'A', 'udp', 0.2)
        ok = reply['rcode'] == 'NOERROR' and bool(reply['records'])
    except probe.ProbeError:
        ok = False
    print('%.3f %d' % (started, ok), flush=True)
    time.sleep(max(0.0, 0.05 - (time.time() - started)))
"""


def playbook(name, scenario, *extra):
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", "inventory/lab/",
            "-i", os.path.join("molecule", scenario, "inventory") + "/", name] + list(extra)
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=harness.lab_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("%s failed (rc %d):\n%s\n%s" % (" ".join(argv), proc.returncode, proc.stdout[-4000:],
                                                         proc.stderr[-2000:]))
    return time.monotonic() - started, proc.stdout


def longest_gap(lines):
    """(seconds from the last answer before the longest failing stretch to the first after it, lost)."""
    samples = [(float(t), ok == "1") for t, ok in (line.split() for line in lines if line.strip())]
    best, lost, last_ok, failed = 0.0, 0, None, 0
    for stamp, ok in samples:
        if ok:
            if failed and last_ok is not None and stamp - last_ok > best:
                best, lost = stamp - last_ok, failed
            last_ok, failed = stamp, 0
        else:
            failed += 1
    if failed and last_ok is not None and samples[-1][0] - last_ok > best:
        best, lost = samples[-1][0] - last_ok, failed   # no answer again before the end
    return best, lost, len(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3, help="container recreations to measure")
    parser.add_argument("--scenario", default="split_dns_adguard",
                        help="molecule scenario whose inventory and create playbook to use")
    args = parser.parse_args(argv)
    provider = "pihole" if "pihole" in args.scenario else "adguard_home"
    print("natloop.lan DNS gap benchmark: %s, %d CPUs, load %.2f at start" % (
        platform.platform(terse=True), os.cpu_count() or 0, os.getloadavg()[0]))
    print("scenario %s: the DNS layer recreates the %s container while a LAN client asks every 50 ms\n"
          % (args.scenario, provider), flush=True)
    with open(LAB_LOCK, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # The :lab image tags are shared between checkouts: tag this checkout's images, inside the lock.
        subprocess.run([os.path.join(REPO, "scripts", "build-images.sh")], cwd=REPO, env=harness.lab_env(), check=True,
                       stdout=subprocess.DEVNULL)
        try:
            playbook("lab/lab_down.yml", args.scenario)
            playbook(os.path.join("molecule", args.scenario, "create.yml"), args.scenario)
            playbook("site.yml", args.scenario, "--skip-tags", "verify")
            subprocess.run(["docker", "cp", PROBE, CLIENT + ":/tmp/natloop_dns_probe.py"], check=True)
            for run in range(1, args.runs + 1):
                subprocess.run(["docker", "exec", CLIENT, "rm", "-f", STOP_FILE], check=True)
                asker = subprocess.Popen(
                    ["docker", "exec", CLIENT, "python3", "-c", ASKER, "192.168.11.20", "rustdesk.example.com", STOP_FILE],
                    stdout=subprocess.PIPE, text=True)
                time.sleep(1.0)
                # Alternate the setting so that every run changes the container.
                seconds, _out = playbook("site.yml", args.scenario, "--tags", "dns_server", "--extra-vars",
                                         json.dumps({provider + "_log_max_files": 4 + run % 2}))
                time.sleep(1.0)
                subprocess.run(["docker", "exec", CLIENT, "touch", STOP_FILE], check=True)
                lines = asker.communicate(timeout=30)[0].splitlines()
                gap, lost, asked = longest_gap(lines)
                print("run %d: longest time without an answer %.2f s (%d of %d questions lost); DNS layer %.1f s"
                      % (run, gap, lost, asked, seconds), flush=True)
        finally:
            playbook("lab/lab_down.yml", args.scenario)
    return 0


if __name__ == "__main__":
    sys.exit(main())
