# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_service_model: what natloop.lan.site_preflight (and the service_model_errors filter) refuse, and
the groups a host joins. site.yml's preflight play runs it for real in tests/sites/test_example_inventory.py."""

import pytest

from ansible_collections.natloop.lan.plugins.module_utils._service_model import fix_groups, site_errors

SERVICE = {"name": "rustdesk", "domain": "rustdesk.example.com", "lan_ipv4": "192.168.11.20",
           "public_ip": "198.51.100.1", "ports": [{"proto": "tcp", "start": 21115, "end": 21119}]}


def test_a_good_site_has_no_errors():
    assert site_errors([SERVICE], ["split_dns", "hairpin"], "pihole", ["192.168.11.20"]) == []


@pytest.mark.parametrize("services, fixes, provider, servers, error", [
    ([SERVICE], ["split_dns"], "adguard_home", [], "natloop_fixes must be a subset of [split_dns, hairpin, hosts]"),
    ([SERVICE], ["split-dns"], "adguard_home", [], "natloop_fixes must be a subset"),
    ([SERVICE], "hairpin", "adguard_home", [], "natloop_fixes must be a subset"),
    ([SERVICE], ["hosts"], "bind9", [], "natloop_dns_provider must be one of: adguard_home, pihole (got bind9)"),
    ([dict(SERVICE, public_ip=None)], ["hairpin"], "adguard_home", [], "service rustdesk: public_ip is needed for hairpin NAT"),
    ([dict(SERVICE, lan_ipv4="192.168.11.300")], [], "adguard_home", [], "lan_ipv4 '192.168.11.300' is not an IPv4"),
    ({"rustdesk": SERVICE}, [], "adguard_home", [], "natloop_services must be a list, got dict"),
])
def test_each_mistake_is_named(services, fixes, provider, servers, error):
    assert any(error in message for message in site_errors(services, fixes, provider, servers))


def test_one_group_per_combination_under_each_fix():
    assert fix_groups(["split_dns", "hairpin", "split_dns"]) == (
        "natloop_fixes_hairpin_split_dns", ["natloop_fix_hairpin", "natloop_fix_split_dns"])
    assert fix_groups([]) == (None, [])
