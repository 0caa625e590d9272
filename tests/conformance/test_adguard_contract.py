# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance of the AdGuard Home stand-in with CONTRACTS.md sections A and D.

Each test names the contract line it mirrors. Requests go over real HTTP to the
in-process stand-in and names are resolved with real DNS queries to its DNS port.
"""

import email.utils
import os
import re
import socket

import pytest
import yaml

from natloop_standins.adguard import StartupError
from natloop_standins.fixtures import adguard_config
from natloop_standins.testclient import addresses, answers, basic_auth, http_request, wait_refused

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


def api(handle, method, path, json_body=None, body=None, headers=None, auth=True, source_ip=None):
    headers = dict(headers or {})
    if auth:
        headers.setdefault("Authorization", basic_auth(handle.username, handle.password))
    return http_request(method, handle.base_url + path, body=body, headers=headers, json_body=json_body,
                        source_ip=source_ip)


def add(handle, domain, answer, **extra):
    reply = api(handle, "POST", "/control/rewrite/add", dict({"domain": domain, "answer": answer}, **extra))
    assert (reply.status, reply.body) == (200, b""), reply
    return reply


def listed(handle):
    reply = api(handle, "GET", "/control/rewrite/list")
    assert reply.status == 200
    return reply.json()


def stored(handle):
    with open(handle.config_path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- A1. General ------------------------------------------------------------------------------------

def test_a1_error_bodies_are_text_with_newline(adguard_standin):
    """A1: error bodies are text/plain "<msg>\\n", never JSON."""
    reply = api(adguard_standin, "POST", "/control/rewrite/add", body=b"{", headers={"Content-Type": JSON})
    assert reply.status == 400
    assert reply.header("Content-Type") == TEXT
    assert reply.body == b"json.Decode: unexpected EOF\n"


def test_a1_json_responses_end_in_newline(adguard_standin):
    """A1: JSON responses end in a newline; an empty list is "[]"."""
    reply = api(adguard_standin, "GET", "/control/rewrite/list")
    assert (reply.status, reply.body, reply.header("Content-Type")) == (200, b"[]\n", JSON)


def test_a1_success_bodies(adguard_standin):
    """A1: empty 200 for rewrite and dns_config calls, "OK\\n" for login and protection."""
    assert add(adguard_standin, "a.lan", "192.168.11.1").body == b""
    reply = api(adguard_standin, "POST", "/control/dns_config", {"upstream_mode": "parallel"})
    assert (reply.status, reply.body) == (200, b"")
    reply = api(adguard_standin, "POST", "/control/protection", {"enabled": True})
    assert (reply.status, reply.body) == (200, b"OK\n")
    reply = api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": adguard_standin.password},
                auth=False)
    assert (reply.status, reply.body) == (200, b"OK\n")


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/control/rewrite/add", "POST"),
    ("POST", "/control/rewrite/list", "GET"),
    ("POST", "/control/rewrite/update", "PUT"),
    ("GET", "/control/protection", "POST"),
])
def test_a1_wrong_method_is_405(adguard_standin, method, path, allowed):
    """A1: wrong method gives 405 "only method X is allowed"."""
    reply = api(adguard_standin, method, path)
    assert (reply.status, reply.body) == (405, ("only method %s is allowed\n" % allowed).encode())


def test_a1_content_type_with_charset_is_415(adguard_standin):
    """A1/C2: a body must use exactly application/json; a charset suffix gets 415."""
    reply = api(adguard_standin, "POST", "/control/rewrite/add", body=b'{"domain":"a.lan","answer":"1.2.3.4"}',
                headers={"Content-Type": "application/json; charset=utf-8"})
    assert (reply.status, reply.body) == (415, b"only content-type application/json is allowed\n")
    assert listed(adguard_standin) == []


def test_a1_bodyless_post_with_content_type_is_415(adguard_standin):
    """A1/C2: a body-less POST carrying any Content-Type gets 415; without one it passes."""
    reply = api(adguard_standin, "POST", "/control/rewrite/add", headers={"Content-Type": JSON})
    assert (reply.status, reply.body) == (415, b'empty body with content-type "application/json" not allowed\n')
    reply = api(adguard_standin, "POST", "/control/rewrite/add")
    assert (reply.status, reply.body) == (400, b"json.Decode: EOF\n")


def test_a1_every_mutation_rewrites_the_yaml(adguard_standin):
    """A1/A6: every successful mutation rewrites AdGuardHome.yaml."""
    add(adguard_standin, "nas.lan", "192.168.11.10")
    assert stored(adguard_standin)["filtering"]["rewrites"] == [
        {"domain": "nas.lan", "answer": "192.168.11.10", "enabled": True}]
    api(adguard_standin, "POST", "/control/protection", {"enabled": False})
    assert stored(adguard_standin)["filtering"]["protection_enabled"] is False


# --- A2. Rewrites -----------------------------------------------------------------------------------

def test_a2_list_in_config_order_with_enabled(adguard_standin):
    """A2: list returns [{"domain","answer","enabled"}] in config order."""
    add(adguard_standin, "b.lan", "192.168.11.2")
    add(adguard_standin, "a.lan", "192.168.11.1", enabled=False)
    add(adguard_standin, "c.lan", "c-target.lan", enabled=None)
    assert listed(adguard_standin) == [
        {"domain": "b.lan", "answer": "192.168.11.2", "enabled": True},
        {"domain": "a.lan", "answer": "192.168.11.1", "enabled": False},
        {"domain": "c.lan", "answer": "c-target.lan", "enabled": True},
    ]


def test_a2_no_duplicate_check(adguard_standin):
    """A2/C1: the same pair can be stored twice."""
    add(adguard_standin, "nas.lan", "192.168.11.10")
    add(adguard_standin, "nas.lan", "192.168.11.10")
    assert len(listed(adguard_standin)) == 2


def test_a2_domain_lower_cased_not_validated(adguard_standin):
    """A2: add lower-cases the domain and accepts "" and "*"."""
    add(adguard_standin, "NAS.Lan", "192.168.11.10")
    add(adguard_standin, "", "192.168.11.11")
    add(adguard_standin, "*", "192.168.11.12")
    assert [entry["domain"] for entry in listed(adguard_standin)] == ["nas.lan", "", "*"]


def test_a2_answer_stored_verbatim(adguard_standin):
    """A2: the answer is stored verbatim; comparison is exact string equality."""
    add(adguard_standin, "v6.lan", "2001:DB8::0:1")
    reply = api(adguard_standin, "POST", "/control/rewrite/delete", {"domain": "v6.lan", "answer": "2001:db8::1"})
    assert (reply.status, reply.body) == (200, b"")
    assert listed(adguard_standin) == [{"domain": "v6.lan", "answer": "2001:DB8::0:1", "enabled": True}]


def test_a2_delete_always_200_and_removes_all_equal(adguard_standin):
    """A2/C1: delete is always 200 with an empty body and removes every equal pair."""
    add(adguard_standin, "nas.lan", "192.168.11.10")
    add(adguard_standin, "keep.lan", "192.168.11.10")
    add(adguard_standin, "nas.lan", "192.168.11.10")
    reply = api(adguard_standin, "POST", "/control/rewrite/delete", {"domain": "nas.lan", "answer": "192.168.11.10"})
    assert (reply.status, reply.body) == (200, b"")
    assert listed(adguard_standin) == [{"domain": "keep.lan", "answer": "192.168.11.10", "enabled": True}]
    reply = api(adguard_standin, "POST", "/control/rewrite/delete", {"domain": "gone.lan", "answer": "1.1.1.1"})
    assert (reply.status, reply.body) == (200, b"")


def test_a2_delete_compares_raw_domain_case_sensitively(adguard_standin):
    """A2: delete compares the raw request domain; "Nas.lan" matches nothing, still 200."""
    add(adguard_standin, "nas.lan", "192.168.11.10")
    reply = api(adguard_standin, "POST", "/control/rewrite/delete", {"domain": "Nas.lan", "answer": "192.168.11.10"})
    assert (reply.status, reply.body) == (200, b"")
    assert len(listed(adguard_standin)) == 1


def test_a2_add_decode_error(adguard_standin):
    """A2: json.Decode errors are 400 text."""
    reply = api(adguard_standin, "POST", "/control/rewrite/add", {"domain": 5, "answer": "x.lan"})
    assert reply.status == 400
    assert reply.body == (b"json.Decode: json: cannot unmarshal number into Go struct field "
                          b"rewriteEntryJSON.domain of type string\n")


def test_a2_invalid_cname_target_rejected(adguard_standin):
    """A2: v0.107.79 validates CNAME targets with netutil.ValidateDomainName."""
    reply = api(adguard_standin, "POST", "/control/rewrite/add", {"domain": "x.lan", "answer": "bad_name.lan"})
    assert reply.status == 400
    assert reply.body == (b'normalizing: invalid CNAME target "bad_name.lan": bad domain name "bad_name.lan": '
                          b'bad domain name label "bad_name": bad domain name label rune \'_\'\n')
    assert listed(adguard_standin) == []


def test_a2_update_replaces_first_match_in_place(adguard_standin):
    """A2: update replaces the first match in place; null update.enabled keeps the old value."""
    add(adguard_standin, "a.lan", "192.168.11.1")
    add(adguard_standin, "b.lan", "192.168.11.2", enabled=False)
    add(adguard_standin, "b.lan", "192.168.11.2")
    reply = api(adguard_standin, "PUT", "/control/rewrite/update",
                {"target": {"domain": "b.lan", "answer": "192.168.11.2"},
                 "update": {"domain": "B2.lan", "answer": "192.168.11.22", "enabled": None}})
    assert (reply.status, reply.body) == (200, b"")
    assert listed(adguard_standin) == [
        {"domain": "a.lan", "answer": "192.168.11.1", "enabled": True},
        {"domain": "b2.lan", "answer": "192.168.11.22", "enabled": False},
        {"domain": "b.lan", "answer": "192.168.11.2", "enabled": True},
    ]


def test_a2_update_errors(adguard_standin):
    """A2: update answers "target rule not found" and "normalizing: ..." with 400."""
    add(adguard_standin, "a.lan", "192.168.11.1")
    reply = api(adguard_standin, "PUT", "/control/rewrite/update",
                {"target": {"domain": "A.lan", "answer": "192.168.11.1"},
                 "update": {"domain": "a.lan", "answer": "192.168.11.9"}})
    assert (reply.status, reply.body) == (400, b"target rule not found\n")
    reply = api(adguard_standin, "PUT", "/control/rewrite/update",
                {"target": {"domain": "a.lan", "answer": "192.168.11.1"},
                 "update": {"domain": "a.lan", "answer": "-bad.lan"}})
    assert reply.status == 400 and reply.body.startswith(b'normalizing: invalid CNAME target "-bad.lan": ')
    assert listed(adguard_standin)[0]["answer"] == "192.168.11.1"


def test_a2_rewrite_settings(adguard_standin):
    """A2: settings is {"enabled":true}; a body of {} disables rewrites."""
    reply = api(adguard_standin, "GET", "/control/rewrite/settings")
    assert (reply.status, reply.body) == (200, b'{"enabled":true}\n')
    add(adguard_standin, "nas.lan", "192.168.11.10")
    assert addresses(adguard_standin.query("nas.lan")) == ["192.168.11.10"]
    reply = api(adguard_standin, "PUT", "/control/rewrite/settings/update", {})
    assert (reply.status, reply.body) == (200, b"")
    assert api(adguard_standin, "GET", "/control/rewrite/settings").json() == {"enabled": False}
    assert stored(adguard_standin)["filtering"]["rewrites_enabled"] is False
    assert adguard_standin.query("nas.lan").rcode() == 3  # NXDOMAIN from the upstream


def test_a2_older_version_has_no_enabled_field(adguard_standin_factory):
    """A2: `enabled` and /control/rewrite/settings* appear from v0.107.68; CNAMEs unchecked before .79."""
    handle = adguard_standin_factory(emulate_version="0.107.67")
    add(handle, "nas.lan", "bad_name.lan", enabled=False)
    assert listed(handle) == [{"domain": "nas.lan", "answer": "bad_name.lan"}]
    assert api(handle, "GET", "/control/rewrite/settings").status == 404
    assert "enabled" not in stored(handle)["filtering"]["rewrites"][0]
    status = api(handle, "GET", "/control/status").json()
    assert status["version"] == "v0.107.67" and "start_time" not in status


def test_a2_invalid_stored_cname_aborts_startup(adguard_standin_factory, upstream_dns):
    """A2: an invalid stored CNAME target aborts start-up with "rewrites: preparing: at index N"."""
    config = adguard_config(upstream_dns, rewrites=[
        {"domain": "ok.lan", "answer": "192.168.11.1", "enabled": True},
        {"domain": "bad.lan", "answer": "bad_name", "enabled": True}])
    handle = adguard_standin_factory(config=config, start=False)
    with pytest.raises(StartupError, match=r"rewrites: preparing: at index 1: invalid CNAME target \"bad_name\""):
        handle.server.start()
    assert handle.server.web_port is None and handle.server.dns_port is None
    old = adguard_standin_factory(config=config, emulate_version="0.107.78")
    assert len(listed(old)) == 2


# --- A2/D. DNS answers ---------------------------------------------------------------------------------

def test_a2_dns_exact_beats_wildcard(adguard_standin):
    """A2: an exact match beats wildcards; *.x matches subdomains but not x itself."""
    add(adguard_standin, "*.home.test", "192.168.11.50")
    add(adguard_standin, "nas.home.test", "192.168.11.10")
    assert addresses(adguard_standin.query("nas.home.test")) == ["192.168.11.10"]
    assert addresses(adguard_standin.query("other.home.test")) == ["192.168.11.50"]
    assert adguard_standin.query("home.test").rcode() == 3


def test_a2_dns_longest_wildcard_wins(adguard_standin):
    """A2: among wildcards, the longest wins."""
    add(adguard_standin, "*.home.test", "192.168.11.50")
    add(adguard_standin, "*.lab.home.test", "192.168.11.60")
    assert addresses(adguard_standin.query("x.lab.home.test")) == ["192.168.11.60"]
    assert addresses(adguard_standin.query("x.home.test")) == ["192.168.11.50"]


def test_a2_dns_cname_chain_to_local_rewrite(adguard_standin):
    """A2: CNAME entries sort before A/AAAA; the target's rewrite supplies the address."""
    add(adguard_standin, "app.home.test", "192.168.11.99")
    add(adguard_standin, "app.home.test", "nas.home.test")
    add(adguard_standin, "nas.home.test", "192.168.11.10")
    reply = adguard_standin.query("app.home.test")
    assert answers(reply) == [("app.home.test", "CNAME", "nas.home.test."), ("nas.home.test", "A", "192.168.11.10")]


