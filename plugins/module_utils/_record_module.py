# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""The run of a record module, the same for every backend.

validate everything -> open session -> read once -> plan -> (check mode: stop here)
-> write what the plan needs -> read again (or take the write's answer) -> verify -> close
session -> report.

A backend object provides: ``rules`` (RecordRules), ``session()`` (context manager, opened
once per run and always closed), ``read()`` (list of Record), ``prepare(wanted, current)``
(returns the wanted records and the attribute names to compare on this server) and
``apply(plan)`` (carries out the plan's changes; returns the records the server reports holding
after the write when its answer carries them, else None and they are read again).
"""

from ansible_collections.natloop.lan.plugins.module_utils._http import HttpError
from ansible_collections.natloop.lan.plugins.module_utils._records import (
    RecordError,
    build_plan,
    filter_records,
    normalize_scope,
    normalize_wanted,
    verify,
)


class BackendError(Exception):
    """A server answered something the module cannot work with; ``msg`` says what and why."""

    def __init__(self, msg, **details):
        super(BackendError, self).__init__(msg)
        self.msg = msg
        self.details = details


def sync_argument_spec(option, item_options):
    """Options of a record module besides the connection: the list, state and purge."""
    return {
        option: dict(type='list', elements='dict', required=True, options=item_options),
        'state': dict(type='str', default='present', choices=['present', 'absent']),
        'purge': dict(type='bool', default=False),
        'purge_scope': dict(type='list', elements='str'),
    }


def info_argument_spec():
    return {'scope': dict(type='list', elements='str')}


def _records_out(records, rules):
    return [record.to_dict(rules) for record in records]


def run_sync(module, backend):
    rules = backend.rules
    params = module.params
    state = params['state']
    purge = params['purge']

    # Everything is checked before the first request.
    problems = []
    if purge and state != 'present':
        problems.append('purge=true only works with state=present')
    if purge and not params['purge_scope']:
        problems.append('purge=true needs a non-empty purge_scope (use "*" for every record)')
    wanted = scope = None
    try:
        wanted = normalize_wanted(params[rules.option], rules, state)
    except RecordError as exc:
        problems.extend(exc.problems)
    try:
        scope = normalize_scope(params['purge_scope'], rules) if purge else None
    except RecordError as exc:
        problems.extend(exc.problems)
    if problems:
        module.fail_json(msg='Invalid input, nothing was changed: ' + ' | '.join(problems), problems=problems)

    failure = None
    plan = None
    after = None
    try:
        with backend.session():
            current = backend.read()
            wanted, attributes = backend.prepare(wanted, current)
            plan = build_plan(current, wanted, state, purge=purge, scope=scope, attributes=attributes)
            after = plan.after
            if plan.changes and not module.check_mode:
                actual = backend.apply(plan)
                if actual is None:
                    actual = backend.read()
                differences = verify(plan, actual)
                if differences:
                    raise BackendError(
                        '{0} does not hold what was written: {1}'.format(rules.backend, '; '.join(differences)),
                        differences=differences,
                    )
                after = plan.managed(actual)
    except RecordError as exc:
        failure = dict(msg='Cannot reach the wanted state, nothing was changed: ' + ' | '.join(exc.problems), problems=exc.problems)
    except (BackendError, HttpError) as exc:  # HttpError: an answer that is not the JSON it should be
        failure = dict(msg=exc.msg, **getattr(exc, 'details', {}))
    if failure is not None:
        if plan is not None and plan.changes and not module.check_mode:
            failure['changes'] = [change.to_dict(rules) for change in plan.changes]
        module.fail_json(**failure)

    result = dict(
        changed=bool(plan.changes),
        created=plan.count('create'),
        updated=plan.count('update'),
        deleted=plan.count('delete'),
        changes=[change.to_dict(rules) for change in plan.changes],
    )
    result[rules.option] = _records_out(after, rules)
    if module._diff:
        result['diff'] = dict(
            before={rules.option: _records_out(plan.before, rules)},
            after={rules.option: _records_out(after, rules)},
        )
    module.exit_json(**result)


def run_info(module, backend):
    rules = backend.rules
    try:
        scope = normalize_scope(module.params['scope'], rules, option='scope')
    except RecordError as exc:
        module.fail_json(msg='Invalid input: ' + ' | '.join(exc.problems), problems=exc.problems)
    try:
        with backend.session():
            current = backend.read()
    except (BackendError, HttpError) as exc:
        module.fail_json(msg=exc.msg, **getattr(exc, 'details', {}))
    result = {'changed': False}
    result[rules.option] = _records_out(filter_records(current, scope), rules)
    module.exit_json(**result)
