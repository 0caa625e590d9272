# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_util is private to natloop.lan, not a public API: it can change without notice.
"""One marker-delimited block in a hosts file: render, replace, remove, write.

Everything outside the block is kept byte for byte. Writing is atomic (temp file in the
same directory, then rename) unless the file is a bind mount (Docker mounts /etc/hosts
into containers): renaming onto a mount point fails with EBUSY, and then the file is
rewritten in place.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import tempfile

DEFAULT_MARKER = '# {mark} natloop.lan managed block'

# rename() onto a bind-mounted file fails with EBUSY; EXDEV and EPERM show up on some
# overlay/bind combinations too. All three mean "this path cannot be replaced, only rewritten".
RENAME_FALLBACK_ERRNOS = (errno.EBUSY, errno.EXDEV, errno.EPERM)


class HostsBlockError(Exception):
    """The file's markers are damaged; guessing where the block ends would lose user lines."""


def markers(marker):
    """Return the (begin, end) marker lines, without line ending, as bytes."""
    if '{mark}' not in marker:
        raise HostsBlockError('marker must contain "{mark}"')
    return (marker.replace('{mark}', 'BEGIN').encode('utf-8'),
            marker.replace('{mark}', 'END').encode('utf-8'))


def line_ending(data):
    """Keep the file's own line ending: CRLF only if the file already uses it."""
    return b'\r\n' if b'\r\n' in data else b'\n'


def render_block(entries, marker=DEFAULT_MARKER, newline=b'\n'):
    """Render entries [{'ip': str, 'names': [str]}] as the complete block, markers included."""
    begin, end = markers(marker)
    lines = [begin]
    for entry in entries:
        names = ' '.join(entry['names'])
        lines.append(('%s %s' % (entry['ip'], names)).encode('utf-8'))
    lines.append(end)
    return newline.join(lines) + newline


def _split_lines(data):
    """Split into lines that keep their own line endings, so joining them gives data back."""
    return data.splitlines(True)


def find_block(data, marker=DEFAULT_MARKER):
    """Return (start, stop) byte offsets of the block (whole lines), or None if there is none."""
    begin, end = markers(marker)
    offset = 0
    start = None
    span = None
    for line in _split_lines(data):
        content = line.rstrip(b'\r\n')
        if content == begin:
            if start is not None or span is not None:
                raise HostsBlockError('found a second "%s" line' % begin.decode('utf-8'))
            start = offset
        elif content == end:
            if start is None:
                raise HostsBlockError('found "%s" without a "%s" line before it'
                                      % (end.decode('utf-8'), begin.decode('utf-8')))
            span = (start, offset + len(line))
            start = None
        offset += len(line)
    if start is not None:
        raise HostsBlockError('found "%s" without a matching "%s" line'
                              % (begin.decode('utf-8'), end.decode('utf-8')))
    return span


def apply_block(data, entries, state='present', marker=DEFAULT_MARKER):
    """Return the new file content for the wanted state of the block.

    present: the block is replaced where it stands, or appended at the end.
    absent: the block's lines are removed and nothing else.
    """
    span = find_block(data, marker)
    if state == 'absent':
        if span is None:
            return data
        return data[:span[0]] + data[span[1]:]
    block = render_block(entries, marker, line_ending(data))
    if span is not None:
        return data[:span[0]] + block + data[span[1]:]
    if data and not data.endswith(b'\n'):
        # The last line has no line ending: without one the marker would be glued to it.
        data += line_ending(data)
    return data + block


def conflicting_lines(data, names, marker=DEFAULT_MARKER):
    """Lines outside the block that map one of names too: the first match in the file wins."""
    span = find_block(data, marker)
    outside = data if span is None else data[:span[0]] + data[span[1]:]
    wanted = set(names)
    found = []
    for line in _split_lines(outside):
        text = line.split(b'#', 1)[0].decode('utf-8', 'replace').split()
        if len(text) >= 2 and wanted.intersection(text[1:]):
            found.append(line.rstrip(b'\r\n').decode('utf-8', 'replace'))
    return found


def _copy_metadata(src_stat, path):
    os.chmod(path, src_stat.st_mode & 0o7777)
    try:
        os.chown(path, src_stat.st_uid, src_stat.st_gid)
    except OSError:
        # Not root: the new file then belongs to us, as any editor would leave it.
        pass


def write_in_place(path, data):
    """Rewrite the file through its existing inode (works on bind mounts, not atomic)."""
    with open(path, 'r+b') as handle:
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def write_file(path, data, rename=os.rename):
    """Write data to path; return 'atomic' or 'in_place' to say how it was written.

    rename is a parameter so the bind-mount fallback can be exercised without a mount.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        current = os.stat(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
        current = None
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix='.natloop-hosts.')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if current is not None:
            _copy_metadata(current, tmp_path)
        else:
            os.chmod(tmp_path, 0o644)
        try:
            rename(tmp_path, path)
            return 'atomic'
        except OSError as exc:
            if current is None or exc.errno not in RENAME_FALLBACK_ERRNOS:
                raise
        write_in_place(path, data)
        return 'in_place'
    finally:
        if os.path.lexists(tmp_path):
            os.unlink(tmp_path)
