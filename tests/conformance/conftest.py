# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two tiers for the Pi-hole conformance tests: the stand-in, and the real pihole-FTL v6.4.1.

A test that takes the ``pihole`` fixture runs against every tier present:

* ``[standin]``: a fresh in-process stand-in per test (tests/standins, NOT the real Pi-hole);
* ``[real]``: the real FTL, when the tests run inside
  ``../shared/peers/pihole-ftl/run-isolated`` (``make conformance-real``), which sets
  ``NATLOOP_REAL_PIHOLE_URL``, ``_PASSWORD`` and ``_DNS``. One FTL serves the whole run, so
  every test starts from a reset FTL (no records, no CNAMEs, no dnsmasq lines, blocking
  on, empty domain lists, no other sessions). When the peer is absent, ``make
  conformance-real`` sets ``NATLOOP_REAL_PIHOLE_PEER_MISSING`` and every ``[real]`` test is
  skipped with a message saying so.

Tests that need what only the stand-in can do (a fake clock, another FTL configuration,
fault injection) take ``pihole_standin`` and say why in their docstring.
"""

import itertools
import os
import sqlite3
import time
import urllib.parse

import dns.exception
import pytest

from natloop_standins.fixtures import FakeUpstream
from natloop_standins.testclient import dns_query, http_request

REAL_URL_ENV = "NATLOOP_REAL_PIHOLE_URL"
PEER_MISSING_ENV = "NATLOOP_REAL_PIHOLE_PEER_MISSING"
#: gravity.db schema of Pi-hole core (read at run time from the real-parts image's peer; never copied here).
GRAVITY_SCHEMA_ENV = "NATLOOP_PIHOLE_GRAVITY_SCHEMA"
DEFAULT_GRAVITY_SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "peers", "pihole-image",
                                      "upstream", "pi-hole", "advanced", "Templates", "gravity.db.sql")
_COUNTER = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "real_ftl: runs against the real pihole-FTL inside run-isolated")


def pytest_generate_tests(metafunc):
    if "pihole" not in metafunc.fixturenames:
        return
    params = [pytest.param("standin", id="standin")]
    if os.environ.get(REAL_URL_ENV) or os.environ.get(PEER_MISSING_ENV):
        params.append(pytest.param("real", id="real", marks=pytest.mark.real_ftl))
    metafunc.parametrize("pihole", params, indirect=True)


class PiholeTarget:
    """What a conformance test talks to: HTTP API, DNS, the upstream it forwards to."""

    def __init__(self, kind, base_url, password, dns_host, dns_port, upstream, config_dir, server=None, clock=None):
        self.kind = kind
        self.base_url = base_url
        self.password = password
        self.dns_host = dns_host
        self.dns_port = dns_port
        self.upstream = upstream
        self.config_dir = config_dir
        self.server = server  # the stand-in object, None for the real FTL
        self.clock = clock
        self.sids = []

    @property
    def real(self):
        return self.kind == "real"

    def label(self, stem):
        """A name no earlier test used (the real FTL caches upstream answers for the whole run)."""
        return "%s%d" % (stem, next(_COUNTER))

    def api(self, method, path, json_body=None, sid=None, headers=None, body=None, timeout=5):
        headers = dict(headers or {})
        if sid:
            headers["X-FTL-SID"] = sid
        return http_request(method, self.base_url + path, body=body, headers=headers, json_body=json_body,
                            timeout=timeout)

    def login(self, password=None, **extra):
        reply = http_request("POST", self.base_url + "/api/auth",
                             json_body=dict({"password": password or self.password}, **extra))
        assert reply.status == 200, reply
        session = reply.json()["session"]
        if session.get("sid"):
            self.sids.append(session["sid"])
        return session

    def logout_all(self):
        for sid in self.sids:
            try:
                self.api("DELETE", "/api/auth", sid=sid, timeout=2)
            except OSError:
                pass
        self.sids = []

    def query(self, name, rdtype="A", tcp=False, timeout=3):
        return dns_query(self.dns_port, name, rdtype, tcp=tcp, host=self.dns_host, timeout=timeout)

    def advance(self, seconds):
        """Let time pass: the stand-in's fake clock, or real waiting on the real FTL."""
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds)

    def wait_answer(self, name, expected, rdtype="A", timeout=5.0):
        """Poll until the A (AAAA) addresses of ``name`` are ``expected``; the last ones seen.

        The real FTL applies domain-list changes asynchronously (measured: 2-140 ms)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = sorted(value for rrset in self.query(name, rdtype).answer for value in
                          (rdata.to_text() for rdata in rrset))
            if seen == expected or time.monotonic() > deadline:
                return seen
            time.sleep(0.02)

    def dns_answers(self, timeout=0.2):
        try:
            self.query("pi.hole", timeout=timeout)
            return True
        except (dns.exception.DNSException, OSError):
            return False

    def api_answers(self, timeout=0.5):
        try:
            http_request("GET", self.base_url + "/api/auth", timeout=timeout)
            return True
        except OSError:
            return False

    def wait_restarted(self, timeout=15.0):
        """After a reply that restarts FTL: wait until the new process serves the API and DNS."""
        if self.server is not None:
            assert self.server.wait_ready(timeout)
        else:
            # The old process stops DNS within about 50 ms of its reply (measured): see the gap first.
            gap_deadline = time.monotonic() + 2.0
            while time.monotonic() < gap_deadline and self.dns_answers(timeout=0.05):
                time.sleep(0.01)
        deadline = time.monotonic() + timeout
        while not (self.api_answers() and self.dns_answers()):
            assert time.monotonic() < deadline, "FTL did not come back within %s s" % timeout
            time.sleep(0.02)


class RealFTL:
    """The run's one real FTL: an upstream it forwards to, gravity.db on demand, resets."""

    def __init__(self):
        self.base_url = os.environ[REAL_URL_ENV]
        self.password = os.environ["NATLOOP_REAL_PIHOLE_PASSWORD"]
        host, _sep, port = os.environ["NATLOOP_REAL_PIHOLE_DNS"].rpartition(":")
        self.dns_host, self.dns_port = host, int(port)
        self.upstream = FakeUpstream()
        self.gravity_ready = None
        target = self.target()
        sid = target.login()["sid"]
        reply = target.api("PATCH", "/api/config",
                           {"config": {"dns": {"upstreams": [self.upstream.address.replace(":", "#")]}}}, sid=sid)
        assert reply.status == 200, reply
        target.wait_restarted()
        target.logout_all()

    def target(self):
        return PiholeTarget("real", self.base_url, self.password, self.dns_host, self.dns_port, self.upstream,
                            "/etc/pihole")

    def ensure_gravity_db(self, target, sid):
        """FTL needs gravity.db for /api/domains; run-isolated has none. Create it from Pi-hole
        core's schema (what gravity.sh does) and let FTL reopen it."""
        if self.gravity_ready is None:
            schema = os.environ.get(GRAVITY_SCHEMA_ENV, DEFAULT_GRAVITY_SCHEMA)
            if not os.path.exists(schema):
                self.gravity_ready = "no gravity.db schema at %s (set %s)" % (schema, GRAVITY_SCHEMA_ENV)
            else:
                path = os.path.join(target.config_dir, "gravity.db")
                if not os.path.exists(path):
                    with open(schema, encoding="utf-8") as stream:
                        connection = sqlite3.connect(path)
                        connection.executescript(stream.read())
                        connection.commit()
                        connection.close()
                    assert target.api("POST", "/api/action/restartdns", sid=sid).status == 200
                    target.wait_restarted()
                # FTL opens gravity.db a moment after it serves again (about 1.2 s after restartdns).
                deadline = time.monotonic() + 15
                while target.api("GET", "/api/domains", sid=target.login()["sid"]).status != 200:
                    assert time.monotonic() < deadline, "the real FTL did not open %s" % path
                    time.sleep(0.05)
                self.gravity_ready = True
        if self.gravity_ready is not True:
            pytest.skip("real FTL: /api/domains needs gravity.db: " + self.gravity_ready)

    def reset(self, target):
        """Back to the state every test starts from; restarts FTL only if a restart item is set.

        A request that reaches the old process while it shuts down its web server (a restart
        the previous test caused) may hang: then wait for the new process and try again."""
        for attempt in range(3):
            try:
                return self._reset(target)
            except OSError:
                if attempt == 2:
                    raise
                target.logout_all()
                target.wait_restarted()
        return None

    def _reset(self, target):
        sid = target.login()["sid"]
        try:
            for other in target.api("GET", "/api/auth/sessions", sid=sid).json()["sessions"]:
                if not other["current_session"]:
                    target.api("DELETE", "/api/auth/session/%d" % other["id"], sid=sid)
            conf = target.api("GET", "/api/config", sid=sid).json()["config"]
            patch = {}
            if conf["dns"]["hosts"]:
                patch.setdefault("dns", {})["hosts"] = []
            if conf["dns"]["cnameRecords"]:
                patch.setdefault("dns", {})["cnameRecords"] = []
            if conf["misc"]["dnsmasq_lines"]:
                patch["misc"] = {"dnsmasq_lines": []}
            if patch:
                assert target.api("PATCH", "/api/config", {"config": patch}, sid=sid).status == 200
                if "cnameRecords" in patch.get("dns", {}) or "misc" in patch:
                    target.wait_restarted()
            target.api("POST", "/api/dns/blocking", {"blocking": True}, sid=sid)
            domains = target.api("GET", "/api/domains", sid=sid)
            if self.gravity_ready is True and domains.status == 200:
                for row in domains.json()["domains"]:
                    path = "/api/domains/%s/%s/%s" % (row["type"], row["kind"], urllib.parse.quote(row["domain"], safe=""))
                    target.api("DELETE", path, sid=sid)
        finally:
            target.logout_all()
        self.upstream.zone.queries.clear()


