# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""python scripts/ansible_failures.py LOG: print each failed task of an ansible-playbook / molecule log, short.

CI shows only the head and the tail of a long log; a molecule scenario that fails in verify puts
its `fatal:` lines in the middle, then a whole destroy play after them. `make molecule` prints this
summary last, so the tail says which task failed on which host and why. Ignored failures
(`...ignoring`) and retries are left out. Exits 0 whether or not it found anything.
"""

import re
import sys

MAX_LINES_PER_FAILURE = 30
MAX_LINE = 600
PLAY = re.compile(r'^PLAY \[(.*)\] \*')
TASK = re.compile(r'^TASK \[(.*)\] \*')
FAILED = re.compile(r'^(fatal|failed): \[')
MOLECULE_STEP = re.compile(r'^INFO\s+\[(\S+) > (\S+)\] Executing')


def failures(lines):
    """Yield (where, block) for each failed task that was not ignored."""
    play = task = step = ''
    i = 0
    while i < len(lines):
        line = lines[i]
        if MOLECULE_STEP.match(line):
            step = '%s %s' % MOLECULE_STEP.match(line).groups()
        elif PLAY.match(line):
            play = PLAY.match(line).group(1)
        elif TASK.match(line):
            task = TASK.match(line).group(1)
        elif FAILED.match(line):
            block = [line]
            i += 1
            # The result's JSON goes on until a blank line or the next task/host line.
            while i < len(lines) and lines[i].strip() and not re.match(r'^(TASK|PLAY|ok|changed|skipping|fatal|failed|\.\.\.)\b', lines[i]):
                block.append(lines[i])
                i += 1
            if i < len(lines) and lines[i].startswith('...ignoring'):
                continue
            yield ' / '.join(p for p in (step, play, task) if p), block
            continue
        i += 1


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: python scripts/ansible_failures.py LOG\n')
        return 2
    with open(argv[1], encoding='utf-8', errors='replace') as handle:
        lines = handle.read().splitlines()
    found = list(failures(lines))
    print('=== %d failed task(s) in %s (failures a play expects, in a rescue, are listed too; the last one '
          'stopped the run)' % (len(found), argv[1]))
    for where, block in found:
        print('--- %s' % where)
        for line in block[:MAX_LINES_PER_FAILURE]:
            print(line if len(line) <= MAX_LINE else line[:MAX_LINE] + ' [...]')
        if len(block) > MAX_LINES_PER_FAILURE:
            print('[... %d more lines]' % (len(block) - MAX_LINES_PER_FAILURE))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
