# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan._dns_server ports.yml: who holds port 53, and systemd-resolved's stub listener.

The port helper reads a fake /proc (socket tables, /proc/<pid>/fd links, comm, cmdline) built
in a scratch directory; the systemd-resolved files live there too, and "systemctl restart" is a
fake that logs its call and drops resolved's sockets from the fake tables, as the real restart
with DNSStubListener=no does. The helper's own logic is tested directly as well.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket
import struct
import subprocess
import sys

import pytest

from conftest import COLLECTIONS, PLAYBOOK, REPO, PlaybookRun, load_role_file

HELPER = os.path.join(REPO, 'roles', '_dns_server', 'files', 'natloop_port_holders.py')
holders = load_role_file('_dns_server', 'natloop_port_holders.py')


def hex_address(address):
    """An address as the kernel prints it in /proc/net/*: 32-bit words in host byte order."""
    if ':' not in address:
        return '%08X' % struct.unpack('=I', socket.inet_aton(address))[0]
    packed = socket.inet_pton(socket.AF_INET6, address)
    return ''.join('%08X' % struct.unpack('=I', packed[index:index + 4])[0] for index in range(0, 16, 4))


class FakeProc(object):
    """A /proc with sockets [(proto, address, port, pid, name, cmdline)]; pid None: owner not visible."""

    def __init__(self, root):
        self.root = str(root)
        self.next_inode = 41000
        self.sockets = []

    def add(self, proto, address, port, pid, name, cmdline=None, state=None):
        self.next_inode += 1
        self.sockets.append({'proto': proto, 'address': address, 'port': port, 'pid': pid, 'name': name,
                             'cmdline': cmdline or [name], 'inode': self.next_inode,
                             'state': state or ('0A' if proto == 'tcp' else '07')})
        return self

    def write(self):
        tables = {'tcp': [], 'tcp6': [], 'udp': [], 'udp6': []}
        for index, sock in enumerate(self.sockets):
            table = sock['proto'] + ('6' if ':' in sock['address'] else '')
            zero = '0' * len(hex_address(sock['address']))
            tables[table].append('%4d: %s:%04X %s:0000 %s 00000000:00000000 00:00000000 00000000     0        0 %d 2 '
                                 '0000000000000000 0' % (index, hex_address(sock['address']), sock['port'], zero,
                                                         sock['state'], sock['inode']))
        os.makedirs(os.path.join(self.root, 'net'), exist_ok=True)
        for table, lines in tables.items():
            with open(os.path.join(self.root, 'net', table), 'w') as handle:
                handle.write('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  '
                             'timeout inode\n' + ''.join(line + '\n' for line in lines))
        for sock in self.sockets:
            if sock['pid'] is None:
                continue
            proc = os.path.join(self.root, str(sock['pid']))
            os.makedirs(os.path.join(proc, 'fd'), exist_ok=True)
            with open(os.path.join(proc, 'comm'), 'w') as handle:
                handle.write(sock['name'] + '\n')
            with open(os.path.join(proc, 'cmdline'), 'wb') as handle:
                handle.write(b'\x00'.join(part.encode() for part in sock['cmdline']) + b'\x00')
            link = os.path.join(proc, 'fd', str(3 + len(os.listdir(os.path.join(proc, 'fd')))))
            os.symlink('socket:[%d]' % sock['inode'], link)
        return self


def want(address, ports=((53, 'udp'), (53, 'tcp'))):
    return [{'proto': proto, 'address': address, 'port': port} for port, proto in ports]


# -- the helper itself ------------------------------------------------------------------------

def test_decodes_kernel_addresses():
    assert holders.decode_address(hex_address('192.168.11.20'), 4) == '192.168.11.20'
    assert holders.decode_address(hex_address('fd00:11::20'), 6) == 'fd00:11::20'
    assert holders.decode_address(hex_address('::'), 6) == '::'
    # An IPv4-mapped address in tcp6 is the IPv4 address.
    assert holders.decode_address(hex_address('::ffff:192.168.11.20'), 6) == '192.168.11.20'


