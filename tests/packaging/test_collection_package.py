# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users get it: the tarball `ansible-galaxy collection build` makes.

It must leave the test infrastructure out (lab/, lint configuration, tests, molecule), install
into an empty collections path offline, and work from there: `ansible-doc` for every module and
role, `--syntax-check` of the shipped playbooks. The execution environment definition must give
ansible-builder a build context that installs this tarball, and the installed collection must
declare its Python and system dependencies where ansible-builder looks for them.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))
PUBLIC_ROLES = sorted(name for name in os.listdir(os.path.join(REPO, "roles")) if not name.startswith("_"))
# What the tarball must not carry (test and build infrastructure), and what it must.
NOT_SHIPPED = ("lab/", "tests/", "molecule/", "inventory/", "scripts/", ".ansible-lint", ".gitignore",
               "Makefile", "execution-environment.yml", ".ci/", "requirements/")
SHIPPED = ("plugins/modules/service_check.py", "roles/router_dhcp_dns/meta/argument_specs.yml",
           "playbooks/site.yml", "meta/runtime.yml", "meta/execution-environment.yml",
           "meta/ee-requirements.txt", "meta/ee-bindep.txt", "README.md")


def run(args, env=None, cwd=None):
    """Run a tool of the venv; fail with its output when it fails."""
    result = subprocess.run([os.path.join(BIN, args[0])] + args[1:], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        " ".join(args), result.returncode, result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run(["ansible-galaxy", "collection", "build", "--output-path", str(out), REPO])
    (built,) = out.glob("natloop-lan-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """An empty collections path with only the tarball installed; the environment to use it."""
    path = tmp_path_factory.mktemp("collections")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ANSIBLE_") and key != "PYTHONPATH"}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(path), ANSIBLE_GALAXY_SERVER="http://127.0.0.1:9",
               ANSIBLE_FORCE_COLOR="0", HOME=str(tmp_path_factory.mktemp("home")))
    # Dependencies (community.docker, ...) come from the ansible package in the venv.
    run(["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", str(path), str(tarball)], env=env)
    return path, env


def test_tarball_leaves_test_infrastructure_out(tarball):
    import tarfile
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    leaked = sorted(name for name in names for prefix in NOT_SHIPPED
                    if name == prefix.rstrip("/") or name.startswith(prefix))
    assert not leaked, "the collection tarball ships test infrastructure: %s" % leaked
    missing = [name for name in SHIPPED if name not in names]
    assert not missing, "the collection tarball lacks %s" % missing


def test_ansible_doc_from_the_installed_tarball(installed):
    path, env = installed
    docs = json.loads(run(["ansible-doc", "-t", "module", "--json"] + ["natloop.lan.%s" % m for m in MODULES],
                          env=env, cwd=str(path)))
    assert sorted(docs) == ["natloop.lan.%s" % m for m in MODULES]
    for name, doc in docs.items():
        # The installed copy answered, not the source tree.
        assert doc["doc"]["filename"].startswith(str(path)), (name, doc["doc"]["filename"])
        assert doc["doc"]["short_description"], name
    roles = json.loads(run(["ansible-doc", "-t", "role", "--json"] + ["natloop.lan.%s" % r for r in PUBLIC_ROLES],
                           env=env, cwd=str(path)))
    assert sorted(roles) == ["natloop.lan.%s" % r for r in PUBLIC_ROLES]
    for name, doc in roles.items():
        assert doc["entry_points"]["main"]["short_description"], name


@pytest.mark.parametrize("playbook", ["natloop.lan.site", "natloop.lan.diagnose"])
def test_shipped_playbooks_pass_syntax_check(installed, playbook):
    path, env = installed
    out = run(["ansible-playbook", "--syntax-check", "-i", "localhost,", playbook], env=env, cwd=str(path))
    # The installed copy was checked, not the source tree.
    shipped = os.path.join(str(path), "ansible_collections", "natloop", "lan", "playbooks",
                           playbook.rsplit(".", 1)[1] + ".yml")
    assert "playbook: %s" % shipped in out


def test_execution_environment_build_context(tarball, tmp_path):
    """`ansible-builder create` (building the image needs a registry, which this machine lacks)."""
    project = tmp_path / "project"
    (project / "dist").mkdir(parents=True)
    shutil.copy(os.path.join(REPO, "execution-environment.yml"), str(project))
    shutil.copy(str(tarball), str(project / "dist" / "natloop-lan.tar.gz"))
    context = tmp_path / "context"
    run(["ansible-builder", "create", "-f", "execution-environment.yml", "-c", str(context),
         "--output-filename", "Containerfile"], cwd=str(project))
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [entry["name"] for entry in requirements["collections"]]
    assert names[0] == "/build/collections/natloop-lan.tar.gz"
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        dependencies = yaml.safe_load(handle)["dependencies"]
    assert sorted(names[1:]) == sorted(dependencies), "the EE must install every dependency of galaxy.yml"
    assert (context / "_build" / "collections" / "natloop-lan.tar.gz").read_bytes() == tarball.read_bytes()
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core>=2.17,<2.22" in containerfile and "ansible-runner" in containerfile
    assert "COPY _build /build" in containerfile


def test_installed_collection_declares_its_ee_dependencies(installed, tmp_path):
    """What ansible-builder's introspection (run inside the EE build) finds in the installed tarball."""
    path, env = installed
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run(["ansible-builder", "introspect", "--write-pip", str(pip_out), "--write-bindep", str(bindep_out), str(path)],
        env=env)
    pip_lines = pip_out.read_text()
    for package in ("dnspython", "librouteros", "pywinrm"):
        assert package in pip_lines and "natloop.lan" in pip_lines, pip_lines
    assert "openssh-clients" in bindep_out.read_text()
