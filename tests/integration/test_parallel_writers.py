# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parallel ansible-playbook runs against one DNS server: nothing lost, nothing duplicated, no false failure.

Per target: TRIALS trials of RUNS ansible-playbook processes started at the same moment, each making
SIZE records present, neighbours overlapping by OVERLAP. After each trial the server is read over
HTTP (not through the modules): every wanted record once, the foreign entry kept, every run green,
the server answering DNS. Targets: the AdGuard Home and Pi-hole stand-ins (tests/standins) and the
REAL Pi-hole FTL v6.4.1 of ../shared/peers/pihole-ftl, whose tests run only inside its
``run-isolated`` (``make integration-real-ftl``) and are skipped, saying so, elsewhere.

Also on the real FTL: a changed CNAME resolves right after the task returns (the module waited for
the restarted FTL), and two inventory hosts of one run (the site's two dns_servers) writing to the
same server URL.

The figures of each target are printed (pytest -s shows them): trials, runs, lost, duplicates,
failed runs, seconds.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from natloop_standins.fixtures import ADGUARD_PASSWORD, ADGUARD_USER, adguard_config
from natloop_standins.testclient import answers, basic_auth, dns_query, http_request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')

TRIALS = int(os.environ.get('NATLOOP_PARALLEL_TRIALS', '10'))
RUNS = 4
SIZE = 12
OVERLAP = 6

REAL_URL = os.environ.get('NATLOOP_REAL_PIHOLE_URL')
REAL_SKIP = ('the real Pi-hole FTL is not available: these tests run only inside ../shared/peers/pihole-ftl/run-isolated '
             '(make integration-real-ftl; NATLOOP_PIHOLE_FTL_PEER names another peer directory)')
real_ftl = pytest.mark.skipif(not REAL_URL, reason=REAL_SKIP)


def env():
    full = dict(os.environ)
    full.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.collections'),
        'ANSIBLE_GALAXY_SERVER': 'http://127.0.0.1:9',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_PIPELINING': '1',
    })
    return full


def playbook(tmp_path, name, plays, inventory='localhost,', forks=5):
    path = tmp_path / (name + '.yml')
    path.write_text(json.dumps(plays, indent=1), encoding='utf-8')
    return [ANSIBLE_PLAYBOOK, '-i', inventory, '-c', 'local', '-f', str(forks),
            '-e', 'ansible_python_interpreter=' + sys.executable, str(path)]


