# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""router_dhcp_dns (linux_dnsmasq) measured on the wire: IPv6 DNS adverts and rebind exceptions.

A real dnsmasq runs the role's drop-in in a router network namespace of the test's own; a client
namespace on a veth hears its Router Advertisements (RDNSS) and DHCPv6 replies (option 23) through
ipv6_adverts.py (raw ICMPv6 socket, DHCPv6 Information-Request). The rebind test runs a dnsmasq with
stop-dns-rebind that forwards the published name to another real dnsmasq answering a private address.

dnsmasq behaviour relied on (dnsmasq 2.90, Debian 12; src/radv.c send_ra_alias and src/rfc3315.c
do_options, thekelleys.org.uk/dnsmasq): RDNSS and option 23 come from every option6:dns-server whose
tags match; an empty one sends none and stops the default (the router itself); of several untagged
ones only the one read last is sent, and a tagged one wins over untagged ones (measured here).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import COLLECTIONS, dnsmasq_vars, read
from ipv6_adverts import NetnsPair

ROLE = 'natloop.lan.router_dhcp_dns'
ISP_RESOLVER = '2001:db8:100::53'
SPLIT_DNS = ['2001:db8:11::20', '2001:db8:11::21']

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('dnsmasq') or not shutil.which('ip'),
    reason='needs root, ip (iproute2) and dnsmasq (network namespaces with a real dnsmasq)')


class Dnsmasq(object):
    """A router's dnsmasq, started afresh on its main config file (dnsmasq reads options only at start)."""

    def __init__(self, tmp, netns, argv):
        self.tmp, self.netns, self.argv = tmp, netns, argv
        self.proc = None

    def restart(self):
        self.stop()
        log = os.path.join(self.tmp, 'dnsmasq.log')
        self.proc = subprocess.Popen(['ip', 'netns', 'exec', self.netns, 'dnsmasq', '--keep-in-foreground',
                                      '--log-facility=' + log] + self.argv, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        assert self.proc.poll() is None, self.proc.stderr.read()

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def lan(tmp_path):
    pair = NetnsPair('%d' % (os.getpid() % 100000), '2001:db8:11::1')
    yield pair
    pair.close()


def role_vars(tmp, **extra):
    return dnsmasq_vars(tmp, ['192.168.11.20', '192.168.11.21'], **extra)


def test_dnsmasq_advertises_exactly_the_split_dns_servers_over_ipv6(runner, tmp_path, lan):
    tmp = str(tmp_path)
    confdir = os.path.join(tmp, 'dnsmasq.d')
    os.mkdir(confdir)
    dropin = os.path.join(confdir, '00-natloop-dhcp-dns.conf')
    main = os.path.join(tmp, 'dnsmasq.conf')
    # The router as common routers come: RA with the ISP's resolver as RDNSS and in DHCPv6.
    with open(main, 'w') as handle:
        handle.write('interface=%s\nbind-interfaces\nenable-ra\ndhcp-range=::,constructor:%s,ra-stateless\n'
                     'dhcp-option=option6:dns-server,[%s]\nconf-dir=%s,*.conf\n'
                     % (lan.router_if, lan.router_if, ISP_RESOLVER, confdir))
    with open(os.path.join(confdir, 'lan-router.conf'), 'w') as handle:
        handle.write('dhcp-option=option:router,192.168.11.1\n')
    dnsmasq = Dnsmasq(tmp, lan.router, ['--conf-file=' + main, '--pid-file=' + os.path.join(tmp, 'pid'),
                                        '--dhcp-leasefile=' + os.path.join(tmp, 'leases')])
    isp = {'ra': [[ISP_RESOLVER]], 'dhcpv6': [ISP_RESOLVER]}
    try:
        dnsmasq.restart()
        assert lan.listen() == isp

        # router_dhcp_dns_ipv6: false is the role as before IPv6: the ISP's resolver stays advertised.
        old = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_ipv6=False, router_dhcp_dns_servers_ipv6=SPLIT_DNS))
        assert old.rc == 0, old
        assert 'option6' not in read(dropin) and 'tag-if' not in read(dropin)
        dnsmasq.restart()
        assert lan.listen() == isp

        check = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_servers_ipv6=SPLIT_DNS), check=True)
        assert check.rc == 0 and check.changed == 1, check
        assert 'option6' not in read(dropin)

        present = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_servers_ipv6=SPLIT_DNS))
        assert present.rc == 0, present
        assert ('dhcp-option=tag:natloop_dns6,option6:dns-server,[2001:db8:11::20],[2001:db8:11::21]\n'
                in read(dropin))
        dnsmasq.restart()
        assert lan.listen() == {'ra': [SPLIT_DNS], 'dhcpv6': SPLIT_DNS}

        again = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_servers_ipv6=SPLIT_DNS))
        assert again.rc == 0 and again.changed == 0, again.changed_tasks()

        # No IPv6 split-DNS server: no IPv6 resolver at all, neither the ISP's nor the router itself.
        none = runner.run(ROLE, role_vars(tmp))
        assert none.rc == 0, none
        assert 'dhcp-option=tag:natloop_dns6,option6:dns-server\n' in read(dropin)
        dnsmasq.restart()
        assert lan.listen() == {'ra': [[]], 'dhcpv6': []}

        absent = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_state='absent'))
        assert absent.rc == 0, absent
        assert not os.path.exists(dropin)
        dnsmasq.restart()
        assert lan.listen() == isp
        assert read(os.path.join(tmp, 'restarts.log')) == 'restart\n' * 4
    finally:
        dnsmasq.stop()