def test_a2_dns_cname_to_outside_name_resolved_upstream(adguard_standin):
    """A2: a CNAME whose target has no rewrite is resolved upstream behind the CNAME."""
    add(adguard_standin, "ext.home.test", "upstream.natloop.test")
    assert answers(adguard_standin.query("ext.home.test")) == [
        ("ext.home.test", "CNAME", "upstream.natloop.test."), ("upstream.natloop.test", "A", "198.51.100.80")]


def test_a2_dns_literal_a_keeps_upstream(adguard_standin):
    """A2: for an `A` entry, A queries go upstream and AAAA queries get an empty answer."""
    add(adguard_standin, "upstream.natloop.test", "A")
    assert addresses(adguard_standin.query("upstream.natloop.test")) == ["198.51.100.80"]
    reply = adguard_standin.query("upstream.natloop.test", "AAAA")
    assert (reply.rcode(), answers(reply)) == (0, [])


def test_a2_dns_ip_kinds(adguard_standin):
    """A2: IPv4 answers are A records, anything else that parses as an IP (IPv4-mapped too) is AAAA."""
    add(adguard_standin, "v4.home.test", "192.168.11.4")
    add(adguard_standin, "v6.home.test", "2001:db8::6")
    add(adguard_standin, "mapped.home.test", "::ffff:192.168.11.7")
    assert addresses(adguard_standin.query("v4.home.test")) == ["192.168.11.4"]
    assert answers(adguard_standin.query("v4.home.test", "AAAA")) == []
    assert addresses(adguard_standin.query("v6.home.test", "AAAA"), "AAAA") == ["2001:db8::6"]
    assert addresses(adguard_standin.query("mapped.home.test", "AAAA"), "AAAA") == ["::ffff:192.168.11.7"]
    assert answers(adguard_standin.query("mapped.home.test", "A")) == []


