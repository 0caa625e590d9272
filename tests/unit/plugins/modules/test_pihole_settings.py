# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.natloop.lan.plugins.modules import pihole_settings
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import FakePihole

CONN = {'url': 'http://pihole.test', 'password': 'secret'}
LOGIN = 'POST /api/auth'
LOGOUT = 'DELETE /api/auth'
GET = 'GET /api/dns/blocking'
SET = 'POST /api/dns/blocking'


def args(blocking, **more):
    result = dict(CONN, blocking=blocking)
    result.update(more)
    return result


def set_bodies(server):
    return [r.json() for r in server.requests if r.method == 'POST' and r.path == '/api/dns/blocking']


def comparable(result):
    return dict((key, result.get(key)) for key in ('changed', 'changes', 'settings', 'diff'))


@pytest.mark.parametrize('state', ['enabled', 'disabled'])
def test_no_op_reads_once_writes_nothing_and_logs_out(run, state):
    server = FakePihole(blocking=state)
    server.read_only = True
    result = run(pihole_settings, server, args(state == 'enabled'))
    assert result['rc'] == 0 and result['changed'] is False
    assert result['changes'] == [] and result['settings'] == {'blocking': state == 'enabled'}
    assert server.calls() == [LOGIN, GET, LOGOUT]
    assert server.sessions == {} and server.logins == 1


@pytest.mark.parametrize('wanted', [False, True])
def test_blocking_is_switched_on_one_session_and_verified(run, wanted):
    server = FakePihole(blocking='disabled' if wanted else 'enabled')
    result = run(pihole_settings, server, args(wanted))
    assert result['changed'] is True
    assert result['changes'] == [{'setting': 'blocking', 'before': not wanted, 'after': wanted}]
    assert result['settings'] == {'blocking': wanted}
    assert server.calls() == [LOGIN, GET, SET, GET, LOGOUT]
    # timer null: permanent.
    assert set_bodies(server) == [{'blocking': wanted, 'timer': None}]
    assert (server.blocking, server.blocking_timer) == ('enabled' if wanted else 'disabled', None)
    assert server.sessions == {} and server.logins == 1
    # The SID travels in the header, never in a cookie.
    sid_requests = server.requests[1:-1]
    assert all(r.headers.get('x-ftl-sid', '').startswith('sid') for r in sid_requests)


@pytest.mark.parametrize('state, timer, wanted, before', [
    ('disabled', 290.7, False, 'disabled for 290 more seconds'),   # a timed pause, kept off for good
    ('disabled', 290.7, True, 'disabled for 290 more seconds'),    # a timed pause, ended now
    ('enabled', 30.0, True, 'enabled for 30 more seconds'),        # blocking a timer will switch off
])
def test_a_timer_is_reported_as_a_string_and_made_permanent(run, state, timer, wanted, before):
    server = FakePihole(blocking=state, blocking_timer=timer)
    result = run(pihole_settings, server, args(wanted))
    assert result['changed'] is True
    assert result['changes'] == [{'setting': 'blocking', 'before': before, 'after': wanted}]
    assert set_bodies(server) == [{'blocking': wanted, 'timer': None}]
    assert (server.blocking, server.blocking_timer) == ('enabled' if wanted else 'disabled', None)
    server.read_only = True
    assert run(pihole_settings, server, args(wanted))['changed'] is False


@pytest.mark.parametrize('case', ['off', 'on', 'pause-off', 'pause-on'])
def test_check_mode_writes_nothing_and_predicts_the_real_run(run, case):
    state, timer, wanted = {
        'off': ('enabled', None, False),
        'on': ('disabled', None, True),
        'pause-off': ('disabled', 120.0, False),
        'pause-on': ('disabled', 120.0, True),
    }[case]
    server = FakePihole(blocking=state, blocking_timer=timer)
    server.read_only = True
    predicted = run(pihole_settings, server, args(wanted), check=True, diff=True)
    assert predicted['changed'] is True
    assert server.calls() == [LOGIN, GET, LOGOUT]
    assert (server.blocking, server.blocking_timer) == (state, timer)
    server.read_only = False
    real = run(pihole_settings, server, args(wanted), diff=True)
    assert comparable(predicted) == comparable(real)
    server.read_only = True
    again = run(pihole_settings, server, args(wanted), check=True)
    assert again['changed'] is False and again['changes'] == []
    assert server.sessions == {} and server.logins == 3


