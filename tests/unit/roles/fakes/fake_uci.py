# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stateful stand-in for OpenWrt's ``uci`` command line tool.

The role tests put a ``uci`` wrapper that runs this file on PATH, so the roles' raw commands
run against it over a local connection. State lives in the JSON file named by
NATLOOP_FAKE_UCI_STATE:

    {"committed": {package: [[section, type, {option: str | [str]}], ...]},
     "staged": {...same shape, the view with uncommitted changes...},
     "changes": {package: ["dhcp.lan.dhcp_option+='6,...'", ...]},
     "log": [[argv...], ...]}

It follows real uci where the roles depend on it: changes are staged until ``commit``,
``show`` shows staged values, ``-X`` shows the internal names of anonymous sections, lists and
options print alike, ``'`` in values is written ``'\\''``. Anything else fails loudly, so a role
that sends an unexpected command fails its test.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import sys

READ_COMMANDS = ('show', 'get', 'changes')


class UciUsageError(Exception):
    pass


def load(path):
    with open(path) as handle:
        return json.load(handle)


def save(path, state):
    with open(path, 'w') as handle:
        json.dump(state, handle, indent=1, sort_keys=True)


def quote(value):
    return "'" + value.replace("'", "'\\''") + "'"


def show_lines(package, sections, extended_names):
    counters = {}
    lines = []
    for name, section_type, options in sections:
        index = counters.get(section_type, 0)
        counters[section_type] = index + 1
        shown = name
        if name.startswith('cfg') and not extended_names:
            shown = '@%s[%d]' % (section_type, index)
        lines.append('%s.%s=%s' % (package, shown, section_type))
        for option, value in options.items():
            values = value if isinstance(value, list) else [value]
            lines.append('%s.%s.%s=%s' % (package, shown, option, ' '.join(quote(v) for v in values)))
    return lines


def find_section(sections, name):
    for section in sections:
        if section[0] == name:
            return section
    return None


def split_target(target):
    """'pkg.section.option=value' -> (pkg, section, option or None, value or None)."""
    value = None
    if '=' in target:
        target, value = target.split('=', 1)
    parts = target.split('.')
    if len(parts) not in (2, 3) or not all(parts):
        raise UciUsageError('bad target %r' % target)
    return parts[0], parts[1], (parts[2] if len(parts) == 3 else None), value


def run(argv, state):
    flags = []
    while argv and argv[0].startswith('-'):
        flags.append(argv.pop(0))
    unknown = set(flags) - set(['-q', '-X'])
    if unknown or not argv:
        raise UciUsageError('unsupported flags or no command: %r' % (flags + argv))
    command, args = argv[0], argv[1:]
    staged = state['staged']
    out = []

    if command == 'show':
        if len(args) != 1 or '.' in args[0]:
            raise UciUsageError('this fake only shows whole packages')
        if args[0] not in staged:
            raise UciUsageError('Entry not found')
        out = show_lines(args[0], staged[args[0]], '-X' in flags)
    elif command == 'changes':
        if len(args) != 1:
            raise UciUsageError('changes needs one package')
        out = state['changes'].get(args[0], [])
    elif command == 'get':
        package, name, option, _value = split_target(args[0])
        section = find_section(staged.get(package, []), name)
        if section is None or (option and option not in section[2]):
            raise UciUsageError('Entry not found')
        value = section[2][option] if option else section[1]
        out = [' '.join(value) if isinstance(value, list) else value]
    elif command in ('set', 'add_list', 'delete'):
        if len(args) != 1:
            raise UciUsageError('%s takes one argument' % command)
        package, name, option, value = split_target(args[0])
        section = find_section(staged.get(package, []), name)
        if section is None:
            raise UciUsageError('Invalid argument')
        if command == 'delete':
            if option is None or value is not None:
                raise UciUsageError('this fake only deletes options')
            if option not in section[2]:
                raise UciUsageError('Entry not found')
            del section[2][option]
            change = '-%s.%s.%s' % (package, name, option)
        else:
            if option is None or value is None:
                raise UciUsageError('%s needs package.section.option=value' % command)
            if command == 'set':
                section[2][option] = value
                change = '%s.%s.%s=%s' % (package, name, option, quote(value))
            else:
                current = section[2].get(option)
                if current is None:
                    current = []
                elif not isinstance(current, list):
                    current = [current]  # real uci turns an option into a list here too
                section[2][option] = current + [value]
                change = '%s.%s.%s+=%s' % (package, name, option, quote(value))
        state['changes'].setdefault(package, []).append(change)
    elif command == 'commit':
        if len(args) != 1:
            raise UciUsageError('this fake commits one package at a time')
        state['committed'][args[0]] = copy.deepcopy(staged[args[0]])
        state['changes'].pop(args[0], None)
    elif command == 'revert':
        if len(args) != 1:
            raise UciUsageError('this fake reverts one package at a time')
        staged[args[0]] = copy.deepcopy(state['committed'][args[0]])
        state['changes'].pop(args[0], None)
    else:
        raise UciUsageError('unsupported command %r' % command)
    return out


def main():
    path = os.environ['NATLOOP_FAKE_UCI_STATE']
    state = load(path)
    argv = sys.argv[1:]
    state['log'].append(list(argv))
    try:
        out = run(list(argv), state)
    except UciUsageError as exc:
        save(path, state)
        if '-q' not in argv:
            sys.stderr.write('uci: %s\n' % exc)
        sys.exit(1)
    save(path, state)
    for line in out:
        sys.stdout.write(line + '\n')


if __name__ == '__main__':
    main()
