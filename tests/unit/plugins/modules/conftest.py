# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest
from ansible.module_utils.common import warnings as module_warnings
from ansible_collections.natloop.lan.tests.unit.plugins.modules.core_compat import patch_module_args, warning_text

from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import OPEN_URL

HTTP = 'ansible_collections.natloop.lan.plugins.module_utils._http'


class ModuleRun(object):
    """Runs a module's main() against a fake server and returns the parsed result."""

    def __init__(self, monkeypatch, capsys):
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.sleeps = []
        monkeypatch.setattr(HTTP + '.sleep', self.sleeps.append)
        for name in ('NATLOOP_ADGUARD_URL', 'NATLOOP_ADGUARD_USERNAME', 'NATLOOP_ADGUARD_PASSWORD',
                     'NATLOOP_PIHOLE_URL', 'NATLOOP_PIHOLE_PASSWORD'):
            monkeypatch.delenv(name, raising=False)

    def __call__(self, module, server, args, check=False, diff=False):
        self.monkeypatch.setattr(OPEN_URL, server)
        args = dict(args)
        args['_ansible_check_mode'] = check
        args['_ansible_diff'] = diff
        # Warnings are process-global in a module; each run here stands for a separate process.
        # (a dict from ansible-core 2.19 on, a list before)
        self.monkeypatch.setattr(module_warnings, '_global_warnings', type(module_warnings._global_warnings)())
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc_info:
                module.main()
        result = json.loads(self.capsys.readouterr().out)
        result['rc'] = exc_info.value.code
        result['warnings'] = [warning_text(warning) for warning in result.get('warnings', [])]
        return result


@pytest.fixture
def run(monkeypatch, capsys):
    return ModuleRun(monkeypatch, capsys)
