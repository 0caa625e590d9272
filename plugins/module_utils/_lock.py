# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""One writer per DNS server from one machine: a lock file per server URL.

The record and settings modules hold it around read -> plan -> write -> verify, so forks of one
``ansible-playbook`` and separate ``ansible-playbook`` processes that run the modules on the same
host never interleave their writes to one server. ``fcntl.flock`` on a file in a directory of the
host the module runs on: the kernel drops the lock when the holding process ends, however it
ends, so a killed run never leaves a stale lock behind. The holder writes who it is into the file
(pid, host, start time, its ansible-playbook program and playbook files when it finds them); a waiter that gives
up names that holder.
"""

import contextlib
import errno
import hashlib
import json
import os
import re
import socket
import stat
import tempfile
import time
from urllib.parse import urlsplit

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # not on POSIX: no lock, documented
    HAS_FCNTL = False

from ansible.module_utils.basic import env_fallback

DEFAULT_TIMEOUT = 300
POLL_INTERVAL = 0.05

# Tests replace these.
sleep = time.sleep
monotonic = time.monotonic


def lock_argument_spec():
    """The options of every module that writes to a DNS server (doc fragment natloop.lan._writers)."""
    return dict(
        lock_dir=dict(type='path', fallback=(env_fallback, ['NATLOOP_LOCK_DIR'])),
        lock_timeout=dict(type='int', default=DEFAULT_TIMEOUT, fallback=(env_fallback, ['NATLOOP_LOCK_TIMEOUT'])),
    )


class LockTimeout(Exception):
    def __init__(self, msg, holder):
        super(LockTimeout, self).__init__(msg)
        self.msg = msg
        self.holder = holder


def normalize_url(url):
    """The lock key of a server: scheme, host and port lower-cased, default port filled, no trailing '/'.

    ``HTTP://PiHole.lan/`` and ``http://pihole.lan:80`` are the same server; the path stays (two
    servers behind one reverse proxy differ only there), without trailing slashes.
    """
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or 'http').lower()
    host = (parts.hostname or '').lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if scheme == 'https' else 80
    if ':' in host:
        host = '[{0}]'.format(host)
    path = parts.path.rstrip('/')
    return '{0}://{1}:{2}{3}'.format(scheme, host, port, path)


def default_lock_dir():
    """A directory of this user only in the system's temporary directory."""
    return os.path.join(tempfile.gettempdir(), 'natloop-lan-locks-{0}'.format(os.getuid()))


def lock_path(directory, key):
    slug = re.sub(r'[^a-z0-9.]+', '_', key.split('://', 1)[-1].lower()).strip('_')[:60]
    digest = hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]
    return os.path.join(directory, 'server-{0}-{1}.lock'.format(slug, digest))


def _ensure_dir(directory, private):
    """Create the directory (0700 when it is our default); refuse one another user controls."""
    try:
        os.makedirs(directory, 0o700 if private else 0o777)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(errno.ENOTDIR, 'is not a directory (a symlink or a file)', directory)
    if private and info.st_uid != os.getuid():
        raise OSError(errno.EPERM, 'belongs to another user (uid {0})'.format(info.st_uid), directory)


def _playbook_command():
    """The ansible-playbook (or ansible) process above this one and its playbook files, if any (Linux)."""
    pid = os.getppid()
    for dummy in range(12):
        if pid <= 1:
            return None
        try:
            with open('/proc/{0}/cmdline'.format(pid), 'rb') as handle:
                argv = [part.decode('utf-8', 'replace') for part in handle.read().split(b'\0') if part]
            with open('/proc/{0}/stat'.format(pid), 'rb') as handle:
                pid = int(handle.read().decode('ascii', 'replace').rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        if any(_is_ansible_cli(arg) for arg in argv[:2]):
            # The program and its playbook files only: other arguments may carry secrets (-e password=...).
            shown = [os.path.basename(arg) for arg in argv[:2] if _is_ansible_cli(arg)][:1]
            shown += [arg for arg in argv[1:] if arg.endswith(('.yml', '.yaml')) and not arg.startswith('-')]
            return ' '.join(shown)[:300]
    return None


def _is_ansible_cli(arg):
    name = os.path.basename(arg)
    return name == 'ansible' or name.startswith('ansible-')


def describe_holder(holder):
    if not holder:
        return 'a process that wrote no details (an older or foreign writer)'
    text = 'pid {0} on {1} since {2}'.format(holder.get('pid', '?'), holder.get('host', '?'), holder.get('since', '?'))
    if holder.get('module'):
        text += ' ({0})'.format(holder['module'])
    if holder.get('command'):
        text += ', started by: {0}'.format(holder['command'])
    return text


def _read_holder(handle):
    try:
        handle.seek(0)
        return json.loads(handle.read() or '{}')
    except ValueError:
        return {}


@contextlib.contextmanager
def server_lock(url, directory=None, timeout=DEFAULT_TIMEOUT, what=None):
    """Hold the lock of the server at ``url`` for the ``with`` block; yield the seconds waited.

    Raise LockTimeout (naming the holder) after ``timeout`` seconds, OSError when the directory
    cannot be used. Without fcntl (not POSIX) nothing is locked.
    """
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    if not HAS_FCNTL:
        yield 0.0
        return
    key = normalize_url(url)
    private = directory is None
    directory = directory or default_lock_dir()
    _ensure_dir(directory, private)
    path = lock_path(directory, key)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
    handle = os.fdopen(fd, 'r+')
    try:
        start = monotonic()
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            if monotonic() - start >= timeout:
                holder = _read_holder(handle)
                raise LockTimeout(
                    'Another run is writing to {0} and still held its lock after {1} s: {2}. Lock file: {3}. '
                    'Wait for that run to end, or raise lock_timeout (NATLOOP_LOCK_TIMEOUT).'.format(
                        key, timeout, describe_holder(holder), path),
                    holder)
            sleep(POLL_INTERVAL)
        waited = monotonic() - start
        holder = {
            'pid': os.getpid(), 'host': socket.gethostname(), 'server': key,
            'since': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'module': what, 'command': _playbook_command(),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder, sort_keys=True) + '\n')
        handle.flush()
        try:
            yield waited
        finally:
            # Emptied before the unlock: the next holder writes its own details.
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