@pytest.mark.parametrize('held, wanted, clash', [
    ('192.168.11.20', '192.168.11.20', True),
    ('127.0.0.53', '192.168.11.20', False),     # resolved's stub is no problem for a LAN address
    ('127.0.0.53', '0.0.0.0', True),            # ... but it is for the wildcard
    ('0.0.0.0', '192.168.11.20', True),
    ('::', '192.168.11.20', True),              # dual-stack by default on Linux
    ('192.168.11.20', '::', True),
    ('fd00:11::20', '192.168.11.20', False),
    ('fd00:11::20', '0.0.0.0', False),
    ('fe80::1%eth0', 'fe80::1', True),
])
def test_overlap_rules(held, wanted, clash):
    assert holders.overlaps(held, wanted) is clash


def test_names_each_holder_and_ignores_other_ports_and_states(tmp_path):
    proc = FakeProc(tmp_path / 'proc')
    proc.add('udp', '192.168.11.20', 53, 4242, 'dnsmasq')
    proc.add('tcp', '192.168.11.20', 53, 4242, 'dnsmasq')
    proc.add('tcp', '0.0.0.0', 5353, 77, 'avahi-daemon')
    proc.add('tcp', '192.168.11.20', 53, 88, 'client', state='01')   # an established connection, not a listener
    proc.write()
    found = holders.find_conflicts({'want': want('192.168.11.20'), 'proc_root': proc.root})
    assert [(c['proto'], c['address'], c['kind'], c['text']) for c in found['conflicts']] == [
        ('tcp', '192.168.11.20', 'process', 'tcp 192.168.11.20:53 (dnsmasq pid 4242)'),
        ('udp', '192.168.11.20', 'process', 'udp 192.168.11.20:53 (dnsmasq pid 4242)'),
    ]
    assert all(c['wanted'] == ['192.168.11.20:53'] for c in found['conflicts'])
    assert all(c['variables'] == [] for c in found['conflicts'])


def test_conflicts_name_the_settings_that_chose_the_binding(tmp_path):
    proc = FakeProc(tmp_path / 'proc').add('tcp', '0.0.0.0', 80, 300, 'nginx').write()
    wanted = [{'proto': 'tcp', 'address': '192.168.11.20', 'port': 53, 'variable': 'x_listen_addresses'},
              {'proto': 'tcp', 'address': '192.168.11.20', 'port': 80, 'variable': 'x_web_port'},
              {'proto': 'tcp', 'address': '127.0.0.1', 'port': 80, 'variable': 'x_other_port'}]
    found = holders.find_conflicts({'want': wanted, 'proc_root': proc.root})
    assert [(c['text'], c['wanted'], c['variables']) for c in found['conflicts']] == [
        ('tcp 0.0.0.0:80 (nginx pid 300)', ['192.168.11.20:80', '127.0.0.1:80'], ['x_other_port', 'x_web_port'])]


def test_own_docker_proxy_is_fine_another_containers_is_named(tmp_path):
    proc = FakeProc(tmp_path / 'proc')
    proxy = ['/usr/bin/docker-proxy', '-proto', 'udp', '-host-ip', '192.168.11.20', '-host-port', '53',
             '-container-ip', '172.30.11.2', '-container-port', '53']
    proc.add('udp', '192.168.11.20', 53, 900, 'docker-proxy', proxy)
    proc.add('tcp', '0.0.0.0', 80, 901, 'docker-proxy', ['/usr/bin/docker-proxy', '-container-ip', '172.30.11.9'])
    proc.write()
    spec = {'want': want('192.168.11.20', ((53, 'udp'), (80, 'tcp'))), 'proc_root': proc.root,
            'own': [{'proto': 'udp', 'address': '192.168.11.20', 'port': 53}]}
    found = holders.find_conflicts(spec)
    assert [(h['proto'], h['own']) for h in found['holders']] == [('tcp', False), ('udp', True)]
    assert [c['text'] for c in found['conflicts']] == [
        'tcp 0.0.0.0:80 (docker-proxy pid 901, published by the Docker container at 172.30.11.9; '
        'see docker ps --filter publish=80)']
    assert found['conflicts'][0]['kind'] == 'docker'
    # The cmdline is only used to name the container, never returned.
    assert all('cmdline' not in process for holder in found['holders'] for process in holder['processes'])