def test_a2_dns_answer_equal_to_domain_goes_upstream(adguard_standin):
    """A2: an answer equal to its own domain is an exception: the query goes upstream."""
    add(adguard_standin, "upstream.natloop.test", "upstream.natloop.test")
    assert answers(adguard_standin.query("upstream.natloop.test")) == [
        ("upstream.natloop.test", "A", "198.51.100.80")]


def test_a2_dns_disabled_entries_skipped(adguard_standin):
    """A2: disabled entries are skipped."""
    add(adguard_standin, "nas.home.test", "192.168.11.10", enabled=False)
    add(adguard_standin, "nas.home.test", "192.168.11.11")
    assert addresses(adguard_standin.query("nas.home.test")) == ["192.168.11.11"]


def test_a2_dns_case_insensitive_query(adguard_standin):
    """A2: the query name is compared lower-cased (answers keep the question's spelling)."""
    add(adguard_standin, "nas.home.test", "192.168.11.10")
    assert answers(adguard_standin.query("NAS.Home.Test")) == [("NAS.Home.Test", "A", "192.168.11.10")]


def test_d_rewrites_need_global_filtering(adguard_standin):
    """D: rewrites are applied only while filtering is enabled (POST /control/filtering/config)."""
    add(adguard_standin, "nas.home.test", "192.168.11.10")
    reply = api(adguard_standin, "POST", "/control/filtering/config", {"enabled": False, "interval": 24})
    assert (reply.status, reply.body) == (200, b"")
    assert api(adguard_standin, "GET", "/control/filtering/status").json()["enabled"] is False
    assert adguard_standin.query("nas.home.test").rcode() == 3
    api(adguard_standin, "POST", "/control/filtering/config", {"enabled": True, "interval": 24})
    assert addresses(adguard_standin.query("nas.home.test")) == ["192.168.11.10"]


