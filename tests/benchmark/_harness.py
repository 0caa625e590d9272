# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for the benchmark scripts in tests/benchmark (not a test suite, nothing asserts).

* ``run_playbook``: one real ``ansible-playbook`` run on localhost with the
  ``ansible.posix.json`` stdout callback, so every task's start and end time (the controller's
  clock) and result come back as data, and with the Python interpreter wrapped by a small
  shell script that logs how long each module process ran.
* ``RequestLog``: counts the HTTP requests an in-process stand-in server answers, by wrapping
  the server object's ``handle_http`` (the files under tests/standins stay untouched).
* ``markdown_table``: plain-text tables that are also valid Markdown.
* ``lab_env``: the environment of the lab benchmarks' ansible-playbook runs.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STANDINS = os.path.join(REPO, 'tests', 'standins')
VENV_BIN = os.path.join(REPO, '.venv', 'bin')


def venv_tool(name):
    """Path of a tool from the project venv, else from PATH, else from beside this Python."""
    candidate = os.path.join(VENV_BIN, name)
    if os.path.exists(candidate):
        return candidate
    return shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)


def use_standins():
    """Make ``natloop_standins`` importable (the Makefile's PYTHONPATH does not hold it)."""
    if STANDINS not in sys.path:
        sys.path.insert(0, STANDINS)


def ansible_env(extra=None):
    """Environment for ansible-playbook: this tree's collections, no Galaxy, JSON output."""
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.collections'),
        'ANSIBLE_GALAXY_SERVER': 'http://127.0.0.1:9',
        'ANSIBLE_PIPELINING': '1',
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
    })
    env.update(extra or {})
    return env


def lab_env():
    """Environment for ansible-playbook on the lab (text output): this tree's collections, no Galaxy,
    this Python's tools first on PATH, the verify layer's reports in a temporary directory."""
    env = dict(os.environ)
    env.update({
        'PATH': os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.collections'),
        'ANSIBLE_GALAXY_SERVER': 'http://127.0.0.1:9',
        'ANSIBLE_PIPELINING': '1',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'NATLOOP_REPORT_DIR': '/tmp/natloop-lab-benchmark-reports',
    })
    return env


def _timestamp(text):
    """Seconds of an ``ansible.posix.json`` time stamp such as ``2026-01-02T03:04:05.678901Z``."""
    return datetime.datetime.fromisoformat(text.rstrip('Z')).timestamp()


class TaskRun(object):
    """One task of a finished playbook: its name, seconds and the (per-host) result."""

    def __init__(self, name, seconds, result):
        self.name = name
        self.seconds = seconds
        self.result = result


class PlaybookRun(object):
    """A finished ansible-playbook run.

    ``wall``: the whole ansible-playbook process; ``module_times``: seconds of each module
    process (interpreter start to exit: Python start-up, AnsiballZ unpacking, imports and the
    module's work, but nothing the controller does); ``tasks``: TaskRun per task.
    """

    def __init__(self, wall, returncode, tasks, module_times=(), error=None):
        self.wall = wall
        self.returncode = returncode
        self.tasks = tasks
        self.module_times = list(module_times)
        self.error = error

    @property
    def module_seconds(self):
        return sum(self.module_times)

    @property
    def ok(self):
        return self.returncode == 0 and self.error is None

    @property
    def task_seconds(self):
        """Sum of the task times: the workload without ansible-playbook's start-up and exit."""
        return sum(task.seconds for task in self.tasks)

    def result(self, index=0):
        return self.tasks[index].result if len(self.tasks) > index else {}


def _parse_tasks(stdout, host):
    data = json.loads(stdout[stdout.index('{'):])
    tasks = []
    for play in data.get('plays', []):
        for task in play.get('tasks', []):
            duration = task['task'].get('duration', {})
            if 'end' not in duration:
                continue
            seconds = _timestamp(duration['end']) - _timestamp(duration['start'])
            tasks.append(TaskRun(task['task']['name'], seconds, task.get('hosts', {}).get(host, {})))
    return tasks


def timing_interpreter(path, log_path):
    """Write a shell script that runs the venv Python and appends "start end" to ``log_path``.

    Used as ansible_python_interpreter: with pipelining the module comes on stdin, which the
    script passes through, so each line of the log is one module process.
    """
    script = '\n'.join([
        '#!/bin/sh',
        'start=$(date +%s.%N)',
        '"{python}" "$@"',
        'rc=$?',
        'echo "$start $(date +%s.%N)" >> "{log}"',
        'exit $rc',
        '',
    ]).format(python=venv_tool('python'), log=log_path)
    with open(path, 'w', encoding='utf-8') as stream:
        stream.write(script)
    os.chmod(path, 0o755)


