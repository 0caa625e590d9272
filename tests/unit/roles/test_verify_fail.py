# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.verify: report only by default, fail with the reasons when asked (issue 18).

The client is localhost, the service a closed port on 127.0.0.1: a real probe, verdict service_down.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket

import pytest

ROLE = 'natloop.lan.verify'


def closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def verify_vars(**extra):
    role_vars = {
        'verify_services': [{'name': 'svc', 'domain': 'svc.natloop.invalid', 'lan_ipv4': '127.0.0.1',
                             'public_ip': '198.51.100.1', 'ports': [{'proto': 'tcp', 'port': closed_port()}]}],
        'verify_probe_targets': ['lan'],
        'verify_timeout': 0.5,
        'verify_report_dir': '',
        'verify_lan_networks': ['127.0.0.0/8'],
        # No resolver of this machine is asked directly (the resolver checks: test_service_check_wire.py).
        'verify_resolv_conf': '/dev/null',
        'verify_ipv6_dns_files': [],
        'verify_ra_wait': 0,  # no Router Solicitation on this machine's networks
        'natloop_services': [],  # the argument spec's default names it
    }
    role_vars.update(extra)
    return role_vars


@pytest.mark.parametrize('extra,fails', [
    ({}, False),                                                          # the role alone, diagnose.yml: report only
    ({'verify_fail_on_problems': True}, True),                            # site.yml after a fix: only ok passes
    ({'verify_fail_on_problems': True, 'verify_expected_verdicts': ['ok', 'service_down']}, False),
    ({'verify_expected_verdicts': ['ok']}, True),                         # the list alone also fails
])
def test_verify_fails_only_when_asked(runner, extra, fails):
    run = runner.run(ROLE, verify_vars(**extra))
    if not fails:
        assert run.rc == 0, run
        return
    assert run.rc == 2, run
    message = ' '.join(m for m in run.failed_msg if m)
    assert 'localhost: svc.natloop.invalid is service_down (the service does not answer on its LAN address' in message
    assert 'natloop_verify_fail=false' in message
