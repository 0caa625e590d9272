# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Options for the lab tests: they need a running lab (make lab-up, or a molecule scenario)."""

import subprocess

import pytest


def pytest_addoption(parser):
    parser.addoption("--lab-expect", choices=["broken", "fixed"], default=None,
                     help="what the lab should show: the NAT loopback failure, or a fixed LAN")


@pytest.fixture
def lab_expect(request):
    expect = request.config.getoption("--lab-expect")
    if expect is None:
        pytest.fail("lab tests need --lab-expect=broken|fixed and a running lab (make lab-up)")
    running = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", "natloop-lab-client"],
                             capture_output=True, text=True, check=False).stdout.strip()
    if running != "true":
        pytest.fail("the lab is not running: start it with make lab-up")
    return expect
