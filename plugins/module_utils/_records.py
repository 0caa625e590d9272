# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""Backend-neutral core of the DNS record modules.

The record model, validation of names, addresses and CNAME targets, purge scope matching,
the create/update/delete plan keyed by (domain, answer), the predicted result and its
verification. Nothing here talks to a server: the AdGuard Home and Pi-hole clients read
records into ``Record`` objects, hand them to ``build_plan`` and carry out its changes.
"""

import ipaddress
import re
from collections import OrderedDict

TYPE_A = 'A'
TYPE_AAAA = 'AAAA'
TYPE_CNAME = 'CNAME'

# AdGuard Home's special answers: keep the upstream records of that type.
KEYWORD_ANSWERS = (TYPE_A, TYPE_AAAA)

MAX_TTL = 2147483647

_LABEL_RE = re.compile(r'^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$')


class RecordRules(object):
    """What one backend accepts. The core asks these instead of knowing backend names."""

    def __init__(self, backend, option, wildcards=False, keyword_answers=False, self_cname=False,
                 ttl=False, enabled=False):
        self.backend = backend            # human name for messages, e.g. "Pi-hole"
        self.option = option              # module option holding the list, e.g. "records"
        self.wildcards = wildcards        # '*.example.com' allowed as a record domain
        self.keyword_answers = keyword_answers  # answers 'A' / 'AAAA' allowed
        self.self_cname = self_cname      # answer equal to its own domain allowed
        self.ttl = ttl                    # CNAME records carry an optional TTL
        self.enabled = enabled            # records carry an enabled flag


class Record(object):
    """One DNS record as the modules see it.

    ``domain`` and ``answer`` are canonical (lower-case names, compressed IP addresses), so
    equal records have equal keys whatever spelling the server stored. ``ref`` is the
    backend's handle on the stored entry (raw strings, list positions) and is None for
    records that exist only in the wanted state.
    """

    __slots__ = ('domain', 'answer', 'rtype', 'enabled', 'ttl', 'ref')

    def __init__(self, domain, answer, rtype, enabled=True, ttl=None, ref=None):
        self.domain = domain
        self.answer = answer
        self.rtype = rtype
        self.enabled = enabled
        self.ttl = ttl
        self.ref = ref

    @property
    def key(self):
        return (self.domain, self.answer)

    def copy(self, **changes):
        values = dict((name, getattr(self, name)) for name in self.__slots__)
        values.update(changes)
        return Record(**values)

    def sort_key(self):
        return (self.domain, self.rtype, self.answer, not self.enabled, self.ttl or 0)

    def to_dict(self, rules):
        result = OrderedDict()
        result['domain'] = self.domain
        result['answer'] = self.answer
        result['type'] = self.rtype
        if rules.enabled:
            result['enabled'] = self.enabled
        if rules.ttl:
            result['ttl'] = self.ttl
        return dict(result)

    def describe(self):
        return '{0} -> {1}'.format(self.domain, self.answer)

    def __repr__(self):
        return 'Record({0!r}, {1!r}, {2!r}, enabled={3!r}, ttl={4!r})'.format(
            self.domain, self.answer, self.rtype, self.enabled, self.ttl)


class RecordError(Exception):
    """Input that cannot be used. ``problems`` lists every reason, one line each."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(RecordError, self).__init__('; '.join(self.problems))


# ---------------------------------------------------------------------------------------------
# Names and answers


