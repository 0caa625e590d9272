# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property-based tests of the plan carried out by the real backends against the fake servers.

Any start state + any wanted list: after one run the managed records equal the wanted ones,
records the run does not manage are unchanged, the server holds what the plan predicted, and
a second plan is empty.
"""

from collections import Counter
from unittest import mock

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.natloop.lan.plugins.module_utils._adguard import AdGuardBackend, AdGuardClient
from ansible_collections.natloop.lan.plugins.module_utils._pihole import PiholeBackend, PiholeClient
from ansible_collections.natloop.lan.plugins.module_utils._records import (
    RecordError,
    build_plan,
    in_scope,
    normalize_wanted,
    verify,
)
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import OPEN_URL, FakeAdGuard, FakePihole

SLEEP = 'ansible_collections.natloop.lan.plugins.module_utils._http.sleep'
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCOPES = [['*'], ['*.example.com'], ['example.com', '*.example.com'], ['a.lan'], ['*.lan']]


def run_once(backend, items, state, purge, scope):
    """What run_sync does, minus AnsibleModule: read, plan, apply, re-read."""
    wanted = normalize_wanted(items, backend.rules, state)
    current = backend.read()
    wanted, attributes = backend.prepare(wanted, current)
    plan = build_plan(current, wanted, state, purge=purge, scope=scope if purge else None, attributes=attributes)
    if plan.changes:
        backend.apply(plan)
    return current, wanted, attributes, plan, backend.read()


def check_properties(backend, current, wanted, attributes, plan, actual, state, purge, scope):
    wanted_keys = set(w.key for w in wanted)

    def foreign(record):
        return record.key not in wanted_keys and not (purge and in_scope(record.domain, scope))

    def view(records):
        return Counter((r.key, r.rtype, r.enabled, r.ttl) for r in records)

    assert verify(plan, actual) == []
    assert view(r for r in actual if foreign(r)) == view(r for r in current if foreign(r))
    if state == 'present':
        for want in wanted:
            matching = [r for r in actual if r.key == want.key]
            assert len(matching) == 1
            assert all(getattr(matching[0], name) == getattr(want, name) for name in attributes)
        if purge:
            assert all(r.key in wanted_keys for r in actual if in_scope(r.domain, scope))
    else:
        assert not [r for r in actual if r.key in wanted_keys]
    again = build_plan(actual, wanted, state, purge=purge, scope=scope if purge else None, attributes=attributes)
    assert again.changes == []


# --- AdGuard Home

AGH_DOMAINS = ['a.lan', 'A.lan', 'b.lan', 'example.com', 'x.example.com', '*.example.com', 'c.org']
AGH_ANSWERS = ['10.0.0.1', '10.0.0.2', '2001:db8::1', '2001:DB8::1', 'a.lan', 'b.lan', 'A', 'AAAA']


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(AGH_DOMAINS), st.sampled_from(AGH_ANSWERS), st.booleans()), max_size=10),
    st.lists(st.fixed_dictionaries({'domain': st.sampled_from(AGH_DOMAINS), 'answer': st.sampled_from(AGH_ANSWERS),
                                    'enabled': st.booleans()}), max_size=5),
    st.sampled_from(['present', 'absent']), st.booleans(), st.sampled_from(SCOPES), st.sampled_from([79, 60]),
)
def test_adguard_backend_reaches_the_wanted_state(entries, items, state, purge, scope, patch):
    purge = purge and state == 'present'
    server = FakeAdGuard(patch=patch, rewrites=[{'domain': d, 'answer': a, 'enabled': e} for d, a, e in entries])
    if patch < 68:
        for entry in server.rewrites:
            entry.pop('enabled')
    backend = AdGuardBackend(AdGuardClient('http://agh.test', 'admin', 'secret'), warn=lambda msg: None)
    with mock.patch(OPEN_URL, server), mock.patch(SLEEP):
        try:
            result = run_once(backend, items, state, purge, scope)
        except RecordError:
            assume(False)
        check_properties(backend, *result, state=state, purge=purge, scope=scope)
        # The second run sends nothing but the list request.
        server.read_only = True
        server.requests = []
        assert run_once(backend, items, state, purge, scope)[3].changes == []
        assert server.calls() == ['GET /control/rewrite/list'] * 2


# --- Pi-hole

PIH_HOSTS = ['a.lan', 'A.lan', 'b.lan', 'example.com', 'x.example.com', 'c.org']
PIH_IPS = ['10.0.0.1', '10.0.0.2', '2001:db8::1', '2001:DB8:0::1']
PIH_TARGETS = ['a.lan', 'b.lan', 'x.example.com']
PIH_ANSWERS = PIH_IPS + PIH_TARGETS


@st.composite
def pihole_lists(draw):
    hosts = [' '.join([draw(st.sampled_from(PIH_IPS))] + draw(st.lists(st.sampled_from(PIH_HOSTS), min_size=1, max_size=3)))
             for dummy in range(draw(st.integers(0, 5)))]
    # Each alias has one target on a valid Pi-hole (dnsmasq refuses duplicate CNAMEs).
    target_of = {}
    cnames = []
    for dummy in range(draw(st.integers(0, 4))):
        aliases = draw(st.lists(st.sampled_from(PIH_HOSTS), min_size=1, max_size=2))
        target = target_of.get(aliases[0].lower()) or draw(st.sampled_from(PIH_TARGETS))
        if any(target_of.setdefault(alias.lower(), target) != target for alias in aliases):
            continue
        ttl = draw(st.sampled_from([None, 60]))
        cnames.append(','.join(aliases + [target] + ([str(ttl)] if ttl else [])))
    return hosts, cnames


@SETTINGS
@given(
    pihole_lists(),
    st.lists(st.fixed_dictionaries({'domain': st.sampled_from(PIH_HOSTS), 'answer': st.sampled_from(PIH_ANSWERS)},
                                   optional={'ttl': st.sampled_from([None, 60, 300])}), max_size=5),
    st.sampled_from(['present', 'absent']), st.booleans(), st.sampled_from(SCOPES),
)
def test_pihole_backend_reaches_the_wanted_state_in_one_write(lists, items, state, purge, scope):
    purge = purge and state == 'present'
    for item in items:
        if item['answer'] in PIH_IPS:
            item.pop('ttl', None)
    server = FakePihole(hosts=lists[0], cnames=lists[1], restart_downtime=1)
    backend = PiholeBackend(PiholeClient('http://pihole.test', 'secret'), warn=lambda msg: None)
    with mock.patch(OPEN_URL, server), mock.patch(SLEEP):
        with backend.session():
            try:
                result = run_once(backend, items, state, purge, scope)
            except RecordError:
                assume(False)
            check_properties(backend, *result, state=state, purge=purge, scope=scope)
            assert len(server.writes()) <= 1
            assert server.restarts <= 1
        assert server.sessions == {}
        server.read_only = True
        with backend.session():
            assert run_once(backend, items, state, purge, scope)[3].changes == []
