# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property-based tests of validation and of the sync plan (backend-neutral level)."""

import ipaddress
from collections import Counter

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.natloop.lan.plugins.module_utils._records import (
    RecordError,
    RecordRules,
    build_plan,
    classify_answer,
    in_scope,
    normalize_name,
    normalize_wanted,
    predict,
    record_from_server,
    verify,
)

AGH = RecordRules('AdGuard Home', 'rewrites', wildcards=True, keyword_answers=True, self_cname=True, enabled=True)

LABEL = st.from_regex(r'\A[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,10}[a-zA-Z0-9_])?\Z')
NAMES = st.lists(LABEL, min_size=1, max_size=4).map('.'.join)

# Small pools so that generated server states and wanted lists overlap a lot.
DOMAINS = ['a.lan', 'b.lan', 'A.lan', 'example.com', 'x.example.com', 'Y.example.com', '*.example.com', 'c.org']
ANSWERS = ['10.0.0.1', '10.0.0.2', '2001:db8::1', '2001:DB8:0::1', 'a.lan', 'B.lan', 'A', 'AAAA']
SCOPES = [['*'], ['*.example.com'], ['example.com', '*.example.com'], ['a.lan'], ['*.lan', 'c.org']]

server_entries = st.lists(st.tuples(st.sampled_from(DOMAINS), st.sampled_from(ANSWERS), st.booleans()), max_size=12)
wanted_items = st.lists(
    st.fixed_dictionaries({'domain': st.sampled_from(DOMAINS), 'answer': st.sampled_from(ANSWERS),
                           'enabled': st.booleans()}),
    max_size=6)


@given(NAMES)
def test_valid_names_are_accepted_and_normalizing_is_idempotent(name):
    assume(len(name) <= 253)
    canonical = normalize_name(name)
    assert canonical == name.lower()
    assert normalize_name(canonical) == canonical
    assert normalize_name(canonical + '.') == canonical


@given(st.text(max_size=40))
def test_any_text_is_either_a_canonical_name_or_a_value_error(text):
    try:
        canonical = normalize_name(text, allow_wildcard=True)
    except ValueError as exc:
        assert str(exc)
        return
    assert canonical == canonical.lower() and ' ' not in canonical and not canonical.endswith('.')
    assert normalize_name(canonical, allow_wildcard=True) == canonical


@given(st.one_of(st.ip_addresses(), st.text(max_size=30)))
def test_any_answer_is_classified_or_rejected(value):
    text = str(value)
    try:
        rtype, canonical = classify_answer(text, AGH)
    except ValueError as exc:
        assert str(exc)
        return
    if rtype in ('A', 'AAAA') and canonical not in ('A', 'AAAA'):
        address = ipaddress.ip_address(canonical)
        assert address == ipaddress.ip_address(text)
        assert rtype == ('A' if address.version == 4 else 'AAAA')
    assert classify_answer(canonical, AGH) == (rtype, canonical)


@given(st.ip_addresses())
def test_every_ip_address_is_accepted_in_any_spelling(address):
    expected = ('A' if address.version == 4 else 'AAAA', address.compressed)
    assert classify_answer(str(address), AGH) == expected
    if address.version == 6:
        assert classify_answer(address.exploded.upper(), AGH) == expected


def _current(entries):
    return [record_from_server(d, a, AGH, enabled=e, ref=(index, d, a)) for index, (d, a, e) in enumerate(entries)]


def _state(records):
    return Counter((r.key, r.enabled) for r in records)


@settings(max_examples=300, deadline=None)
@given(server_entries, wanted_items, st.sampled_from(['present', 'absent']), st.booleans(), st.sampled_from(SCOPES),
       st.booleans())
def test_plan_reaches_the_wanted_state_leaves_foreign_records_and_is_idempotent(
        entries, items, state, purge, scope, enabled_supported):
    try:
        wanted = normalize_wanted(items, AGH, state)
    except RecordError:
        assume(False)
    purge = purge and state == 'present'
    attributes = ('enabled',) if enabled_supported else ()
    if not enabled_supported:
        wanted = [record.copy(enabled=True) for record in wanted]
    current = _current(entries)
    try:
        plan = build_plan(current, wanted, state, purge=purge, scope=scope, attributes=attributes)
    except RecordError:
        # Only allowed when a wanted CNAME meets another CNAME of its name that the run keeps.
        kept = [r for r in current if r.rtype == 'CNAME' and not (purge and in_scope(r.domain, scope))]
        assert any(w.rtype == 'CNAME' and r.domain == w.domain and r.answer != w.answer for w in wanted for r in kept)
        return
    after = predict(current, plan, attributes)
    wanted_keys = set(w.key for w in wanted)

    def foreign(record):
        return record.key not in wanted_keys and not (purge and in_scope(record.domain, scope))

    # Records the run does not manage are kept exactly, in order, with their server handles.
    assert [r.ref for r in current if foreign(r)] == [r.ref for r in after if foreign(r)]
    if state == 'present':
        for want in wanted:
            matching = [r for r in after if r.key == want.key]
            assert len(matching) == 1
            assert not enabled_supported or matching[0].enabled == want.enabled
        if purge:
            assert all(r.key in wanted_keys for r in after if in_scope(r.domain, scope))
    else:
        assert not any(r.key in wanted_keys for r in after)
    assert verify(plan, after) == []
    again = build_plan(after, wanted, state, purge=purge, scope=scope, attributes=attributes)
    assert again.changes == []
    assert _state(again.after) == _state(plan.after)
    # Counting: every change touches one key, and the counts add up.
    assert len(set(c.key for c in plan.changes)) == len(plan.changes)
    assert plan.count('create') + plan.count('update') + plan.count('delete') == len(plan.changes)
