# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.warn: every non-empty message becomes an Ansible warning, nothing changes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.natloop.lan.tests.unit.plugins.modules.core_compat import patch_module_args, warning_text

from ansible_collections.natloop.lan.plugins.modules import warn


def test_messages_become_warnings(capsys):
    with patch_module_args({'msg': ['first', '', 'second']}):
        with pytest.raises(SystemExit):
            warn.main()
    result = json.loads(capsys.readouterr().out)
    assert result['changed'] is False
    assert result['messages'] == ['first', 'second']
    assert [warning_text(warning) for warning in result['warnings']] == ['first', 'second']
