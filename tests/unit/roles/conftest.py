# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a natloop.lan role with ansible-playbook against localhost, with fakes where asked.

- OpenWrt: the real uci, firewall4 and dnsmasq options through the peer's owrt-run (owrt_peer.py)
- fake RouterOS: fakes/python first on PYTHONPATH, so community.routeros imports the fake librouteros
- fake Windows: fakes/collections first on the collections path, shadowing ansible.windows
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
FAKES = os.path.join(HERE, 'fakes')
COLLECTIONS = os.path.join(REPO, '.collections')
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')


def load_role_file(role, filename):
    """Import a Python script shipped in a role's files/ directory, to test its functions directly."""
    path = os.path.join(REPO, 'roles', role, 'files', filename)
    spec = importlib.util.spec_from_file_location(os.path.splitext(filename)[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PlaybookRun(object):
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout)
        except ValueError:
            self.data = None

    def __repr__(self):
        return 'PlaybookRun(rc=%s)\nSTDOUT:\n%s\nSTDERR:\n%s' % (self.rc, self.stdout[-6000:], self.stderr[-3000:])

    @property
    def stats(self):
        return self.data['stats']['localhost']

    @property
    def changed(self):
        return self.stats['changed']

    def results(self):
        """[(task name, result)] for every task that ran on localhost, handlers included."""
        found = []
        for play in self.data['plays']:
            for task in play['tasks']:
                if 'localhost' in task['hosts']:
                    found.append((task['task']['name'], task['hosts']['localhost']))
        return found

    def result(self, name_part):
        matches = [result for name, result in self.results() if name_part in name]
        assert matches, 'no task named like %r in %r' % (name_part, [n for n, _r in self.results()])
        return matches[-1]

    @property
    def warnings(self):
        return [w for _name, result in self.results() for w in result.get('warnings', [])]

    def changed_tasks(self):
        return [name for name, result in self.results() if result.get('changed')]

    @property
    def failed_msg(self):
        return [result.get('msg') for _name, result in self.results() if result.get('failed')]


class RoleRunner(object):
    def __init__(self, tmp_path):
        self.tmp = str(tmp_path)
        self.env = dict(os.environ)
        self.collections = [COLLECTIONS]
        self.pythonpath = [COLLECTIONS]
        self.path = []
        self.host_vars = {}

    def use_fake_routeros(self, paths):
        self.pythonpath.insert(0, os.path.join(FAKES, 'python'))
        self.routeros_state = os.path.join(self.tmp, 'routeros.json')
        self.env['NATLOOP_FAKE_ROUTEROS_STATE'] = self.routeros_state
        with open(self.routeros_state, 'w') as handle:
            json.dump({'paths': paths, 'log': [], 'next_id': 0x100,
                       'credentials': {'host': 'router.test', 'username': 'admin', 'password': 'secret'}}, handle)
        return self

    def routeros(self):
        with open(self.routeros_state) as handle:
            return json.load(handle)

    def use_fake_windows(self, hosts_text):
        self.collections.insert(0, os.path.join(FAKES, 'collections'))
        self.win_hosts = os.path.join(self.tmp, 'win_hosts')
        self.win_commands = os.path.join(self.tmp, 'win_commands.log')
        with open(self.win_hosts, 'w') as handle:
            handle.write(hosts_text)
        self.env['NATLOOP_FAKE_WIN_HOSTS'] = self.win_hosts
        self.env['NATLOOP_FAKE_WIN_COMMAND_LOG'] = self.win_commands
        return self

    def run(self, role, role_vars, check=False, read_only=False, wrapper=None, tasks_from=None):
        """Run role (or its tasks_from file) against localhost; wrapper (argv prefix, e.g.
        ['unshare', '-n']) wraps ansible-playbook."""
        playbook = os.path.join(self.tmp, 'playbook.yml')
        with open(playbook, 'w') as handle:
            if tasks_from:
                handle.write('- hosts: localhost\n  gather_facts: false\n  tasks:\n'
                             '    - ansible.builtin.include_role:\n        name: %s\n        tasks_from: %s\n'
                             % (role, tasks_from))
            else:
                handle.write('- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: %s\n' % role)
        inventory = os.path.join(self.tmp, 'inventory.json')
        host = dict(ansible_connection='local', ansible_python_interpreter=sys.executable)
        host.update(self.host_vars)
        with open(inventory, 'w') as handle:
            json.dump({'all': {'hosts': {'localhost': host}}}, handle)
        variables = os.path.join(self.tmp, 'vars.json')
        with open(variables, 'w') as handle:
            json.dump(role_vars, handle)
        env = dict(self.env)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': os.pathsep.join(self.collections),
            'PYTHONPATH': os.pathsep.join(self.pythonpath),
            'PATH': os.pathsep.join(self.path + [os.path.dirname(sys.executable), env.get('PATH', '')]),
            'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
            'ANSIBLE_GALAXY_SERVER': 'http://127.0.0.1:9',
            'ANSIBLE_PIPELINING': '1',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.tmp, 'ansible-local'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(self.tmp, 'ansible-remote'),
            'NATLOOP_FAKE_ROUTEROS_READ_ONLY': '1' if read_only else '0',
        })
        argv = [PLAYBOOK, '-i', inventory, playbook, '-e', '@' + variables]
        if check:
            argv.append('--check')
        proc = subprocess.run((wrapper or []) + argv, env=env, cwd=self.tmp, capture_output=True,
                              text=True, timeout=300, check=False)
        return PlaybookRun(proc)


@pytest.fixture
def runner(tmp_path):
    if not os.path.isdir(os.path.join(COLLECTIONS, 'ansible_collections', 'natloop', 'lan')):
        pytest.fail('run "make link" first: %s is missing the natloop.lan symlink' % COLLECTIONS)
    return RoleRunner(tmp_path)


def have(*commands):
    return all(shutil.which(command) for command in commands)


def read(path):
    with open(path) as handle:
        return handle.read()


def dnsmasq_vars(tmp, servers, **extra):
    """router_dhcp_dns on the linux_dnsmasq backend in ``tmp``: drop-in dir, main config, a restart that logs."""
    role_vars = {
        'router_dhcp_dns_backend': 'linux_dnsmasq',
        'router_dhcp_dns_servers': servers,
        'router_dhcp_dns_dnsmasq_conf_dir': os.path.join(tmp, 'dnsmasq.d'),
        'router_dhcp_dns_dnsmasq_other_configs': [os.path.join(tmp, 'dnsmasq.conf')],
        'router_dhcp_dns_dnsmasq_restart_command': ['sh', '-c', 'echo restart >> %s' % os.path.join(tmp, 'restarts.log')],
        'router_dhcp_dns_check_servers': False,
    }
    role_vars.update(extra)
    return role_vars
