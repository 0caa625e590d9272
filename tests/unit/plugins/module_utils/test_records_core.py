# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.natloop.lan.plugins.module_utils._records import (
    Record,
    RecordError,
    RecordRules,
    build_plan,
    classify_answer,
    in_scope,
    normalize_name,
    normalize_scope,
    normalize_wanted,
    predict,
    record_from_server,
    verify,
)

AGH = RecordRules('AdGuard Home', 'rewrites', wildcards=True, keyword_answers=True, self_cname=True, enabled=True)
PIH = RecordRules('Pi-hole', 'records', ttl=True)


@pytest.mark.parametrize('value, expected', [
    ('Example.COM', 'example.com'),
    ('example.com.', 'example.com'),
    ('nas', 'nas'),
    ('_sip._tcp.example.com', '_sip._tcp.example.com'),
    ('xn--bcher-kva.example', 'xn--bcher-kva.example'),
    ('a' * 63 + '.lan', 'a' * 63 + '.lan'),
    ('1.2.3.4.in-addr.arpa', '1.2.3.4.in-addr.arpa'),
])
def test_valid_names(value, expected):
    assert normalize_name(value) == expected


@pytest.mark.parametrize('value, reason', [
    ('', 'is empty'),
    ('.', 'only a dot'),
    (' a.lan', 'whitespace'),
    ('a lan', 'whitespace'),
    ('a..lan', 'empty label'),
    ('.a.lan', 'empty label'),
    ('-a.lan', 'may not start or end'),
    ('a-.lan', 'may not start or end'),
    ('a/b.lan', 'labels may only hold'),
    ('a' * 64 + '.lan', 'longer than 63'),
    (('a' * 60 + '.') * 5, 'longer than 253'),
    ('bücher.lan', 'punycode'),
    ('*.lan', 'does not support wildcard'),
    (None, 'must be a string'),
])
def test_invalid_names(value, reason):
    with pytest.raises(ValueError, match=reason):
        normalize_name(value)


def test_wildcards_only_where_the_backend_has_them():
    assert normalize_name('*.Example.com', allow_wildcard=True) == '*.example.com'
    for bad, reason in (('*', "bare '\\*'"), ('a.*.lan', 'whole first label'), ('*a.lan', 'whole first label'),
                        ('**.lan', 'whole first label')):
        with pytest.raises(ValueError, match=reason):
            normalize_name(bad, allow_wildcard=True)


@pytest.mark.parametrize('answer, expected', [
    ('192.168.11.20', ('A', '192.168.11.20')),
    ('2001:DB8:0:0::1', ('AAAA', '2001:db8::1')),
    ('::ffff:10.0.0.1', ('AAAA', '::ffff:a00:1')),
    ('Target.Example.com.', ('CNAME', 'target.example.com')),
    ('A', ('A', 'A')),
    ('AAAA', ('AAAA', 'AAAA')),
])
def test_answers_adguard(answer, expected):
    assert classify_answer(answer, AGH) == expected


@pytest.mark.parametrize('answer, reason', [
    ('10.0.0.256', 'not a valid one'),
    ('010.0.0.1', 'not a valid one'),
    ('1.2.3', 'not a valid one'),
    ('fe80::1%eth0', 'zone'),
    ('2001:db8:::1', 'IPv6'),
    ('a', 'capitals'),
    ('*.example.com', 'CNAME target'),
    ('http://x', 'IPv6'),
    ('', 'CNAME target'),
])
def test_bad_answers(answer, reason):
    with pytest.raises(ValueError, match=reason):
        classify_answer(answer, AGH)


def test_keywords_are_adguard_only():
    with pytest.raises(ValueError, match='not supported by Pi-hole'):
        classify_answer('AAAA', PIH)


def test_server_records_get_canonical_keys_whatever_the_spelling():
    assert record_from_server('NAS.lan', '2001:DB8::1', AGH).key == ('nas.lan', '2001:db8::1')
    assert record_from_server('nas.lan', 'A', AGH).rtype == 'A'
    assert record_from_server('nas.lan', 'Target.lan.', AGH).key == ('nas.lan', 'target.lan')
    # Pi-hole has no keywords: "A" there would be a CNAME target named "a".
    assert record_from_server('x.lan', 'A', PIH).rtype == 'CNAME'


@pytest.mark.parametrize('domain, patterns, expected', [
    ('example.com', ['example.com'], True),
    ('sub.example.com', ['example.com'], False),
    ('sub.example.com', ['*.example.com'], True),
    ('a.b.example.com', ['*.example.com'], True),
    ('*.example.com', ['*.example.com'], True),
    ('example.com', ['*.example.com'], False),
    ('badexample.com', ['*.example.com'], False),
    ('anything', ['*'], True),
    ('x.org', ['a.org', '*.b.org'], False),
])
def test_scope(domain, patterns, expected):
    assert in_scope(domain, patterns) is expected


def test_scope_validation_names_the_pattern():
    assert normalize_scope(['*', 'Example.com', '*.lan'], PIH) == ['*', 'example.com', '*.lan']
    with pytest.raises(RecordError) as info:
        normalize_scope(['ok.lan', 'a..b'], PIH)
    assert info.value.problems == ["purge_scope[1] ('a..b') has an empty label (leading dot or two dots in a row)"]


