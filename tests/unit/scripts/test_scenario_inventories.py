# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/scenario_inventories.py, what make demo runs site.yml with: the split-DNS scenario's inventories.

The lab has no registry, so the demo's DNS server must run a lab image, the one its scenario runs;
with the plain lab inventory the role's default (pihole/pihole, adguard/adguardhome) would be pulled
and fail, as the Pi-hole demo once did."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SCRIPT = os.path.join(REPO, 'scripts', 'scenario_inventories.py')
ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible')


def inventories(scenario):
    completed = subprocess.run([sys.executable, SCRIPT, os.path.join('molecule', scenario)], cwd=REPO,
                               capture_output=True, text=True, check=True)
    return completed.stdout.split()


def server_var(paths, name):
    """The variable as the server host sees it (templated; debug runs on the controller, no connection)."""
    command = [ANSIBLE, 'server', '-m', 'ansible.builtin.debug', '-a', 'var=' + name, '-o']
    for path in paths:
        command += ['-i', path]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOAD_CALLBACK_PLUGINS='0')
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout.split('=>', 1)[1])[name]


@pytest.mark.parametrize('scenario, image_var', [('split_dns_pihole', 'pihole_image'),
                                                 ('split_dns_adguard', 'adguard_home_image')])
def test_the_demo_runs_the_scenarios_lab_image(scenario, image_var):
    paths = inventories(scenario)
    assert paths[0] == os.path.join(REPO, 'inventory', 'lab/')
    assert paths[-1] == os.path.join(REPO, 'molecule', scenario, 'inventory/')
    assert all(os.path.isdir(path) for path in paths), paths
    assert server_var(paths, image_var).startswith(('natloop-standin/', 'natloop-peer/'))
    # Control: the lab inventory alone leaves the role's default, which the lab cannot pull.
    assert not server_var(paths[:1], image_var).startswith('natloop-')


def test_a_scenario_without_inventories_is_refused(tmp_path):
    (tmp_path / 'molecule.yml').write_text('ansible:\n  executor:\n    args:\n      ansible_playbook: [--diff]\n')
    completed = subprocess.run([sys.executable, SCRIPT, str(tmp_path)], capture_output=True, text=True, check=False)
    assert completed.returncode != 0 and 'no --inventory' in completed.stderr
