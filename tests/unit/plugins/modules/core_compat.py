# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers that work on every ansible-core the collection supports (2.17 and newer).

ansible-core 2.19 ships it in ``ansible.module_utils.testing``; before that, a module read its
arguments from ``basic._ANSIBLE_ARGS``, which is what this fallback sets.
Warnings in a module's result are structured summaries from 2.19 on, plain strings before.
"""

import contextlib
import json

try:
    from ansible.module_utils.testing import patch_module_args  # noqa: F401  pylint: disable=unused-import
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        previous = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = previous


def warning_text(warning):
    """The message of one entry of a module result's ``warnings``."""
    if isinstance(warning, dict):
        return warning.get('event', {}).get('msg', str(warning))
    return warning
