# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hairpin_nat on OpenWrt, proven with packets: the ruleset firewall4 generates from the config the
role leaves, loaded into a router network namespace of this test (never the machine's own).

    cli 192.168.11.2 --+
                       +-- br-lan 192.168.11.1  [router ns: fw4 ruleset]  eth1 198.51.100.1 -- wan 198.51.100.50
    srv 192.168.11.20 -+

Lab ranges only (shared/LAB.md). Interface names are the ones the peer's ubus stand-in reports for
OpenWrt's default network config (lan: br-lan, wan: eth1), so firewall4's zones match them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from owrt_peer import Router, needs_peer

ROLE = 'natloop.lan.hairpin_nat'
SERVICES = [{'name': 'rustdesk', 'domain': 'rustdesk.example.com', 'lan_ipv4': '192.168.11.20',
             'public_ip': '198.51.100.1',
             'ports': [{'proto': 'tcp', 'start': 21115, 'end': 21119}, {'proto': 'udp', 'port': 21116}]}]
# 21116 as LuCI saves a TCP+UDP forward, with reflection switched off; 21115 with firewall4's default.
FORWARDS = """
config redirect
\toption name 'rustdesk 21116'
\toption target 'DNAT'
\toption src 'wan'
\toption dest 'lan'
\tlist proto 'tcp'
\tlist proto 'udp'
\toption src_dport '21116'
\toption dest_ip '192.168.11.20'
\toption reflection '0'

config redirect
\toption name 'rustdesk 21115'
\toption target 'DNAT'
\toption src 'wan'
\toption dest 'lan'
\toption proto 'tcp'
\toption src_dport '21115'
\toption dest_ip '192.168.11.20'
"""

SERVER = r'''
import socket, sys, threading
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", port)); s.listen(8)
    while True:
        c, a = s.accept(); c.sendall(("peer=%s" % a[0]).encode()); c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        d, a = s.recvfrom(512); s.sendto(("peer=%s" % a[0]).encode(), a)
threads = [threading.Thread(target=tcp, args=(21115,)), threading.Thread(target=tcp, args=(21116,)),
           threading.Thread(target=udp, args=(21116,))]
for t in threads: t.daemon = True; t.start()
print("ready", flush=True); sys.stdin.read()
'''

CLIENT = r'''
import socket, sys
proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM); s.settimeout(1)
try:
    s.connect((host, port))
    if proto == "udp": s.send(b"hello")
    print(s.recv(512).decode())
except (ConnectionRefusedError, socket.timeout, OSError) as e:
    print("unreachable (%s)" % type(e).__name__, file=sys.stderr); print("unreachable")
'''


def ip(*argv):
    subprocess.run(['ip'] + list(argv), check=True, capture_output=True)


class Lab(object):
    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.ns = dict((role, 'natloop-owrt-%s-%s' % (tag, role)) for role in ('rtr', 'cli', 'srv', 'wan'))
        self.server = None

    def up(self):
        rtr = self.ns['rtr']
        for name in self.ns.values():
            ip('netns', 'add', name)
        for name in self.ns.values():
            ip('-n', name, 'link', 'set', 'lo', 'up')
        ip('-n', rtr, 'link', 'add', 'br-lan', 'type', 'bridge')
        ip('-n', rtr, 'addr', 'add', '192.168.11.1/24', 'dev', 'br-lan')
        ip('-n', rtr, 'link', 'set', 'br-lan', 'up')
        for role, address in (('cli', '192.168.11.2'), ('srv', '192.168.11.20')):
            ip('-n', rtr, 'link', 'add', 'p-' + role, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', self.ns[role])
            ip('-n', rtr, 'link', 'set', 'p-' + role, 'master', 'br-lan', 'up')
            ip('-n', self.ns[role], 'addr', 'add', address + '/24', 'dev', 'eth0')
            ip('-n', self.ns[role], 'link', 'set', 'eth0', 'up')
            ip('-n', self.ns[role], 'route', 'add', 'default', 'via', '192.168.11.1')
        ip('-n', rtr, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', self.ns['wan'])
        ip('-n', rtr, 'addr', 'add', '198.51.100.1/24', 'dev', 'eth1')
        ip('-n', rtr, 'link', 'set', 'eth1', 'up')
        ip('-n', self.ns['wan'], 'addr', 'add', '198.51.100.50/24', 'dev', 'eth0')
        ip('-n', self.ns['wan'], 'link', 'set', 'eth0', 'up')
        subprocess.run(['ip', 'netns', 'exec', rtr, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], check=True)
        # OpenWrt does not load br_netfilter; Docker does on this machine. Without this, traffic
        # bridged between two LAN hosts would pass firewall4's srcnat rules (per namespace setting).
        if os.path.exists('/proc/sys/net/bridge/bridge-nf-call-iptables'):
            subprocess.run(['ip', 'netns', 'exec', rtr, 'sh', '-c',
                            'for f in /proc/sys/net/bridge/bridge-nf-call-*; do echo 0 > "$f"; done'], check=True)
        self.server = subprocess.Popen(['ip', 'netns', 'exec', self.ns['srv'], sys.executable, '-c', SERVER],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.server.stdout.readline().strip() == 'ready'

    def down(self):
        if self.server is not None:
            self.server.kill()
            self.server.wait()
        for name in self.ns.values():
            subprocess.run(['ip', 'netns', 'del', name], check=False, capture_output=True)

    def load_command(self, ruleset):
        return 'ip netns exec %s nft -f %s' % (self.ns['rtr'], ruleset)

    def probe(self, where, proto, host, port):
        proc = subprocess.run(['ip', 'netns', 'exec', self.ns[where], sys.executable, '-c', CLIENT, proto, host, str(port)],
                              capture_output=True, text=True, check=True, timeout=20)
        return proc.stdout.strip()

    def behaviour(self):
        return {
            'lan tcp 21115 by public address': self.probe('cli', 'tcp', '198.51.100.1', 21115),
            'lan tcp 21116 by public address': self.probe('cli', 'tcp', '198.51.100.1', 21116),
            'lan udp 21116 by public address': self.probe('cli', 'udp', '198.51.100.1', 21116),
            'lan tcp 21116 by LAN address': self.probe('cli', 'tcp', '192.168.11.20', 21116),
            'wan tcp 21116': self.probe('wan', 'tcp', '198.51.100.1', 21116),
            'wan udp 21116': self.probe('wan', 'udp', '198.51.100.1', 21116),
        }


@pytest.fixture
def lab():
    if not shutil.which('ip') or subprocess.run(['ip', 'netns', 'list'], capture_output=True, check=False).returncode:
        pytest.skip('ip netns is not available (iproute2, root)')
    lab = Lab()
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


@needs_peer
def test_lan_client_reaches_the_service_by_public_address_and_absent_restores_before(runner, lab, tmp_path):
    router = Router(tmp_path / 'router')
    runner.path[:0] = router.path
    router.append('firewall', FORWARDS)
    subprocess.run(['sh', '-c', lab.load_command('/dev/stdin')], input=router.fw4_print()[0], text=True, check=True)
    role_vars = {'hairpin_nat_backend': 'openwrt', 'hairpin_nat_services': SERVICES,
                 'hairpin_nat_openwrt_reload_command': 'owrt-firewall-reload && ' + lab.load_command(router.ruleset)}

    before = lab.behaviour()
    assert before == {
        'lan tcp 21115 by public address': 'peer=192.168.11.1',   # firewall4 reflects by default
        'lan tcp 21116 by public address': 'unreachable',         # reflection '0': not forwarded
        'lan udp 21116 by public address': 'unreachable',
        'lan tcp 21116 by LAN address': 'peer=192.168.11.2',
        'wan tcp 21116': 'peer=198.51.100.50',
        'wan udp 21116': 'peer=198.51.100.50',
    }

    present = runner.run(ROLE, role_vars)
    assert present.rc == 0, present
    assert router.reloads() == ['firewall']
    after = lab.behaviour()
    assert after == dict(before, **{
        'lan tcp 21116 by public address': 'peer=192.168.11.1',   # the server sees the router
        'lan udp 21116 by public address': 'peer=192.168.11.1',
    })

    absent = runner.run(ROLE, dict(role_vars, hairpin_nat_state='absent'))
    assert absent.rc == 0, absent
    assert router.reloads() == ['firewall', 'firewall']
    assert lab.behaviour() == before
