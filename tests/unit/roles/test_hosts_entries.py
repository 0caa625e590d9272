# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.hosts_entries on a temporary hosts file (POSIX) and against a fake win_hosts (Windows).

The Windows path runs ansible.windows' options against a test-only stand-in module; it is never run
on a real Windows host here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

ROLE = 'natloop.lan.hosts_entries'
SERVICES = [
    {'name': 'rustdesk', 'domain': 'rustdesk.example.com', 'lan_ipv4': '192.168.11.20', 'lan_ipv6': 'fd00:11::20',
     'public_ip': '198.51.100.1', 'ports': [{'proto': 'tcp', 'port': 21116}]},
    {'name': 'web', 'domain': 'www.example.com', 'lan_ipv4': '192.168.11.21', 'public_ip': '198.51.100.1',
     'ports': [{'proto': 'tcp', 'port': 443}]},
]
# Odd but legal content that must survive byte for byte: tabs, comments, CRLF-free, no final newline.
ORIGINAL = b'127.0.0.1\tlocalhost\n::1 localhost ip6-localhost   # loopback\n\n#192.168.11.99 old\n10.0.0.1 nas'
BLOCK = (b'# BEGIN natloop.lan managed block\n'
         b'192.168.11.20 rustdesk.example.com\n'
         b'fd00:11::20 rustdesk.example.com\n'
         b'192.168.11.21 www.example.com\n'
         b'# END natloop.lan managed block\n')


def read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def posix_vars(path, **extra):
    role_vars = {'hosts_entries_services': SERVICES, 'hosts_entries_path': path, 'hosts_entries_backend': 'posix'}
    role_vars.update(extra)
    return role_vars


def test_posix_check_run_rerun_absent(runner, tmp_path):
    hosts = os.path.join(str(tmp_path), 'hosts')
    with open(hosts, 'wb') as handle:
        handle.write(ORIGINAL)

    check = runner.run(ROLE, posix_vars(hosts), check=True)
    assert check.rc == 0, check
    assert check.changed == 1
    assert read(hosts) == ORIGINAL

    run = runner.run(ROLE, posix_vars(hosts))
    assert run.rc == 0, run
    assert check.changed_tasks() == [name for name in run.changed_tasks() if 'Flush' not in name]
    assert read(hosts) == ORIGINAL + b'\n' + BLOCK
    assert run.result('Write the natloop.lan block')['write_method'] == 'atomic'

    again = runner.run(ROLE, posix_vars(hosts))
    assert again.rc == 0 and again.changed == 0, again

    # A service goes away: the block is rewritten where it stands, the lines after it stay.
    with open(hosts, 'ab') as handle:
        handle.write(b'10.0.0.2 printer\n')
    fewer = runner.run(ROLE, posix_vars(hosts, hosts_entries_services=SERVICES[1:]))
    assert fewer.rc == 0, fewer
    assert read(hosts) == (ORIGINAL + b'\n# BEGIN natloop.lan managed block\n192.168.11.21 www.example.com\n'
                           b'# END natloop.lan managed block\n10.0.0.2 printer\n')

    absent = runner.run(ROLE, posix_vars(hosts, hosts_entries_state='absent'))
    assert absent.rc == 0, absent
    assert read(hosts) == ORIGINAL + b'\n10.0.0.2 printer\n'

    absent_again = runner.run(ROLE, posix_vars(hosts, hosts_entries_state='absent'))
    assert absent_again.rc == 0 and absent_again.changed == 0, absent_again


def test_posix_backup_and_no_ipv6(runner, tmp_path):
    hosts = os.path.join(str(tmp_path), 'hosts')
    with open(hosts, 'wb') as handle:
        handle.write(b'127.0.0.1 localhost\n')
    run = runner.run(ROLE, posix_vars(hosts, hosts_entries_backup=True, hosts_entries_ipv6=False))
    assert run.rc == 0, run
    assert b'fd00' not in read(hosts)
    backup = run.result('Write the natloop.lan block')['backup_file']
    assert read(backup) == b'127.0.0.1 localhost\n'


