# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""inventory/example: the documented multi-site inventory users copy.

It must load (ansible-inventory --graph), pass site.yml's syntax check, and be accepted by the
preflight play (check mode, every connection local: nothing is contacted). A broken copy must
be refused, so the acceptance means something.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from sites_harness import COLLECTIONS, REPO, SITE_PLAYBOOK

EXAMPLE = os.path.join(REPO, "inventory", "example")
BIN = os.path.dirname(sys.executable)
ROLE_GROUPS = ("dns_servers", "routers", "clients")
SECRET_KEY = re.compile(r"password|secret|token|api_key", re.IGNORECASE)

pytestmark = pytest.mark.sites


def ansible(tool, *args, inventory=EXAMPLE):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_GALAXY_SERVER="http://127.0.0.1:9",
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    return subprocess.run([os.path.join(BIN, tool), "-i", inventory] + list(args), capture_output=True, text=True,
                          env=env, cwd=REPO, check=False)


def inventory_list(inventory=EXAMPLE):
    proc = ansible("ansible-inventory", "--list", inventory=inventory)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def preflight(inventory=EXAMPLE, playbook=SITE_PLAYBOOK):
    """site.yml --tags preflight in check mode, every connection local."""
    return ansible("ansible-playbook", playbook, "--tags", "preflight", "--check", "-c", "local",
                   inventory=inventory)


# After site.yml's preflight play: the members of each fix group, as later plays see them.
GROUPS_AFTER_PREFLIGHT = """---
- name: Preflight
  ansible.builtin.import_playbook: {site}

- name: Each fix group's members after the preflight
  hosts: localhost
  gather_facts: false
  tags: [preflight]
  tasks:
    - name: Members
      ansible.builtin.debug:
        msg: "{{{{ dict(['split_dns', 'hairpin', 'hosts'] | map('regex_replace', '^', 'natloop_fix_')
                       | zip(['split_dns', 'hairpin', 'hosts'] | map('regex_replace', '^', 'natloop_fix_')
                             | map('extract', groups) | map('default', []))) }}}}"
"""


def sites_of(listing):
    return [group for group in listing["all"]["children"] if group not in ROLE_GROUPS + ("ungrouped",)]


def var_files():
    for directory in ("group_vars", "host_vars"):
        for base, _dirs, files in os.walk(os.path.join(EXAMPLE, directory)):
            for name in sorted(files):
                yield os.path.join(base, name)


def test_graph_shows_three_sites_and_the_role_groups():
    proc = ansible("ansible-inventory", "--graph")
    assert proc.returncode == 0, proc.stderr
    for group in ("home", "cabin", "office") + ROLE_GROUPS:
        assert "@%s:" % group in proc.stdout

    listing = inventory_list()
    sites = sites_of(listing)
    assert sorted(sites) == ["cabin", "home", "office"]
    members = {group: set(listing[group]["hosts"]) for group in sites + list(ROLE_GROUPS)}
    # Every managed host is in exactly one site and exactly one role group.
    for host in set().union(*members.values()):
        assert [site for site in sites if host in members[site]].__len__() == 1, host
        assert [group for group in ROLE_GROUPS if host in members[group]].__len__() == 1, host
    hostvars = listing["_meta"]["hostvars"]
    for site in sites:
        assert members[site] & members["routers"] and members[site] & members["clients"], site
        fixes = hostvars[sorted(members[site])[0]]["natloop_fixes"]
        # A site that chose split DNS has its DNS server host.
        assert ("split_dns" in fixes) == bool(members[site] & members["dns_servers"]), site
    providers = {hostvars[host]["natloop_dns_provider"] for host in members["dns_servers"]}
    assert providers == {"adguard_home", "pihole"}
    assert {hostvars[host].get("router_dhcp_dns_backend", hostvars[host].get("hairpin_nat_backend"))
            for host in members["routers"]} == {"linux_dnsmasq", "openwrt", "routeros"}
    assert [host for host in members["clients"] if hostvars[host].get("natloop_roaming")] == ["home-laptop"]


