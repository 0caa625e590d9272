# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start-up of a Pi-hole container: container start -> API up -> DNS answering (run on the lab server).

lab_site_benchmark.py pipes this file into ``docker exec -i natloop-lab-server python3 -`` after the
lab came up with the Pi-hole image loaded. Standard library only. Per case it starts the container
as natloop.lan.pihole does (published on the server's LAN address, upstream the lab router, NTP
off, the password as a secret file), then polls every 0.2 s, measured from the container's
State.StartedAt: the API (any HTTP answer from /api/auth) and DNS (any answer to pi.hole A).
Prints one JSON object per case.
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

NAME = "natloop-bench-pihole"
DATA = "/opt/natloop-bench/pihole"
ADDRESS = "192.168.11.20"
UPSTREAM = "192.168.11.1"


def docker(*args):
    return subprocess.run(("docker",) + args, check=True, capture_output=True, text=True).stdout.strip()


def started_at():
    stamp = docker("inspect", "-f", "{{.State.StartedAt}}", NAME)
    # Docker prints nanoseconds; datetime takes microseconds.
    head, _dot, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "." + (frac + "000000")[:6] + "+00:00").timestamp()


def dns_answers():
    query = struct.pack(">HHHHHH", 0x4e4c, 0x0100, 1, 0, 0, 0) + b"\x02pi\x04hole\x00" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.sendto(query, (ADDRESS, 53))
            return sock.recv(512)[:2] == b"\x4e\x4c"
        except OSError:
            return False


def api_answers():
    try:
        urllib.request.urlopen("http://%s/api/auth" % ADDRESS, timeout=0.5)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def poll(cap):
    start, api, dns = started_at(), None, None
    while time.time() - start < cap and (api is None or dns is None):
        if api is None and api_answers():
            api = time.time() - start
        if dns is None and dns_answers():
            dns = time.time() - start
        time.sleep(0.2)
    return api, dns


def run(image, dns, fresh=True):
    subprocess.run(["docker", "rm", "-f", NAME], capture_output=True, check=False)
    if fresh:
        shutil.rmtree(os.path.dirname(DATA), ignore_errors=True)
    os.makedirs(DATA + "/etc-pihole", exist_ok=True)
    with open(DATA + "/webpassword", "w", encoding="utf-8") as handle:
        handle.write("natloop-bench")
    argv = ["run", "-d", "--name", NAME,
            "-p", ADDRESS + ":53:53/udp", "-p", ADDRESS + ":53:53/tcp", "-p", ADDRESS + ":80:80/tcp",
            "-e", "FTLCONF_dns_upstreams=" + UPSTREAM, "-e", "FTLCONF_dns_listeningMode=ALL",
            "-e", "FTLCONF_ntp_ipv4_active=false", "-e", "FTLCONF_ntp_ipv6_active=false",
            "-e", "FTLCONF_ntp_sync_active=false", "-e", "WEBPASSWORD_FILE=pihole_webpassword",
            "-v", DATA + "/etc-pihole:/etc/pihole",
            "-v", DATA + "/webpassword:/run/secrets/pihole_webpassword:ro"]
    if dns:
        argv += ["--dns", dns]
    docker(*(argv + [image]))


def main():
    image, cap = sys.argv[1], float(sys.argv[2])
    cases = [
        ("first start, container resolver = its upstream (the role's default)", UPSTREAM, True),
        ("restart of that container (gravity database present)", None, None),
        ("first start, container resolver = loopback (refused until FTL runs)", "127.0.0.1", True),
        # What Docker hands out by default on a host that resolves through its own Pi-hole (the lab
        # server's engine has the lab router as its default, so it is given explicitly).
        ("first start, container resolver = this Pi-hole (the host's resolver)", ADDRESS, True),
    ]
    try:
        for label, dns, fresh in cases:
            if fresh is None:
                docker("restart", NAME)
            else:
                run(image, dns, fresh)
            api, answer = poll(cap)
            print(json.dumps({"case": label, "api": api, "dns": answer, "cap": cap}), flush=True)
    finally:
        subprocess.run(["docker", "rm", "-f", NAME], capture_output=True, check=False)
        shutil.rmtree(os.path.dirname(DATA), ignore_errors=True)


if __name__ == "__main__":
    main()