def normalize_name(value, allow_wildcard=False, backend='this backend'):
    """Return the canonical form of a DNS name or raise ValueError saying what is wrong.

    Canonical means lower-case without a trailing dot. Letters, digits, '-' and '_' are allowed
    in labels (underscores appear in service names); a label may not start or end with '-'.
    A wildcard is '*' as the whole first label, followed by at least one more label.
    """
    if not isinstance(value, str):
        raise ValueError('must be a string')
    if value != value.strip() or any(ch.isspace() for ch in value):
        raise ValueError('contains whitespace')
    if not value:
        raise ValueError('is empty')
    try:
        value.encode('ascii')
    except UnicodeEncodeError:
        raise ValueError('contains non-ASCII characters; write internationalized names in punycode (xn--...)')
    name = value.lower()
    if name.endswith('.'):
        name = name[:-1]
    if not name:
        raise ValueError('is only a dot')
    if len(name) > 253:
        raise ValueError('is longer than 253 characters')
    labels = name.split('.')
    if labels[0] == '*':
        if not allow_wildcard:
            raise ValueError('is a wildcard; {0} does not support wildcard names'.format(backend))
        if len(labels) < 2:
            raise ValueError("is a bare '*'; write '*.<domain>' to match the names below a domain")
        labels = labels[1:]
    for label in labels:
        if not label:
            raise ValueError('has an empty label (leading dot or two dots in a row)')
        if '*' in label:
            raise ValueError("has '*' inside; a wildcard is only allowed as the whole first label, as in '*.example.com'")
        if len(label) > 63:
            raise ValueError('has a label longer than 63 characters')
        if not _LABEL_RE.match(label):
            raise ValueError(
                'has the label "{0}": labels may only hold letters, digits, "-" and "_" '
                'and may not start or end with "-"'.format(label))
    return name


def classify_answer(value, rules):
    """Return (type, canonical answer) for a wanted answer or raise ValueError."""
    if not isinstance(value, str):
        raise ValueError('must be a string')
    if value in KEYWORD_ANSWERS:
        if not rules.keyword_answers:
            raise ValueError('the keyword "{0}" (keep upstream records) is not supported by {1}'.format(value, rules.backend))
        return value, value
    if value.lower() in ('a', 'aaaa'):
        raise ValueError('write the keyword in capitals ("A" or "AAAA"); lower-case would be a CNAME to the host "{0}"'.format(value))
    if '%' in value:
        raise ValueError('IPv6 zone indexes ("%...") are not supported')
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is not None:
        return (TYPE_A if address.version == 4 else TYPE_AAAA), address.compressed
    if ':' in value:
        raise ValueError('is not a valid IPv6 address')
    try:
        target = normalize_name(value, allow_wildcard=False, backend=rules.backend)
    except ValueError as exc:
        raise ValueError('is neither an IP address nor a valid CNAME target: the name {0}'.format(exc))
    if all(label.isdigit() for label in target.split('.')):
        raise ValueError('looks like an IPv4 address but is not a valid one')
    return TYPE_CNAME, target


def record_from_server(domain, answer, rules, enabled=True, ttl=None, ref=None):
    """Build a Record from what a server stores, without judging it.

    Servers hold entries the modules would refuse (upper case, odd names); those still get a
    canonical key so they can be matched, kept or removed.
    """
    canonical_domain = domain.lower()
    if canonical_domain.endswith('.') and len(canonical_domain) > 1:
        canonical_domain = canonical_domain[:-1]
    if rules.keyword_answers and answer in KEYWORD_ANSWERS:
        return Record(canonical_domain, answer, answer, enabled, ttl, ref)
    try:
        address = ipaddress.ip_address(answer)
    except ValueError:
        address = None
    if address is not None:
        rtype = TYPE_A if address.version == 4 else TYPE_AAAA
        return Record(canonical_domain, address.compressed, rtype, enabled, ttl, ref)
    target = answer.lower()
    if target.endswith('.') and len(target) > 1:
        target = target[:-1]
    return Record(canonical_domain, target, TYPE_CNAME, enabled, ttl, ref)


# ---------------------------------------------------------------------------------------------
# Scope