def test_d_filtering_config_rejects_bad_interval(adguard_standin):
    """D: /control/filtering/config validates the update interval."""
    reply = api(adguard_standin, "POST", "/control/filtering/config", {"enabled": True, "interval": 5})
    assert (reply.status, reply.body) == (400, b"Unsupported interval\n")


def test_d_protection_off_keeps_rewrites_stops_blocking(adguard_standin):
    """D: protection off stops blocking and keeps rewrites answering."""
    add(adguard_standin, "nas.home.test", "192.168.11.10")
    assert addresses(adguard_standin.query("ads.natloop.test")) == ["0.0.0.0"]
    assert addresses(adguard_standin.query("ads.natloop.test", "AAAA"), "AAAA") == ["::"]
    api(adguard_standin, "POST", "/control/protection", {"enabled": False})
    assert addresses(adguard_standin.query("nas.home.test")) == ["192.168.11.10"]
    assert addresses(adguard_standin.query("ads.natloop.test")) == ["198.51.100.66"]


def test_d_user_rules_block(adguard_standin):
    """D: a user rule ||name^ blocks the name and its subdomains while protection is on."""
    adguard_standin.upstream.zone.add("tracker.natloop.test", "A", "198.51.100.67")
    assert addresses(adguard_standin.query("tracker.natloop.test")) == ["198.51.100.67"]
    reply = api(adguard_standin, "POST", "/control/filtering/set_rules", {"rules": ["||tracker.natloop.test^"]})
    assert (reply.status, reply.body) == (200, b"")
    assert addresses(adguard_standin.query("tracker.natloop.test")) == ["0.0.0.0"]
    assert addresses(adguard_standin.query("x.tracker.natloop.test")) == ["0.0.0.0"]
    assert api(adguard_standin, "GET", "/control/filtering/status").json()["user_rules"] == ["||tracker.natloop.test^"]


def test_d_disabled_filter_lists_stop_demo_blocking(adguard_standin_factory, upstream_dns):
    """D: with every filter list disabled the demo name is no longer blocked, rewrites still answer."""
    config = adguard_config(upstream_dns, rewrites=[
        {"domain": "nas.home.test", "answer": "192.168.11.10", "enabled": True}])
    config["filters"] = [{"enabled": False, "url": "https://example.invalid/list.txt", "name": "off", "id": 1}]
    handle = adguard_standin_factory(config=config)
    assert addresses(handle.query("ads.natloop.test")) == ["198.51.100.66"]
    assert addresses(handle.query("nas.home.test")) == ["192.168.11.10"]


def test_dns_tcp_works(adguard_standin):
    """A2: the DNS listener answers over TCP as well as UDP."""
    add(adguard_standin, "nas.home.test", "192.168.11.10")
    assert addresses(adguard_standin.query("nas.home.test", tcp=True)) == ["192.168.11.10"]


# --- A3. Auth ---------------------------------------------------------------------------------------

def test_a3_no_users_no_auth(adguard_standin_factory):
    """A3: with no users configured there is no authentication."""
    handle = adguard_standin_factory(users=False)
    assert api(handle, "GET", "/control/status", auth=False).status == 200


def test_a3_unauthenticated_requests(adguard_standin):
    """A3: /control/* gives 401 with an empty body, / gives 302 to login.html, public paths pass."""
    reply = api(adguard_standin, "GET", "/control/status", auth=False)
    assert (reply.status, reply.body) == (401, b"")
    reply = api(adguard_standin, "GET", "/", auth=False)
    assert (reply.status, reply.header("Location")) == (302, "login.html")
    assert api(adguard_standin, "GET", "/login.html", auth=False).status == 200
    reply = api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": "wrong-pw"}, auth=False)
    assert reply.status == 403


