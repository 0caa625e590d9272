# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The per-server lock: its key, its place, a waiter that gives up naming the holder, and a holder
that dies. The holders are real separate processes, as ansible-playbook runs are."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _lock
from ansible_collections.natloop.lan.plugins.modules import pihole_dns_record, pihole_settings
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import FakePihole

HOLDER = textwrap.dedent('''
    import sys, time
    from ansible_collections.natloop.lan.plugins.module_utils._lock import server_lock
    with server_lock(sys.argv[1], sys.argv[2], timeout=5, what='natloop.lan.holder'):
        print('locked', flush=True)
        time.sleep(float(sys.argv[3]))
''')


@pytest.mark.parametrize('url, key', [
    ('http://Pi.LAN', 'http://pi.lan:80'),
    ('HTTP://pi.lan:80/', 'http://pi.lan:80'),
    ('https://pi.lan/api/', 'https://pi.lan:443/api'),
    ('http://[FD00::1]:8080/admin', 'http://[fd00::1]:8080/admin'),
    ('http://127.0.0.1:8081/api', 'http://127.0.0.1:8081/api'),
])
def test_the_key_is_the_normalized_url(url, key):
    assert _lock.normalize_url(url) == key


def test_equal_servers_share_one_file_and_others_do_not(tmp_path):
    path = _lock.lock_path(str(tmp_path), _lock.normalize_url('http://Pi.lan/'))
    assert path == _lock.lock_path(str(tmp_path), _lock.normalize_url('http://pi.lan:80'))
    assert path != _lock.lock_path(str(tmp_path), _lock.normalize_url('http://pi.lan:8080'))
    assert os.path.basename(path).startswith('server-pi.lan_80-')


def hold(tmp_path, url, seconds):
    process = subprocess.Popen([sys.executable, '-c', HOLDER, url, str(tmp_path), str(seconds)],
                               stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert process.stdout.readline().strip() == 'locked'
    return process


def test_a_waiter_gives_up_after_the_timeout_and_names_the_holder(tmp_path):
    holder = hold(tmp_path, 'http://pi.lan', 30)
    try:
        start = time.monotonic()
        with pytest.raises(_lock.LockTimeout) as info:
            with _lock.server_lock('http://PI.lan:80/', str(tmp_path), timeout=1):
                pytest.fail('got a lock another process holds')
        assert 1 <= time.monotonic() - start < 5
        assert info.value.holder['pid'] == holder.pid
        assert info.value.holder['module'] == 'natloop.lan.holder'
        assert 'pid {0} on '.format(holder.pid) in info.value.msg and 'http://pi.lan:80' in info.value.msg
        assert 'lock_timeout' in info.value.msg
    finally:
        holder.kill()
        holder.wait()


def test_a_waiter_goes_on_when_the_holder_ends_and_a_killed_holder_leaves_no_lock(tmp_path):
    holder = hold(tmp_path, 'http://pi.lan', 0.5)
    with _lock.server_lock('http://pi.lan', str(tmp_path), timeout=10) as waited:
        assert 0.2 < waited < 5
    holder.wait()
    holder = hold(tmp_path, 'http://pi.lan', 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with _lock.server_lock('http://pi.lan', str(tmp_path), timeout=0) as waited:
        assert waited < 0.5
        with open(_lock.lock_path(str(tmp_path), 'http://pi.lan:80')) as handle:
            assert json.loads(handle.read())['pid'] == os.getpid()


def test_another_server_is_not_blocked(tmp_path):
    holder = hold(tmp_path, 'http://pi.lan', 30)
    try:
        with _lock.server_lock('http://pi.lan:8080', str(tmp_path), timeout=0):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_default_directory_is_private_and_a_foreign_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_lock.tempfile, 'gettempdir', lambda: str(tmp_path))
    with _lock.server_lock('http://pi.lan', None, timeout=0):
        pass
    directory = _lock.default_lock_dir()
    assert directory == str(tmp_path / 'natloop-lan-locks-{0}'.format(os.getuid()))
    assert os.stat(directory).st_mode & 0o777 == 0o700
    # A symlink planted where the default directory goes is refused.
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    os.rmdir(directory)
    os.symlink(str(tmp_path), directory)
    with pytest.raises(OSError):
        with _lock.server_lock('http://pi.lan', None, timeout=0):
            pass


def args(**more):
    result = {'url': 'http://pihole.test', 'password': 'secret'}
    result.update(more)
    return result


def test_the_modules_wait_for_the_lock_and_fail_naming_the_holder_without_a_request(run, tmp_path):
    holder = hold(tmp_path, 'http://pihole.test/api', 30)
    try:
        for module, module_args in ((pihole_dns_record, args(records=[{'domain': 'a.lan', 'answer': '10.0.0.1'}])),
                                    (pihole_settings, args(blocking=False))):
            server = FakePihole()
            result = run(module, server, dict(module_args, lock_dir=str(tmp_path), lock_timeout=1))
            assert result['failed'] is True
            assert 'still held its lock after 1 s: pid {0}'.format(holder.pid) in result['msg']
            assert result['lock_holder']['pid'] == holder.pid
            assert server.requests == []
            # Check mode takes no lock: it reads and predicts while the holder writes.
            server = FakePihole()
            result = run(module, server, dict(module_args, lock_dir=str(tmp_path), lock_timeout=1), check=True)
            assert result['changed'] is True and 'failed' not in result
    finally:
        holder.kill()
        holder.wait()


def test_an_unusable_lock_directory_fails_before_any_request(run, tmp_path):
    (tmp_path / 'file').write_text('')
    server = FakePihole()
    result = run(pihole_dns_record, server, args(records=[{'domain': 'a.lan', 'answer': '10.0.0.1'}],
                                                 lock_dir=str(tmp_path / 'file')))
    assert result['failed'] is True and 'set lock_dir (or NATLOOP_LOCK_DIR)' in result['msg']
    assert server.requests == []
