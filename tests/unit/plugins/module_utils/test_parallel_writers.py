# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Two record-module runs against one server at the same time, with the interleaving forced.

Each run is ``run_sync`` (the whole module run minus AnsibleModule) in a thread of its own, talking
to one stateful fake server; hooks on the fake hold a request back until the other run reached a
given point. Two setups per backend:

- one controller: both runs share a lock directory (forks or ansible-playbook processes on one
  host). The second run must wait for the first; nothing is lost, nothing written twice.
- two controllers: separate lock directories, so both read before either writes. The fresh read
  after the write must show the damage, and the run must plan again from it.

And the limit the documentation states: a writer elsewhere whose write lands after our verifying
read can still drop our Pi-hole entries.
"""

import threading

import pytest

from ansible_collections.natloop.lan.plugins.module_utils._adguard import AdGuardBackend, AdGuardClient
from ansible_collections.natloop.lan.plugins.module_utils._pihole import PiholeBackend, PiholeClient
from ansible_collections.natloop.lan.plugins.module_utils._record_module import run_sync
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import OPEN_URL, FakeAdGuard, FakePihole

WAIT = 1.0   # seconds a forced interleaving waits for the other run before it gives up


class Finished(Exception):
    def __init__(self, result):
        super(Finished, self).__init__(result)
        self.result = result


class FakeModule(object):
    """What run_sync uses of AnsibleModule."""

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = False
        self._name = 'natloop.lan.test'
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)

    def exit_json(self, **result):
        raise Finished(result)

    def fail_json(self, **result):
        result['failed'] = True
        raise Finished(result)


class Run(threading.Thread):
    def __init__(self, name, backend, params, done_event):
        super(Run, self).__init__(name=name, daemon=True)
        self.backend = backend
        self.params = params
        self.done_event = done_event
        self.result = None

    def run(self):
        try:
            run_sync(FakeModule(self.params), self.backend)
        except Finished as finished:
            self.result = finished.result
        except Exception as exc:  # a crash is a result too
            self.result = {'failed': True, 'msg': 'crashed: {0!r}'.format(exc)}
        finally:
            self.done_event.set()


class Script(object):
    """Per-run request counters and events, for before/after hooks on the fake server."""

    def __init__(self, server, is_write):
        self.server = server
        self.is_write = is_write
        self.events = dict((name, threading.Event()) for name in (
            'A_read', 'B_read', 'A_wrote', 'B_wrote', 'A_done', 'B_done'))
        self.reads = {'A': 0, 'B': 0}
        self.writes = {'A': 0, 'B': 0}
        self.order = []      # (run, 'read' or 'write') in the order the server took them
        self.timeouts = []
        server.before_request = self.before
        server.after_request = self.after
        self.rules = []      # (run, kind, number, action) with action(event_map)

    def wait(self, name):
        if not self.events[name].wait(WAIT):
            self.timeouts.append((threading.current_thread().name, name))

    def on(self, run, kind, number, action):
        self.rules.append((run, kind, number, action))

    def _kind(self, request):
        if request.path.endswith('/auth'):
            return None
        return 'write' if self.is_write(request) else 'read'

    def before(self, request):
        run = threading.current_thread().name
        kind = self._kind(request)
        if run not in self.reads or kind is None:
            return
        counter = self.writes if kind == 'write' else self.reads
        counter[run] += 1
        for rule_run, rule_kind, number, action in self.rules:
            if (rule_run, rule_kind, number) == (run, kind, counter[run]):
                action()

    def after(self, request):
        run = threading.current_thread().name
        kind = self._kind(request)
        if run in self.reads and kind is not None:
            self.order.append((run, kind))
            if kind == 'read' and self.reads[run] == 1:
                self.events[run + '_read'].set()


def start(script, backends, params):
    runs = [Run(name, backends[name], params[name], script.events[name + '_done']) for name in ('A', 'B')]
    return runs


def start_in_order(script, runs):
    """A reads first, then B starts."""
    runs[0].start()
    assert script.events['A_read'].wait(WAIT)
    runs[1].start()


def finish(runs):
    for run in runs:
        run.join(30)
        assert not run.is_alive()
    return [run.result for run in runs]


# ------------------------------------------------------------------------------------------------
# Pi-hole: the whole dns.hosts list goes in each PATCH, so a write from an older read drops entries.

PIHOLE_SHARED = {'domain': 'shared.lan', 'answer': '10.0.0.1'}


def pihole_params(tmp_path, name, lock_dir):
    return {'records': [PIHOLE_SHARED, {'domain': name.lower() + '.lan', 'answer': '10.0.1.' + str(ord(name))}],
            'state': 'present', 'purge': False, 'purge_scope': None,
            'lock_dir': str(tmp_path / lock_dir), 'lock_timeout': 20, 'dns_address': None, 'restart_timeout': 60}


def pihole_backend():
    return PiholeBackend(PiholeClient('http://pihole.test', 'secret'), warn=lambda msg: None)


def pihole_state(server):
    return sorted(server.hosts)


PIHOLE_WANTED = ['10.0.0.1 shared.lan', '10.0.0.9 foreign.lan', '10.0.1.65 a.lan', '10.0.1.66 b.lan']


@pytest.fixture
def pihole(monkeypatch):
    server = FakePihole(hosts=['10.0.0.9 foreign.lan'])
    monkeypatch.setattr(OPEN_URL, server)
    return server


def test_pihole_one_controller_the_lock_serializes_the_runs(pihole, tmp_path):
    script = Script(pihole, pihole.is_write)
    # A holds its write back until B has read (which the lock must prevent: then A goes on after WAIT).
    script.on('A', 'write', 1, lambda: script.wait('B_read'))
    # Without a lock B would read now, and write only after A is done: from its stale read.
    script.on('B', 'write', 1, lambda: script.wait('A_done'))
    runs = start(script, {'A': pihole_backend(), 'B': pihole_backend()},
                 {name: pihole_params(tmp_path, name, 'locks') for name in 'AB'})
    runs[0].start()
    assert script.events['A_read'].wait(WAIT)
    runs[1].start()
    results = finish(runs)

    assert [r.get('failed', False) for r in results] == [False, False], results
    assert pihole_state(pihole) == PIHOLE_WANTED
    # B read only after A's whole section: read, write, fresh read.
    assert script.order == [('A', 'read'), ('A', 'write'), ('A', 'read'), ('B', 'read'), ('B', 'write'), ('B', 'read')]
    assert ('A', 'B_read') in script.timeouts


def test_pihole_two_controllers_a_run_whose_entries_were_dropped_writes_them_again(pihole, tmp_path):
    script = Script(pihole, pihole.is_write)
    script.on('A', 'write', 1, lambda: script.wait('B_read'))                # both read before either writes
    script.on('B', 'write', 1, lambda: script.wait('A_wrote'))               # B writes after A, from its old read
    script.on('A', 'read', 2, lambda: (script.events['A_wrote'].set(), script.wait('B_wrote')))
    script.on('B', 'read', 2, lambda: (script.events['B_wrote'].set(), script.wait('A_done')))
    runs = start(script, {'A': pihole_backend(), 'B': pihole_backend()},
                 {name: pihole_params(tmp_path, name, 'locks-' + name) for name in 'AB'})
    start_in_order(script, runs)
    results = finish(runs)

    assert script.timeouts == []
    assert [r.get('failed', False) for r in results] == [False, False], results
    # B's PATCH dropped a.lan; A's fresh read showed it, A planned again from that read and kept b.lan.
    assert pihole_state(pihole) == PIHOLE_WANTED
    assert script.order == [('A', 'read'), ('B', 'read'), ('A', 'write'), ('B', 'write'), ('A', 'read'),
                            ('A', 'read'), ('A', 'write'), ('A', 'read'), ('B', 'read')]
    assert [r['records'] for r in results] == [
        [{'domain': 'a.lan', 'answer': '10.0.1.65', 'type': 'A', 'ttl': None},
         {'domain': 'shared.lan', 'answer': '10.0.0.1', 'type': 'A', 'ttl': None}],
        [{'domain': 'b.lan', 'answer': '10.0.1.66', 'type': 'A', 'ttl': None},
         {'domain': 'shared.lan', 'answer': '10.0.0.1', 'type': 'A', 'ttl': None}]]


def test_pihole_two_controllers_the_documented_limit(pihole, tmp_path):
    """A write from elsewhere that lands after our verifying read still drops our entry (module docs: Limit)."""
    script = Script(pihole, pihole.is_write)
    script.on('A', 'write', 1, lambda: script.wait('B_read'))
    script.on('B', 'write', 1, lambda: script.wait('A_done'))
    runs = start(script, {'A': pihole_backend(), 'B': pihole_backend()},
                 {name: pihole_params(tmp_path, name, 'locks-' + name) for name in 'AB'})
    start_in_order(script, runs)
    results = finish(runs)
    assert [r.get('failed', False) for r in results] == [False, False]
    assert '10.0.1.65 a.lan' not in pihole.hosts


def test_pihole_a_run_that_keeps_losing_fails_instead_of_reporting_success(pihole, tmp_path):
    # Another writer puts the old list back after every write of ours.
    def revert(request):
        if request.method == 'PATCH':
            pihole.hosts = ['10.0.0.9 foreign.lan']
    pihole.after_request = revert
    run = Run('A', pihole_backend(), pihole_params(tmp_path, 'A', 'locks'), threading.Event())
    run.run()
    assert run.result['failed'] is True
    assert 'does not hold what was written after 4 attempts' in run.result['msg']
    assert 'expected 1 x a.lan A 10.0.1.65, found 0' in run.result['msg']
    assert len(pihole.writes()) == 4


# ------------------------------------------------------------------------------------------------
# AdGuard Home: adds never check for duplicates, so two runs that both saw a rewrite missing both add it.

def adguard_params(tmp_path, name, lock_dir):
    return {'rewrites': [{'domain': 'shared.lan', 'answer': '10.0.0.1', 'enabled': True},
                         {'domain': name.lower() + '.lan', 'answer': '10.0.1.' + str(ord(name)), 'enabled': True}],
            'state': 'present', 'purge': False, 'purge_scope': None,
            'lock_dir': str(tmp_path / lock_dir), 'lock_timeout': 20}


def adguard_backend():
    return AdGuardBackend(AdGuardClient('http://adguard.test', 'admin', 'secret'), warn=lambda msg: None)


ADGUARD_WANTED = [('a.lan', '10.0.1.65'), ('b.lan', '10.0.1.66'), ('foreign.lan', '10.0.0.9'), ('shared.lan', '10.0.0.1')]


@pytest.fixture
def adguard(monkeypatch):
    server = FakeAdGuard(rewrites=[{'domain': 'foreign.lan', 'answer': '10.0.0.9'}])
    monkeypatch.setattr(OPEN_URL, server)
    return server


def test_adguard_one_controller_the_lock_serializes_the_runs(adguard, tmp_path):
    script = Script(adguard, adguard.is_write)
    script.on('A', 'write', 1, lambda: script.wait('B_read'))
    script.on('B', 'write', 1, lambda: script.wait('A_done'))
    runs = start(script, {'A': adguard_backend(), 'B': adguard_backend()},
                 {name: adguard_params(tmp_path, name, 'locks') for name in 'AB'})
    runs[0].start()
    assert script.events['A_read'].wait(WAIT)
    runs[1].start()
    results = finish(runs)

    assert [r.get('failed', False) for r in results] == [False, False], results
    assert sorted(adguard.pairs()) == ADGUARD_WANTED
    assert script.order == [('A', 'read'), ('A', 'write'), ('A', 'write'), ('A', 'read'),
                            ('B', 'read'), ('B', 'write'), ('B', 'read')]
    assert [r['created'] for r in results] == [2, 1]


def test_adguard_two_controllers_duplicates_of_ours_are_collapsed(adguard, tmp_path):
    script = Script(adguard, adguard.is_write)
    script.on('A', 'write', 1, lambda: script.wait('B_read'))
    script.on('B', 'write', 1, lambda: script.wait('A_wrote'))
    script.on('A', 'read', 2, lambda: (script.events['A_wrote'].set(), script.wait('B_wrote')))
    script.on('B', 'read', 2, lambda: (script.events['B_wrote'].set(), script.wait('A_done')))
    runs = start(script, {'A': adguard_backend(), 'B': adguard_backend()},
                 {name: adguard_params(tmp_path, name, 'locks-' + name) for name in 'AB'})
    start_in_order(script, runs)
    results = finish(runs)

    assert script.timeouts == []
    assert [r.get('failed', False) for r in results] == [False, False], results
    # Both added shared.lan; A's fresh read showed two copies and A collapsed them. The foreign entry stays.
    assert sorted(adguard.pairs()) == ADGUARD_WANTED
    assert [call for call in adguard.calls() if 'delete' in call] == ['POST /control/rewrite/delete']
