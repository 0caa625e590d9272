# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import CLOCK, DNS_QUERY, fake_dns_query

PIHOLE = 'ansible_collections.natloop.lan.plugins.module_utils._pihole'
RECORD_MODULE = 'ansible_collections.natloop.lan.plugins.module_utils._record_module'


@pytest.fixture(autouse=True)
def fake_waits(monkeypatch, tmp_path):
    """Every unit test: the Pi-hole restart wait and the write retries run on the fake clock, DNS
    questions go to the fake Pi-hole, and lock files go to a directory of the test's own."""
    monkeypatch.setattr(PIHOLE + '.monotonic', CLOCK.monotonic, raising=False)
    monkeypatch.setattr(PIHOLE + '.sleep', CLOCK.sleep, raising=False)
    monkeypatch.setattr(RECORD_MODULE + '.sleep', CLOCK.sleep, raising=False)
    monkeypatch.setattr(DNS_QUERY, fake_dns_query)
    monkeypatch.setenv('NATLOOP_LOCK_DIR', str(tmp_path / 'locks'))
    del CLOCK.sleeps[:]
    return CLOCK
