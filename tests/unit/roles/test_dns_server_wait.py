# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan._dns_server wait.yml against the AdGuard Home stand-in (tests/standins, not the real
server): a server that answers DNS at once is not polled over HTTP; one that is starting, or that
the caller just restarted, is. The HTTP requests are counted on the stand-in itself."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import threading

import pytest

from natloop_standins.fixtures import STANDIN_HOST

ROLE = 'natloop.lan._dns_server'


def count_http(handle):
    """Wrap the stand-in's HTTP handler; the returned list gets (method, path) of every request."""
    seen = []
    server = handle.server
    original = server.handle_http

    def counted(request):
        seen.append((request.method, request.path))
        return original(request)

    server.handle_http = counted
    return seen


def wait_vars(web_port, dns_port, **extra):
    role_vars = {
        '_dns_server_caller': 'adguard_home',
        '_dns_server_wait_url': 'http://%s:%d/control/status' % (STANDIN_HOST, web_port),
        '_dns_server_wait_statuses': [200, 401],
        '_dns_server_wait_timeout': 10,
        '_dns_server_dns_servers': [STANDIN_HOST],
        '_dns_server_dns_port': dns_port,
        '_dns_server_wait_queries': [{'name': 'wait.natloop.test', 'type': 'A'}],
        '_dns_server_probe_timeout': 1,
    }
    role_vars.update(extra)
    return role_vars


def free_port():
    """A port free for both TCP and UDP on the stand-ins' address right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((STANDIN_HOST, 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind((STANDIN_HOST, port))
            except OSError:
                continue
            return port


def test_a_running_server_is_not_polled_over_http(runner, adguard_standin):
    requests = count_http(adguard_standin)
    run = runner.run(ROLE, wait_vars(adguard_standin.web_port, adguard_standin.dns_port), tasks_from='wait.yml')
    assert run.rc == 0, run
    assert run.result('Wait for a DNS answer')['attempts'] == 1
    assert run.result('Wait for the web API').get('skipped'), run
    assert requests == []


@pytest.mark.parametrize('restart', [
    {'_dns_server_restarted': True},
    {'__dns_server_container': {'changed': True}},
], ids=['caller-restarted', 'container-changed'])
def test_a_restarted_server_is_polled_over_http(runner, adguard_standin, restart):
    requests = count_http(adguard_standin)
    run = runner.run(ROLE, wait_vars(adguard_standin.web_port, adguard_standin.dns_port, **restart), tasks_from='wait.yml')
    assert run.rc == 0, run
    assert run.result('Wait for the web API')['status'] == 401
    assert requests == [('GET', '/control/status')]


def start_after_first_question(server, dns_port, timeout=120.0):
    """Hold the DNS port, swallow the first question unanswered, then start ``server``.

    The server comes up only once the role has asked and got no answer, however long
    ansible-playbook takes to get there (a fixed timer raced its start-up on a loaded machine:
    the server was up before the first question, one attempt, no HTTP wait). Returns
    (thread, state); state['question'] is False when no question came within ``timeout``.
    """
    state = {'question': False}
    gate = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gate.bind((STANDIN_HOST, dns_port))
    gate.settimeout(timeout)

    def run():
        try:
            gate.recvfrom(4096)
            state['question'] = True
        except socket.timeout:
            return
        finally:
            gate.close()
        server.start()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, state


def test_a_starting_server_is_waited_for_then_polled_over_http(runner, adguard_standin_factory):
    handle = adguard_standin_factory(start=False)
    web_port, dns_port = free_port(), free_port()
    handle.server.web_port_override = web_port
    handle.server.dns_port_override = dns_port
    requests = count_http(handle)
    # Comes up after the first DNS question went unanswered.
    starter, state = start_after_first_question(handle.server, dns_port)
    try:
        run = runner.run(ROLE, wait_vars(web_port, dns_port), tasks_from='wait.yml')
    finally:
        # The question came during the run, and the server starts right after it.
        starter.join(10)
    assert state['question'], 'the role never asked the DNS port'
    assert run.rc == 0, run
    assert run.result('Wait for a DNS answer')['attempts'] > 1
    assert requests == [('GET', '/control/status')]


def test_a_silent_server_fails_with_the_probe_report(runner):
    run = runner.run(ROLE, wait_vars(free_port(), free_port(), _dns_server_wait_timeout=2), tasks_from='wait.yml')
    assert run.rc != 0
    message = ' '.join(msg or '' for msg in run.failed_msg)
    assert 'does not answer after 2 s' in message and 'wait.natloop.test' in message, run
    assert 'Wait for the web API' not in [name for name, _result in run.results()]
