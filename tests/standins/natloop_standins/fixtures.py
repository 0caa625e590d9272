# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Support objects for the pytest fixtures in tests/conftest.py (stand-in for tests, NOT
the real AdGuard Home / Pi-hole)."""

import bcrypt

from .dnsbase import DNSListener, StaticZone
from .testclient import dns_query

STANDIN_HOST = "127.0.0.1"
ADGUARD_USER = "admin"
ADGUARD_PASSWORD = "natloop-adguard-pw"
PIHOLE_PASSWORD = "natloop-pihole-pw"


class FakeUpstream:
    """A loopback DNS server answering from a :class:`StaticZone`."""

    def __init__(self):
        self.zone = StaticZone()
        self.zone.add("upstream.natloop.test", "A", "198.51.100.80")
        self.zone.add("upstream.natloop.test", "AAAA", "2001:db8::80")
        # A name Pi-hole forwards (it never forwards .test, RFC 6761).
        self.zone.add("upstream.example.com", "A", "198.51.100.80")
        self.zone.add("ads.natloop.test", "A", "198.51.100.66")
        self.listener = DNSListener(self.zone, STANDIN_HOST, 0).start()

    @property
    def address(self):
        return "%s:%d" % (STANDIN_HOST, self.listener.port)

    def stop(self):
        self.listener.stop()


class StandinHandle:
    """What the fixtures yield; see the module docstring."""

    def __init__(self, server, clock, password, username=None, upstream=None, config_path=None, config_dir=None):
        self.server = server
        self.clock = clock
        self.password = password
        self.username = username
        self.upstream = upstream
        self.config_path = config_path
        self.config_dir = config_dir
        self.host = STANDIN_HOST

    @property
    def base_url(self):
        return self.server.base_url

    @property
    def web_port(self):
        return self.server.web_port

    @property
    def dns_port(self):
        return self.server.dns_port

    def query(self, name, rdtype="A", tcp=False):
        return dns_query(self.dns_port, name, rdtype, tcp=tcp, host=STANDIN_HOST)

    def restart(self):
        return self.server.restart()


def adguard_config(upstream, users=True, **filtering):
    """A minimal AdGuardHome.yaml (as a dict) the way a role would pre-write it."""
    conf = {
        "http": {"address": "127.0.0.1:80", "session_ttl": "720h"},
        "users": [],
        "auth_attempts": 5,
        "block_auth_min": 15,
        "dns": {"bind_hosts": ["127.0.0.1"], "port": 53, "upstream_dns": [upstream.address],
                "bootstrap_dns": ["127.0.0.1"]},
        "filtering": dict({"protection_enabled": True, "filtering_enabled": True, "rewrites_enabled": True,
                           "rewrites": []}, **filtering),
        "schema_version": 34,
    }
    if users:
        hashed = bcrypt.hashpw(ADGUARD_PASSWORD.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a")).decode()
        conf["users"] = [{"name": ADGUARD_USER, "password": hashed}]
    return conf
