# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""The run of a record module, the same for every backend.

validate everything -> take the server's lock (not in check mode) -> open session -> read once
-> plan -> (check mode: stop here) -> write what the plan needs -> read again -> verify -> close
session -> release the lock -> report.

Parallel writers. The lock (module_utils._lock) keeps the runs on one host from interleaving. For
writers elsewhere (another controller, the web interface) the re-read after the write is the
check: when our records are missing, duplicated or changed because someone wrote in between, the
plan is made again from that fresh read and applied again, up to WRITE_ATTEMPTS times with a
random pause; the module never reports success while the fresh read lacks what it wants. The
fresh read is also what a new plan keeps: entries of others that it shows are never dropped.

A backend object provides: ``rules`` (RecordRules), ``lock_url`` (the server's URL, the lock's
key), ``session()`` (context manager, opened once per run and always closed), ``read()`` (list of
Record), ``prepare(wanted, current)`` (returns the wanted records and the attribute names to
compare on this server) and ``apply(plan)`` (carries out the plan's changes); optionally ``owned(record)``,
true for stored records the backend always syncs (see ``_records.build_plan``).
"""

import random
import time

from ansible_collections.natloop.lan.plugins.module_utils._http import HttpError
from ansible_collections.natloop.lan.plugins.module_utils._lock import LockTimeout, lock_argument_spec, server_lock
from ansible_collections.natloop.lan.plugins.module_utils._records import (
    RecordError,
    build_plan,
    filter_records,
    normalize_scope,
    normalize_wanted,
    verify,
)


# Writes of one run when other writers keep changing the same records in between.
WRITE_ATTEMPTS = 4

# Tests replace these.
sleep = time.sleep
jitter = random.uniform


class BackendError(Exception):
    """A server answered something the module cannot work with; ``msg`` says what and why."""

    def __init__(self, msg, **details):
        super(BackendError, self).__init__(msg)
        self.msg = msg
        self.details = details


class ModuleBackend(object):
    """What every backend of a record or settings module shares: the server's client, built from the
    module's options by ``client_class.from_params``, and the module's warn()."""

    client_class = None

    def __init__(self, client, warn):
        self.client = client
        self.warn = warn

    @property
    def lock_url(self):
        """The server's URL as the lock key (module_utils._lock.normalize_url makes it canonical)."""
        return self.client.http.base_url

    @classmethod
    def from_module(cls, module):
        return cls(cls.client_class.from_params(module.params), module.warn)

    # The server's settings backend (a settings module's), for a record module's ``settings``
    # option: the same client, so both run on one session.
    settings_class = None

    def settings_backend(self, settings):
        return self.settings_class.on_client(self.client, self.warn, settings)


def sync_argument_spec(option, item_options, settings_options=None):
    """Options of a record module besides the connection: the list, state, purge, the lock, and
    (``settings_options``) the server's settings set first on the same session."""
    spec = {
        option: dict(type='list', elements='dict', required=True, options=item_options),
        'state': dict(type='str', default='present', choices=['present', 'absent']),
        'purge': dict(type='bool', default=False),
        'purge_scope': dict(type='list', elements='str'),
    }
    if settings_options:
        spec['settings'] = dict(type='dict', options=settings_options)
    spec.update(lock_argument_spec())
    return spec


class writer_lock(object):
    """The server's lock around a run that may write; nothing in check mode.

    Failures to get it become BackendError (a run that cannot lock changes nothing).
    """

    def __init__(self, module, url):
        self.module = module
        self.url = url
        self.context = None
        self.waited = 0.0

    def __enter__(self):
        params = self.module.params
        if self.module.check_mode:
            return self
        self.context = server_lock(self.url, params.get('lock_dir'), params.get('lock_timeout'),
                                   what=getattr(self.module, '_name', None))
        try:
            self.waited = self.context.__enter__()
        except LockTimeout as exc:
            raise BackendError(exc.msg, lock_holder=exc.holder)
        except OSError as exc:
            raise BackendError('Cannot use the lock directory for {0} ({1}: {2}); set lock_dir (or NATLOOP_LOCK_DIR) '
                               'to a directory this user can write.'.format(self.url, exc.filename or '', exc.strerror or exc),
                               nothing_changed=True)
        return self

    def __exit__(self, *exc_info):
        if self.context is not None:
            return self.context.__exit__(*exc_info)
        return False


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

    # The settings (the settings module's options) go first, on the same lock and session: one
    # module run per server when a role sets both (AdGuard Home: rewrites answer only while
    # filtering and rewrites are on).
    from ansible_collections.natloop.lan.plugins.module_utils._settings_module import (  # pylint: disable=import-outside-toplevel
        changes_out, normalize_settings, settings_failure, sync_settings, wanted_settings)
    settings = params.get('settings') or {}
    settings_backend = None
    settings_wanted = wanted_settings(settings, backend.settings_class.names) if backend.settings_class else {}
    settings_progress = {}
    settings_after = None
    if settings_wanted:
        settings_backend = backend.settings_backend(settings)
        try:
            settings_wanted = normalize_settings(settings_backend, settings_wanted)
        except BackendError as exc:
            module.fail_json(**settings_failure(exc, settings_progress))

    failure = None
    plan = None
    after = None
    try:
        with writer_lock(module, backend.lock_url):
            with backend.session():
                if settings_wanted:
                    try:
                        settings_after = sync_settings(settings_backend, settings_wanted, module.check_mode,
                                                       settings_progress)
                    except (BackendError, HttpError) as exc:
                        module.fail_json(**settings_failure(exc, settings_progress))
                current = backend.read()
                wanted, attributes = backend.prepare(wanted, current)
                plan = build_plan(current, wanted, state, purge=purge, scope=scope, attributes=attributes,
                                  owned=getattr(backend, 'owned', None))
                after = plan.after
                if plan.changes and not module.check_mode:
                    after = _write_confirmed(backend, plan, wanted, state, purge, scope, attributes)
    except RecordError as exc:
        failure = dict(msg='Cannot reach the wanted state, nothing was changed: ' + ' | '.join(exc.problems), problems=exc.problems)
    except (BackendError, HttpError) as exc:  # HttpError: an answer that is not the JSON it should be
        failure = dict(msg=exc.msg, **getattr(exc, 'details', {}))
    if failure is not None:
        if plan is not None and plan.changes and not module.check_mode:
            failure['changes'] = [change.to_dict(rules) for change in plan.changes]
        module.fail_json(**failure)

    settings_changes = settings_progress.get('changes') or {}
    result = dict(
        changed=bool(plan.changes) or bool(settings_changes),
        created=plan.count('create'),
        updated=plan.count('update'),
        deleted=plan.count('delete'),
        changes=[change.to_dict(rules) for change in plan.changes],
    )
    result[rules.option] = _records_out(after, rules)
    if settings_wanted:
        result['settings'] = dict(settings_after)
        result['settings_changes'] = changes_out(settings_progress['before'], settings_changes)
    if module._diff:
        result['diff'] = dict(
            before={rules.option: _records_out(plan.before, rules)},
            after={rules.option: _records_out(after, rules)},
        )
        if settings_wanted:
            result['diff']['before']['settings'] = dict(settings_progress['before'])
            result['diff']['after']['settings'] = dict(settings_after)
    module.exit_json(**result)


def _write_confirmed(backend, plan, wanted, state, purge, scope, attributes):
    """Apply the plan, read again, and apply a new plan from that read while ours is not there.

    Return the managed records of the last read. Raise BackendError when WRITE_ATTEMPTS writes
    did not leave the wanted state on the server.
    """
    rules = backend.rules

    def replan(actual):
        try:
            return build_plan(actual, wanted, state, purge=purge, scope=scope, attributes=attributes,
                              owned=getattr(backend, 'owned', None))
        except RecordError as exc:  # another writer stored a conflicting record meanwhile
            raise BackendError('{0} changed while this run wrote to it, and now holds records that conflict with '
                               'the wanted ones: {1}'.format(rules.backend, ' | '.join(exc.problems)),
                               problems=exc.problems)

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        backend.apply(plan)
        actual = backend.read()
        differences = verify(plan, actual)
        if not differences:
            return plan.managed(actual)
        # Someone wrote in between (or the server did not take it): plan again from what it holds.
        again = replan(actual)
        if not again.changes:
            return again.managed(actual)
        if attempt == WRITE_ATTEMPTS:
            break
        sleep(jitter(0.05, 0.25) * attempt)
        actual = backend.read()
        plan = replan(actual)
        if not plan.changes:
            return plan.managed(actual)
    raise BackendError(
        '{0} does not hold what was written after {1} attempts (another writer may be changing the same records, '
        'or the server does not keep them): {2}'.format(rules.backend, WRITE_ATTEMPTS, '; '.join(differences)),
        differences=differences, attempts=WRITE_ATTEMPTS)


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