def _module_times(log_path):
    if not os.path.exists(log_path):
        return []
    with open(log_path, encoding='utf-8') as stream:
        pairs = [line.split() for line in stream if line.strip()]
    return [float(end) - float(start) for start, end in pairs]


def run_playbook(work_dir, name, plays, extra_vars_file=None, timeout=7200, env=None):
    """Write ``plays`` (a list of dicts) as ``<name>.yml`` in ``work_dir`` and run it on localhost.

    Returns a PlaybookRun; never raises for a failed run (the caller prints the error).
    """
    playbook = os.path.join(work_dir, name + '.yml')
    with open(playbook, 'w', encoding='utf-8') as stream:
        json.dump(plays, stream, indent=1)
    interpreter = os.path.join(work_dir, name + '.python')
    module_log = os.path.join(work_dir, name + '.modules.log')
    timing_interpreter(interpreter, module_log)
    command = [venv_tool('ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=' + interpreter]
    if extra_vars_file:
        command += ['-e', '@' + extra_vars_file]
    command.append(playbook)
    started = time.perf_counter()
    try:
        completed = subprocess.run(command, env=ansible_env(env), cwd=work_dir, capture_output=True, text=True,
                                   timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return PlaybookRun(time.perf_counter() - started, None, [], _module_times(module_log),
                           error='timed out after %d s' % timeout)
    wall = time.perf_counter() - started
    with open(os.path.join(work_dir, name + '.out.json'), 'w', encoding='utf-8') as stream:
        stream.write(completed.stdout)
    try:
        tasks = _parse_tasks(completed.stdout, 'localhost')
    except ValueError:
        tasks = []
    error = None
    if completed.returncode != 0:
        failed = [task for task in tasks if task.result.get('failed')]
        message = failed[0].result.get('msg') if failed else None
        error = 'rc=%s: %s' % (completed.returncode, message or completed.stderr.strip()[-500:] or completed.stdout[-500:])
    return PlaybookRun(wall, completed.returncode, tasks, _module_times(module_log), error)


class RequestLog(object):
    """Every HTTP request an in-process stand-in answers, with the server's time spent on it.

    The stand-ins' HTTP listener calls ``server.handle_http(request)``; an instance attribute
    of that name shadows the method, so the wrapper sees each request without any change to the
    stand-in code.
    """

    def __init__(self, server):
        self.entries = []
        self._lock = threading.Lock()
        original = server.handle_http

        def counted(request):
            started = time.perf_counter()
            try:
                return original(request)
            finally:
                with self._lock:
                    self.entries.append((request.method, request.raw_path, time.perf_counter() - started))

        server.handle_http = counted

    def mark(self):
        with self._lock:
            return len(self.entries)

    def since(self, mark):
        """(count, server seconds, [(method, path), ...]) of the requests after ``mark``."""
        with self._lock:
            entries = self.entries[mark:]
        return len(entries), sum(entry[2] for entry in entries), [(entry[0], entry[1]) for entry in entries]


def summarize_requests(requests, limit=6):
    """``GET /a x1, POST /b x200`` in first-seen order (paths with a value cut at the prefix)."""
    counts = {}
    order = []
    for method, path in requests:
        key = '%s %s' % (method, path)
        if path.startswith('/api/config/dns/hosts/'):
            key = '%s /api/config/dns/hosts/<value>' % method
        if key not in counts:
            order.append(key)
            counts[key] = 0
        counts[key] += 1
    parts = ['%s x%d' % (key, counts[key]) for key in order[:limit]]
    if len(order) > limit:
        parts.append('...')
    return ', '.join(parts)


def markdown_table(header, rows, align_right=None):
    """Rows of strings as an aligned Markdown table; ``align_right`` is a set of column numbers."""
    align_right = align_right or set()
    widths = [max(len(str(row[column])) for row in [header] + rows) for column in range(len(header))]

    def line(cells):
        padded = []
        for column, cell in enumerate(cells):
            text = str(cell)
            padded.append(text.rjust(widths[column]) if column in align_right else text.ljust(widths[column]))
        return '| ' + ' | '.join(padded) + ' |'

    rule = ['-' * (width - 1) + (':' if column in align_right else '-') for column, width in enumerate(widths)]
    return '\n'.join([line(header), line(rule)] + [line(row) for row in rows])
