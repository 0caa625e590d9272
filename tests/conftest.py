# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pytest fixtures for the AdGuard Home and Pi-hole stand-ins (tests/standins: stand-ins
for tests, NOT the real servers).

Every fixture gives a fresh server on 127.0.0.1 with ephemeral HTTP and DNS ports and a
frozen fake clock. The servers forward unknown names to ``upstream_dns``, a fake
upstream that knows ``upstream.natloop.test`` and ``upstream.example.com`` (A 198.51.100.80;
Pi-hole never forwards ``.test``) and
``ads.natloop.test`` (A 198.51.100.66); add records with
``upstream_dns.zone.add(name, "A", ip)``.

``adguard_standin`` -> :class:`StandinHandle` of a configured AdGuard Home stand-in
(user ``admin`` / ``handle.password``); ``pihole_standin`` -> handle of a Pi-hole
stand-in (password ``handle.password``; after a reply that restarts FTL, its DNS stops at once,
its API 0.3 s later, and both answer again ``restart_seconds`` = 0.3 s after that).
Variants: ``adguard_standin_factory(config=None | dict, users=True, first_run=False,
emulate_version=...)`` and ``pihole_standin_factory(env={...}, toml=None | str,
password=... | None)``.

Handle API (small on purpose):

* ``base_url``, ``web_port``, ``dns_port`` (read them again after a restart or an
  AdGuard port move), ``host`` (``"127.0.0.1"``)
* ``username`` / ``password`` (AdGuard user, Pi-hole web password)
* ``clock``: :class:`natloop_standins.clock.FakeClock`, ``clock.advance(seconds)``
* ``server``: the stand-in object for state checks (``server.rewrites``, ``server.conf``
  for AdGuard; ``server.value("dns.hosts")``, ``server.sessions()`` for Pi-hole)
* ``config_path`` (AdGuardHome.yaml) / ``config_dir`` (/etc/pihole equivalent)
* ``query(name, rdtype="A", tcp=False)``: a real DNS query to the stand-in
* ``restart()``: simulate a process restart
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "standins"))

# pylint: disable=wrong-import-position
from natloop_standins.adguard import AdGuardStandin  # noqa: E402
from natloop_standins.clock import FakeClock  # noqa: E402
from natloop_standins.fixtures import (  # noqa: E402
    ADGUARD_PASSWORD, ADGUARD_USER, PIHOLE_PASSWORD, STANDIN_HOST, FakeUpstream, StandinHandle, adguard_config)
from natloop_standins.persist import atomic_write, dump_yaml  # noqa: E402
from natloop_standins.pihole import PiholeStandin  # noqa: E402
from natloop_standins import isolated_ftl  # noqa: E402


def pytest_configure(config):
    # Inside the real FTL peer's run-isolated: a hung FTL is started again, never waited on forever.
    config.pluginmanager.register(isolated_ftl, "natloop-isolated-ftl")


@pytest.fixture
def upstream_dns():
    """Fake upstream DNS server the stand-ins forward to (loopback, ephemeral port)."""
    upstream = FakeUpstream()
    yield upstream
    upstream.stop()


@pytest.fixture
def adguard_standin_factory(tmp_path, upstream_dns):
    """Build AdGuard stand-ins: ``factory(config=None, users=True, first_run=False, emulate_version=None)``."""
    started = []

    def factory(config=None, users=True, first_run=False, emulate_version=None, env=None, start=True):
        work_dir = tmp_path / ("adguard%d" % len(started))
        conf_path = work_dir / "conf" / "AdGuardHome.yaml"
        if not first_run:
            atomic_write(str(conf_path), dump_yaml(config if config is not None else adguard_config(upstream_dns, users)))
        clock = FakeClock()
        kwargs = {"emulate_version": emulate_version} if emulate_version else {}
        server = AdGuardStandin(str(conf_path), str(work_dir / "work"), listen_host=STANDIN_HOST, web_port=0,
                                dns_port=0, clock=clock, upstream_timeout=0.5, env=env or {}, **kwargs)
        started.append(server)
        if start:
            server.start()
        return StandinHandle(server, clock, ADGUARD_PASSWORD, ADGUARD_USER, upstream_dns, config_path=str(conf_path))

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def adguard_standin(adguard_standin_factory):
    """A configured AdGuard Home stand-in with one user (see the module docstring)."""
    return adguard_standin_factory()


@pytest.fixture
def pihole_standin_factory(tmp_path, upstream_dns):
    """Build Pi-hole stand-ins: ``factory(env=None, toml=None, password=PIHOLE_PASSWORD)``.

    ``env`` is the container environment (merged over the defaults: web password and
    ``FTLCONF_dns_upstreams`` pointing at ``upstream_dns``); ``password=None`` leaves
    ``FTLCONF_webserver_api_password`` unset; ``toml`` pre-writes pihole.toml.
    """
    started = []

    def factory(env=None, toml=None, password=PIHOLE_PASSWORD, restart_seconds=0.3, start=True, secrets_dir=None):
        config_dir = tmp_path / ("pihole%d" % len(started))
        config_dir.mkdir()
        if toml is not None:
            (config_dir / "pihole.toml").write_text(toml, encoding="utf-8")
        full_env = {"FTLCONF_dns_upstreams": upstream_dns.address.replace(":", "#")}
        if password is not None:
            full_env["FTLCONF_webserver_api_password"] = password
        full_env.update(env or {})
        clock = FakeClock()
        server = PiholeStandin(str(config_dir), env=full_env, listen_host=STANDIN_HOST, web_port=0, dns_port=0,
                               clock=clock, restart_seconds=restart_seconds, upstream_timeout=0.5,
                               secrets_dir=secrets_dir or str(tmp_path / "secrets"))
        started.append(server)
        if start:
            server.start()
        return StandinHandle(server, clock, password, upstream=upstream_dns, config_dir=str(config_dir))

    yield factory
    for server in started:
        server.wait_ready(5)
        server.stop()


@pytest.fixture
def pihole_standin(pihole_standin_factory):
    """A Pi-hole v6 stand-in with a web password (see the module docstring)."""
    return pihole_standin_factory()