def test_resolved_and_invisible_owners(tmp_path):
    proc = FakeProc(tmp_path / 'proc')
    proc.add('udp', '127.0.0.53', 53, 512, 'systemd-resolve')
    proc.add('udp', '::', 53, None, '')
    proc.write()
    found = holders.find_conflicts({'want': want('0.0.0.0', ((53, 'udp'),)), 'proc_root': proc.root})
    assert [(c['kind'], c['text']) for c in found['conflicts']] == [
        ('resolved_stub', 'udp 127.0.0.53:53 (systemd-resolve pid 512)'),
        ('unknown', 'udp [::]:53 (held by a process this user cannot see; run as root to name it)')]


def test_helper_prints_json(tmp_path):
    proc = FakeProc(tmp_path / 'proc').add('udp', '0.0.0.0', 53, 4242, 'named').write()
    spec = {'want': want('192.168.11.20'), 'proc_root': proc.root}
    out = subprocess.run([sys.executable, HELPER, json.dumps(spec)], capture_output=True, text=True, check=True)
    assert [c['text'] for c in json.loads(out.stdout)['conflicts']] == ['udp 0.0.0.0:53 (named pid 4242)']


# -- ports.yml on localhost ---------------------------------------------------------------------

FAKE_RESTART = r'''
import json, os, sys
root = sys.argv[1]
with open(os.path.join(root, 'restarts.log'), 'a') as handle:
    handle.write(' '.join(sys.argv[2:]) + '\n')
# With DNSStubListener=no resolved comes back without its port-53 sockets.
for table in ('tcp', 'udp', 'tcp6', 'udp6'):
    path = os.path.join(root, 'proc', 'net', table)
    with open(path) as handle:
        lines = handle.read().splitlines(True)
    inodes = set()
    for pid in os.listdir(os.path.join(root, 'proc')):
        comm = os.path.join(root, 'proc', pid, 'comm')
        if pid.isdigit() and open(comm).read().strip() == 'systemd-resolve':
            inodes.update(os.readlink(os.path.join(root, 'proc', pid, 'fd', fd))[8:-1]
                          for fd in os.listdir(os.path.join(root, 'proc', pid, 'fd')))
    with open(path, 'w') as handle:
        handle.writelines(line for line in lines if len(line.split()) < 10 or line.split()[9] not in inodes)
'''


class Host(object):
    """A scratch 'host': fake /proc, systemd-resolved's files, a fake restart command."""

    def __init__(self, tmp_path):
        self.root = str(tmp_path)
        self.proc = FakeProc(tmp_path / 'proc')
        self.run_dir = os.path.join(self.root, 'run', 'systemd', 'resolve')
        self.etc = os.path.join(self.root, 'etc')
        os.makedirs(self.run_dir)
        os.makedirs(self.etc)
        self.write(os.path.join(self.run_dir, 'stub-resolv.conf'), 'nameserver 127.0.0.53\noptions edns0 trust-ad\n')
        self.write(os.path.join(self.run_dir, 'resolv.conf'), 'nameserver 192.168.11.1\n')
        os.symlink(os.path.join(self.run_dir, 'stub-resolv.conf'), self.resolv_conf)
        self.restart_script = os.path.join(self.root, 'fake_restart.py')
        self.write(self.restart_script, FAKE_RESTART)

    @staticmethod
    def write(path, text):
        with open(path, 'w') as handle:
            handle.write(text)

    @property
    def resolv_conf(self):
        return os.path.join(self.etc, 'resolv.conf')

    @property
    def dropin(self):
        return os.path.join(self.etc, 'systemd', 'resolved.conf.d', '50-natloop-no-stub.conf')

    def restarts(self):
        path = os.path.join(self.root, 'restarts.log')
        return open(path).read().splitlines() if os.path.exists(path) else []

    def with_resolved_stub(self):
        self.proc.add('udp', '127.0.0.53', 53, 512, 'systemd-resolve')
        self.proc.add('tcp', '127.0.0.53', 53, 512, 'systemd-resolve')
        self.proc.add('udp', '127.0.0.54', 53, 512, 'systemd-resolve')
        return self

    def role_vars(self, addresses, **extra):
        bindings = [{'proto': proto, 'address': address, 'port': 53, 'variable': 'pihole_listen_addresses'}
                    for address in addresses for proto in ('tcp', 'udp')]
        role_vars = {
            '_dns_server_caller': 'pihole',
            '_dns_server_python': sys.executable,
            '_dns_server_bindings': bindings,
            '_dns_server_proc_root': self.proc.root,
            '_dns_server_resolv_conf': self.resolv_conf,
            '_dns_server_resolved_uplink_resolv_conf': os.path.join(self.run_dir, 'resolv.conf'),
            '_dns_server_resolved_dropin_dir': os.path.dirname(self.dropin),
            '_dns_server_resolved_restart_command': [sys.executable, self.restart_script, self.root, 'restart',
                                                     'systemd-resolved'],
        }
        role_vars.update(extra)
        return role_vars

    def run(self, role_vars, check=False):
        return run_playbook(self.root, INCLUDE_PORTS, role_vars, check=check)