def test_dnsmasq_refuses_a_tagged_ipv6_dns_option_elsewhere(runner, tmp_path):
    """A tagged option6:dns-server in another file is advertised as well as (RA) or instead of ours:
    measured with dnsmasq 2.90 (README "IPv6 DNS adverts"); the role refuses before writing."""
    tmp = str(tmp_path)
    confdir = os.path.join(tmp, 'dnsmasq.d')
    os.mkdir(confdir)
    with open(os.path.join(tmp, 'dnsmasq.conf'), 'w') as handle:
        handle.write('dhcp-option=option6:dns-server,[%s]\n' % ISP_RESOLVER)  # untagged: ours wins, fine
    with open(os.path.join(confdir, 'lan.conf'), 'w') as handle:
        handle.write('# dhcp-option=lan,option6:dns-server,[::] (a comment)\n'
                     'dhcp-option=lan,option6:dns-server,[%s]\n' % ISP_RESOLVER)
    run = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_servers_ipv6=SPLIT_DNS[:1]))
    assert run.rc != 0
    msg = ' '.join(m for m in run.failed_msg if m)
    assert 'lan.conf:2:dhcp-option=lan,option6:dns-server,[2001:db8:100::53]' in msg, run
    assert 'dnsmasq.conf:1' not in msg and 'router_dhcp_dns_ipv6: false' in msg
    assert os.listdir(confdir) == ['lan.conf'] and not os.path.exists(os.path.join(tmp, 'restarts.log'))

    # router_dhcp_dns_ipv6: false leaves IPv6 alone, so nothing stands in the way.
    old = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_ipv6=False))
    assert old.rc == 0, old


def test_dnsmasq_rebind_exception_lets_the_forwarded_name_through(runner, tmp_path):
    """The router's dnsmasq runs stop-dns-rebind (as OpenWrt does by default) and forwards the published
    name to the split-DNS server, a real dnsmasq answering the LAN address: empty before, the LAN
    address with the role's per-name exception; other private answers stay blocked."""
    tmp = str(tmp_path)
    confdir = os.path.join(tmp, 'dnsmasq.d')
    os.mkdir(confdir)
    netns = 'natloop-rb-%d' % (os.getpid() % 100000)
    subprocess.run(['ip', 'netns', 'del', netns], capture_output=True, check=False)
    subprocess.run(['ip', 'netns', 'add', netns], check=True)

    def inside(*argv):
        return subprocess.run(['ip', 'netns', 'exec', netns] + list(argv), capture_output=True, text=True,
                              check=False)

    def ask(name):
        code = ('import sys; from ansible_collections.natloop.lan.plugins.module_utils._dns_wire import query;'
                'print(query("127.0.0.1", sys.argv[1], "A", timeout=2).records)')
        proc = inside("env", "PYTHONPATH=" + COLLECTIONS, sys.executable, "-c", code, name)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    inside('ip', 'link', 'set', 'lo', 'up')
    inside('ip', 'addr', 'add', '192.168.11.20/32', 'dev', 'lo')
    split_dns = Dnsmasq(tmp, netns, ['--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--listen-address=192.168.11.20',
                                     '--bind-interfaces', '--pid-file=' + os.path.join(tmp, 'split.pid'),
                                     '--address=/rustdesk.example.com/192.168.11.20',
                                     '--address=/evil.example.com/192.168.11.66'])
    router = Dnsmasq(tmp, netns, ['--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--listen-address=127.0.0.1',
                                  '--bind-interfaces', '--pid-file=' + os.path.join(tmp, 'router.pid'), '--stop-dns-rebind',
                                  '--server=192.168.11.20', '--conf-dir=' + confdir])
    forward = dict(router_dhcp_dns_forward_domains=['rustdesk.example.com'], router_dhcp_dns_servers=['192.168.11.20'],
                   router_dhcp_dns_warn_single_server=False)
    try:
        split_dns.restart()
        old = runner.run(ROLE, role_vars(tmp, router_dhcp_dns_rebind_exceptions=False, **forward))
        assert old.rc == 0, old
        assert 'rebind-domain-ok' not in read(os.path.join(confdir, '00-natloop-dhcp-dns.conf'))
        router.restart()
        assert ask('rustdesk.example.com') == '[]'  # the forward alone: the private answer is dropped

        new = runner.run(ROLE, role_vars(tmp, **forward))
        assert new.rc == 0, new
        assert 'rebind-domain-ok=/rustdesk.example.com/\n' in read(os.path.join(confdir, '00-natloop-dhcp-dns.conf'))
        router.restart()
        assert ask('rustdesk.example.com') == "[('rustdesk.example.com', 'A', '192.168.11.20')]"
        assert ask('evil.example.com') == '[]'  # protection stays on for every other name
    finally:
        router.stop()
        split_dns.stop()
        subprocess.run(['ip', 'netns', 'del', netns], capture_output=True, check=False)