def normalize_scope(patterns, rules, option='purge_scope'):
    """Validate purge_scope patterns: 'example.com' (that name), '*.example.com' (every name
    below it), or '*' (every record). Raise RecordError naming each bad pattern."""
    problems = []
    result = []
    for index, pattern in enumerate(patterns or []):
        if pattern == '*':
            result.append('*')
            continue
        try:
            result.append(normalize_name(pattern, allow_wildcard=True, backend=rules.backend))
        except ValueError as exc:
            problems.append('{0}[{1}] ({2!r}) {3}'.format(option, index, pattern, exc))
    if problems:
        raise RecordError(problems)
    return result


def normalize_owned_names(names, scope, rules, names_option, scope_option):
    """Names a run owns (e.g. local_names) and the scope it syncs them in, both canonical.

    Raise RecordError naming every bad name and pattern, so nothing is written on bad input.
    """
    problems = []
    result = []
    for index, name in enumerate(names or []):
        try:
            result.append(normalize_name(name, backend=rules.backend))
        except ValueError as exc:
            problems.append('{0}[{1}] ({2!r}) {3}'.format(names_option, index, name, exc))
    try:
        scope = normalize_scope(scope, rules, option=scope_option)
    except RecordError as exc:
        problems.extend(exc.problems)
    if problems:
        raise RecordError(problems)
    return result, scope


def in_scope(domain, patterns):
    """True if the record domain falls under one of the normalized scope patterns.

    ``*.example.com`` covers every name strictly below example.com, including records that are
    themselves wildcards such as ``*.example.com``; it does not cover ``example.com``.
    """
    for pattern in patterns:
        if pattern == '*':
            return True
        if pattern.startswith('*.'):
            if domain.endswith(pattern[1:]) and domain != pattern[2:]:
                return True
        elif domain == pattern:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Wanted records


def _item_label(rules, index, item):
    if isinstance(item, dict):
        return '{0}[{1}] (domain={2!r}, answer={3!r})'.format(rules.option, index, item.get('domain'), item.get('answer'))
    return '{0}[{1}]'.format(rules.option, index)


def normalize_wanted(items, rules, state):
    """Validate the whole wanted list and return Records; raise RecordError listing every problem.

    Nothing is sent to a server before this has passed, so one bad item changes nothing.
    """
    problems = []
    records = []
    labels = []
    for index, item in enumerate(items or []):
        label = _item_label(rules, index, item)
        if not isinstance(item, dict):
            problems.append('{0}: must be a dictionary with domain and answer'.format(label))
            continue
        item_problems = []
        domain = answer = rtype = None
        try:
            domain = normalize_name(item.get('domain'), allow_wildcard=rules.wildcards, backend=rules.backend)
        except ValueError as exc:
            item_problems.append('domain {0}'.format(exc))
        try:
            rtype, answer = classify_answer(item.get('answer'), rules)
        except ValueError as exc:
            item_problems.append('answer {0}'.format(exc))
        ttl = item.get('ttl')
        if ttl is not None:
            if not rules.ttl:
                item_problems.append('ttl is not supported by {0}'.format(rules.backend))
            elif rtype is not None and rtype != TYPE_CNAME:
                item_problems.append('ttl only applies to CNAME records; {0} keeps no TTL for A/AAAA entries'.format(rules.backend))
            elif isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL:
                item_problems.append('ttl must be an integer from 0 to {0}'.format(MAX_TTL))
        enabled = item.get('enabled')
        if enabled is None:
            enabled = True
        if domain is not None and answer == domain and rtype == TYPE_CNAME and not rules.self_cname:
            item_problems.append('answer points to the domain itself')
        if item_problems:
            problems.append('{0}: {1}'.format(label, '; '.join(item_problems)))
            continue
        records.append(Record(domain, answer, rtype, enabled=bool(enabled), ttl=ttl))
        labels.append(label)

    # Conflicts among the valid items are reported too, so one run shows every problem.
    problems.extend(_conflicts(records, labels, state))
    if problems:
        raise RecordError(problems)
    return records