def run_all(commands, extra_env):
    """Start every command at once; return [(rc, output)]."""
    full = env()
    full.update(extra_env)
    processes = [subprocess.Popen(command, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for command in commands]
    return [(process.wait(timeout=600), process.stdout.read()) for process in processes]


def record_sets(trial):
    """RUNS lists of (domain, ip): run i holds SIZE names, the last OVERLAP shared with run i+1."""
    step = SIZE - OVERLAP
    sets = []
    for run in range(RUNS):
        sets.append([('t{0}-n{1}.par.test'.format(trial, k), '10.{0}.{1}.{2}'.format(trial + 1, k // 200, k % 200 + 1))
                     for k in range(run * step, run * step + SIZE)])
    return sets


class Target(object):
    """How to write to and read from one server."""

    def __init__(self, name, module, option, connection, read_pairs, dns_address):
        self.name = name
        self.module = module          # natloop.lan.adguard_rewrite or natloop.lan.pihole_dns_record
        self.option = option          # rewrites / records
        self.connection = connection  # module options
        self.read_pairs = read_pairs  # () -> [(domain, answer)] as stored, duplicates included
        self.dns_address = dns_address

    def play(self, pairs, hosts='localhost'):
        return {'name': 'Parallel writer', 'hosts': hosts, 'gather_facts': False, 'tasks': [{
            'name': 'Make the records present',
            self.module: dict(self.connection, **{self.option: [{'domain': d, 'answer': a} for d, a in pairs]}),
        }]}

    def answers_dns(self, name, address):
        host, port = self.dns_address.rsplit(':', 1)
        reply = dns_query(int(port), name, 'A', host=host)
        return [a[2] for a in answers(reply) if a[1] == 'A'] == [address]


BARRIER = (
    "touch {dir}/$TRIAL-$RUN; "
    "for i in $(seq 1 1200); do [ $(ls {dir} | grep -c \"^$TRIAL-\") -ge {runs} ] && exit 0; sleep 0.05; done; exit 1"
)


def runner_play(target, run, trials, barrier_dir, results_file):
    """One ansible-playbook process: per trial, wait until all RUNS processes are there, then write.

    The wait is a pipe lookup in a debug task: it runs in the controller's worker, no module run."""
    tasks = []
    for trial in range(trials):
        pairs = record_sets(trial)[run]
        tasks.extend([
            {'name': 'Trial {0}: wait for the other runs'.format(trial),
             'ansible.builtin.debug': {'msg': "{{{{ lookup('ansible.builtin.pipe', {0!r}) }}}}".format(
                 'TRIAL={0} RUN={1}; '.format(trial, run) + BARRIER.format(dir=barrier_dir, runs=RUNS))},
             'changed_when': False},
            dict(target.play(pairs)['tasks'][0], name='Trial {0}: make the records present'.format(trial),
                 register='result{0}'.format(trial), ignore_errors=True),
        ])
    tasks.append({'name': 'Keep the results', 'ansible.builtin.copy': {
        'content': '{{ [' + ', '.join('result{0}'.format(trial) for trial in range(trials)) + '] | to_json }}',
        'dest': str(results_file), 'mode': '0600'}})
    return {'name': 'Parallel writer {0}'.format(run), 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}


def parallel_trials(tmp_path, target, foreign):
    """RUNS ansible-playbook processes at once; in each, TRIALS record tasks. The RUNS tasks of one trial
    start together (a file barrier), write overlapping sets, and only then does the next trial begin."""
    figures = {'target': target.name, 'trials': TRIALS, 'runs': RUNS, 'lost': 0, 'duplicates': 0, 'failed_runs': 0}
    barrier_dir = tmp_path / 'barrier'
    barrier_dir.mkdir()
    results_files = [tmp_path / 'results{0}.json'.format(run) for run in range(RUNS)]
    start = time.monotonic()
    commands = [playbook(tmp_path, 'runner{0}'.format(run), [runner_play(target, run, TRIALS, barrier_dir, results_files[run])])
                for run in range(RUNS)]
    outputs = run_all(commands, {})
    figures['seconds'] = round(time.monotonic() - start, 1)
    failures = [output[-3000:] for rc, output in outputs if rc != 0]
    for run in range(RUNS):
        path = results_files[run]
        results = json.loads(path.read_text()) if path.exists() else [{'failed': True, 'msg': 'no result'}] * TRIALS
        for result in results:
            if result.get('failed'):
                figures['failed_runs'] += 1
                failures.append(result.get('msg'))
    stored = target.read_pairs()
    for trial in range(TRIALS):
        sets = record_sets(trial)
        wanted = set(pair for pairs in sets for pair in pairs)
        counts = dict((pair, stored.count(pair)) for pair in wanted)
        figures['lost'] += sum(1 for count in counts.values() if count == 0)
        figures['duplicates'] += sum(count - 1 for count in counts.values() if count > 1)
    figures['foreign_kept'] = stored.count(foreign) == 1
    # Alive: the API answered the read above; DNS answers a record of the last trial.
    domain, address = record_sets(TRIALS - 1)[-1][-1]
    figures['dns_answers'] = target.answers_dns(domain, address)
    print('\nparallel writers: ' + json.dumps(figures, sort_keys=True))
    assert (figures['lost'], figures['duplicates'], figures['failed_runs']) == (0, 0, 0), (figures, failures[:2])
    assert figures['foreign_kept'] and figures['dns_answers'], figures


# ------------------------------------------------------------------------------------------------
# Stand-ins


def adguard_target(handle):
    def read_pairs():
        reply = http_request('GET', handle.base_url + '/control/rewrite/list',
                             headers={'Authorization': basic_auth(ADGUARD_USER, ADGUARD_PASSWORD)})
        assert reply.status == 200, reply
        return [(entry['domain'], entry['answer']) for entry in reply.json()]
    connection = {'url': handle.base_url, 'username': ADGUARD_USER, 'password': ADGUARD_PASSWORD}
    return Target('AdGuard Home stand-in', 'natloop.lan.adguard_rewrite', 'rewrites', connection, read_pairs,
                  '127.0.0.1:{0}'.format(handle.dns_port))


def pihole_pairs(base_url, password):
    login = http_request('POST', base_url + '/api/auth', json_body={'password': password})
    assert login.status == 200, login
    sid = login.json()['session']['sid']
    try:
        reply = http_request('GET', base_url + '/api/config/dns', headers={'X-FTL-SID': sid})
        assert reply.status == 200, reply
        pairs = []
        for line in reply.json()['config']['dns']['hosts']:
            tokens = line.split()
            pairs.extend((name.lower(), tokens[0]) for name in tokens[1:])
        return pairs
    finally:
        http_request('DELETE', base_url + '/api/auth', headers={'X-FTL-SID': sid})


def pihole_target(name, base_url, password, dns_address):
    connection = {'url': base_url, 'password': password, 'dns_address': dns_address}
    return Target(name, 'natloop.lan.pihole_dns_record', 'records', connection,
                  lambda: pihole_pairs(base_url, password), dns_address)


def test_parallel_runs_adguard_standin(tmp_path, adguard_standin_factory, upstream_dns):
    foreign = ('foreign.par.test', '10.99.0.1')
    handle = adguard_standin_factory(config=adguard_config(
        upstream_dns, rewrites=[{'domain': foreign[0], 'answer': foreign[1], 'enabled': True}]))
    parallel_trials(tmp_path, adguard_target(handle), foreign)


PIHOLE_TOML = """
[dns]
  hosts = [ "10.99.0.1 foreign.par.test" ]
"""


def test_parallel_runs_pihole_standin(tmp_path, pihole_standin_factory):
    handle = pihole_standin_factory(toml=PIHOLE_TOML)
    parallel_trials(tmp_path, pihole_target('Pi-hole stand-in', handle.base_url, handle.password,
                                            '127.0.0.1:{0}'.format(handle.dns_port)), ('foreign.par.test', '10.99.0.1'))


# ------------------------------------------------------------------------------------------------
# The real Pi-hole FTL (inside run-isolated)


def real_target():
    return pihole_target('real Pi-hole FTL v6.4.1', REAL_URL, os.environ['NATLOOP_REAL_PIHOLE_PASSWORD'],
                         os.environ['NATLOOP_REAL_PIHOLE_DNS'])


def real_patch_hosts(lines):
    url, password = REAL_URL, os.environ['NATLOOP_REAL_PIHOLE_PASSWORD']
    login = http_request('POST', url + '/api/auth', json_body={'password': password})
    sid = login.json()['session']['sid']
    try:
        reply = http_request('PATCH', url + '/api/config', json_body={'config': {'dns': {'hosts': lines}}},
                             headers={'X-FTL-SID': sid})
        assert reply.status == 200, reply
    finally:
        http_request('DELETE', url + '/api/auth', headers={'X-FTL-SID': sid})


def real_call(method, path, body=None):
    """One call to the real FTL's API on a session of its own, logged out again (a restarting FTL may drop that)."""
    url, password = REAL_URL, os.environ['NATLOOP_REAL_PIHOLE_PASSWORD']
    login = http_request('POST', url + '/api/auth', json_body={'password': password})
    sid = login.json()['session']['sid']
    try:
        return http_request(method, url + path, json_body=body, headers={'X-FTL-SID': sid}, timeout=10)
    finally:
        try:
            http_request('DELETE', url + '/api/auth', headers={'X-FTL-SID': sid}, timeout=2)
        except OSError:
            pass


@real_ftl
def test_parallel_runs_real_ftl(tmp_path):
    foreign = ('foreign.par.test', '10.99.0.1')
    real_patch_hosts(['10.99.0.1 foreign.par.test'])
    parallel_trials(tmp_path, real_target(), foreign)


@real_ftl
def test_a_changed_cname_resolves_right_after_the_task_returns_real_ftl(tmp_path):
    """Two CNAME changes (create, then a new target), each restarting FTL. The module runs as Ansible runs
    it (a python process given its arguments), so nothing slow sits between its return and the question:
    the moment it exits, one DNS question with a short timeout and no retry must get the new answer."""
    target = real_target()
    host, port = target.dns_address.rsplit(':', 1)
    module = os.path.join(REPO, 'plugins', 'modules', 'pihole_dns_record.py')
    for step, answer in enumerate(('nas.cname.test', 'nas2.cname.test')):
        arguments = dict(target.connection, records=[{'domain': 'www.cname.test', 'answer': answer}], purge=True,
                         purge_scope=['www.cname.test'], lock_dir=str(tmp_path / 'locks'))
        args_file = tmp_path / 'args{0}.json'.format(step)
        args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': arguments}))
        completed = subprocess.run([sys.executable, module, str(args_file)], env=env(), capture_output=True,
                                   text=True, timeout=120, check=False)
        try:
            reply = dns_query(int(port), 'www.cname.test', 'CNAME', host=host, timeout=0.3)
        except Exception as exc:  # dnspython's timeout: FTL was not answering yet
            pytest.fail('no DNS answer right after the module returned: {0!r}'.format(exc))
        result = json.loads(completed.stdout)
        assert result.get('changed') is True and not result.get('failed'), result
        assert ('www.cname.test', 'CNAME', answer + '.') in answers(reply), answers(reply)


@real_ftl
def test_two_dns_servers_hosts_of_one_run_write_to_the_same_server_real_ftl(tmp_path):
    """The site-level case: two hosts of the dns_servers group whose API URL is the same server."""
    target = real_target()
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[dns_servers]\ndns1 ansible_connection=local\ndns2 ansible_connection=local\n')
    sets = {'dns1': record_sets(90)[0], 'dns2': record_sets(90)[1]}
    records = dict((host, [{'domain': d, 'answer': a} for d, a in pairs]) for host, pairs in sets.items())
    plays = [{'name': 'Two DNS servers, one Pi-hole', 'hosts': 'dns_servers', 'gather_facts': False,
              'vars': {'records_by_host': records}, 'tasks': [{
                  'name': 'Each host writes its records',
                  'natloop.lan.pihole_dns_record': dict(target.connection, records='{{ records_by_host[inventory_hostname] }}'),
              }]}]
    (rc, output), = run_all([playbook(tmp_path, 'two-hosts', plays, inventory=str(inventory))], {})
    assert rc == 0, output[-3000:]
    stored = target.read_pairs()
    wanted = set(sets['dns1'] + sets['dns2'])
    assert dict((pair, stored.count(pair)) for pair in wanted) == dict((pair, 1) for pair in wanted)


@real_ftl
def test_local_names_and_canaries_with_blocking_off_real_ftl(tmp_path):
    """Issue 13 on the real FTL v6.4.1, through the module as Ansible runs it: with blocking off, a published
    name with only an A record leaks the upstream's AAAA and HTTPS record, and the canaries get the upstream's
    addresses; one pihole_dns_record run (records and local_names in one PATCH, one restart) makes the name
    local (NOERROR without an answer), keeps names below it forwarded, answers the canaries NXDOMAIN and keeps a
    foreign dnsmasq line; a second run changes nothing; local_names=[] within the scope undoes it."""
    from natloop_standins.fixtures import FakeUpstream   # tests/standins, on the path via tests/conftest.py
    import dns.rcode
    url, password = REAL_URL, os.environ['NATLOOP_REAL_PIHOLE_PASSWORD']
    host, port = os.environ['NATLOOP_REAL_PIHOLE_DNS'].rsplit(':', 1)
    name, canaries = 'pub.local-names.example.com', ['use-application-dns.net', 'mask.icloud.com', 'mask-h2.icloud.com']
    upstream = FakeUpstream()
    zone = upstream.zone
    zone.add(name, 'A', '198.51.100.1').add(name, 'AAAA', '2001:db8:100::1')
    zone.add(name, 'HTTPS', '1 . ipv4hint=198.51.100.1 ipv6hint=2001:db8:100::1').add('www.' + name, 'A', '198.51.100.9')
    for canary in canaries:
        zone.add(canary, 'A', '198.51.100.77')

    def ask(qname, rdtype):
        deadline = time.monotonic() + 15
        while True:
            try:
                reply = dns_query(int(port), qname, rdtype, host=host, timeout=1)
                return dns.rcode.to_text(reply.rcode()), sorted(value for _owner, _kind, value in answers(reply, rdtype))
            except Exception:   # FTL restarting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def run_module(step, local_names):
        arguments = {'url': url, 'password': password, 'records': [{'domain': name, 'answer': '192.168.11.20'}],
                     'local_names': local_names, 'local_names_scope': [name] + canaries, 'dns_address': '%s:%s' % (host, port),
                     'lock_dir': str(tmp_path / 'locks')}
        args_file = tmp_path / 'args{0}.json'.format(step)
        args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': arguments}))
        completed = subprocess.run([sys.executable, os.path.join(REPO, 'plugins', 'modules', 'pihole_dns_record.py'),
                                    str(args_file)], env=env(), capture_output=True, text=True, timeout=120, check=False)
        result = json.loads(completed.stdout)
        assert not result.get('failed'), result
        return result

    def state():
        return dict([((name, t), ask(name, t)) for t in ('A', 'AAAA', 'HTTPS')] + [(('www.' + name, 'A'), ask('www.' + name, 'A'))]
                    + [((c, 'A'), ask(c, 'A')) for c in canaries])

    try:
        reply = real_call('PATCH', '/api/config', {'config': {'dns': {'upstreams': [upstream.address.replace(':', '#')]},
                                                              'misc': {'dnsmasq_lines': ['local=/foreign.example/']}}})
        assert reply.status == 200, reply
        ask('pi.hole', 'A')
        time.sleep(1.5)   # the restarted FTL
        assert real_call('POST', '/api/dns/blocking', {'blocking': False}).status == 200
        run_module(0, [])
        before = state()
        print('\nreal FTL v6.4.1, blocking off, before (records only):', json.dumps(sorted(before.items())))
        assert before[(name, 'AAAA')] == ('NOERROR', ['2001:db8:100::1'])
        assert before[(name, 'HTTPS')][1] != []
        assert all(before[(c, 'A')] == ('NOERROR', ['198.51.100.77']) for c in canaries)

        started = time.monotonic()
        result = run_module(1, [name] + canaries)
        assert result['changed'] is True and result['created'] == 8
        uptime = real_call('GET', '/api/info/ftl').json()['ftl']['uptime'] / 1000.0
        assert uptime < time.monotonic() - started, 'FTL did not restart'
        after = state()
        print('real FTL v6.4.1, blocking off, after (local_names):', json.dumps(sorted(after.items())))
        assert after[(name, 'A')] == ('NOERROR', ['192.168.11.20'])
        assert after[(name, 'AAAA')] == after[(name, 'HTTPS')] == ('NOERROR', [])
        assert after[('www.' + name, 'A')] == ('NOERROR', ['198.51.100.9'])
        assert all(after[(c, 'A')] == ('NXDOMAIN', []) for c in canaries)
        lines = real_call('GET', '/api/config/misc/dnsmasq_lines').json()['config']['misc']['dnsmasq_lines']
        assert lines[0] == 'local=/foreign.example/' and len(lines) == 9

        assert run_module(2, [name] + canaries)['changed'] is False
        undo = run_module(3, [])
        assert undo['changed'] is True and undo['deleted'] == 8
        assert ask(name, 'AAAA') == ('NOERROR', ['2001:db8:100::1'])
        lines = real_call('GET', '/api/config/misc/dnsmasq_lines').json()['config']['misc']['dnsmasq_lines']
        assert lines == ['local=/foreign.example/']
    finally:
        real_call('POST', '/api/dns/blocking', {'blocking': True})
        upstream.stop()


@real_ftl
def test_blocking_and_records_in_one_module_run_real_ftl(tmp_path):
    """The DNS-server role's single API task on the real FTL v6.4.1: pihole_dns_record with ``settings``
    (blocking off) and records, one of them a CNAME (its write restarts FTL). check -> apply -> check -> apply;
    after the restart blocking is still off, permanently (no timer), and both records answer over DNS."""
    from test_one_session_standins import four_runs
    host, port = os.environ['NATLOOP_REAL_PIHOLE_DNS'].rsplit(':', 1)
    target = real_target()

    def blocking():
        reply = real_call('GET', '/api/dns/blocking').json()
        return {'blocking': reply['blocking'], 'timer': reply['timer']}

    records = [{'domain': 'rustdesk.one-session.test', 'answer': '192.168.11.20'},
               {'domain': 'www.one-session.test', 'answer': 'rustdesk.one-session.test'}]
    play = {'name': 'Blocking and records', 'hosts': 'localhost', 'gather_facts': False,
            'tasks': [{'name': 'One run', 'register': '__result', 'natloop.lan.pihole_dns_record': dict(
                target.connection, records=records, settings={'blocking': False}, lock_dir=str(tmp_path / 'locks'))}]}
    assert real_call('POST', '/api/dns/blocking', {'blocking': True}).status == 200
    try:
        before, after, apply = four_runs(tmp_path, 'one-session-real', play, blocking)
        assert before == {'blocking': 'enabled', 'timer': None}
        assert after == {'blocking': 'disabled', 'timer': None}
        assert apply['settings_changes'] == [{'setting': 'blocking', 'before': True, 'after': False}]
        assert sorted(change['action'] for change in apply['changes']) == ['create', 'create']
        reply = dns_query(int(port), 'www.one-session.test', 'A', host=host, timeout=2)
        assert ('rustdesk.one-session.test', 'A', '192.168.11.20') in answers(reply), answers(reply)
    finally:
        real_call('POST', '/api/dns/blocking', {'blocking': True})