INCLUDE_PORTS = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the ports
      ansible.builtin.include_role:
        name: natloop.lan._dns_server
        tasks_from: ports.yml
"""


def run_playbook(workdir, playbook_text, extra_vars, check=False, tags=None):
    """Run a playbook against localhost with extra vars; the JSON callback's result as PlaybookRun."""
    workdir = str(workdir)
    playbook = os.path.join(workdir, 'playbook.yml')
    with open(playbook, 'w') as handle:
        handle.write(playbook_text)
    inventory = os.path.join(workdir, 'inventory.json')
    with open(inventory, 'w') as handle:
        json.dump({'all': {'hosts': {'localhost': {'ansible_connection': 'local',
                                                   'ansible_python_interpreter': sys.executable}}}}, handle)
    variables = os.path.join(workdir, 'vars.json')
    with open(variables, 'w') as handle:
        json.dump(extra_vars, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, PYTHONPATH=COLLECTIONS,
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_GALAXY_SERVER='http://127.0.0.1:9',
               ANSIBLE_PIPELINING='1', ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, 'ansible-local'),
               ANSIBLE_REMOTE_TEMP=os.path.join(workdir, 'ansible-remote'))
    argv = [PLAYBOOK, '-i', inventory, playbook, '-e', '@' + variables]
    if check:
        argv.append('--check')
    if tags:
        argv.extend(['--tags', tags])
    proc = subprocess.run(argv, env=env, cwd=workdir, capture_output=True, text=True, timeout=300, check=False)
    return PlaybookRun(proc)


def failure(run):
    return ' '.join(msg for msg in run.failed_msg if msg)


def test_resolved_stub_is_switched_off_when_allowed(tmp_path):
    host = Host(tmp_path).with_resolved_stub()
    host.proc.write()
    role_vars = host.role_vars(['0.0.0.0'], _dns_server_disable_resolved_stub=True)

    check = host.run(role_vars, check=True)
    assert check.rc == 0, check
    assert check.changed >= 2, check.changed_tasks()
    assert not os.path.exists(host.dropin)
    assert os.readlink(host.resolv_conf).endswith('stub-resolv.conf')
    assert host.restarts() == []

    run = host.run(role_vars)
    assert run.rc == 0, run
    with open(host.dropin) as handle:
        dropin = handle.read()
    assert '[Resolve]\nDNSStubListener=no\n' in dropin and 'natloop.lan (pihole)' in dropin
    # resolv.conf now lists the real upstream servers; the stub address no longer answers.
    assert os.readlink(host.resolv_conf) == os.path.join(host.run_dir, 'resolv.conf')
    assert host.restarts() == ['restart systemd-resolved']
    # The role looked again and found the port free.
    assert run.result('Check that the ports are free now').get('failed') is not True
    assert holders.find_conflicts({'want': want('0.0.0.0'), 'proc_root': host.proc.root})['conflicts'] == []

    again = host.run(role_vars)
    assert again.rc == 0, again
    assert again.changed == 0, again.changed_tasks()
    assert host.restarts() == ['restart systemd-resolved']


