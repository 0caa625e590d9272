# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This doc fragment is private, not a public API: it may change at any time.


class ModuleDocFragment(object):

    # The lock and the parallel-writer guarantee of every module that writes to AdGuard Home or Pi-hole
    # (module_utils._lock, module_utils._record_module).
    DOCUMENTATION = r"""
options:
  lock_dir:
    description:
      - Directory of the lock files, on the host the module runs on (the C(delegate_to) host).
      - One lock per server, keyed by O(url) with scheme, host and port lower-cased and the default port filled in, so
        V(http://Pi.lan/) and V(http://pi.lan:80) share one lock. The file holds the holder's pid, host, start time and
        playbook files.
      - If not set, the environment variable E(NATLOOP_LOCK_DIR) is used, else C(natloop-lan-locks-<uid>) in the
        system's temporary directory (usually C(/tmp)), created with mode 0700. Runs as different users only share a
        lock when they share this directory.
    type: path
  lock_timeout:
    description:
      - Seconds to wait for another run that holds the server's lock. Then the task fails, naming the holder, and
        changes nothing.
      - If not set, the environment variable E(NATLOOP_LOCK_TIMEOUT) is used.
    type: int
    default: 300
notes:
  - "Parallel runs on one host: the read, the plan, the write and the verifying read run under a lock per server
    (C(fcntl.flock) on a file in O(lock_dir)), so forks of one C(ansible-playbook) and several C(ansible-playbook)
    processes that run the module on the same host write one after the other. The kernel drops the lock when the
    holding process ends, however it ends. Check mode takes no lock; the C(_info) modules take none."
"""

    # The records modules: re-plan after a fresh read.
    RECORDS = r"""
options: {}
notes:
  - "Other writers (another controller, the web interface, the API): after writing, the module reads the server again.
    When entries it wants are missing, duplicated or changed because someone wrote in between, it plans again from
    that fresh read and writes again, up to 4 times with a random pause. It never reports success while that fresh
    read lacks what it wants, collapses duplicates of its own records, and keeps every entry of others that the
    fresh read shows."
  - "Limit: the guarantee holds at the moment of the verifying read. A writer elsewhere that read the server before
    this run wrote, and writes after this run verified, can still undo this run's change: on Pi-hole, whose API
    replaces the whole list, it drops the entries this run added; on the same record, the last writer wins. Run
    all writers of one server from one host (or serialize them) to exclude this."
"""

    # The settings modules.
    SETTINGS = r"""
options: {}
notes:
  - "Other writers (another controller, the web interface): after writing, the module reads the settings again and
    fails, saying which setting differs, when they are not what it wrote. It never reports success for a setting
    the fresh read shows otherwise. On the same setting, the last writer wins."
"""
