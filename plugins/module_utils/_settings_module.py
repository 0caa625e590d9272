# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""The run of a settings module, the same for every backend.

take the server's lock (not in check mode, see module_utils._lock) -> open session -> read the
settings asked for -> compare -> validate -> (check mode: stop here) -> write the differing ones
-> read again -> verify -> close session -> release the lock -> report.

Only the settings given a value are read, compared and written; the others stay as they are.
A backend may also provide ``normalize(wanted)``: the wanted values in the canonical form ``read``
returns (for example a sorted list), raising BackendError for input it cannot use.
A backend object provides: ``label`` (the server's name in messages), ``lock_url``, ``session()``
(context manager, opened once per run and always closed), ``read(names)`` (an ordered dict of the
current values), ``validate(changes)`` (raises BackendError for a change the server cannot
make; it runs before anything is written, in check mode too) and ``write(changes)`` (the wanted
values of the settings that differ).
Values are compared with ``==``; a backend reads a state that is neither on nor off for good,
such as a pause with a timer, as a string that equals no wanted value.
"""

from collections import OrderedDict

from ansible_collections.natloop.lan.plugins.module_utils._http import HttpError
from ansible_collections.natloop.lan.plugins.module_utils._record_module import BackendError, writer_lock


def wanted_settings(params, names):
    """The settings among ``names`` the task gives a value, in that order."""
    return OrderedDict((name, params[name]) for name in names if params.get(name) is not None)


def normalize_settings(backend, wanted):
    """The wanted values in the canonical form ``read`` returns; before any request."""
    return backend.normalize(wanted) if hasattr(backend, 'normalize') else wanted


def sync_settings(backend, wanted, check_mode, progress):
    """Read, compare, validate, write and confirm ``wanted`` on an open session, under the lock.

    Returns the settings after the run (predicted in check mode). ``progress`` (a dict) receives
    ``before`` and ``changes`` as they become known, and ``writing`` once a write was sent, so that
    a failure can say what was (perhaps partly) sent. Raises BackendError or HttpError.
    """
    before = progress['before'] = backend.read(list(wanted))
    changes = progress['changes'] = OrderedDict(
        (name, value) for name, value in wanted.items() if before.get(name) != value)
    # Before the first write, and in check mode too: a change the server cannot take fails the
    # task with nothing written, and check mode does not predict a change that would fail.
    backend.validate(changes)
    after = OrderedDict(before)
    after.update(changes)
    if changes and not check_mode:
        progress['writing'] = True
        backend.write(changes)
        after = backend.read(list(wanted))
        wrong = ['{0} is {1!r}, want {2!r}'.format(name, after.get(name), value)
                 for name, value in wanted.items() if after.get(name) != value]
        if wrong:
            raise BackendError('{0} does not hold what was written: {1}'.format(backend.label, '; '.join(wrong)),
                               differences=wrong)
    return after


def settings_failure(exc, progress):
    """fail_json arguments for a failed settings sync."""
    failure = dict(msg=exc.msg, **getattr(exc, 'details', {}))
    if progress.get('writing'):  # what was (perhaps partly) sent before the failure
        failure['changes'] = changes_out(progress['before'], progress['changes'])
    return failure


def run_settings(module, backend, wanted):
    progress = {}
    try:
        wanted = normalize_settings(backend, wanted)
        with writer_lock(module, backend.lock_url), backend.session():
            after = sync_settings(backend, wanted, module.check_mode, progress)
    except (BackendError, HttpError) as exc:
        module.fail_json(**settings_failure(exc, progress))

    before, changes = progress['before'], progress['changes']
    result = dict(changed=bool(changes), changes=changes_out(before, changes), settings=dict(after))
    if module._diff:
        result['diff'] = dict(before=dict(before), after=dict(after))
    module.exit_json(**result)


def changes_out(before, changes):
    return [dict(setting=name, before=(before or {}).get(name), after=value) for name, value in changes.items()]
