# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Find which processes hold the ports a DNS server container is about to publish.

Run by the natloop.lan DNS server roles on the managed host (ansible.builtin.script), with one
argument: a JSON object

    {"want": [{"proto": "udp", "address": "192.168.11.20", "port": 53, "variable": "x_listen_addresses"}],
     "own": [{"proto": "udp", "address": "192.168.11.20", "port": 53}],
     "proc_root": "/proc"}

``want`` are the bindings the container needs (``variable`` names the setting that chose it), ``own`` the ones the role's container already
publishes (its docker-proxy is not a conflict). Reads the kernel's socket tables
(``/proc/net/{tcp,tcp6,udp,udp6}``: listening TCP, bound UDP) and maps socket inodes to
processes through ``/proc/<pid>/fd`` (seeing other users' processes needs root). Needs only
the standard library, not ``ss``.

A socket conflicts with a wanted binding on the same protocol and port when the addresses are
equal, either one is the wildcard of that family (``0.0.0.0``), or either one is ``::``
(dual-stack by default on Linux). Prints ``{"holders": [...], "conflicts": [...]}``, each
conflict with ``kind`` ``resolved_stub`` (systemd-resolved), ``docker`` (another container's
docker-proxy), ``process`` or ``unknown`` (owner not visible), and a ``text`` naming it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import os
import socket
import struct
import sys

TABLES = (('tcp', 4, 'tcp'), ('tcp', 6, 'tcp6'), ('udp', 4, 'udp'), ('udp', 6, 'udp6'))
TCP_LISTEN = '0A'
UDP_UNCONNECTED = '07'
RESOLVED_NAMES = ('systemd-resolve', 'systemd-resolved')  # comm is cut to 15 characters


def decode_address(text, version):
    """Address of a /proc/net table entry: 32-bit words in host byte order, as hex."""
    if version == 4:
        packed = struct.pack('=I', int(text, 16))
        return socket.inet_ntop(socket.AF_INET, packed)
    packed = b''.join(struct.pack('=I', int(text[index:index + 8], 16)) for index in range(0, 32, 8))
    address = ipaddress.ip_address(socket.inet_ntop(socket.AF_INET6, packed))
    return str(address.ipv4_mapped or address)


def read_sockets(proc_root, ports):
    """[{proto, address, port, inode}] of listening TCP and bound UDP sockets on these ports."""
    found = []
    for proto, version, table in TABLES:
        try:
            with open(os.path.join(proc_root, 'net', table)) as handle:
                lines = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            address, _sep, port = fields[1].partition(':')
            port = int(port, 16)
            state = fields[3]
            if port not in ports or state != (TCP_LISTEN if proto == 'tcp' else UDP_UNCONNECTED):
                continue
            found.append({'proto': proto, 'address': decode_address(address, version), 'port': port,
                          'inode': fields[9]})
    return found


def _read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return b''


def socket_owners(proc_root, inodes):
    """{inode: [{pid, name, cmdline}]} for the sockets in inodes."""
    targets = dict(('socket:[%s]' % inode, inode) for inode in inodes)
    owners = {}
    try:
        pids = sorted((entry for entry in os.listdir(proc_root) if entry.isdigit()), key=int)
    except (IOError, OSError):
        return owners
    for pid in pids:
        fd_dir = os.path.join(proc_root, pid, 'fd')
        try:
            fds = os.listdir(fd_dir)
        except (IOError, OSError):
            continue
        for fd in fds:
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except (IOError, OSError):
                continue
            if link not in targets:
                continue
            process = {'pid': int(pid),
                       'name': _read(os.path.join(proc_root, pid, 'comm')).decode('utf-8', 'replace').strip(),
                       'cmdline': [part.decode('utf-8', 'replace')
                                   for part in _read(os.path.join(proc_root, pid, 'cmdline')).split(b'\x00') if part]}
            listed = owners.setdefault(targets[link], [])
            if process['pid'] not in [known['pid'] for known in listed]:
                listed.append(process)
    return owners


def _ip(address):
    parsed = ipaddress.ip_address((address or '0.0.0.0').strip('[]').split('%')[0])
    if parsed.version == 6 and parsed.ipv4_mapped:
        return parsed.ipv4_mapped
    return parsed


def overlaps(held, wanted):
    """Whether binding `wanted` fails while `held` is bound (same protocol and port)."""
    held, wanted = _ip(held), _ip(wanted)
    if held == wanted:
        return True
    if (held.version == 6 and held.is_unspecified) or (wanted.version == 6 and wanted.is_unspecified):
        return True
    if held.version != wanted.version:
        return False
    return held.is_unspecified or wanted.is_unspecified


def _kind(processes):
    names = [process['name'] for process in processes]
    if not processes:
        return 'unknown'
    if any(name in RESOLVED_NAMES for name in names):
        return 'resolved_stub'
    if all(name == 'docker-proxy' for name in names):
        return 'docker'
    return 'process'


def _container_ip(process):
    args = process['cmdline']
    for index, arg in enumerate(args[:-1]):
        if arg.lstrip('-') == 'container-ip':
            return args[index + 1]
    return None


def describe(holder):
    where = '%s %s:%d' % (holder['proto'], ('[%s]' % holder['address']) if ':' in holder['address'] else holder['address'],
                          holder['port'])
    processes = holder['processes']
    if not processes:
        return '%s (held by a process this user cannot see; run as root to name it)' % where
    named = ', '.join('%s pid %d' % (process['name'] or '?', process['pid']) for process in processes)
    if holder['kind'] == 'docker':
        ips = sorted(set(ip for ip in (_container_ip(process) for process in processes) if ip))
        return '%s (%s, published by the Docker container at %s; see docker ps --filter publish=%d)' % (
            where, named, ', '.join(ips) or 'an unknown address', holder['port'])
    return '%s (%s)' % (where, named)


def _is_own(holder, own):
    if holder['kind'] != 'docker':
        return False
    for binding in own:
        if binding['proto'] == holder['proto'] and int(binding['port']) == holder['port'] \
                and _ip(binding.get('address')) == _ip(holder['address']):
            return True
    return False


def find_conflicts(spec):
    want = spec.get('want') or []
    own = spec.get('own') or []
    proc_root = spec.get('proc_root') or '/proc'
    holders = read_sockets(proc_root, set(int(item['port']) for item in want))
    owners = socket_owners(proc_root, [holder['inode'] for holder in holders])
    conflicts = []
    for holder in holders:
        holder['processes'] = owners.get(holder['inode'], [])
        holder['kind'] = _kind(holder['processes'])
        holder['own'] = _is_own(holder, own)
        holder['text'] = describe(holder)
        for process in holder['processes']:
            del process['cmdline']  # only needed to name a container; may be long
        if holder['own']:
            continue
        clashes = [item for item in want if item['proto'] == holder['proto'] and int(item['port']) == holder['port']
                   and overlaps(holder['address'], item['address'])]
        if clashes:
            conflict = dict(holder)
            conflict['wanted'] = ['%s:%s' % (item['address'], item['port']) for item in clashes]
            conflict['variables'] = sorted(set(item['variable'] for item in clashes if item.get('variable')))
            conflicts.append(conflict)
    return {'holders': holders, 'conflicts': conflicts}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(json.dumps({'error': 'usage: natloop_port_holders.py JSON-SPEC'}))
        return 2
    print(json.dumps(find_conflicts(json.loads(argv[0])), sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