def test_a3_login_sets_cookie(adguard_standin):
    """A3: login answers 200 "OK\\n" and Set-Cookie agh_session=<32 hex>; Path=/; Expires=+365d; HttpOnly; SameSite=Lax."""
    reply = api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": adguard_standin.password},
                auth=False)
    assert (reply.status, reply.body) == (200, b"OK\n")
    cookie = reply.header("Set-Cookie")
    match = re.fullmatch(r"agh_session=([0-9a-f]{32}); Path=/; Expires=([^;]+); HttpOnly; SameSite=Lax", cookie)
    assert match, cookie
    expires = email.utils.parsedate_to_datetime(match.group(2)).timestamp()
    assert expires == adguard_standin.clock.now() + 365 * 24 * 3600
    reply = api(adguard_standin, "GET", "/control/status", auth=False,
                headers={"Cookie": "agh_session=" + match.group(1)})
    assert reply.status == 200


def test_a3_bad_credentials_are_403(adguard_standin):
    """A3: bad credentials give 403 "invalid username or password" (the openapi says 400)."""
    reply = api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": "nope"}, auth=False)
    assert (reply.status, reply.body) == (403, b"invalid username or password\n")


def test_a3_stale_cookie_beats_valid_basic(adguard_standin):
    """A3/C3: if an agh_session cookie is present only the cookie is checked."""
    reply = api(adguard_standin, "GET", "/control/status", headers={"Cookie": "agh_session=" + "0" * 32})
    assert (reply.status, reply.body) == (401, b"")
    assert api(adguard_standin, "GET", "/control/status").status == 200


def test_a3_lockout_after_five_failures(adguard_standin):
    """A3/C3: 5 failures (Basic and login) block the remote address for 15 min, even for good Basic."""
    wrong = {"Authorization": basic_auth("admin", "wrong")}
    for _attempt in range(3):
        assert api(adguard_standin, "GET", "/control/status", auth=False, headers=wrong).status == 401
    for _attempt in range(2):
        assert api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": "x"}, auth=False).status == 403
    reply = api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": adguard_standin.password},
                auth=False)
    assert (reply.status, reply.header("Retry-After"), reply.body) == (429, "900", b"auth: blocked for 15m0s\n")
    assert api(adguard_standin, "GET", "/control/status").status == 401
    assert api(adguard_standin, "GET", "/control/status", source_ip="127.0.0.2").status == 200
    adguard_standin.clock.advance(14 * 60)
    assert api(adguard_standin, "GET", "/control/status").status == 401
    adguard_standin.clock.advance(60 + 1)
    assert api(adguard_standin, "GET", "/control/status").status == 200


def test_a3_failures_expire_after_a_minute(adguard_standin):
    """A3: failed attempts are remembered for one minute (failedAuthTTL) before the block."""
    for _attempt in range(4):
        assert api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": "x"}, auth=False).status == 403
    adguard_standin.clock.advance(61)
    for _attempt in range(4):
        assert api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": "x"}, auth=False).status == 403
    assert api(adguard_standin, "GET", "/control/status").status == 200


def test_a3_logout(adguard_standin):
    """A3: GET /control/logout answers 302 to /login.html and ends the session."""
    reply = api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": adguard_standin.password},
                auth=False)
    cookie = reply.header("Set-Cookie").split(";")[0]
    reply = api(adguard_standin, "GET", "/control/logout", auth=False, headers={"Cookie": cookie})
    assert (reply.status, reply.header("Location")) == (302, "/login.html")
    assert api(adguard_standin, "GET", "/control/status", auth=False, headers={"Cookie": cookie}).status == 401


def test_a3_session_ttl_and_persistence(adguard_standin):
    """A3: sessions live http.session_ttl (720h) and are stored in data/sessions.db across restarts."""
    reply = api(adguard_standin, "POST", "/control/login", {"name": "admin", "password": adguard_standin.password},
                auth=False)
    cookie = {"Cookie": reply.header("Set-Cookie").split(";")[0]}
    assert os.path.exists(os.path.join(adguard_standin.server.work_dir, "data", "sessions.db"))
    adguard_standin.restart()
    assert api(adguard_standin, "GET", "/control/status", auth=False, headers=cookie).status == 200
    adguard_standin.clock.advance(720 * 3600 + 1)
    assert api(adguard_standin, "GET", "/control/status", auth=False, headers=cookie).status == 401


def test_a3_stored_password_is_bcrypt(adguard_standin):
    """A3: users[].password is a bcrypt hash."""
    assert stored(adguard_standin)["users"][0]["password"].startswith("$2a$")


# --- A4. Install wizard --------------------------------------------------------------------------------

def test_a4_first_run_redirects_everything(adguard_standin_factory):
    """A4: on first run every other path gets 302 Location: install.html and DNS is not running."""
    handle = adguard_standin_factory(first_run=True)
    assert handle.dns_port is None
    for path in ("/control/status", "/", "/control/rewrite/list", "/login.html"):
        reply = api(handle, "GET", path, auth=False)
        assert (reply.status, reply.header("Location")) == (302, "install.html"), path
    assert api(handle, "GET", "/install.html", auth=False).status == 200


