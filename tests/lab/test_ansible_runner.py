# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml through ansible-runner, the way AWX/AAP runs a job, against the running (fixed) lab.

AWX writes a private data directory (env/extravars, env/envvars, inventory, the project) and
calls ansible-runner; the job's result is its event stream and artifacts. This test does the
same and checks that the events say what a plain ansible-playbook run says: the same per-client
verdicts from the verify layer and the same play recap.
Run by a molecule scenario's verify step once the lab is fixed (--lab-expect=fixed).
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner is not installed")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK_ACTION = "natloop.lan.service_check"


def scenario_inventories():
    """The lab inventory plus the molecule scenario's, as the scenario's own runs use them."""
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY")
    paths = [os.path.join(REPO, "inventory", "lab")]
    if scenario:
        paths.append(os.path.join(scenario, "inventory"))
    return paths


def verdicts_from_results(results):
    return dict((host, [svc["verdict"] for svc in res["services"]]) for host, res in results.items())


def plain_run(tmp_path, inventories, extravars, env):
    """ansible-playbook itself, with the JSON callback."""
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "site.yml", "-e", json.dumps(extravars)]
    for path in inventories:
        argv += ["-i", path]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
                          env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", **env))
    data = json.loads(proc.stdout)
    results = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            # Tasks of an included role are named "<role> : <task>".
            if task["task"]["name"].endswith("Check the published services from this client"):
                results.update(task["hosts"])
    return proc.returncode, verdicts_from_results(results), data["stats"]


def test_site_yml_through_ansible_runner_matches_the_plain_run(lab_expect, tmp_path):
    if lab_expect != "fixed":
        pytest.skip("compares runs against a fixed lab")
    inventories = scenario_inventories()
    extravars = {"natloop_fail_on_regression": False}
    env = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".collections"),
           "ANSIBLE_GALAXY_SERVER": "http://127.0.0.1:9",
           "NATLOOP_REPORT_DIR": str(tmp_path / "reports")}

    # The private data directory as AWX lays it out.
    private = tmp_path / "private"
    (private / "env").mkdir(parents=True)
    (private / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (private / "env" / "envvars").write_text(yaml.safe_dump(env))
    runner = ansible_runner.run(private_data_dir=str(private), project_dir=REPO, playbook="site.yml",
                                inventory=inventories, quiet=True, timeout=900)
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()[-4000:]

    events = list(runner.events)

    def action(event):
        return event["event_data"].get("resolved_action", event["event_data"].get("task_action"))

    checks = dict((e["event_data"]["host"], e["event_data"]["res"]) for e in events
                  if e["event"] == "runner_on_ok" and action(e) == CHECK_ACTION)
    runner_verdicts = verdicts_from_results(checks)
    recap = [e for e in events if e["event"] == "playbook_on_stats"][-1]["event_data"]

    # Artifacts: what AWX keeps of the job.
    artifacts = private / "artifacts" / runner.config.ident
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "status").read_text().strip() == "successful"
    assert list((artifacts / "job_events").glob("*.json")), "no job events were written"

    rc, plain_verdicts, plain_stats = plain_run(tmp_path, inventories, extravars, env)
    assert rc == 0
    assert runner_verdicts == plain_verdicts, (runner_verdicts, plain_verdicts)
    assert set(runner_verdicts) == {"client", "dhcp-client"}
    assert all(v == ["ok"] for v in runner_verdicts.values()), runner_verdicts
    for key, plain_key in (("ok", "ok"), ("changed", "changed"), ("failures", "failures"), ("dark", "unreachable")):
        assert recap.get(key, {}) == dict((h, s[plain_key]) for h, s in plain_stats.items() if s[plain_key]), key