def test_roaming_host_is_skipped_with_a_reason_unless_forced(runner, tmp_path):
    hosts = os.path.join(str(tmp_path), 'hosts')
    with open(hosts, 'wb') as handle:
        handle.write(ORIGINAL)
    runner.host_vars['natloop_roaming'] = True

    skipped = runner.run(ROLE, posix_vars(hosts))
    assert skipped.rc == 0, skipped
    assert skipped.changed == 0
    assert read(hosts) == ORIGINAL
    assert any('marked roaming' in w and 'unreachable' in w
               and 'hosts_entries_force_roaming' in w for w in skipped.warnings), skipped.warnings

    forced = runner.run(ROLE, posix_vars(hosts, hosts_entries_force_roaming=True))
    assert forced.rc == 0, forced
    assert read(hosts) == ORIGINAL + b'\n' + BLOCK
    assert forced.warnings == []

    # Removing entries from a laptop is always allowed.
    absent = runner.run(ROLE, posix_vars(hosts, hosts_entries_state='absent'))
    assert absent.rc == 0, absent
    assert read(hosts) == ORIGINAL + b'\n'


def test_conflicting_line_outside_the_block_is_reported(runner, tmp_path):
    hosts = os.path.join(str(tmp_path), 'hosts')
    with open(hosts, 'wb') as handle:
        handle.write(b'198.51.100.1 www.example.com\n')
    run = runner.run(ROLE, posix_vars(hosts))
    assert run.rc == 0, run
    assert any('198.51.100.1 www.example.com' in w and 'first match wins' in w for w in run.warnings), run.warnings


def test_broken_markers_fail_and_change_nothing(runner, tmp_path):
    hosts = os.path.join(str(tmp_path), 'hosts')
    damaged = b'127.0.0.1 localhost\n# BEGIN natloop.lan managed block\n192.168.11.20 x\n'
    with open(hosts, 'wb') as handle:
        handle.write(damaged)
    run = runner.run(ROLE, posix_vars(hosts))
    assert run.rc != 0
    assert any('without a matching' in (msg or '') for msg in run.failed_msg), run
    assert read(hosts) == damaged


WINDOWS_HOSTS = '# Copyright (c) 1993-2009 Microsoft Corp.\n127.0.0.1  localhost\n192.168.11.20  nas.lan\n'


def windows_vars(**extra):
    role_vars = {'hosts_entries_services': SERVICES, 'hosts_entries_backend': 'windows'}
    role_vars.update(extra)
    return role_vars


def test_windows_check_mode_against_fake_win_hosts(runner):
    runner.use_fake_windows(WINDOWS_HOSTS)
    check = runner.run(ROLE, windows_vars(), check=True)
    assert check.rc == 0, check
    assert check.changed == 1
    assert read(runner.win_hosts).decode() == WINDOWS_HOSTS
    # ipconfig /flushdns is not run in check mode (win_command has no check mode).
    assert not os.path.exists(runner.win_commands)
    results = check.result('Manage the hosts entries on Windows')['results']
    assert [(r['item']['ip'], r['changed']) for r in results] == [
        ('192.168.11.20', True), ('fd00:11::20', True), ('192.168.11.21', True)]


def test_windows_run_rerun_absent_against_fake_win_hosts(runner):
    runner.use_fake_windows(WINDOWS_HOSTS)
    run = runner.run(ROLE, windows_vars())
    assert run.rc == 0, run
    assert read(runner.win_hosts).decode() == WINDOWS_HOSTS + (
        '192.168.11.20  rustdesk.example.com\nfd00:11::20  rustdesk.example.com\n192.168.11.21  www.example.com\n')
    assert read(runner.win_commands).decode() == 'ipconfig /flushdns\n'

    again = runner.run(ROLE, windows_vars())
    assert again.rc == 0 and again.changed == 0, again
    assert read(runner.win_commands).decode() == 'ipconfig /flushdns\n'

    absent = runner.run(ROLE, windows_vars(hosts_entries_state='absent'))
    assert absent.rc == 0, absent
    assert read(runner.win_hosts).decode() == WINDOWS_HOSTS
    assert read(runner.win_commands).decode() == 'ipconfig /flushdns\nipconfig /flushdns\n'
