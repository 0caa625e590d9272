#!/usr/bin/env python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the record modules against the stand-in servers (issue 3).

For each N the script starts a fresh, empty stand-in (in this process, 127.0.0.1, ephemeral
ports, upstream DNS at the dead port 127.0.0.1:9) per tool and runs the same playbook with real
ansible-playbook: "converge" (from empty to N A records), then "no-op" (again, nothing to
change; repeated for the one-task modules, best time counts). It counts the HTTP requests on the server side and prints one table per backend and
the issue's targets with MET / NOT MET. It prints, never asserts, and exits 0 either way.

Tools: natloop.lan.adguard_rewrite and natloop.lan.pihole_dns_record (one task with the whole
list) against what people do today: community.dns.adguardhome_rewrite in a loop, and an
ansible.builtin.uri loop (AdGuard: read the list once, POST /control/rewrite/add for each
missing record; Pi-hole: log in, PUT /api/config/dns/hosts/<value> per record with 400 "Item
already present" taken as unchanged, log out).

Times: "s" is the wall time of the whole ansible-playbook run (what a user waits for, start-up
included; the empty-playbook reference is printed); "module s" is the time spent in module
processes, measured by a shell wrapper around the Python interpreter (ansible_python_interpreter)
that logs each process's start and exit: Python start-up, AnsiballZ unpacking, imports and the
module's work, summed over the loop items for the loops, without anything the controller does.

The stand-ins are NOT the real servers (see tests/standins/README.md): request counts carry
over to the real ones, seconds only roughly (the stand-in column shows the server's own share).

--quick is a smoke run of a minute or two: N = 10 and 100, the loops at N = 10 only, no repeats.

Usage: python tests/benchmark/records_benchmark.py [--quick] [--sizes 10,100,1000,5000]
       [--baseline-max 1000] [--compare-n 200] [--repeat 3] [--backends adguard,pihole] [--keep]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import _harness as harness  # pylint: disable=import-error

harness.use_standins()

# pylint: disable=wrong-import-position,import-error
from natloop_standins.adguard import AdGuardStandin  # noqa: E402
from natloop_standins.fixtures import ADGUARD_PASSWORD, ADGUARD_USER, PIHOLE_PASSWORD, adguard_config  # noqa: E402
from natloop_standins.persist import atomic_write, dump_yaml  # noqa: E402
from natloop_standins.pihole import PiholeStandin  # noqa: E402
from natloop_standins.testclient import addresses, dns_query  # noqa: E402
import natloop_standins.adguard as adguard_standin_module  # noqa: E402
import yaml  # noqa: E402

DEFAULT_SIZES = (10, 100, 1000, 5000)
QUICK_SIZES = (10, 100)
DEAD_UPSTREAM = '127.0.0.1:9'
HOST = '127.0.0.1'
DOMAIN_SUFFIX = 'bench.natloop.test'


def wanted_records(count):
    """``count`` distinct A records: h00001.bench.natloop.test -> 10.0.0.1, ..."""
    return [{'domain': 'h%05d.%s' % (index, DOMAIN_SUFFIX),
             'answer': '10.%d.%d.%d' % ((index >> 16) & 255, (index >> 8) & 255, index & 255)}
            for index in range(1, count + 1)]


def play(name, tasks):
    return [{'name': name, 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]


# ------------------------------------------------------------------------------------------------
# Backends: a fresh, empty stand-in and a way to read what it stores (in-process, no HTTP).


class DeadUpstream(object):
    """What ``adguard_config`` needs of an upstream: its address. Nothing listens there."""

    address = DEAD_UPSTREAM


def _libyaml_dump(data):
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)


# AdGuard Home rewrites its whole AdGuardHome.yaml after every change, with Go's YAML writer:
# milliseconds even at 5,000 rewrites. The stand-in's pure-Python writer (AdGuard's exact indentation)
# costs about 0.1 s per 1,000 rewrites per write, so a converge of N records would mostly measure
# PyYAML (N writes of a growing file). Here the stand-in still writes the whole file after every
# change, with libyaml instead; the conformance tests keep using the exact writer.
adguard_standin_module.dump_yaml = _libyaml_dump


class AdGuardBackend(object):
    key = 'adguard'
    title = 'AdGuard Home stand-in (v0.107.79)'

    @staticmethod
    def start(work_dir):
        config_path = os.path.join(work_dir, 'conf', 'AdGuardHome.yaml')
        atomic_write(config_path, dump_yaml(adguard_config(DeadUpstream())))
        server = AdGuardStandin(config_path, os.path.join(work_dir, 'work'), listen_host=HOST, web_port=0,
                                dns_port=0, upstream_timeout=0.5, env={})
        server.start()
        return server

    @staticmethod
    def stop(server):
        server.stop()

    @staticmethod
    def stored(server):
        return [(entry['domain'], entry['answer']) for entry in server.rewrites]


class PiholeBackend(object):
    key = 'pihole'
    title = 'Pi-hole v6 stand-in (FTL v6.4.1)'

    @staticmethod
    def start(work_dir):
        config_dir = os.path.join(work_dir, 'etc-pihole')
        os.makedirs(config_dir)
        env = {'FTLCONF_webserver_api_password': PIHOLE_PASSWORD,
               'FTLCONF_dns_upstreams': DEAD_UPSTREAM.replace(':', '#')}
        server = PiholeStandin(config_dir, env=env, listen_host=HOST, web_port=0, dns_port=0, restart_seconds=0.3,
                               upstream_timeout=0.5, secrets_dir=os.path.join(work_dir, 'secrets'))
        server.start()
        server.wait_ready(10)
        return server

    @staticmethod
    def stop(server):
        server.wait_ready(10)
        server.stop()

    @staticmethod
    def stored(server):
        pairs = []
        for line in server.value('dns.hosts'):
            tokens = line.split()
            pairs.extend((name.lower(), tokens[0]) for name in tokens[1:])
        return pairs


# ------------------------------------------------------------------------------------------------
# Tools: the playbook each one runs for the workload. ``{{ bench_records }}`` comes from an
# extra-vars file (list of {domain, answer}).


class Tool(object):
    def __init__(self, key, label, backend, plays, baseline, module_result=False):
        self.key = key
        self.label = label
        self.backend = backend
        self.plays = plays
        self.baseline = baseline
        self.module_result = module_result   # the single task's result has changed/created


def natloop_adguard_plays(url):
    return play('natloop.lan.adguard_rewrite', [{
        'name': 'Converge the rewrites',
        'natloop.lan.adguard_rewrite': {'url': url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD,
                                        'rewrites': '{{ bench_records }}'},
    }])


def community_adguard_plays(url):
    return play('community.dns.adguardhome_rewrite loop', [{
        'name': 'One rewrite per loop item',
        'community.dns.adguardhome_rewrite': {'host': url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD,
                                              'domain': '{{ item.domain }}', 'answer': '{{ item.answer }}'},
        'loop': '{{ bench_records }}',
        'loop_control': {'label': '{{ item.domain }}'},
    }])


def uri_adguard_plays(url):
    auth = {'url_username': ADGUARD_USER, 'url_password': ADGUARD_PASSWORD, 'force_basic_auth': True}
    # add never checks for duplicates (CONTRACTS C1): without the list a second run would store
    # every record twice, so the usual loop reads the list once and skips what is there.
    return play('ansible.builtin.uri loop (AdGuard)', [
        {'name': 'Read the rewrite list',
         'ansible.builtin.uri': dict(auth, url=url + '/control/rewrite/list'),
         'register': '__bench_list'},
        {'name': 'Remember the stored pairs',
         'ansible.builtin.set_fact': {'__bench_stored': (
             "{{ __bench_list.json | map(attribute='domain') | zip(__bench_list.json | map(attribute='answer'))"
             " | map('join', ' ') | list }}")}},
        {'name': 'Add each missing rewrite',
         'ansible.builtin.uri': dict(auth, url=url + '/control/rewrite/add', method='POST', body_format='json',
                                     body={'domain': '{{ item.domain }}', 'answer': '{{ item.answer }}'}),
         'loop': '{{ bench_records }}',
         'loop_control': {'label': '{{ item.domain }}'},
         'when': "(item.domain ~ ' ' ~ item.answer) not in __bench_stored",
         'changed_when': True},
    ])


def natloop_pihole_plays(url):
    return play('natloop.lan.pihole_dns_record', [{
        'name': 'Converge the records',
        'natloop.lan.pihole_dns_record': {'url': url, 'password': PIHOLE_PASSWORD, 'records': '{{ bench_records }}'},
    }])


def uri_pihole_plays(url):
    sid = {'X-FTL-SID': '{{ __bench_login.json.session.sid }}'}
    duplicate = "'already present' in ((__bench_put.json | default({})).get('error', {}).get('message', ''))"
    return play('ansible.builtin.uri loop (Pi-hole)', [
        {'name': 'Log in',
         'ansible.builtin.uri': {'url': url + '/api/auth', 'method': 'POST', 'body_format': 'json',
                                 'body': {'password': PIHOLE_PASSWORD}},
         'register': '__bench_login'},
        {'name': 'Add the records, log out in any case',
         'block': [{
             'name': 'Add each record (400 "Item already present" means unchanged)',
             'ansible.builtin.uri': {
                 'url': url + "/api/config/dns/hosts/{{ (item.answer ~ ' ' ~ item.domain) | urlencode }}",
                 'method': 'PUT', 'headers': sid, 'status_code': [201, 400]},
             'loop': '{{ bench_records }}',
             'loop_control': {'label': '{{ item.domain }}'},
             'register': '__bench_put',
             'changed_when': '__bench_put.status == 201',
             'failed_when': '__bench_put.status != 201 and not (%s)' % duplicate,
         }],
         'always': [{
             'name': 'Log out',
             'ansible.builtin.uri': {'url': url + '/api/auth', 'method': 'DELETE', 'headers': sid,
                                     'status_code': [204]},
         }]},
    ])


BACKENDS = {'adguard': AdGuardBackend, 'pihole': PiholeBackend}

TOOLS = [
    Tool('natloop', 'natloop.lan.adguard_rewrite', 'adguard', natloop_adguard_plays, False, module_result=True),
    Tool('community', 'community.dns.adguardhome_rewrite loop', 'adguard', community_adguard_plays, True),
    Tool('uri', 'ansible.builtin.uri loop', 'adguard', uri_adguard_plays, True),
    Tool('natloop', 'natloop.lan.pihole_dns_record', 'pihole', natloop_pihole_plays, False, module_result=True),
    Tool('uri', 'ansible.builtin.uri loop', 'pihole', uri_pihole_plays, True),
]


# ------------------------------------------------------------------------------------------------
# Measuring


class Phase(object):
    """Runs of one playbook step: the best seconds of the runs, their requests, the stand-in's share.

    Runs that change nothing (no-op) can be repeated; the best (lowest) time of the repeats is
    the figure least disturbed by other work on the machine. ``run`` is the first run.
    """

    def __init__(self, runs, counts, server_seconds, request_list):
        self.runs = runs
        self.counts = counts
        self.requests = max(counts)
        self.server_seconds = server_seconds
        self.summary = harness.summarize_requests(request_list)

    @property
    def run(self):
        return self.runs[0]

    @property
    def ok(self):
        return all(run.ok for run in self.runs)

    @property
    def seconds(self):
        return min(run.wall for run in self.runs)

    @property
    def module_seconds(self):
        return min(run.module_seconds for run in self.runs)


class Measurement(object):
    def __init__(self, tool, count):
        self.tool = tool
        self.count = count
        self.converge = None
        self.noop = None
        self.problems = []


def run_phase(work_dir, name, plays, records_file, log, repeat=1):
    """Run the playbook ``repeat`` times; every repeat must make the same number of requests."""
    runs = []
    counts = []
    server_seconds = []
    request_list = []
    for index in range(repeat):
        mark = log.mark()
        runs.append(harness.run_playbook(work_dir, '%s-%d' % (name, index + 1), plays, extra_vars_file=records_file))
        requests, spent, request_list = log.since(mark)
        counts.append(requests)
        server_seconds.append(spent)
    return Phase(runs, counts, min(server_seconds), request_list)


def check_state(backend, server, wanted, when):
    """Problems with what the server holds: exactly the wanted pairs, each once."""
    stored = backend.stored(server)
    want = set((record['domain'], record['answer']) for record in wanted)
    problems = []
    if len(stored) != len(set(stored)):
        problems.append('%s: %d entries stored for %d distinct pairs (duplicates)' % (when, len(stored), len(set(stored))))
    missing = want - set(stored)
    extra = set(stored) - want
    if missing or extra:
        problems.append('%s: %d wanted pairs missing, %d unexpected' % (when, len(missing), len(extra)))
    return problems


def check_dns(server, record):
    try:
        got = addresses(dns_query(server.dns_port, record['domain'], 'A', host=HOST))
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return ['DNS query for %s failed: %s' % (record['domain'], exc)]
    if got != [record['answer']]:
        return ['DNS answer for %s is %s, wanted %s' % (record['domain'], got, record['answer'])]
    return []


def check_module_results(measurement):
    problems = []
    converge = measurement.converge.run.result()
    if converge.get('created') != measurement.count or converge.get('changed') is not True:
        problems.append('converge reported changed=%s created=%s' % (converge.get('changed'), converge.get('created')))
    for run in measurement.noop.runs:
        if run.result().get('changed') is not False:
            problems.append('no-op reported changed=%s' % run.result().get('changed'))
    return problems


def measure(tool, count, records, records_file, work_root, repeat):
    backend = BACKENDS[tool.backend]
    work_dir = os.path.join(work_root, '%s-%s-%d' % (tool.backend, tool.key, count))
    os.makedirs(work_dir)
    measurement = Measurement(tool, count)
    server = backend.start(work_dir)
    log = harness.RequestLog(server)
    try:
        plays = tool.plays(server.base_url)
        measurement.converge = run_phase(work_dir, 'converge', plays, records_file, log)
        measurement.problems += check_state(backend, server, records, 'after converge')
        if records:
            measurement.problems += check_dns(server, records[-1])
        # The loops take minutes at large N; only the one-task modules repeat their no-op.
        measurement.noop = run_phase(work_dir, 'noop', plays, records_file, log, repeat=1 if tool.baseline else repeat)
        measurement.problems += check_state(backend, server, records, 'after no-op')
    finally:
        backend.stop(server)
    for name, phase in (('converge', measurement.converge), ('no-op', measurement.noop)):
        for run in phase.runs:
            if not run.ok:
                measurement.problems.append('%s failed: %s' % (name, run.error))
        if len(set(phase.counts)) > 1:
            measurement.problems.append('%s repeats made different numbers of requests: %s' % (name, phase.counts))
    if tool.module_result and measurement.converge.ok and measurement.noop.ok:
        measurement.problems += check_module_results(measurement)
    return measurement


def reference_overhead(work_root, repeat):
    """Best wall time of an empty playbook, and of a playbook with one trivial module task
    (ansible.builtin.ping) with the time of its module process: Ansible's fixed costs right now."""
    work_dir = os.path.join(work_root, 'reference')
    os.makedirs(work_dir)
    empty = [harness.run_playbook(work_dir, 'empty-%d' % index, play('Empty', [])) for index in range(repeat)]
    ping = [harness.run_playbook(work_dir, 'ping-%d' % index, play('Ping', [{'name': 'Ping', 'ansible.builtin.ping': {}}]))
            for index in range(repeat)]
    return min(run.wall for run in empty), min(run.wall for run in ping), min(run.module_seconds for run in ping)


# ------------------------------------------------------------------------------------------------
# Report


def seconds(value):
    return '%.2f' % value


def backend_table(backend, measurements):
    header = ['N', 'tool', 'converge s', 'converge requests', 'no-op s', 'no-op requests',
              'converge module s', 'no-op module s', 'converge stand-in s', 'check']
    rows = []
    notes = []
    for item in measurements:
        check = 'ok'
        if item.problems:
            notes.append('N=%d %s: %s' % (item.count, item.tool.label, '; '.join(item.problems)))
            check = 'note %d' % len(notes)
        rows.append([str(item.count), item.tool.label,
                     seconds(item.converge.seconds), str(item.converge.requests),
                     seconds(item.noop.seconds), str(item.noop.requests),
                     seconds(item.converge.module_seconds), seconds(item.noop.module_seconds),
                     seconds(item.converge.server_seconds), check])
    lines = ['', '## %s' % backend.title, '',
             harness.markdown_table(header, rows, align_right={0, 2, 3, 4, 5, 6, 7, 8})]
    if notes:
        lines.append('')
        lines.extend('note %d: %s' % (index, note) for index, note in enumerate(notes, 1))
    return '\n'.join(lines)


def verdict(met):
    return 'MET' if met else 'NOT MET'


def targets(results, compare_n, ping_module_seconds):
    """The issue's targets, each with the measured figure."""
    def find(backend, key, count):
        return results.get((backend, key, count))

    lines = ['', '## Targets (issue 3)', '']
    not_measured = 'NOT MEASURED (N=%d not run: add it to --sizes)'

    for backend, label, limit in (('adguard', 'AdGuard', 1), ('pihole', 'Pi-hole', 3)):
        item = find(backend, 'natloop', 1000)
        text = '- A no-op with 1,000 records makes %s to %s: ' % (
            '1 request' if limit == 1 else 'at most %d requests' % limit, label)
        if item is None:
            lines.append(text + not_measured % 1000)
            continue
        lines.append(text + '%d (%s) -> %s' % (item.noop.requests, item.noop.summary,
                                               verdict(item.noop.requests <= limit and item.noop.ok)))
    for backend, label in (('adguard', 'natloop.lan.adguard_rewrite'), ('pihole', 'natloop.lan.pihole_dns_record')):
        item = find(backend, 'natloop', 1000)
        text = '- %s no-op with 1,000 records finishes in under 1 s: ' % label
        if item is None:
            lines.append(text + not_measured % 1000)
            continue
        lines.append(text + '%.2f s in the module process (whole ansible-playbook %.2f s; the process of a trivial '
                     'ansible.builtin.ping takes %.2f s here now) -> %s' % (
                         item.noop.module_seconds, item.noop.seconds, ping_module_seconds,
                         verdict(item.noop.module_seconds < 1.0 and item.noop.ok)))

    mine = find('adguard', 'natloop', compare_n) if compare_n else None
    theirs = find('adguard', 'community', compare_n) if compare_n else None
    text = '- Converging %d AdGuard records is at least 20x faster than looped community.dns.adguardhome_rewrite: ' % (compare_n or 200)
    if mine is None or theirs is None:
        lines.append(text + 'NOT MEASURED (needs --compare-n 200 and the adguard backend)')
    else:
        ratio = theirs.converge.seconds / mine.converge.seconds
        module_ratio = theirs.converge.module_seconds / mine.converge.module_seconds
        ok = mine.converge.ok and theirs.converge.ok and ratio >= 20
        lines.append(text + '%.2f s vs %.2f s whole ansible-playbook = %.0fx (module processes %.2f s vs %.2f s = %.0fx) -> %s' % (
            mine.converge.seconds, theirs.converge.seconds, ratio,
            mine.converge.module_seconds, theirs.converge.module_seconds, module_ratio, verdict(ok)))

    item = find('pihole', 'natloop', 1000)
    text = '- Converging 1,000 Pi-hole records takes at most 4 requests: '
    if item is None:
        lines.append(text + not_measured % 1000)
    else:
        lines.append(text + '%d (%s) -> %s' % (item.converge.requests, item.converge.summary,
                                               verdict(item.converge.requests <= 4 and item.converge.ok)))

    if compare_n:
        mine = find('pihole', 'natloop', compare_n)
        theirs = find('pihole', 'uri', compare_n)
        if mine is not None and theirs is not None:
            lines.append('- (no target) Converging %d Pi-hole records, natloop.lan.pihole_dns_record vs the uri loop: '
                         '%.2f s vs %.2f s whole ansible-playbook = %.0fx' % (
                             compare_n, mine.converge.seconds, theirs.converge.seconds,
                             theirs.converge.seconds / mine.converge.seconds))
    return '\n'.join(lines)


# ------------------------------------------------------------------------------------------------


def parse_sizes(text):
    try:
        sizes = sorted(set(int(part) for part in text.split(',') if part.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError('--sizes wants comma-separated integers, e.g. 10,100,1000')
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError('--sizes wants positive integers')
    return sizes


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sizes', type=parse_sizes, default=list(DEFAULT_SIZES),
                        help='record counts N (default: %(default)s)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: N = 10 and 100 only, the loops at N = 10 only (lower --baseline-max wins), '
                             'no separate comparison at --compare-n')
    parser.add_argument('--baseline-max', type=int, default=1000,
                        help='run the looped baselines only up to this N (default: %(default)s)')
    parser.add_argument('--compare-n', type=int, default=200,
                        help='N at which every tool runs for the speed target, whatever --sizes and '
                             '--baseline-max say; 0 to skip (default: %(default)s)')
    parser.add_argument('--backends', default='adguard,pihole', help='comma-separated (default: %(default)s)')
    parser.add_argument('--repeat', type=int,
                        help='runs of each no-op of the natloop modules (and of the reference playbooks); the best '
                             'time counts (default: 3, with --quick 1)')
    parser.add_argument('--keep', action='store_true', help='keep the work directory (playbooks, JSON output)')
    return parser


def plan_runs(tools, sizes, baseline_max, compare_n):
    counts = sorted(set(sizes) | ({compare_n} if compare_n else set()))
    runs = []
    for tool in tools:
        for count in counts:
            in_sizes = count in sizes
            if tool.baseline and count != compare_n and count > baseline_max:
                continue
            if not tool.baseline and not in_sizes and count != compare_n:
                continue
            runs.append((tool, count))
    return runs


def main(argv=None):
    args = build_parser().parse_args(argv)
    sizes = list(QUICK_SIZES) if args.quick else args.sizes
    compare_n = 0 if args.quick else args.compare_n
    baseline_max = min(args.baseline_max, QUICK_SIZES[0]) if args.quick else args.baseline_max
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        build_parser().error('--repeat must be at least 1')
    backends = [name.strip() for name in args.backends.split(',') if name.strip()]
    unknown = [name for name in backends if name not in BACKENDS]
    if unknown:
        build_parser().error('unknown backend(s): %s' % ', '.join(unknown))
    tools = [tool for tool in TOOLS if tool.backend in backends]
    runs = plan_runs(tools, sizes, baseline_max, compare_n)

    started = time.perf_counter()
    load_before = os.getloadavg()
    work_root = tempfile.mkdtemp(prefix='natloop-records-benchmark-')
    progress = sys.stderr
    try:
        empty_wall, ping_wall, ping_module = reference_overhead(work_root, args.repeat)
        print('reference: empty playbook %.2f s, playbook with one ansible.builtin.ping task %.2f s '
              '(module process %.2f s)' % (empty_wall, ping_wall, ping_module), file=progress, flush=True)
        records_files = {}
        results = {}
        for tool, count in runs:
            if count not in records_files:
                records = wanted_records(count)
                path = os.path.join(work_root, 'records-%d.json' % count)
                with open(path, 'w', encoding='utf-8') as stream:
                    json.dump({'bench_records': records}, stream)
                records_files[count] = (records, path)
            records, path = records_files[count]
            item = measure(tool, count, records, path, work_root, args.repeat)
            results[(tool.backend, tool.key, count)] = item
            print('[%s] N=%d %s: converge %.2f s / %d requests, no-op %.2f s / %d requests%s' % (
                tool.backend, count, tool.label, item.converge.seconds, item.converge.requests,
                item.noop.seconds, item.noop.requests, ' (PROBLEMS: %s)' % '; '.join(item.problems) if item.problems else ''),
                file=progress, flush=True)
    finally:
        if args.keep:
            print('work directory kept: %s' % work_root, file=progress)
        else:
            shutil.rmtree(work_root, ignore_errors=True)
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()

    print('# Record modules benchmark (stand-ins, NOT the real servers)')
    print('')
    print('Sizes: %s; baselines up to N=%d%s. Every row: a fresh empty stand-in, then converge and no-op runs of the same playbook.'
          % (', '.join(str(size) for size in sizes), baseline_max,
             ' and at N=%d' % compare_n if compare_n else ''))
    print('"s" = wall time of the whole ansible-playbook run; "module s" = time inside module processes '
          '(interpreter start to exit, summed over loop items); "stand-in s" = time the server spent answering; '
          'requests counted on the server.')
    if args.repeat > 1:
        print('No-op seconds of the natloop modules: best of %d runs (no-op runs change nothing, so they can be '
              'repeated; the loops run once).' % args.repeat)
    print('Reference (best of %d): an empty playbook takes %.2f s; a playbook with one ansible.builtin.ping task %.2f s, '
          'of which %.2f s in the module process.' % (args.repeat, empty_wall, ping_wall, ping_module))
    for name in backends:
        measured = sorted((item for (backend, _key, _count), item in results.items() if backend == name),
                          key=lambda item: (item.count, TOOLS.index(item.tool)))
        print(backend_table(BACKENDS[name], measured))
    print(targets(results, compare_n, ping_module))
    print('')
    print('Benchmark run time: %.0f s on %d CPUs; load average (1/5/15 min) %s at the start, %s at the end '
          '(other work on the machine makes the seconds noisy; the request counts are exact).' % (
              elapsed, os.cpu_count() or 0, '/'.join('%.1f' % value for value in load_before),
              '/'.join('%.1f' % value for value in load_after)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