def test_every_bad_item_is_reported_at_once():
    with pytest.raises(RecordError) as info:
        normalize_wanted([
            {'domain': 'a.lan', 'answer': '10.0.0.1'},
            {'domain': 'b..lan', 'answer': 'nope!'},
            'not a dict',
            {'domain': 'c.lan', 'answer': '10.0.0.1', 'ttl': 5},
        ], PIH, 'present')
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("records[1] (domain='b..lan', answer='nope!'): domain has an empty label")
    assert 'answer is neither an IP address nor a valid CNAME target' in problems[0]
    assert problems[1].startswith('records[2]: must be a dictionary')
    assert 'ttl only applies to CNAME' in problems[2]


def test_conflicts_are_checked_only_for_present():
    items = [{'domain': 'w.lan', 'answer': 'a.lan'}, {'domain': 'w.lan', 'answer': 'b.lan'}]
    with pytest.raises(RecordError, match='two CNAME targets'):
        normalize_wanted(items, PIH, 'present')
    assert len(normalize_wanted(items, PIH, 'absent')) == 2


def test_keyword_and_address_of_the_same_family_conflict():
    with pytest.raises(RecordError, match='keyword A'):
        normalize_wanted([{'domain': 'w.lan', 'answer': 'A'}, {'domain': 'w.lan', 'answer': '10.0.0.1'}], AGH, 'present')
    # A keyword for one family and an address of the other is fine.
    assert len(normalize_wanted([{'domain': 'w.lan', 'answer': 'AAAA'}, {'domain': 'w.lan', 'answer': '10.0.0.1'}],
                                AGH, 'present')) == 2


def test_self_cname_is_an_adguard_exception_and_a_pihole_error():
    assert normalize_wanted([{'domain': 'x.lan', 'answer': 'x.lan'}], AGH, 'present')[0].rtype == 'CNAME'
    with pytest.raises(RecordError, match='itself'):
        normalize_wanted([{'domain': 'x.lan', 'answer': 'x.lan'}], PIH, 'present')


def _server(*pairs, **attrs):
    return [record_from_server(d, a, AGH, ref=(d, a), **attrs) for d, a in pairs]


def _wanted(*pairs, **attrs):
    return [Record(d, classify_answer(a, AGH)[1], classify_answer(a, AGH)[0], **attrs) for d, a in pairs]


def test_plan_create_update_delete_and_untouched():
    current = _server(('a.lan', '10.0.0.1'), ('b.lan', '10.0.0.2'), ('b.lan', '10.0.0.2'), ('old.lan', '10.0.0.3'),
                      ('foreign.org', '10.0.0.4'))
    wanted = _wanted(('a.lan', '10.0.0.1'), ('b.lan', '10.0.0.2'), ('new.lan', '10.0.0.5'))
    plan = build_plan(current, wanted, 'present', purge=True, scope=['*.lan', 'old.lan'], attributes=('enabled',))
    assert [(c.action, c.key) for c in plan.changes] == [
        ('update', ('b.lan', '10.0.0.2')),
        ('create', ('new.lan', '10.0.0.5')),
        ('delete', ('old.lan', '10.0.0.3')),
    ]
    assert [r.key for r in plan.after] == [('a.lan', '10.0.0.1'), ('b.lan', '10.0.0.2'), ('new.lan', '10.0.0.5')]
    assert ('foreign.org', '10.0.0.4') in [r.key for r in predict(current, plan, ('enabled',))]


def test_plan_without_purge_never_deletes():
    current = _server(('a.lan', '10.0.0.1'), ('b.lan', '10.0.0.2'))
    plan = build_plan(current, [], 'present', purge=False, scope=['*'])
    assert plan.changes == [] and plan.before == []


def test_plan_compares_only_the_attributes_the_server_has():
    current = _server(('a.lan', '10.0.0.1'), enabled=True)
    wanted = _wanted(('a.lan', '10.0.0.1'), enabled=False)
    assert build_plan(current, wanted, 'present', attributes=()).changes == []
    change = build_plan(current, wanted, 'present', attributes=('enabled',)).changes[0]
    assert change.action == 'update' and change.reasons == ['enabled: true -> false']


def test_plan_cname_conflict_with_kept_server_record():
    current = _server(('w.lan', 'old.lan'))
    wanted = _wanted(('w.lan', 'new.lan'))
    with pytest.raises(RecordError, match='only one CNAME'):
        build_plan(current, wanted, 'present')
    plan = build_plan(current, wanted, 'present', purge=True, scope=['w.lan'])
    assert sorted(c.action for c in plan.changes) == ['create', 'delete']


def test_verify_reports_missing_and_unexpected_records():
    current = _server(('a.lan', '10.0.0.1'))
    wanted = _wanted(('a.lan', '10.0.0.1'), ('b.lan', '10.0.0.2'))
    plan = build_plan(current, wanted, 'present')
    assert verify(plan, current + _server(('b.lan', '10.0.0.2'))) == []
    assert verify(plan, current) == ['expected 1 x b.lan A 10.0.0.2, found 0']
    assert verify(plan, current + _server(('b.lan', '10.0.0.2'), ('b.lan', '10.0.0.2'))) == [
        'expected 1 x b.lan A 10.0.0.2, found 2']
    disabled = _server(('b.lan', '10.0.0.2'), enabled=False)
    assert verify(plan, current + disabled) == ['expected 1 x b.lan A 10.0.0.2, found 0',
                                                'unexpected 1 x b.lan A 10.0.0.2 (disabled)']