def test_a4_get_addresses(adguard_standin_factory):
    """A4: get_addresses returns interfaces, version, web_port 80 (or ADGUARD_HOME_DEFAULT_WEB_PORT), dns_port 53."""
    handle = adguard_standin_factory(first_run=True)
    body = api(handle, "GET", "/control/install/get_addresses", auth=False).json()
    assert set(body) == {"interfaces", "version", "web_port", "dns_port"}
    assert (body["version"], body["web_port"], body["dns_port"]) == ("v0.107.79", 80, 53)
    assert "lo" in body["interfaces"]
    other = adguard_standin_factory(first_run=True, env={"ADGUARD_HOME_DEFAULT_WEB_PORT": "8080"})
    assert api(other, "GET", "/control/install/get_addresses", auth=False).json()["web_port"] == 8080


def test_a4_check_config(adguard_standin_factory):
    """A4: check_config is always 200; a non-empty status signals a problem; bad JSON is 400."""
    handle = adguard_standin_factory(first_run=True)
    free = free_port()
    request = {"web": {"ip": "127.0.0.1", "port": free, "autofix": False},
               "dns": {"ip": "127.0.0.1", "port": free_port(), "autofix": False}, "set_static_ip": False}
    body = api(handle, "POST", "/control/install/check_config", request, auth=False).json()
    assert body["web"] == {"status": "", "can_autofix": False} and body["dns"]["status"] == ""
    assert set(body) >= {"web", "dns", "static_ip"}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        request["web"]["port"] = busy.getsockname()[1]
        body = api(handle, "POST", "/control/install/check_config", request, auth=False).json()
    assert "address already in use" in body["web"]["status"]
    reply = api(handle, "POST", "/control/install/check_config", body=b"nope", headers={"Content-Type": JSON},
                auth=False)
    assert reply.status == 400 and reply.body.startswith(b"decoding the request: ")


def test_a4_configure_errors(adguard_standin_factory):
    """A4: configure answers 400 for ports 0 and 422 for a short password."""
    handle = adguard_standin_factory(first_run=True)
    base = {"web": {"ip": "127.0.0.1", "port": free_port()}, "dns": {"ip": "127.0.0.1", "port": free_port()},
            "username": "admin", "password": "short"}
    reply = api(handle, "POST", "/control/install/configure", base, auth=False)
    assert (reply.status, reply.body) == (422, b"password must be at least 8 symbols long\n")
    reply = api(handle, "POST", "/control/install/configure", dict(base, web={"ip": "127.0.0.1", "port": 0}),
                auth=False)
    assert (reply.status, reply.body) == (400, b"ports cannot be 0\n")
    assert not os.path.exists(handle.config_path)


def test_a4_configure_sets_up_and_moves_ui(adguard_standin_factory):
    """A4/C4: configure writes the bcrypt user and YAML, starts DNS, moves the UI; install routes 403, 404 after restart."""
    handle = adguard_standin_factory(first_run=True)
    old_url = handle.base_url
    web_port, dns_port = free_port(), free_port()
    reply = api(handle, "POST", "/control/install/configure",
                {"web": {"ip": "127.0.0.1", "port": web_port}, "dns": {"ip": "127.0.0.1", "port": dns_port},
                 "username": "admin", "password": handle.password}, auth=False)
    assert (reply.status, reply.body) == (200, b"OK\n")
    assert handle.web_port == web_port and handle.dns_port == dns_port
    assert wait_refused(old_url + "/control/status")
    conf = stored(handle)
    assert conf["http"]["address"] == "127.0.0.1:%d" % web_port
    assert (conf["dns"]["bind_hosts"], conf["dns"]["port"]) == (["127.0.0.1"], dns_port)
    assert conf["users"][0]["name"] == "admin" and conf["users"][0]["password"].startswith("$2a$10$")
    assert api(handle, "GET", "/control/status", auth=False).status == 401
    status = api(handle, "GET", "/control/status").json()
    assert set(status) == {"version", "language", "dns_addresses", "dns_port", "http_port", "protection_enabled",
                           "protection_disabled_duration", "start_time", "dhcp_available", "running"}
    assert (status["dns_port"], status["http_port"], status["running"]) == (dns_port, web_port, True)
    assert handle.query("upstream.natloop.test").rcode() == 2  # default upstream is DoH: never contacted
    reply = api(handle, "POST", "/control/install/configure", {}, auth=False)
    assert (reply.status, reply.body) == (403, b"Forbidden\n")
    handle.restart()
    reply = api(handle, "GET", "/control/install/get_addresses", auth=False)
    assert (reply.status, reply.body) == (404, b"404 page not found\n")


def test_a4_install_route_method_check(adguard_standin_factory):
    """A4/A1: install routes are wrapped in ensure(): wrong method 405."""
    handle = adguard_standin_factory(first_run=True)
    reply = api(handle, "GET", "/control/install/configure", auth=False)
    assert (reply.status, reply.body) == (405, b"only method POST is allowed\n")


# --- A5. Protection and upstreams ----------------------------------------------------------------------

def test_a5_protection_duration(adguard_standin):
    """A5: protection pause with duration (ms); a duration with enabled:true is 400."""
    reply = api(adguard_standin, "POST", "/control/protection", {"enabled": True, "duration": 1000})
    assert (reply.status, reply.body) == (400, b"Setting a duration is only allowed with protection disabling\n")
    reply = api(adguard_standin, "POST", "/control/protection", {"enabled": False, "duration": 60000})
    assert (reply.status, reply.body) == (200, b"OK\n")
    status = api(adguard_standin, "GET", "/control/status").json()
    assert (status["protection_enabled"], status["protection_disabled_duration"]) == (False, 60000)
    adguard_standin.clock.advance(61)
    status = api(adguard_standin, "GET", "/control/status").json()
    assert (status["protection_enabled"], status["protection_disabled_duration"]) == (True, 0)