def _conflicts(records, labels, state):
    problems = []
    first_by_key = {}
    for record, label in zip(records, labels):
        if record.key in first_by_key:
            problems.append('{0}: the same record as {1}; list each domain/answer pair once'.format(label, first_by_key[record.key]))
        else:
            first_by_key[record.key] = label
    if state != 'present':
        return problems

    by_domain = OrderedDict()
    for record, label in zip(records, labels):
        if first_by_key[record.key] == label:   # a repeated item is reported above already
            by_domain.setdefault(record.domain, []).append((record, label))
    for domain, entries in by_domain.items():
        cnames = [(r, lbl) for r, lbl in entries if r.rtype == TYPE_CNAME]
        others = [(r, lbl) for r, lbl in entries if r.rtype != TYPE_CNAME]
        if len(cnames) > 1:
            problems.append('{0} and {1}: two CNAME targets for {2}; a name can have only one CNAME'.format(
                cnames[0][1], cnames[1][1], domain))
        elif cnames and others:
            problems.append('{0} and {1}: {2} has a CNAME and another answer; a CNAME cannot coexist with other records of the same name'.format(
                cnames[0][1], others[0][1], domain))
        for keyword in KEYWORD_ANSWERS:
            keyword_entries = [lbl for r, lbl in entries if r.answer == keyword]
            address_entries = [lbl for r, lbl in entries if r.rtype == keyword and r.answer != keyword]
            if keyword_entries and address_entries:
                problems.append('{0} and {1}: the keyword {2} (keep upstream {2} records) cannot be combined with {2} addresses for {3}'.format(
                    keyword_entries[0], address_entries[0], keyword, domain))
    return problems


# ---------------------------------------------------------------------------------------------
# Plan


class Change(object):
    """One key to change. ``current`` holds every stored entry with this key (several when
    the server has duplicates); ``wanted`` is the single record to end up with, or None."""

    def __init__(self, action, key, wanted, current, reasons):
        self.action = action
        self.key = key
        self.wanted = wanted
        self.current = current
        self.reasons = reasons

    @property
    def sample(self):
        return self.wanted if self.wanted is not None else self.current[0]

    def to_dict(self, rules):
        result = self.sample.to_dict(rules)
        result['action'] = self.action
        result['reason'] = '; '.join(self.reasons)
        return result


class Plan(object):
    def __init__(self, changes, managed_keys, scope, before, after, owned=None):
        self.changes = changes
        self.managed_keys = managed_keys
        self.scope = scope
        self.before = before
        self.after = after
        self.owned = owned

    def count(self, action):
        return sum(1 for change in self.changes if change.action == action)

    def is_managed(self, record):
        return (record.key in self.managed_keys or (self.scope is not None and in_scope(record.domain, self.scope))
                or (self.owned is not None and self.owned(record)))

    def managed(self, records):
        return sorted((r for r in records if self.is_managed(r)), key=Record.sort_key)


def _differences(have, want, attributes):
    reasons = []
    for name in attributes:
        old = getattr(have, name)
        new = getattr(want, name)
        if old != new:
            reasons.append('{0}: {1} -> {2}'.format(name, _show(old), _show(new)))
    return reasons


