# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.hosts_block: block logic, byte-for-byte preservation, atomic write and bind-mount fallback."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.natloop.lan.plugins.module_utils._hosts_block import (
    HostsBlockError,
    apply_block,
    conflicting_lines,
    find_block,
    write_file,
)

ENTRIES = [{'ip': '192.168.11.20', 'names': ['rustdesk.example.com']},
           {'ip': 'fd00::20', 'names': ['rustdesk.example.com', 'rd']}]
BLOCK = (b'# BEGIN natloop.lan managed block\n192.168.11.20 rustdesk.example.com\n'
         b'fd00::20 rustdesk.example.com rd\n# END natloop.lan managed block\n')


@pytest.mark.parametrize('original', [
    b'',
    b'127.0.0.1 localhost\n',
    b'127.0.0.1\tlocalhost   # tabs, spaces, comment  \n\n\n#x\n',
    b'\xff\xfe not utf-8 \x00 bytes\n',
])
def test_present_then_absent_gives_the_original_bytes_back(original):
    with_block = apply_block(original, ENTRIES)
    assert with_block == original + BLOCK
    assert apply_block(with_block, ENTRIES) == with_block
    assert apply_block(with_block, [], 'absent') == original


def test_block_is_replaced_in_place_and_lines_after_it_are_kept():
    data = b'a 1\n' + BLOCK + b'b 2\n'
    new = apply_block(data, ENTRIES[:1])
    assert new == (b'a 1\n# BEGIN natloop.lan managed block\n192.168.11.20 rustdesk.example.com\n'
                   b'# END natloop.lan managed block\nb 2\n')
    assert apply_block(new, [], 'absent') == b'a 1\nb 2\n'


def test_missing_final_newline_is_added_once_and_crlf_files_stay_crlf():
    assert apply_block(b'127.0.0.1 localhost', ENTRIES) == b'127.0.0.1 localhost\n' + BLOCK
    crlf = apply_block(b'127.0.0.1 localhost\r\n', ENTRIES)
    assert crlf == b'127.0.0.1 localhost\r\n' + BLOCK.replace(b'\n', b'\r\n')
    assert apply_block(crlf, [], 'absent') == b'127.0.0.1 localhost\r\n'


@pytest.mark.parametrize('damaged', [
    b'# BEGIN natloop.lan managed block\nx y\n',
    b'x y\n# END natloop.lan managed block\n',
    BLOCK + BLOCK,
])
def test_damaged_markers_raise(damaged):
    with pytest.raises(HostsBlockError):
        apply_block(damaged, ENTRIES)


def test_custom_marker_and_find_block():
    marker = '## {mark} mine'
    data = apply_block(b'x\n', ENTRIES, marker=marker)
    assert data.startswith(b'x\n## BEGIN mine\n') and data.endswith(b'## END mine\n')
    assert find_block(data, marker) == (2, len(data))
    assert find_block(data) is None
    with pytest.raises(HostsBlockError):
        apply_block(b'', ENTRIES, marker='no mark here')


def test_conflicting_lines_outside_the_block():
    data = b'198.51.100.7 rustdesk.example.com\n# 1.2.3.4 rd\n' + BLOCK
    assert conflicting_lines(data, ['rustdesk.example.com', 'rd']) == ['198.51.100.7 rustdesk.example.com']


def test_write_file_atomic_keeps_mode(tmp_path):
    path = str(tmp_path / 'hosts')
    with open(path, 'wb') as handle:
        handle.write(b'old\n')
    os.chmod(path, 0o640)
    inode = os.stat(path).st_ino
    assert write_file(path, b'new\n') == 'atomic'
    assert open(path, 'rb').read() == b'new\n'
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.stat(path).st_ino != inode  # replaced, not rewritten
    assert os.listdir(str(tmp_path)) == ['hosts']


def test_write_file_falls_back_to_in_place_on_ebusy(tmp_path):
    path = str(tmp_path / 'hosts')
    with open(path, 'wb') as handle:
        handle.write(b'a much longer old content\n')
    inode = os.stat(path).st_ino

    def busy_rename(src, dst):
        raise OSError(errno.EBUSY, 'Device or resource busy')

    assert write_file(path, b'new\n', rename=busy_rename) == 'in_place'
    assert open(path, 'rb').read() == b'new\n'
    assert os.stat(path).st_ino == inode
    assert os.listdir(str(tmp_path)) == ['hosts']  # temporary file cleaned up


def test_write_file_other_errors_are_raised(tmp_path):
    path = str(tmp_path / 'hosts')
    with open(path, 'wb') as handle:
        handle.write(b'old\n')

    def broken_rename(src, dst):
        raise OSError(errno.EIO, 'I/O error')

    with pytest.raises(OSError):
        write_file(path, b'new\n', rename=broken_rename)
    assert open(path, 'rb').read() == b'old\n'
    assert os.listdir(str(tmp_path)) == ['hosts']


def _can_bind_mount():
    if os.geteuid() != 0 or not shutil.which('unshare'):
        return False
    return subprocess.run(['unshare', '-m', 'true'], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _can_bind_mount(), reason='needs root and unshare -m for a real bind mount')
def test_real_bind_mount_is_written_in_place(tmp_path):
    """As in a Docker container: the hosts file is a bind mount, rename onto it fails with EBUSY."""
    source = str(tmp_path / 'source-hosts')
    target = str(tmp_path / 'etc-hosts')
    with open(source, 'wb') as handle:
        handle.write(b'127.0.0.1 localhost\n')
    with open(target, 'wb') as handle:
        handle.write(b'')
    script = (
        'import json, sys\n'
        'from ansible_collections.natloop.lan.plugins.module_utils._hosts_block import apply_block, write_file\n'
        'path = sys.argv[1]\n'
        'data = apply_block(open(path, "rb").read(), [{"ip": "192.168.11.20", "names": ["x.example"]}])\n'
        'print(json.dumps(write_file(path, data)))\n'
    )
    proc = subprocess.run(
        ['unshare', '-m', 'sh', '-c', 'mount --bind "$1" "$2" && exec "$3" -c "$4" "$2"', 'sh',
         source, target, sys.executable, script],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == 'in_place'
    # The write went through the mount into the bind source, as the container's host would see it.
    assert open(source, 'rb').read() == (b'127.0.0.1 localhost\n# BEGIN natloop.lan managed block\n'
                                         b'192.168.11.20 x.example\n# END natloop.lan managed block\n')
    assert sorted(os.listdir(str(tmp_path))) == ['etc-hosts', 'source-hosts']
