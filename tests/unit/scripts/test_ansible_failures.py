# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/ansible_failures.py: the failed tasks of a molecule log, printed last by `make molecule`."""

import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'scripts', 'ansible_failures.py')

# Shaped like ansible-core 2.19's default callback output inside molecule (retries, an ignored
# failure, an assert failing on one host with a multi-line result, then the destroy play).
LOG = '''INFO     [split_dns_adguard > verify] Executing

PLAY [Green, per cause, from each LAN client] **********************************

TASK [Ask the split-DNS server] ************************************************
FAILED - RETRYING: [client]: Ask the split-DNS server (2 retries left).
ok: [client]

TASK [Probe that may fail] *****************************************************
fatal: [client]: FAILED! => {"changed": false, "msg": "expected"}
...ignoring

TASK [2 the split-DNS server answers the name locally] *************************
ok: [dhcp-client]
fatal: [client]: FAILED! => {
    "assertion": "field.resolvers[split]['rustdesk.example.com A'].answers == [lan]",
    "changed": false,
    "evaluated_to": false,
    "msg": "{'rustdesk.example.com A': {'rcode': None}}"
}

PLAY RECAP *********************************************************************
client                     : ok=7    changed=0    unreachable=0    failed=1

INFO     [split_dns_adguard > destroy] Executing

PLAY [Destroy] *****************************************************************

TASK [Remove the lab] **********************************************************
changed: [localhost]
'''


def summarize(tmp_path, text):
    log = tmp_path / 'molecule.log'
    log.write_text(text)
    result = subprocess.run([sys.executable, SCRIPT, str(log)], capture_output=True, text=True, check=True, timeout=30)
    return result.stdout


def test_names_the_failed_task_host_and_reason_not_retries_or_ignored(tmp_path):
    out = summarize(tmp_path, LOG)
    assert '=== 1 failed task(s)' in out
    assert ('--- split_dns_adguard verify / Green, per cause, from each LAN client / '
            '2 the split-DNS server answers the name locally') in out
    assert '"assertion": "field.resolvers[split][\'rustdesk.example.com A\'].answers == [lan]",' in out
    assert '"msg": "{\'rustdesk.example.com A\': {\'rcode\': None}}"' in out
    assert 'expected' not in out and 'RETRYING' not in out and 'Remove the lab' not in out


def test_a_clean_log_has_none(tmp_path):
    assert '=== 0 failed task(s)' in summarize(tmp_path, LOG.split('TASK [Probe that may fail]', maxsplit=1)[0])
