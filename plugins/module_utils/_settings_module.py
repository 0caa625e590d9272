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


def run_settings(module, backend, wanted):
    before = after = None
    changes = OrderedDict()
    writing = False
    try:
        if hasattr(backend, 'normalize'):   # canonical values (sorted lists), checked before any request
            wanted = backend.normalize(wanted)
        with writer_lock(module, backend.lock_url), backend.session():
            before = backend.read(list(wanted))
            changes = OrderedDict((name, value) for name, value in wanted.items() if before.get(name) != value)
            # Before the first write, and in check mode too: a change the server cannot take fails the
            # task with nothing written, and check mode does not predict a change that would fail.
            backend.validate(changes)
            after = OrderedDict(before)
            after.update(changes)
            if changes and not module.check_mode:
                writing = True
                backend.write(changes)
                after = backend.read(list(wanted))
                wrong = ['{0} is {1!r}, want {2!r}'.format(name, after.get(name), value)
                         for name, value in wanted.items() if after.get(name) != value]
                if wrong:
                    raise BackendError('{0} does not hold what was written: {1}'.format(backend.label, '; '.join(wrong)),
                                       differences=wrong)
    except (BackendError, HttpError) as exc:
        failure = dict(msg=exc.msg, **getattr(exc, 'details', {}))
        if writing:  # what was (perhaps partly) sent before the failure
            failure['changes'] = _changes_out(before, changes)
        module.fail_json(**failure)

    result = dict(changed=bool(changes), changes=_changes_out(before, changes), settings=dict(after))
    if module._diff:
        result['diff'] = dict(before=dict(before), after=dict(after))
    module.exit_json(**result)


def _changes_out(before, changes):
    return [dict(setting=name, before=(before or {}).get(name), after=value) for name, value in changes.items()]