def test_diff_before_and_after(run):
    server = FakePihole(blocking='disabled', blocking_timer=59.9)
    result = run(pihole_settings, server, args(False), diff=True)
    assert result['diff'] == {'before': {'blocking': 'disabled for 59 more seconds'}, 'after': {'blocking': False}}


def test_a_server_that_does_not_hold_what_was_written_fails_and_logs_out(run):
    server = FakePihole(ignored=['blocking'])
    result = run(pihole_settings, server, args(False))
    assert result['failed'] is True
    assert result['msg'] == 'Pi-hole does not hold what was written: blocking is True, want False'
    assert result['changes'] == [{'setting': 'blocking', 'before': True, 'after': False}]
    assert server.calls() == [LOGIN, GET, SET, GET, LOGOUT]
    assert server.sessions == {}


def test_a_refused_write_fails_and_still_logs_out(run):
    server = FakePihole()
    server.fail(400, method='POST', path='/api/dns/blocking')
    result = run(pihole_settings, server, args(False))
    assert result['failed'] is True
    assert 'HTTP 400' in result['msg'] and 'switching blocking off' in result['msg']
    assert server.calls() == [LOGIN, GET, SET, LOGOUT]
    assert server.blocking == 'enabled' and server.sessions == {}


def test_a_failed_read_still_logs_out(run):
    server = FakePihole()
    server.fail(404, method='GET', path='/api/dns/blocking')
    result = run(pihole_settings, server, args(False))
    assert result['failed'] is True and 'Pi-hole v6' in result['msg']
    assert server.calls() == [LOGIN, GET, LOGOUT]
    assert server.sessions == {} and server.writes() == []


def test_resolver_failure_state_is_read_and_the_write_error_explained(run):
    # FTL reports "failure" while its resolver is down and then refuses every change with 500.
    server = FakePihole(blocking='failure')
    server.read_only = True
    predicted = run(pihole_settings, server, args(False), check=True)
    assert predicted['changes'] == [{'setting': 'blocking', 'before': 'failure', 'after': False}]
    server.read_only = False
    result = run(pihole_settings, server, args(False))
    assert result['failed'] is True
    assert 'HTTP 500' in result['msg'] and 'DNS resolver is not running' in result['msg']
    assert server.calls()[-1] == LOGOUT and server.sessions == {}
    assert server.blocking == 'failure'


def test_an_unexpected_state_fails_clearly_and_logs_out(run):
    server = FakePihole(blocking='sometimes')
    result = run(pihole_settings, server, args(True))
    assert result['failed'] is True and 'unexpected blocking state' in result['msg']
    assert server.calls() == [LOGIN, GET, LOGOUT]
    assert server.sessions == {}


def test_wrong_password_fails_without_retry_and_takes_no_seat(run):
    server = FakePihole(password='other')
    result = run(pihole_settings, server, args(False))
    assert result['failed'] is True and 'rejected the password' in result['msg']
    assert server.calls() == [LOGIN]
    assert server.sessions == {} and run.sleeps == []


def test_no_seat_free_is_retried_then_explained(run):
    server = FakePihole(max_sessions=0)
    result = run(pihole_settings, server, args(False))
    assert result['failed'] is True and 'no free API seat' in result['msg']
    assert set(server.calls()) == {LOGIN} and server.writes() == []


def test_pihole_without_password_needs_no_session(run):
    server = FakePihole(password=None)
    result = run(pihole_settings, server, {'url': 'http://pihole.test', 'blocking': False})
    assert result['changed'] is True
    assert server.calls() == [GET, SET, GET]
    assert server.blocking == 'disabled'


def test_logout_failure_is_a_warning_not_a_failure(run):
    server = FakePihole()
    server.fail(500, method='DELETE', path='/api/auth', times=8)
    result = run(pihole_settings, server, args(False))
    assert result['rc'] == 0 and result['changed'] is True
    assert any('Could not log out of Pi-hole' in warning for warning in result['warnings'])
    assert server.blocking == 'disabled'


def test_blocking_is_required(run):
    server = FakePihole()
    result = run(pihole_settings, server, dict(CONN))
    assert result['failed'] is True and 'blocking' in result['msg']
    assert server.requests == []
