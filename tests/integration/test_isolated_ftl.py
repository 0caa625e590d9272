# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guard that keeps a hung real FTL from hanging CI (natloop_standins.isolated_ftl), on the real FTL.

FTL v6.4.1 sometimes never comes back from a restart and then ignores SIGTERM (the peer's README,
"Concurrent writers"; a CI run lost 80 minutes to it). A stopped process (SIGSTOP) behaves the same way
from outside: no API, no DNS, SIGTERM not acted upon. Runs only inside run-isolated
(``make integration-real-ftl``)."""

import os
import signal

import pytest
from natloop_standins import isolated_ftl
from natloop_standins.testclient import dns_query, http_request

REAL_URL = os.environ.get('NATLOOP_REAL_PIHOLE_URL')
real_ftl = pytest.mark.skipif(not REAL_URL, reason='the real Pi-hole FTL is not available: runs only inside '
                                                   '../shared/peers/pihole-ftl/run-isolated (make integration-real-ftl)')


@real_ftl
def test_a_hung_ftl_is_killed_and_started_again_real_ftl():
    ftl = isolated_ftl._FTL  # pylint: disable=protected-access  # the plugin's own, so the run's end stops it
    assert ftl is not None and ftl.answers(), 'the plugin is not active or FTL does not answer'
    old = ftl.pid()
    os.kill(old, signal.SIGSTOP)
    try:
        assert ftl.hung(patience=3)
        ftl.revive('test_a_hung_ftl_is_killed_and_started_again_real_ftl')
    finally:
        if isolated_ftl._alive(old):  # pylint: disable=protected-access
            os.kill(old, signal.SIGCONT)
    new = ftl.pid()
    assert new and new != old and not isolated_ftl._alive(old)  # pylint: disable=protected-access
    # The new FTL is the old one's configuration: same password, same DNS port.
    login = http_request('POST', REAL_URL + '/api/auth', json_body={'password': os.environ['NATLOOP_REAL_PIHOLE_PASSWORD']})
    assert login.status == 200, login
    http_request('DELETE', REAL_URL + '/api/auth', headers={'X-FTL-SID': login.json()['session']['sid']})
    host, port = os.environ['NATLOOP_REAL_PIHOLE_DNS'].rsplit(':', 1)
    assert dns_query(int(port), 'pi.hole', host=host, timeout=2).answer


_PIDS_SEEN = []


@real_ftl
def test_a_test_that_failed_while_ftl_hung_runs_once_more_on_a_new_ftl_real_ftl():
    """The plugin's hook: the first run stops FTL and fails; the hook finds FTL silent for HUNG_AFTER
    seconds, starts it again and runs this test a second time, which must then see a new FTL."""
    _PIDS_SEEN.append(isolated_ftl.IsolatedFTL.pid())
    if len(_PIDS_SEEN) == 1:
        os.kill(_PIDS_SEEN[0], signal.SIGSTOP)
        pytest.fail('first run: FTL stopped on purpose (the hook must run this test again)')
    assert len(_PIDS_SEEN) == 2 and _PIDS_SEEN[1] != _PIDS_SEEN[0], _PIDS_SEEN
    assert isolated_ftl._FTL.answers()  # pylint: disable=protected-access