def test_a5_dns_config_partial_update(adguard_standin):
    """A5: dns_config accepts partial JSON; only the fields present change; dns_info shows the config."""
    before = api(adguard_standin, "GET", "/control/dns_info").json()
    reply = api(adguard_standin, "POST", "/control/dns_config", {"upstream_mode": "fastest_addr",
                                                                 "fallback_dns": ["127.0.0.1:9"]})
    assert (reply.status, reply.body) == (200, b"")
    after = api(adguard_standin, "GET", "/control/dns_info").json()
    assert after["upstream_mode"] == "fastest_addr" and after["fallback_dns"] == ["127.0.0.1:9"]
    assert after["upstream_dns"] == before["upstream_dns"] and after["protection_enabled"] is True
    assert stored(adguard_standin)["dns"]["upstream_mode"] == "fastest_addr"


@pytest.mark.parametrize("body", [{"upstream_mode": "random"}, {"upstream_dns": ["not a server!"]},
                                  {"upstream_dns": []}, {"bootstrap_dns": ["dns.example"]}])
def test_a5_dns_config_validation(adguard_standin, body):
    """A5: invalid dns_config gets 400 "validating dns config: ..."."""
    reply = api(adguard_standin, "POST", "/control/dns_config", body)
    assert reply.status == 400 and reply.body.startswith(b"validating dns config: "), reply


def test_a5_protection_via_dns_config(adguard_standin):
    """A5: dns_config protection_enabled toggles protection like /control/protection."""
    api(adguard_standin, "POST", "/control/dns_config", {"protection_enabled": False})
    assert api(adguard_standin, "GET", "/control/status").json()["protection_enabled"] is False
    assert addresses(adguard_standin.query("ads.natloop.test")) == ["198.51.100.66"]


def test_a5_encrypted_upstreams_are_never_contacted(adguard_standin):
    """Stand-in deviation: DoH/DoT/hostname upstreams are not contacted; the query gets SERVFAIL."""
    api(adguard_standin, "POST", "/control/dns_config", {"upstream_dns": ["https://dns10.quad9.net/dns-query"]})
    assert adguard_standin.query("upstream.natloop.test").rcode() == 2


# --- A6/A7. File layout and image ----------------------------------------------------------------------

def test_a6_yaml_layout(adguard_standin):
    """A6: schema 34 layout: rewrites under filtering with enabled, rewrites_enabled, users, http.address."""
    add(adguard_standin, "nas.lan", "192.168.11.10")
    conf = stored(adguard_standin)
    assert conf["schema_version"] == 34
    assert conf["filtering"]["rewrites"] == [{"domain": "nas.lan", "answer": "192.168.11.10", "enabled": True}]
    assert conf["filtering"]["rewrites_enabled"] is True and "rewrites" not in conf["dns"]
    assert (conf["auth_attempts"], conf["block_auth_min"], conf["http"]["session_ttl"]) == (5, 15, "720h")


def test_a7_dockerfile_interface():
    """A7: the image mimics adguard/adguardhome: CMD flags and EXPOSEd ports, no VOLUME, no HEALTHCHECK."""
    path = os.path.join(os.path.dirname(__file__), "..", "standins", "docker", "adguardhome", "Dockerfile")
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    exposed = set(" ".join(re.findall(r"^EXPOSE (.+)$", text, re.M)).split())
    assert exposed == {"53/tcp", "53/udp", "67/udp", "68/udp", "80/tcp", "443/tcp", "443/udp", "853/tcp", "853/udp",
                       "3000/tcp", "3000/udp", "5443/tcp", "5443/udp", "6060/tcp"}
    assert re.search(r'^CMD \["--no-check-update", "-c", "/opt/adguardhome/conf/AdGuardHome.yaml", '
                     r'"-w", "/opt/adguardhome/work"\]$', text, re.M)
    assert "VOLUME" not in text and "HEALTHCHECK" not in text


# --- L. Local names and canaries (issue 13), from AGH's source at tag v0.107.79 ----------------------------
# tests/standins/README.md, "AdGuard Home: local names and canaries". Files (AdguardTeam/AdGuardHome@v0.107.79):
# internal/dnsforward/requesthandler.go:33-43 (order of the processing steps), process.go:123-127 (Firefox
# canary), process.go:172-248 (DDR), filter.go:28-77 (filterDNSRequest), msg.go:92-127 (getCNAMEWithIPs),
# internal/filtering/filtering.go:507-539 (CheckHost), 550-567 (processRewrites), 886-950 (matchHost),
# rewrites.go:49-63 (matchesQType), 174-199 (findRewrites), internal/filtering/servicelist.go:1751-1758.

CANARY_ANSWERS = {"A": "198.51.100.77", "AAAA": "2001:db8:100::77"}


def public_zone(handle, name):
    """The upstream publishes what the internet would: an AAAA, an HTTPS record with public hints, MX, TXT."""
    zone = handle.upstream.zone
    zone.add(name, "A", "198.51.100.1").add(name, "AAAA", "2001:db8:100::1")
    zone.add(name, "HTTPS", "1 . ipv4hint=198.51.100.1 ipv6hint=2001:db8:100::1")
    zone.add(name, "SVCB", "1 . ipv4hint=198.51.100.1").add(name, "MX", "10 mail.example.com.")
    zone.add(name, "TXT", '"public"').add("www." + name, "A", "198.51.100.1")


