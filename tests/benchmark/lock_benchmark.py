#!/usr/bin/env python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the per-server lock costs a no-op run (issue 12).

1. The lock alone: take and release it, uncontended (create the directory on first use, open the
   file, flock, write the holder's details, empty the file, unlock), many times; median and p95.
2. A no-op record-module run with and without the lock: ``run_sync`` (the whole module run minus
   AnsibleModule and the Python start-up) against a stand-in that already holds N records, in
   this process; the same run with the lock replaced by nothing. Runs alternate; medians.

The stand-ins are NOT the real servers (tests/standins/README.md). It prints, never asserts.

Usage: python tests/benchmark/lock_benchmark.py [--records 100] [--repeat 200]
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time

import _harness as harness  # pylint: disable=import-error

harness.use_standins()

# pylint: disable=wrong-import-position,import-error
from ansible_collections.natloop.lan.plugins.module_utils import _lock, _record_module  # noqa: E402
from ansible_collections.natloop.lan.plugins.module_utils._adguard import AdGuardBackend, AdGuardClient  # noqa: E402
from ansible_collections.natloop.lan.plugins.module_utils._pihole import PiholeBackend, PiholeClient  # noqa: E402
from natloop_standins.adguard import AdGuardStandin  # noqa: E402
from natloop_standins.fixtures import ADGUARD_PASSWORD, ADGUARD_USER, PIHOLE_PASSWORD, adguard_config  # noqa: E402
from natloop_standins.persist import atomic_write, dump_yaml  # noqa: E402
from natloop_standins.pihole import PiholeStandin  # noqa: E402


class DeadUpstream(object):
    address = '127.0.0.1:9'


class Finished(Exception):
    def __init__(self, result):
        super(Finished, self).__init__(result)
        self.result = result


class Module(object):
    def __init__(self, params):
        self.params = params
        self.check_mode = False
        self._diff = False
        self._name = 'natloop.lan.benchmark'

    def warn(self, msg):
        pass

    def exit_json(self, **result):
        raise Finished(result)

    def fail_json(self, **result):
        raise SystemExit('module failed: {0}'.format(result.get('msg')))


def records(count):
    return [{'domain': 'h{0:05d}.lock.natloop.test'.format(i), 'answer': '10.{0}.{1}.{2}'.format(i // 62500, i // 250 % 250, i % 250 + 1)}
            for i in range(count)]


def run_once(make_backend, params):
    try:
        _record_module.run_sync(Module(params), make_backend())
    except Finished as finished:
        return finished.result
    raise SystemExit('the module did not finish')


@contextlib.contextmanager
def no_lock(*args, **kwargs):
    yield 0.0


def median_ms(values):
    return statistics.median(values) * 1000.0


def p95_ms(values):
    return sorted(values)[int(len(values) * 0.95) - 1] * 1000.0


def bare_lock(repeat, directory):
    times = []
    for dummy in range(repeat):
        start = time.perf_counter()
        with _lock.server_lock('http://127.0.0.1:8080', directory, timeout=5):
            pass
        times.append(time.perf_counter() - start)
    return times


def module_runs(make_backend, params, repeat):
    with_lock, without = [], []
    real_lock = _record_module.server_lock
    for dummy in range(repeat):
        for use_lock, bucket in ((True, with_lock), (False, without)):
            _record_module.server_lock = real_lock if use_lock else no_lock
            start = time.perf_counter()
            result = run_once(make_backend, params)
            bucket.append(time.perf_counter() - start)
            if result['changed']:
                raise SystemExit('not a no-op: {0}'.format(result['changes'][:3]))
    _record_module.server_lock = real_lock
    return with_lock, without


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--records', type=int, default=100)
    parser.add_argument('--repeat', type=int, default=200)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='natloop-lock-bench-')
    lock_dir = os.path.join(work, 'locks')
    wanted = records(args.records)
    lines = []

    times = bare_lock(args.repeat * 5, lock_dir)
    lines.append('| the lock alone (take + release, uncontended) | {0:.3f} ms | {1:.3f} ms | | |'.format(
        median_ms(times), p95_ms(times)))

    config_path = os.path.join(work, 'adguard', 'AdGuardHome.yaml')
    config = adguard_config(DeadUpstream(), rewrites=[dict(r, enabled=True) for r in wanted])
    atomic_write(config_path, dump_yaml(config))
    adguard = AdGuardStandin(config_path, os.path.join(work, 'adguard-work'), listen_host='127.0.0.1', web_port=0,
                             dns_port=0, upstream_timeout=0.5, env={})
    adguard.start()
    pihole_dir = os.path.join(work, 'etc-pihole')
    os.makedirs(pihole_dir)
    env = {'FTLCONF_webserver_api_password': PIHOLE_PASSWORD, 'FTLCONF_dns_upstreams': '127.0.0.1#9'}
    pihole = PiholeStandin(pihole_dir, env=env, listen_host='127.0.0.1', web_port=0, dns_port=0, restart_seconds=0.3,
                           upstream_timeout=0.5, secrets_dir=os.path.join(work, 'secrets'))
    pihole.start()
    pihole.wait_ready(10)
    try:
        common = {'state': 'present', 'purge': False, 'purge_scope': None, 'lock_dir': lock_dir, 'lock_timeout': 5}
        cases = (
            ('adguard_rewrite', lambda: AdGuardBackend(AdGuardClient(adguard.base_url, ADGUARD_USER, ADGUARD_PASSWORD),
                                                       warn=lambda msg: None),
             dict(common, rewrites=[dict(r, enabled=True) for r in wanted])),
            ('pihole_dns_record', lambda: PiholeBackend(PiholeClient(pihole.base_url, PIHOLE_PASSWORD), warn=lambda msg: None),
             dict(common, records=wanted, dns_address=None, restart_timeout=60)),
        )
        # The Pi-hole stand-in starts empty: one converge first.
        result = run_once(cases[1][1], cases[1][2])
        assert result['created'] == args.records, result
        for name, make_backend, params in cases:
            with_lock, without = module_runs(make_backend, params, args.repeat)
            lines.append('| no-op `{0}`, {1} records, with the lock | {2:.2f} ms | {3:.2f} ms | {4:.2f} ms | {5:+.2f} ms |'.format(
                name, args.records, median_ms(with_lock), p95_ms(with_lock), median_ms(without),
                median_ms(with_lock) - median_ms(without)))
    finally:
        adguard.stop()
        pihole.stop()

    print('Lock cost on a no-op ({0} repeats; stand-ins, not the real servers; run_sync in-process)'.format(args.repeat))
    print('| what | median | p95 | median without the lock | lock cost (median difference) |')
    print('|---|---|---|---|---|')
    for line in lines:
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
