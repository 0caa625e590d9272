# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stateful stand-in for librouteros, for the natloop.lan role tests.

The role tests put this package first on PYTHONPATH, so the real community.routeros modules
(api_find_and_modify, api_modify) run unchanged against it. It has the shape those modules use:
connect() -> api; api.path().join(...) -> path; iterate a path to print it; path.add/update/remove.

State is a JSON file named by NATLOOP_FAKE_ROUTEROS_STATE:
    {"paths": {"ip/firewall/nat": [{".id": "*1", ...}, ...]}, "log": [...], "next_id": 100}
With NATLOOP_FAKE_ROUTEROS_READ_ONLY=1 every write raises, so a test proves that check mode and
an idempotent re-run write nothing. Fields are checked against community.routeros' own path data,
and entries are filled in and trimmed the way RouterOS prints them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import sys
import types


class LibRouterosError(Exception):
    pass


class TrapError(LibRouterosError):
    pass


# community.routeros imports librouteros.exceptions; one file is enough for the fake, so the
# submodule is registered here instead of being a package (empty __init__.py is the sanity rule).
exceptions = types.ModuleType('librouteros.exceptions')
exceptions.LibRouterosError = LibRouterosError
exceptions.TrapError = TrapError
sys.modules['librouteros.exceptions'] = exceptions

FAKE_ROS_VERSION = '7.16'


def _path_info(parts):
    try:
        from ansible_collections.community.routeros.plugins.module_utils._api_data import PATHS
    except ImportError:
        return None
    versioned = PATHS.get(tuple(parts))
    if versioned is None:
        return None
    versioned.provide_version(FAKE_ROS_VERSION)
    return versioned.get_data()


def _normalize(entry, info, on_create=False):
    """Fill defaults on creation and drop unset fields, as RouterOS prints an entry.

    Empty-string defaults count as unset: RouterOS does not print a property that was never set.
    """
    if info is None:
        return
    for key, field in info.fields.items():
        if on_create and key not in entry and field.default not in (None, '') and not field.can_disable:
            entry[key] = field.default
        if field.can_disable and key in entry and entry[key] in (None, field.remove_value):
            del entry[key]


class _State(object):
    def __init__(self):
        self.file = os.environ['NATLOOP_FAKE_ROUTEROS_STATE']
        self.read_only = os.environ.get('NATLOOP_FAKE_ROUTEROS_READ_ONLY') == '1'
        with open(self.file) as handle:
            self.data = json.load(handle)

    def save(self):
        with open(self.file, 'w') as handle:
            json.dump(self.data, handle, indent=1, sort_keys=True)

    def write(self, what):
        if self.read_only:
            raise AssertionError('fake RouterOS is read-only, but got a write: %s' % (what, ))
        self.data['log'].append(what)


class Path(object):
    def __init__(self, state, parts):
        self._state = state
        self._parts = tuple(parts)
        self._key = '/'.join(parts)
        self._info = _path_info(parts)

    def join(self, *parts):
        return Path(self._state, self._parts + tuple(parts))

    def _entries(self):
        if self._key == 'system/resource':
            return [{'version': FAKE_ROS_VERSION + ' (stable)'}]
        if self._key not in self._state.data['paths']:
            raise TrapError('no such command prefix (fake has no data for /%s)' % self._key)
        return self._state.data['paths'][self._key]

    def __iter__(self):
        return iter([dict(entry) for entry in self._entries()])

    def _check_fields(self, fields):
        for key in fields:
            name = key[1:] if key.startswith('!') else key
            if name == '.id':
                continue
            if self._info is not None and name not in self._info.fields:
                raise TrapError('unknown parameter %s' % name)
            if self._info is not None and self._info.fields[name].read_only:
                raise TrapError('cannot set read-only %s' % name)

    def add(self, **fields):
        self._state.write(['add', self._key, fields])
        self._check_fields(fields)
        entries = self._entries()
        self._state.data['next_id'] += 1
        entry = {'.id': '*%X' % self._state.data['next_id']}
        for key, value in fields.items():
            if not key.startswith('!'):
                entry[key] = value
        _normalize(entry, self._info, on_create=True)
        entries.append(entry)
        self._state.save()
        return entry['.id']

    def _find(self, entry_id):
        for entry in self._entries():
            if entry['.id'] == entry_id:
                return entry
        raise TrapError('no such item (4)')

    def update(self, **fields):
        self._state.write(['update', self._key, fields])
        self._check_fields(fields)
        entry = self._find(fields['.id'])
        if entry.get('dynamic'):
            raise TrapError('cannot change dynamic entry')
        for key, value in fields.items():
            if key == '.id':
                continue
            if key.startswith('!'):
                entry.pop(key[1:], None)
            else:
                entry[key] = value
        _normalize(entry, self._info)
        self._state.save()

    def remove(self, *ids):
        self._state.write(['remove', self._key, list(ids)])
        entries = self._entries()
        for entry_id in ids:
            entries.remove(self._find(entry_id))
        self._state.save()

    def __call__(self, command, *args, **kwargs):
        if command == 'move':
            # RouterOS: move the entries `numbers` (in their given order) before `destination`.
            self._state.write(['move', self._key, kwargs])
            entries = self._entries()
            moving = [self._find(entry_id) for entry_id in str(kwargs['numbers']).split(',')]
            for entry in moving:
                entries.remove(entry)
            index = entries.index(self._find(kwargs['destination'])) if kwargs.get('destination') else len(entries)
            entries[index:index] = moving
            self._state.save()
            return iter([])
        raise TrapError('the fake does not implement command %r' % command)


class Api(object):
    def __init__(self, state):
        self._state = state

    def path(self, *parts):
        return Path(self._state, parts)

    def close(self):
        pass


def connect(host, username, password, **kwargs):
    state = _State()
    expected = state.data.get('credentials', {})
    if (host, username, password) != (expected.get('host'), expected.get('username'), expected.get('password')):
        raise LibRouterosError('invalid user name or password (fake RouterOS at %s)' % host)
    return Api(state)
