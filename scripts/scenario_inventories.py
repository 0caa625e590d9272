# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the inventories a molecule scenario gives ansible-playbook, one path per line, in order.

    python scripts/scenario_inventories.py molecule/split_dns_pihole

make demo runs site.yml with these, so that the demo's DNS server (its image above all: the lab has no
registry) is the one the scenario's tests run, set in one place.
"""

import os
import sys

import yaml

PREFIX = '--inventory='


def scenario_inventories(scenario_dir, project_dir):
    with open(os.path.join(scenario_dir, 'molecule.yml'), encoding='utf-8') as stream:
        config = yaml.safe_load(stream)
    arguments = config['ansible']['executor']['args']['ansible_playbook']
    paths = []
    for argument in arguments:
        if argument.startswith(PREFIX):
            path = argument[len(PREFIX):]
            path = path.replace('${MOLECULE_PROJECT_DIRECTORY}', project_dir)
            path = path.replace('${MOLECULE_SCENARIO_DIRECTORY}', os.path.abspath(scenario_dir))
            if '$' in path:
                raise SystemExit('%s: %s uses a variable this script does not know' % (scenario_dir, argument))
            paths.append(path)
    if not paths:
        raise SystemExit('%s/molecule.yml gives ansible-playbook no --inventory' % scenario_dir)
    return paths


def main(argv):
    if len(argv) != 2:
        raise SystemExit('usage: scenario_inventories.py <molecule scenario directory>')
    project_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in scenario_inventories(argv[1], project_dir):
        print(path)


if __name__ == '__main__':
    main(sys.argv)
