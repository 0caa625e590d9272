# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A router's /etc/config for the role tests, read and written by OpenWrt's real tools.

The real `uci`, firewall4 (`fw4 print`) and OpenWrt's dnsmasq option generation come from the
peer ../shared/peers/openwrt (NATLOOP_OPENWRT_PEER overrides the path), run through its
`owrt-run`, which mounts a config folder of ours as /etc/config in a private mount namespace.
The roles' raw commands find a `uci` on PATH that does exactly that, with a save dir that keeps
staged changes between calls, as /tmp/.uci does on a device.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
PEER = os.environ.get('NATLOOP_OPENWRT_PEER') or os.path.join(REPO, '..', 'shared', 'peers', 'openwrt')
OWRT_RUN = os.path.join(PEER, 'owrt-run')


def peer_missing():
    """Why the OpenWrt peer cannot run here, or '' when it can."""
    if not os.access(OWRT_RUN, os.X_OK):
        return ('the OpenWrt peer is missing: %s (set NATLOOP_OPENWRT_PEER to the folder with owrt-run)'
                % os.path.abspath(PEER))
    if os.geteuid() != 0:
        return 'owrt-run needs root (unshare --mount)'
    for command in ('unshare', 'nft', 'dnsmasq'):
        if not shutil.which(command):
            return '%s is missing (scripts/bootstrap-host.sh installs it)' % command
    return ''


needs_peer = pytest.mark.skipif(bool(peer_missing()), reason=peer_missing() or 'peer present')


def _write_exec(path, text):
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, 0o755)


class Router(object):
    """One OpenWrt router's configuration (firewall, dhcp, network) in tmp/etc-config."""

    def __init__(self, tmp):
        self.tmp = str(tmp)
        self.config = os.path.join(self.tmp, 'etc-config')
        self.savedir = os.path.join(self.tmp, 'uci-save')
        self.bindir = os.path.join(self.tmp, 'owrt-bin')
        self.reload_log = os.path.join(self.tmp, 'reloads.log')
        self.ruleset = os.path.join(self.tmp, 'fw4-reloaded.nft')
        for folder in (self.savedir, self.bindir):
            os.makedirs(folder, exist_ok=True)
        subprocess.run([OWRT_RUN, '--init', self.config], check=True, capture_output=True)
        self.path = [self.bindir]
        # The peer's bin/utpl and bin/ucc must be links to ucode (fw4 runs `utpl`). A copy that lost
        # them (plain files containing "ucode") is bridged by links later on PATH: the shell skips a
        # file it cannot execute when an executable one comes later.
        if not os.access(os.path.join(PEER, 'bin', 'utpl'), os.X_OK):
            shim = os.path.join(self.tmp, 'owrt-shim')
            os.makedirs(shim, exist_ok=True)
            for name in ('utpl', 'ucc'):
                os.symlink(os.path.join(os.path.abspath(PEER), 'bin', 'ucode'), os.path.join(shim, name))
            self.path.append(shim)
        prefix = '#!/bin/sh\n%s --config %s --savedir %s --' % (OWRT_RUN, self.config, self.savedir)
        _write_exec(os.path.join(self.bindir, 'uci'), prefix.replace('\n', '\nexec ') + ' uci "$@"\n')
        # The roles' reload commands: what /etc/init.d/{firewall,dnsmasq} reload would read, kept for the tests.
        _write_exec(os.path.join(self.bindir, 'owrt-firewall-reload'),
                    '%s fw4 print >%s.tmp && mv %s.tmp %s && echo firewall >>%s\n'
                    % (prefix, self.ruleset, self.ruleset, self.ruleset, self.reload_log))
        _write_exec(os.path.join(self.bindir, 'owrt-dnsmasq-reload'),
                    '%s dnsmasq-options >/dev/null && echo dnsmasq >>%s\n' % (prefix, self.reload_log))

    def env(self):
        env = dict(os.environ)
        env['PATH'] = os.pathsep.join([self.bindir, env.get('PATH', '')] + self.path[1:])
        return env

    def run(self, *argv, **kwargs):
        """Run argv inside owrt-run on this config; returns the CompletedProcess."""
        check = kwargs.pop('check', True)
        proc = subprocess.run([OWRT_RUN, '--config', self.config, '--savedir', self.savedir, '--'] + list(argv),
                              env=self.env(), capture_output=True, text=True, check=False, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError('%r failed (%s): %s %s' % (argv, proc.returncode, proc.stdout, proc.stderr))
        return proc

    def sh(self, script, check=True):
        return self.run('sh', '-c', script, check=check)

    def append(self, package, text):
        with open(os.path.join(self.config, package), 'a') as handle:
            handle.write(text)

    def write(self, package, text):
        with open(os.path.join(self.config, package), 'w') as handle:
            handle.write(text)

    def read(self, package):
        with open(os.path.join(self.config, package)) as handle:
            return handle.read()

    def show(self, package):
        return self.run('uci', 'show', package).stdout

    def changes(self, package):
        return self.run('uci', 'changes', package).stdout

    def fw4_print(self):
        """(ruleset, stderr) of `fw4 print`: stderr carries firewall4's warnings."""
        proc = self.run('fw4', 'print')
        return proc.stdout, proc.stderr

    def dnsmasq_options(self):
        """(dhcp-option lines, stderr) that OpenWrt's dnsmasq init would write."""
        proc = self.run('dnsmasq-options')
        return proc.stdout.splitlines(), proc.stderr

    def reloads(self):
        if not os.path.exists(self.reload_log):
            return []
        with open(self.reload_log) as handle:
            return handle.read().splitlines()


def nft_check(ruleset):
    """nft -c on a ruleset in a throw-away network namespace: (ok, message)."""
    proc = subprocess.run(['unshare', '--net', 'nft', '-c', '-f', '-'], input=ruleset, capture_output=True,
                          text=True, check=False)
    return proc.returncode == 0, proc.stderr


def dnsmasq_test(tmp, lines):
    """dnsmasq --test on the dhcp-option lines OpenWrt would write: (ok, message)."""
    path = os.path.join(str(tmp), 'dnsmasq-options.conf')
    with open(path, 'w') as handle:
        handle.write(''.join('%s\n' % line for line in lines))
    proc = subprocess.run(['dnsmasq', '--test', '--conf-file=' + path], capture_output=True, text=True, check=False)
    return proc.returncode == 0, proc.stderr + proc.stdout
