# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pytest plugin for test runs inside the real FTL peer's ``run-isolated``: a hung FTL never hangs CI.

The real pihole-FTL v6.4.1 sometimes never comes back from one of its own restarts: its log ends at
"Restarting FTL: dnsmasq config changed", the API and DNS stay silent, and SIGTERM no longer stops
it (the peer's README, "Concurrent writers"; seen in CI on a plain sequential cnameRecords PATCH).
``run-isolated`` stops FTL with SIGTERM and waits for it, so a hung FTL used to hold the whole CI run
until its time limit. This plugin (``-p natloop_standins.isolated_ftl``):

* when a test fails and FTL has not answered its API for ``HUNG_AFTER`` seconds, kills FTL, starts
  the same binary again in the same namespaces (run-isolated's network namespace, which holds only a
  loopback interface, and its /etc overlay with the toml it wrote) and runs the test once more,
  saying so in the terminal summary. A second failure stands. A test that fails while FTL answers is
  never run again.
* at the end of the run stops FTL itself (SIGTERM, then SIGKILL after ``STOP_GRACE`` seconds), so
  run-isolated's own stop finds nothing left to wait for.

Outside run-isolated (no ``NATLOOP_REAL_PIHOLE_URL``) it does nothing.
"""

import os
import signal
import socket
import subprocess
import time

import pytest
from _pytest.runner import runtestprotocol

from natloop_standins.testclient import http_request

URL_ENV = "NATLOOP_REAL_PIHOLE_URL"
PID_FILE = "/etc/pihole/pihole-FTL.pid"   # run-isolated's toml: files.pid
HUNG_AFTER = 10.0
STOP_GRACE = 10.0


class IsolatedFTL:
    """The FTL process run-isolated started (or the one this plugin started in its place)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.revived = []        # (test id, old pid, new pid)
        self.child = None        # the FTL this plugin started, if any

    @staticmethod
    def pid():
        try:
            with open(PID_FILE, encoding="ascii") as stream:
                pid = int(stream.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self, timeout=1.0):
        """True when FTL's web server answers at all (any HTTP status)."""
        try:
            http_request("GET", self.base_url + "/api/auth", timeout=timeout)
            return True
        except OSError:
            return False

    def hung(self, patience=HUNG_AFTER):
        """True when FTL has not answered for ``patience`` seconds (a restart takes about 1 s)."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if self.answers():
                return False
            time.sleep(0.2)
        return True

    def revive(self, test_id):
        """Kill the hung FTL and start the same binary again, in this (isolated) namespace only."""
        interfaces = sorted(name for _index, name in socket.if_nameindex())
        if interfaces != ["lo"]:
            pytest.exit("refusing to start pihole-FTL outside run-isolated's namespace (interfaces %s)"
                        % interfaces, returncode=3)
        old = self.pid()
        if old is None:
            pytest.exit("the real FTL is gone (no live pid in %s): cannot start it again" % PID_FILE, returncode=3)
        binary = os.readlink("/proc/{0}/exe".format(old))
        if self.child is not None and self.child.pid == old:
            self.child.kill()
            self.child.wait()   # our own child: reap it, or FTL's "already running" check sees it
        else:
            _stop(old, grace=0)
        log = open(os.path.join(os.environ.get("NATLOOP_REAL_PIHOLE_LOG", "/tmp"), "revived-ftl.stdout"), "ab")
        with log:
            self.child = subprocess.Popen([binary, "-f"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                          start_new_session=True)
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.child.poll() is not None or time.monotonic() > deadline:
                pytest.exit("the restarted real FTL did not serve its API (exit %s)" % self.child.poll(), returncode=3)
            time.sleep(0.2)
        self.revived.append((test_id, old, self.child.pid))
        return self.child.pid

    def stop(self):
        pid = self.pid()
        if pid:
            _stop(pid, grace=STOP_GRACE)
        if self.child is not None and self.child.poll() is None:
            _stop(self.child.pid, grace=0)
        if self.child is not None:
            self.child.wait()


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as stream:
            state = stream.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _stop(pid, grace):
    """SIGTERM, then SIGKILL once ``grace`` seconds have passed; return when the process is gone.

    Gone means reaped (no /proc entry): a killed FTL's threads take a moment to exit, and a new FTL
    refuses to start while the pid in its pid file still names a pihole-FTL, zombie or not."""
    signals = ((signal.SIGKILL, 10.0),) if grace == 0 else ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0))
    for sig, wait in signals:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _alive(pid):
            break
    # Its parent (run-isolated's shell) reaps it; should that lag, an empty pid file lets FTL start.
    if os.path.exists("/proc/%d" % pid) and IsolatedFTL.pid() in (None, pid):
        with open(PID_FILE, "w", encoding="ascii"):
            pass


_FTL = None


def pytest_configure(config):
    global _FTL  # pylint: disable=global-statement
    if os.environ.get(URL_ENV):
        _FTL = IsolatedFTL(os.environ[URL_ENV])
        config.add_cleanup(_FTL.stop)


def pytest_runtest_protocol(item, nextitem):
    """Run the test; if it failed while FTL hung, bring FTL back and run it once more."""
    if _FTL is None:
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    if any(report.failed for report in reports) and _FTL.hung():
        _FTL.revive(item.nodeid)
        for report in reports:
            report.sections.append(("real FTL", "FTL hung (no API answer for %.0f s); killed, started again, "
                                    "test run once more" % HUNG_AFTER))
        item._initrequest()  # pylint: disable=protected-access  # fresh fixtures for the second run
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_terminal_summary(terminalreporter):
    if _FTL is not None and _FTL.revived:
        terminalreporter.section("real FTL hung and was started again")
        for test_id, old, new in _FTL.revived:
            terminalreporter.write_line("%s: FTL pid %s hung; killed it, started pid %s" % (test_id, old, new))