@pytest.mark.parametrize("protection", [True, False])
def test_l1_a_rewritten_name_gets_no_upstream_answer_of_other_types(adguard_standin, protection):
    """L1: a name with an A rewrite: AAAA/HTTPS/SVCB/MX/TXT get NOERROR without an answer, never the upstream's
    (findRewrites: matched, but no entry of the type -> Reason Rewritten with no IPs -> getCNAMEWithIPs sends an
    empty answer); protection plays no part (CheckHost runs processRewrites on FilteringEnabled only); names below
    are not rewritten (exact match) and go upstream."""
    name = "rustdesk.example.com"
    public_zone(adguard_standin, name)
    add(adguard_standin, name, "192.168.11.20")
    api(adguard_standin, "POST", "/control/protection", {"enabled": protection})
    assert addresses(adguard_standin.query(name)) == ["192.168.11.20"]
    for rdtype in ("AAAA", "HTTPS", "SVCB", "MX", "TXT"):
        reply = adguard_standin.query(name, rdtype)
        assert (reply.rcode(), reply.answer) == (0, []), rdtype
    assert [query for query in adguard_standin.upstream.zone.queries if query[0] == name] == []
    assert addresses(adguard_standin.query("www." + name)) == ["198.51.100.1"]


def test_l1_filtering_off_forwards_every_type(adguard_standin):
    """L1: with global filtering off the rewrite is skipped (CheckHost: "if setts.FilteringEnabled"): all upstream."""
    name = "rustdesk.example.com"
    public_zone(adguard_standin, name)
    add(adguard_standin, name, "192.168.11.20")
    api(adguard_standin, "POST", "/control/filtering/config", {"enabled": False, "interval": 24})
    assert addresses(adguard_standin.query(name, "AAAA"), "AAAA") == ["2001:db8:100::1"]


@pytest.mark.parametrize("protection", [True, False])
def test_l2_firefox_canary_is_nxdomain_first(adguard_standin, protection):
    """L2: use-application-dns.net A/AAAA get NXDOMAIN in processInitial, before filtering and protection."""
    for rdtype, value in CANARY_ANSWERS.items():
        adguard_standin.upstream.zone.add("use-application-dns.net", rdtype, value)
    api(adguard_standin, "POST", "/control/protection", {"enabled": protection})
    for rdtype in CANARY_ANSWERS:
        reply = adguard_standin.query("use-application-dns.net", rdtype)
        assert (reply.rcode(), reply.answer) == (3, []), rdtype
    assert adguard_standin.upstream.zone.queries == []


@pytest.mark.parametrize("protection", [True, False])
def test_l3_ddr_is_answered_by_adguard_itself(adguard_standin, protection):
    """L3: _dns.resolver.arpa is answered in processDDRQuery (handle_ddr, true by default) with SVCB records for
    AdGuard Home's own encrypted listeners only: none configured, so NOERROR without an answer; never upstream."""
    adguard_standin.upstream.zone.add("_dns.resolver.arpa", "SVCB", "1 dns.public.example. alpn=h2")
    api(adguard_standin, "POST", "/control/protection", {"enabled": protection})
    reply = adguard_standin.query("_dns.resolver.arpa", "SVCB")
    assert (reply.rcode(), reply.answer) == (0, [])
    assert adguard_standin.upstream.zone.queries == []


@pytest.mark.parametrize("protection", [True, False])
def test_l4_private_relay_names_are_forwarded_without_a_rule(adguard_standin, protection):
    """L4: AGH has no special handling of mask.icloud.com / mask-h2.icloud.com (only the blocked service
    "icloud_private_relay", which applies with protection on and when chosen): forwarded, the address reaches
    the client."""
    for name in ("mask.icloud.com", "mask-h2.icloud.com"):
        adguard_standin.upstream.zone.add(name, "A", CANARY_ANSWERS["A"])
    api(adguard_standin, "POST", "/control/protection", {"enabled": protection})
    for name in ("mask.icloud.com", "mask-h2.icloud.com"):
        assert addresses(adguard_standin.query(name)) == [CANARY_ANSWERS["A"]]


@pytest.mark.parametrize("protection", [True, False])
def test_l5_dnsrewrite_nxdomain_user_rules_apply_with_protection_off(adguard_standin, protection):
    """L5: a user rule ||NAME^$dnsrewrite=NXDOMAIN;; (servicelist.go's form) answers NAME and names below it with
    NXDOMAIN while filtering is on, protection on or off (matchHost returns the dnsrewrite result before its
    "if !setts.ProtectionEnabled" check); a plain ||NAME^ block rule does not apply with protection off."""
    zone = adguard_standin.upstream.zone
    for name in ("mask.icloud.com", "mask-h2.icloud.com", "tracker.natloop.test"):
        zone.add(name, "A", CANARY_ANSWERS["A"])
    rules = ["||mask.icloud.com^$dnsrewrite=NXDOMAIN;;", "||mask-h2.icloud.com^$dnsrewrite=NXDOMAIN;;",
             "||tracker.natloop.test^"]
    assert api(adguard_standin, "POST", "/control/filtering/set_rules", {"rules": rules}).status == 200
    api(adguard_standin, "POST", "/control/protection", {"enabled": protection})
    for name in ("mask.icloud.com", "mask-h2.icloud.com", "x.mask.icloud.com"):
        for rdtype in ("A", "AAAA"):
            reply = adguard_standin.query(name, rdtype)
            assert (reply.rcode(), reply.answer) == (3, []), (name, rdtype)
    assert addresses(adguard_standin.query("tracker.natloop.test")) == (["0.0.0.0"] if protection else [CANARY_ANSWERS["A"]])
    api(adguard_standin, "POST", "/control/filtering/config", {"enabled": False, "interval": 24})
    assert addresses(adguard_standin.query("mask.icloud.com")) == [CANARY_ANSWERS["A"]]