def _show(value):
    if value is None:
        return 'none'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def build_plan(current, wanted, state, purge=False, scope=None, attributes=(), owned=None):
    """Compare the stored records with the wanted ones and return the Plan.

    ``attributes`` names the record fields the backend stores besides the key ('enabled',
    'ttl'); they are compared and updated in place. Keys present more than once on the server
    are collapsed to one entry. With ``purge``, stored records whose domain is in ``scope``
    and whose key is not wanted are deleted; records outside the scope are never touched.
    ``owned`` (a predicate, or None) marks stored records the backend always syncs, purge or not
    (for example Pi-hole's local-name lines): those not wanted are deleted with state=present.
    Raise RecordError if the result would hold a name with two CNAME targets.
    """
    groups = OrderedDict()
    for record in current:
        groups.setdefault(record.key, []).append(record)
    scope = scope if purge else None

    changes = []
    wanted_by_key = OrderedDict((record.key, record) for record in wanted)
    if state == 'present':
        for key, want in wanted_by_key.items():
            have = groups.get(key, [])
            if not have:
                changes.append(Change('create', key, want, [], ['not on the server']))
                continue
            reasons = []
            if len(have) > 1:
                reasons.append('{0} copies on the server collapsed into one'.format(len(have)))
            reasons.extend(_differences(have[0], want, attributes))
            if reasons:
                changes.append(Change('update', key, want, have, reasons))
        for key, have in groups.items():
            if key in wanted_by_key:
                continue
            if scope is not None and in_scope(have[0].domain, scope):
                changes.append(Change('delete', key, None, have, ['in purge_scope, not in the list']))
            elif owned is not None and owned(have[0]):
                changes.append(Change('delete', key, None, have, ['managed by this module, no longer wanted']))
    else:
        for key in wanted_by_key:
            if key in groups:
                changes.append(Change('delete', key, None, groups[key], ['state=absent']))

    managed_keys = set(wanted_by_key)
    plan = Plan(changes, managed_keys, scope, [], [], owned)
    result = predict(current, plan, attributes)
    plan.before = plan.managed(current)
    plan.after = plan.managed(result)
    if state == 'present':
        _check_cname_conflicts(result, wanted)
    return plan


def predict(current, plan, attributes=()):
    """The full record list the server will hold once the plan is carried out."""
    by_key = dict((change.key, change) for change in plan.changes)
    result = []
    done = set()
    for record in current:
        change = by_key.get(record.key)
        if change is None:
            result.append(record)
        elif change.action == 'update' and record.key not in done:
            done.add(record.key)
            result.append(_merged(record, change.wanted, attributes))
    for change in plan.changes:
        if change.action == 'create':
            result.append(change.wanted.copy(ref=None))
    return result


def _merged(stored, want, attributes):
    values = dict((name, getattr(want, name)) for name in attributes)
    return stored.copy(ref=None, **values)


def _check_cname_conflicts(result, wanted):
    targets = OrderedDict()
    for record in result:
        if record.rtype == TYPE_CNAME:
            targets.setdefault(record.domain, []).append(record.answer)
    problems = []
    for want in wanted:
        if want.rtype != TYPE_CNAME:
            continue
        others = [t for t in targets.get(want.domain, []) if t != want.answer]
        if others:
            problems.append(
                '{0} -> {1}: the server also holds a CNAME from {0} to {2}, which this run would keep; '
                'a name can have only one CNAME. List {0} in purge_scope (with purge=true) to replace it.'.format(
                    want.domain, want.answer, others[0]))
    if problems:
        raise RecordError(problems)


def verify(plan, actual):
    """Compare the re-read server state with the prediction; return a list of differences."""
    expected = _multiset(plan.after)
    found = _multiset(plan.managed(actual))
    problems = []
    for item, count in sorted(expected.items()):
        if found.get(item, 0) != count:
            problems.append('expected {0} x {1}, found {2}'.format(count, _describe(item), found.get(item, 0)))
    for item, count in sorted(found.items()):
        if item not in expected:
            problems.append('unexpected {0} x {1}'.format(count, _describe(item)))
    return problems


def _multiset(records):
    counts = {}
    for record in records:
        item = (record.domain, record.answer, record.rtype, record.enabled, -1 if record.ttl is None else record.ttl)
        counts[item] = counts.get(item, 0) + 1
    return counts


def _describe(item):
    domain, answer, rtype, enabled, ttl = item
    text = '{0} {1} {2}'.format(domain, rtype, answer)
    if not enabled:
        text += ' (disabled)'
    if ttl >= 0:
        text += ' ttl={0}'.format(ttl)
    return text


def filter_records(records, scope):
    """Records inside the normalized scope patterns (all of them when scope is empty)."""
    selected = [r for r in records if not scope or in_scope(r.domain, scope)]
    return sorted(selected, key=Record.sort_key)
