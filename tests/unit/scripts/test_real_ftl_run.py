# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/real-ftl-run: the command's own exit status, whatever run-isolated returns; a timeout that
kills everything run-isolated started. The real run-isolated runs in `make conformance-real` and
`make integration-real-ftl`; here a stand-in for it behaves as the peer's does in the two cases that
matter (its stop trap failing with 1 after FTL is gone; FTL never stopping)."""

import os
import subprocess
import time

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'scripts', 'real-ftl-run')

# Like the peer's: options, --, then the command; the "FTL" it starts in the background is a sleep.
FAKE_RUN_ISOLATED = '''#!/usr/bin/env bash
set -euo pipefail
while [ "$1" != "--" ]; do shift; done; shift
sleep {ftl_seconds} &
echo $! > {pid_file}
trap 'kill -0 $! 2>/dev/null && exit 1; exit 1' EXIT
set +e; "$@"; rc=$?; set -e
exit $rc
'''


def run(tmp_path, command, ftl_seconds=0, timeout_s=None):
    fake = tmp_path / 'run-isolated'
    fake.write_text(FAKE_RUN_ISOLATED.format(ftl_seconds=ftl_seconds, pid_file=tmp_path / 'ftl.pid'))
    fake.chmod(0o755)
    env = dict(os.environ)
    if timeout_s:
        env['NATLOOP_REAL_FTL_TIMEOUT'] = str(timeout_s)
    return subprocess.run([SCRIPT, str(fake), '--web-port', '1', '--'] + command, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_commands_status_counts_not_run_isolateds(tmp_path):
    ok = run(tmp_path, ['true'])
    assert ok.returncode == 0 and 'the command 0' in ok.stderr, ok
    failed = run(tmp_path, ['sh', '-c', 'exit 3'])
    assert failed.returncode == 3, failed


def test_a_hang_is_cut_off_with_everything_it_started(tmp_path):
    started = time.monotonic()
    hung = run(tmp_path, ['sleep', '300'], ftl_seconds=300, timeout_s=2)
    assert hung.returncode == 124 and 'timeout' in hung.stderr, hung
    assert time.monotonic() - started < 60
    ftl = int((tmp_path / 'ftl.pid').read_text())
    deadline = time.monotonic() + 10
    while os.path.exists('/proc/%d' % ftl) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists('/proc/%d' % ftl), 'the "FTL" run-isolated started outlived the timeout'