def test_site_playbook_syntax_check():
    proc = ansible("ansible-playbook", SITE_PLAYBOOK, "--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_preflight_accepts_it_and_groups_every_host_by_its_sites_fixes(tmp_path):
    listing = inventory_list()
    playbook = tmp_path / "groups.yml"
    playbook.write_text(GROUPS_AFTER_PREFLIGHT.format(site=SITE_PLAYBOOK))
    proc = preflight(playbook=str(playbook))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    result = json.loads(proc.stdout)
    hostvars = listing["_meta"]["hostvars"]
    assert set(result["stats"]) == set(hostvars) | {"localhost"}
    assert all(stats["failures"] == 0 and stats["unreachable"] == 0 and stats["changed"] == 0
               for stats in result["stats"].values())
    # One task per host (the checks and the grouping), on the controller.
    assert [task["task"]["name"] for task in result["plays"][0]["tasks"]] == [
        "Check the site's services and choices, and group this host by its fixes"]
    members = result["plays"][-1]["tasks"][0]["hosts"]["localhost"]["msg"]
    assert {group: sorted(hosts) for group, hosts in members.items()} == {
        "natloop_fix_" + fix: sorted(host for host in hostvars if fix in hostvars[host]["natloop_fixes"])
        for fix in ("split_dns", "hairpin", "hosts")}


@pytest.mark.parametrize("site, path, value, message", [
    ("cabin", ["natloop_dns_servers"], [], "Site cabin: natloop_fixes must be"),
    ("home", ["natloop_services", 1, "lan_ipv4"], "192.168.1.300",
     "Site home: service rustdesk: lan_ipv4 '192.168.1.300' is not an IPv4"),
    ("office", ["natloop_services", 0, "public_ip"], None, "Site office: service gitea: public_ip is needed"),
    ("cabin", ["natloop_dns_provider"], "bind9", "Site cabin: natloop_dns_provider must be one of: adguard_home, pihole"),
])
def test_preflight_refuses_a_broken_copy(tmp_path, site, path, value, message):
    copy = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, str(copy))
    vars_file = copy / "group_vars" / site / "vars.yml"
    data = yaml.safe_load(vars_file.read_text(encoding="utf-8"))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    vars_file.write_text(yaml.safe_dump(data), encoding="utf-8")

    proc = preflight(str(copy))
    assert proc.returncode != 0
    result = json.loads(proc.stdout)
    messages = [host_result.get("msg", "") for play in result["plays"] for task in play["tasks"]
                for host_result in task["hosts"].values() if host_result.get("failed")]
    assert any(message in msg for msg in messages), messages
    # Only that site's hosts are refused.
    failed_hosts = {host for host, stats in result["stats"].items() if stats["failures"]}
    assert failed_hosts == set(inventory_list(str(copy))[site]["hosts"])


def test_every_variable_is_commented():
    uncommented = []
    for path in var_files():
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        for number, line in enumerate(lines):
            if re.match(r"^[A-Za-z_][A-Za-z0-9_]*:", line) and not lines[number - 1].startswith("#"):
                uncommented.append("%s:%d %s" % (os.path.relpath(path, EXAMPLE), number + 1, line))
    assert uncommented == []


def _secrets(value, where):
    if isinstance(value, dict):
        for key, item in value.items():
            if SECRET_KEY.search(str(key)) and not isinstance(item, (dict, list)):
                yield where + [key], item
            else:
                yield from _secrets(item, where + [key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secrets(item, where + [index])


def test_secrets_are_vault_placeholders():
    found = []
    for path in var_files():
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        for where, value in _secrets(data, []):
            in_vault_file = os.path.basename(path) == "vault.yml"
            found.append((os.path.relpath(path, EXAMPLE), where[0], value))
            if in_vault_file:
                # The vault file holds only placeholders, named vault_*.
                assert str(where[0]).startswith("vault_") and value == "REPLACE-ME", (path, where)
            else:
                # Everywhere else a secret is a reference to a vault_* variable.
                assert re.fullmatch(r"\{\{ vault_[a-z0-9_]+ \}\}", str(value)), (path, where, value)
    assert found, "the example has no secrets at all?"