@pytest.fixture(scope="session")
def real_ftl():
    if os.environ.get(PEER_MISSING_ENV):
        pytest.skip("real FTL tier skipped: the peer %s is absent" % os.environ[PEER_MISSING_ENV])
    ftl = RealFTL()
    yield ftl
    ftl.upstream.stop()


@pytest.fixture
def pihole(request, pihole_standin_factory):
    """The Pi-hole under test: ``[standin]`` or ``[real]`` (see the module docstring)."""
    if request.param == "standin":
        handle = pihole_standin_factory()
        target = PiholeTarget("standin", handle.base_url, handle.password, handle.host, handle.dns_port,
                              handle.upstream, handle.config_dir, server=handle.server, clock=handle.clock)
        yield target
        target.logout_all()
        return
    ftl = request.getfixturevalue("real_ftl")
    target = ftl.target()
    ftl.reset(target)
    yield target
    target.logout_all()


@pytest.fixture
def session(pihole):
    """A logged-in SID on the Pi-hole under test (logged out at the end)."""
    return pihole.login()["sid"]


@pytest.fixture
def gravity(request, pihole, session):
    """Domain lists usable: on the real FTL, gravity.db is created once if missing."""
    if pihole.real:
        request.getfixturevalue("real_ftl").ensure_gravity_db(pihole, session)
    return pihole