def test_resolved_stub_is_not_touched_without_permission(tmp_path):
    host = Host(tmp_path).with_resolved_stub()
    host.proc.write()
    run = host.run(host.role_vars(['0.0.0.0']))
    assert run.rc != 0
    message = failure(run)
    assert "systemd-resolved's stub listener holds" in message
    assert 'udp 127.0.0.53:53 (systemd-resolve pid 512)' in message
    assert 'pihole_disable_resolved_stub: true' in message and 'pihole_listen_addresses' in message
    assert not os.path.exists(host.dropin)
    assert os.readlink(host.resolv_conf).endswith('stub-resolv.conf')
    assert host.restarts() == []


def test_resolv_conf_that_is_not_the_stub_is_left_alone(tmp_path):
    host = Host(tmp_path).with_resolved_stub()
    host.proc.write()
    os.unlink(host.resolv_conf)
    host.write(host.resolv_conf, 'nameserver 192.168.11.1\n')   # someone else's static file
    run = host.run(host.role_vars(['0.0.0.0'], _dns_server_disable_resolved_stub=True))
    assert run.rc == 0, run
    assert not os.path.islink(host.resolv_conf)
    assert open(host.resolv_conf).read() == 'nameserver 192.168.11.1\n'
    assert os.path.exists(host.dropin) and host.restarts() == ['restart systemd-resolved']


def test_stub_stays_when_the_host_would_lose_dns(tmp_path):
    host = Host(tmp_path).with_resolved_stub()
    host.proc.write()
    os.unlink(os.path.join(host.run_dir, 'resolv.conf'))
    run = host.run(host.role_vars(['0.0.0.0'], _dns_server_disable_resolved_stub=True))
    assert run.rc != 0
    assert 'without the stub this host would have no DNS. Nothing was changed.' in failure(run)
    assert not os.path.exists(host.dropin)
    assert os.readlink(host.resolv_conf).endswith('stub-resolv.conf')
    assert host.restarts() == []


def test_another_dns_server_stops_the_role_and_is_named(tmp_path):
    host = Host(tmp_path).with_resolved_stub()
    host.proc.add('udp', '192.168.11.20', 53, 4242, 'dnsmasq')
    host.proc.add('tcp', '0.0.0.0', 53, 4243, 'named')
    host.proc.write()
    # Permission to switch the stub off changes nothing here: the others are not resolved.
    run = host.run(host.role_vars(['192.168.11.20'], _dns_server_disable_resolved_stub=True))
    assert run.rc != 0
    message = failure(run)
    assert 'these ports are taken' in message
    assert 'udp 192.168.11.20:53 (dnsmasq pid 4242) blocks 192.168.11.20:53' in message
    assert 'tcp 0.0.0.0:53 (named pid 4243) blocks 192.168.11.20:53' in message
    assert message.endswith('choose other addresses or ports (pihole_listen_addresses).')
    assert 'systemd-resolve' not in message   # resolved's stub on 127.0.0.53 is not in the way of a LAN address
    assert host.restarts() == [] and not os.path.exists(host.dropin)


def test_holders_on_other_addresses_are_no_conflict(tmp_path):
    host = Host(tmp_path).with_resolved_stub()
    host.proc.add('udp', '127.0.0.1', 53, 4242, 'dnsmasq')
    host.proc.add('udp', 'fd00:11::99', 53, 4243, 'unbound')
    host.proc.write()
    run = host.run(host.role_vars(['192.168.11.20']), check=True)
    assert run.rc == 0, run
    assert run.changed == 0
    run = host.run(host.role_vars(['192.168.11.20']))
    assert run.rc == 0, run
    assert run.changed == 0 and host.restarts() == [] and not os.path.exists(host.dropin)
