# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance of the Pi-hole v6 stand-in with CONTRACTS.md sections B and E.

Each test names the contract line it mirrors. Requests go over real HTTP to the
in-process stand-in and names are resolved with real DNS queries to its DNS port.
"""

import os
import re
import socket
import time
import tomllib

import dns.message
import pytest

from natloop_standins import pihole_auth
from natloop_standins.netinfo import is_local_client
from natloop_standins.testclient import addresses, answers, http_request, wait_answering, wait_refused

JSON = "application/json; charset=utf-8"


def login(handle, password=None, **extra):
    reply = http_request("POST", handle.base_url + "/api/auth", json_body=dict({"password": password or handle.password}, **extra))
    assert reply.status == 200, reply
    return reply.json()["session"]


def api(handle, method, path, json_body=None, sid=None, headers=None, body=None):
    headers = dict(headers or {})
    if sid:
        headers["X-FTL-SID"] = sid
    return http_request(method, handle.base_url + path, body=body, headers=headers, json_body=json_body)


@pytest.fixture
def session(pihole_standin):
    return login(pihole_standin)["sid"]


def error_of(reply):
    body = reply.json()
    assert set(body) == {"error", "took"}, body
    return body["error"]


def hosts(handle, sid):
    return api(handle, "GET", "/api/config/dns/hosts", sid=sid).json()["config"]["dns"]["hosts"]


def dns_tcp_refused(port, timeout=1.0):
    """True once the DNS TCP port refuses connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return True
        time.sleep(0.01)
    return False


def non_local_address():
    """An IPv4 address outside every subnet this machine is attached to."""
    for candidate in ("100.64.77.77", "100.127.1.1", "198.18.77.77", "172.31.254.254"):
        if not is_local_client(candidate):
            return candidate
    pytest.skip("every candidate address is on a local subnet here")
    return None


def toml_of(handle):
    with open(os.path.join(handle.config_dir, "pihole.toml"), encoding="utf-8") as stream:
        return stream.read()


# --- B1. General ----------------------------------------------------------------------------------------

def test_b1_json_content_type_and_took(pihole_standin, session):
    """B1: responses are application/json; charset=utf-8 and carry "took"."""
    reply = api(pihole_standin, "GET", "/api/config/dns/hosts", sid=session)
    assert reply.header("Content-Type") == JSON
    body = reply.json()
    assert set(body) == {"config", "took"} and isinstance(body["took"], float)


def test_b1_missing_auth_is_401(pihole_standin):
    """B1/C7: missing or invalid auth is 401 with key unauthorized (never a redirect)."""
    reply = api(pihole_standin, "GET", "/api/config/dns/hosts")
    assert reply.status == 401
    assert error_of(reply) == {"key": "unauthorized", "message": "Unauthorized", "hint": None}
    reply = api(pihole_standin, "GET", "/api/config/dns/hosts", sid="not-a-session")
    assert reply.status == 401


def test_b1_unknown_route_is_404(pihole_standin, session):
    """B1: an unknown route is 404 with key not_found."""
    reply = api(pihole_standin, "GET", "/api/nothing/here", sid=session)
    assert reply.status == 404 and error_of(reply)["key"] == "not_found"


# --- B2. Auth -----------------------------------------------------------------------------------------

def test_b2_login(pihole_standin):
    """B2: a correct password gives the session object, a 23-char SID, validity 1800 and the sid cookie."""
    reply = http_request("POST", pihole_standin.base_url + "/api/auth", json_body={"password": pihole_standin.password})
    assert reply.status == 200
    body = reply.json()
    session = body["session"]
    assert set(session) == {"valid", "totp", "sid", "csrf", "validity", "message"}
    assert (session["valid"], session["totp"], session["validity"], session["message"]) == (
        True, False, 1800, "password correct")
    assert re.fullmatch(r"[A-Za-z0-9+/=]{23}", session["sid"]) and len(session["csrf"]) == 23
    assert reply.header("Set-Cookie") == "sid=%s; SameSite=Lax; Path=/; Max-Age=1800; HttpOnly" % session["sid"]


def test_b2_wrong_password(pihole_standin):
    """B2: a wrong password is 401 with valid:false, sid:null, validity:-1, "password incorrect"."""
    reply = http_request("POST", pihole_standin.base_url + "/api/auth", json_body={"password": "wrong"})
    assert reply.status == 401
    assert reply.json()["session"] == {"valid": False, "totp": False, "sid": None, "validity": -1,
                                       "message": "password incorrect"}


@pytest.mark.parametrize("body,message,hint", [
    (None, "No request body data", None),
    (b"{nope", "Invalid request body data (no valid JSON), error at hint", "nope"),
    (b'{"pw":"x"}', "No password found in JSON payload", None),
    (b'{"password":5}', "Field password has to be of type 'string'", None),
])
def test_b2_bad_login_bodies(pihole_standin, body, message, hint):
    """B2: bad login bodies are 400 bad_request."""
    reply = http_request("POST", pihole_standin.base_url + "/api/auth", body=body)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": message, "hint": hint}


def test_b2_rate_limit_more_than_three_per_second(pihole_standin):
    """B2/C6: more than 3 password checks in one second (globally) give 429 rate_limiting."""
    url = pihole_standin.base_url + "/api/auth"
    for _attempt in range(3):
        assert http_request("POST", url, json_body={"password": "wrong"}).status == 401
    reply = http_request("POST", url, json_body={"password": pihole_standin.password})
    assert reply.status == 429
    assert error_of(reply) == {"key": "rate_limiting", "message": "Rate-limiting login attempts", "hint": None}
    pihole_standin.clock.advance(1)
    assert http_request("POST", url, json_body={"password": pihole_standin.password}).status == 200


def test_b2_successful_logins_do_not_count(pihole_standin):
    """B2: successful logins do not count against the rate limit."""
    for _attempt in range(6):
        login(pihole_standin)


def test_b2_sixteen_seats(pihole_standin):
    """B2/C6: every login takes a new seat; 16 seats, then 429 api_seats_exceeded; DELETE frees one."""
    sids = [login(pihole_standin)["sid"] for _attempt in range(16)]
    assert len(set(sids)) == 16 and len(pihole_standin.server.sessions()) == 16
    reply = http_request("POST", pihole_standin.base_url + "/api/auth", json_body={"password": pihole_standin.password})
    assert reply.status == 429
    assert error_of(reply) == {"key": "api_seats_exceeded", "message": "API seats exceeded",
                               "hint": "increase webserver.api.max_sessions"}
    reply = api(pihole_standin, "DELETE", "/api/auth", sid=sids[0])
    assert (reply.status, reply.body) == (204, b"")
    login(pihole_standin)


def test_b2_expired_seats_are_reused(pihole_standin):
    """B2: an idle session expires after 1800 s and its seat is free for the next login."""
    for _attempt in range(16):
        login(pihole_standin)
    pihole_standin.clock.advance(1801)
    login(pihole_standin)


def test_b2_get_auth_messages(pihole_standin):
    """B2: GET /api/auth is 200 with the session, or 401 no SID provided / session unknown / session expired."""
    url = pihole_standin.base_url + "/api/auth"
    assert http_request("GET", url).json()["session"]["message"] == "no SID provided"
    reply = http_request("GET", url, headers={"X-FTL-SID": "unknownunknownunknownun"})
    assert (reply.status, reply.json()["session"]["message"]) == (401, "session unknown")
    sid = login(pihole_standin)["sid"]
    pihole_standin.clock.advance(100)
    reply = http_request("GET", url, headers={"X-FTL-SID": sid})
    assert reply.status == 200
    assert (reply.json()["session"]["valid"], reply.json()["session"]["validity"]) == (True, 1800)
    pihole_standin.clock.advance(1801)
    reply = http_request("GET", url, headers={"X-FTL-SID": sid})
    assert (reply.status, reply.json()["session"]["message"]) == (401, "session expired")


def test_b2_idle_timeout_refreshed_by_every_call(pihole_standin, session):
    """B2: the 1800 s idle timeout is refreshed by every authenticated call."""
    for _attempt in range(3):
        pihole_standin.clock.advance(1700)
        assert api(pihole_standin, "GET", "/api/dns/blocking", sid=session).status == 200
    pihole_standin.clock.advance(1801)
    assert api(pihole_standin, "GET", "/api/dns/blocking", sid=session).status == 401


def test_b2_delete_auth(pihole_standin, session):
    """B2: DELETE /api/auth is 204 with no body and frees the seat; 401 without a valid session."""
    reply = api(pihole_standin, "DELETE", "/api/auth", sid=session)
    assert (reply.status, reply.body) == (204, b"")
    assert pihole_standin.server.sessions() == []
    reply = api(pihole_standin, "DELETE", "/api/auth", sid=session)
    assert reply.status == 401 and reply.json()["session"]["valid"] is False


@pytest.mark.parametrize("transport", ["header_sid", "header_x_ftl_sid", "query", "json_body", "form_body"])
def test_b2_sid_transports(pihole_standin, session, transport):
    """B2/C7: the SID is read from the form body, JSON body, sid / X-FTL-SID header or the query."""
    url = pihole_standin.base_url + "/api/dns/blocking"
    if transport == "header_sid":
        reply = http_request("GET", url, headers={"sid": session})
    elif transport == "header_x_ftl_sid":
        reply = http_request("GET", url, headers={"X-FTL-SID": session})
    elif transport == "query":
        reply = http_request("GET", url + "?sid=" + session.replace("+", "%2B").replace("/", "%2F"))
    elif transport == "json_body":
        reply = http_request("POST", url, json_body={"blocking": True, "sid": session})
    else:
        reply = http_request("GET", url, body="sid=" + session.replace("+", "%2B"),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 200, reply


def test_b2_sid_lookup_order(pihole_standin, session):
    """B2: the header comes before the query string, so a bad header SID wins over a good query SID."""
    reply = http_request("GET", pihole_standin.base_url + "/api/dns/blocking?sid=" + session.replace("+", "%2B"),
                         headers={"X-FTL-SID": "wrongwrongwrongwrongwro"})
    assert reply.status == 401


def test_b2_cookie_needs_csrf(pihole_standin):
    """B2/C7: a cookie SID also needs the X-CSRF-TOKEN header on API calls."""
    session = login(pihole_standin)
    url = pihole_standin.base_url + "/api/dns/blocking"
    cookie = {"Cookie": "sid=" + session["sid"]}
    assert http_request("GET", url, headers=cookie).status == 401
    assert http_request("GET", url, headers=dict(cookie, **{"X-CSRF-TOKEN": "x" * 23})).status == 401
    assert http_request("GET", url, headers=dict(cookie, **{"X-CSRF-TOKEN": session["csrf"]})).status == 200
    assert http_request("GET", pihole_standin.base_url + "/api/auth", headers=cookie).status == 200


def test_b2_no_password_set(pihole_standin_factory):
    """B2: with no password set everything is open; /api/auth says valid:true, sid:null, "no password set"."""
    handle = pihole_standin_factory(password="")
    assert api(handle, "GET", "/api/config/dns/hosts").status == 200
    reply = http_request("GET", handle.base_url + "/api/auth")
    assert reply.status == 200
    assert reply.json()["session"] == {"valid": True, "totp": False, "sid": None, "validity": -1,
                                       "message": "no password set"}
    assert api(handle, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan").status == 201


def test_b2_app_password_needs_app_sudo(pihole_standin_factory):
    """B2: app-password sessions get 403 on config writes unless webserver.api.app_sudo is true."""
    toml = '[webserver.api]\n  app_pwhash = "%s"\n' % pihole_auth.create_password_hash("app-password-1")
    handle = pihole_standin_factory(toml=toml)
    session = login(handle, "app-password-1")
    assert session["message"] == "app-password correct"
    assert api(handle, "GET", "/api/config/dns/hosts", sid=session["sid"]).status == 200
    reply = api(handle, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session["sid"])
    assert reply.status == 403
    assert error_of(reply) == {
        "key": "forbidden", "message": "Unable to change configuration (read-only)",
        "hint": "The current app session is not allowed to modify Pi-hole config settings "
                "(webserver.api.app_sudo is false)"}
    sudo = pihole_standin_factory(toml=toml, env={"FTLCONF_webserver_api_app_sudo": "true"})
    sid = login(sudo, "app-password-1")["sid"]
    assert api(sudo, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=sid).status == 201


def test_b2_totp(pihole_standin_factory):
    """B2: with 2FA on, a missing totp is 400, an invalid or reused token 401."""
    secret = "JBSWY3DPEHPK3PXP"
    handle = pihole_standin_factory(env={"FTLCONF_webserver_api_totp_secret": secret})
    url = handle.base_url + "/api/auth"
    reply = http_request("POST", url, json_body={"password": handle.password})
    assert reply.status == 400 and error_of(reply)["message"] == "No 2FA token found in JSON payload"
    code = pihole_auth.totp_code(secret, int(handle.clock.now()) // 30)
    reply = http_request("POST", url, json_body={"password": handle.password, "totp": (code + 1) % 1000000})
    assert (reply.status, error_of(reply)["message"]) == (401, "Invalid 2FA token")
    handle.clock.advance(1)
    session = login(handle, totp=code)
    assert session["totp"] is True
    handle.clock.advance(1)
    reply = http_request("POST", url, json_body={"password": handle.password, "totp": code})
    assert (reply.status, error_of(reply)["message"]) == (401, "Reused 2FA token")


def test_b2_sessions_survive_restart_and_die_with_password_change(pihole_standin_factory):
    """B2: sessions survive FTL restarts and are cleared on a password change."""
    handle = pihole_standin_factory(password=None)
    password = handle.server.generated_password
    sid = login(handle, password)["sid"]
    handle.restart()
    assert api(handle, "GET", "/api/dns/blocking", sid=sid).status == 200
    reply = api(handle, "PATCH", "/api/config", {"config": {"webserver": {"api": {"password": "brand-new-pw"}}}},
                sid=sid)
    assert reply.status == 200
    assert api(handle, "GET", "/api/dns/blocking", sid=sid).status == 401
    login(handle, "brand-new-pw")


# --- B3. Local DNS --------------------------------------------------------------------------------------

def test_b3_get_hosts(pihole_standin, session):
    """B3: GET /api/config/dns/hosts returns {"config":{"dns":{"hosts":[...]}},"took"}."""
    assert api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session).status == 201
    body = api(pihole_standin, "GET", "/api/config/dns/hosts", sid=session).json()
    assert body["config"] == {"dns": {"hosts": ["192.168.11.10 nas.lan"]}}
    body = api(pihole_standin, "GET", "/api/config/dns/cnameRecords", sid=session).json()
    assert body["config"] == {"dns": {"cnameRecords": []}}


def test_b3_put_new_then_present(pihole_standin, session):
    """B3/C5: PUT of a new value is 201 {"took"}; the same value again is 400 "Item already present"."""
    reply = api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert reply.status == 201 and set(reply.json()) == {"took"}
    reply = api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": "Item already present",
                               "hint": "Uniqueness of items is enforced"}


def test_b3_value_is_percent_decoded(pihole_standin, session):
    """B3: civetweb percent-decodes the value; '#' goes as %23."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.11%20c.lan%20%23note", sid=session)
    assert hosts(pihole_standin, session) == ["192.168.11.11 c.lan #note"]


def test_b3_matching_is_exact(pihole_standin, session):
    """B3: matching is exact and case-sensitive (strcmp)."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20NAS.lan", sid=session).status == 201
    assert api(pihole_standin, "DELETE", "/api/config/dns/hosts/192.168.11.10%20Nas.lan", sid=session).status == 404
    assert hosts(pihole_standin, session) == ["192.168.11.10 nas.lan", "192.168.11.10 NAS.lan"]


@pytest.mark.parametrize("value,hint", [
    ("x%20nas.lan", 'dns.hosts[0]: neither a valid IPv4 nor IPv6 address ("x")'),
    ("192.168.11.10%20bad!name", 'dns.hosts[0]: invalid hostname ("bad!name")'),
    ("192.168.11.10", 'dns.hosts[0]: entry does not have at least one hostname ("192.168.11.10")'),
])
def test_b3_invalid_hosts_value(pihole_standin, session, value, hint):
    """B3: an invalid value is 400 "Invalid value" with the validator's hint."""
    reply = api(pihole_standin, "PUT", "/api/config/dns/hosts/" + value, sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": "Invalid value", "hint": hint}
    assert hosts(pihole_standin, session) == []


def test_b3_invalid_cname_value(pihole_standin, session):
    """B3: cnames need two or more non-empty parts."""
    reply = api(pihole_standin, "PUT", "/api/config/dns/cnameRecords/alias.lan", sid=session)
    assert reply.status == 400
    assert error_of(reply)["hint"] == "dns.cnameRecords[0]: not a valid CNAME definition (too few elements)"


def test_b3_delete(pihole_standin, session):
    """B3/C5: DELETE of a present value is 204 with an empty body; absent values and unknown paths 404 {"took"}."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    reply = api(pihole_standin, "DELETE", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert (reply.status, reply.body) == (204, b"")
    for path in ("/api/config/dns/hosts/192.168.11.10%20nas.lan", "/api/config/dns/nothing/x"):
        reply = api(pihole_standin, "DELETE", path, sid=session)
        assert reply.status == 404 and set(reply.json()) == {"took"}, path


def test_b3_value_cannot_contain_slash(pihole_standin, session):
    """B3: the value cannot contain '/', not even encoded."""
    reply = api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20a%2Fb.lan", sid=session)
    assert reply.status == 404 and set(reply.json()) == {"took"}


def test_b3_invalid_path_depth(pihole_standin, session):
    """B3: a path without an item is 400 "Invalid path depth"."""
    reply = api(pihole_standin, "PUT", "/api/config/dns", sid=session)
    assert reply.status == 400 and error_of(reply)["message"] == "Invalid path depth"


def test_b3_duplicate_cname_alias(pihole_standin, session):
    """B3: a cname whose alias exists with another target is 400 "Invalid configuration" (dnsmasq)."""
    assert api(pihole_standin, "PUT", "/api/config/dns/cnameRecords/alias.lan,nas.lan?restart=false",
               sid=session).status == 201
    reply = api(pihole_standin, "PUT", "/api/config/dns/cnameRecords/alias.lan,other.lan?restart=false", sid=session)
    assert reply.status == 400
    error = error_of(reply)
    assert (error["key"], error["message"]) == ("bad_request", "Invalid configuration")
    assert "duplicate CNAME" in error["hint"]
    assert pihole_standin.server.value("dns.cnameRecords") == ["alias.lan,nas.lan"]


def test_b3_env_forced_item_is_read_only(pihole_standin_factory):
    """B3/B7/C10: an item forced by FTLCONF_* cannot be changed through the API."""
    handle = pihole_standin_factory(env={"ftlconf_DNS_HOSTS": "192.168.11.5 forced.lan;192.168.11.6 forced2.lan"})
    sid = login(handle)["sid"]
    assert hosts(handle, sid) == ["192.168.11.5 forced.lan", "192.168.11.6 forced2.lan"]
    for method in ("PUT", "DELETE"):
        reply = api(handle, method, "/api/config/dns/hosts/192.168.11.5%20forced.lan", sid=sid)
        assert reply.status == 400
        assert error_of(reply) == {"key": "bad_request",
                                   "message": "Config items set via environment variables cannot be changed via the API",
                                   "hint": "dns.hosts"}
    assert "] ### CHANGED (env), default = []" in toml_of(handle)
    assert addresses(handle.query("forced2.lan")) == ["192.168.11.6"]


def test_b3_hosts_live_without_restart(pihole_standin, session):
    """B3: dns.hosts triggers no restart: DNS answers right away, custom.list is rewritten."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan%20files.lan", sid=session)
    assert pihole_standin.server.restart_count == 0
    assert addresses(pihole_standin.query("nas.lan")) == ["192.168.11.10"]
    assert addresses(pihole_standin.query("FILES.LAN")) == ["192.168.11.10"]
    with open(os.path.join(pihole_standin.config_dir, "hosts", "custom.list"), encoding="utf-8") as stream:
        assert "192.168.11.10 nas.lan files.lan\n" in stream.read()


def test_b3_dns_record_types(pihole_standin, session):
    """B3: A and AAAA from dns.hosts; a v4-only name gets NODATA for AAAA."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    api(pihole_standin, "PUT", "/api/config/dns/hosts/fd00::10%20nas.lan", sid=session)
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.20%20v4only.lan", sid=session)
    assert addresses(pihole_standin.query("nas.lan", "AAAA"), "AAAA") == ["fd00::10"]
    reply = pihole_standin.query("v4only.lan", "AAAA")
    assert (reply.rcode(), reply.answer) == (0, [])


def test_b3_cname_restarts_ftl(pihole_standin_factory):
    """B3/C9: a cnameRecords change restarts FTL after the reply: API and DNS refuse connections, then answer."""
    handle = pihole_standin_factory(restart_seconds=1.0)
    sid = login(handle)["sid"]
    api(handle, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=sid)
    reply = api(handle, "PUT", "/api/config/dns/cnameRecords/alias.lan,nas.lan", sid=sid)
    assert reply.status == 201
    url = handle.base_url + "/api/dns/blocking"
    assert wait_refused(url)
    assert dns_tcp_refused(handle.dns_port)
    assert wait_answering(url).status == 401
    assert handle.server.wait_ready()
    assert api(handle, "GET", "/api/dns/blocking", sid=sid).status == 200
    assert answers(handle.query("alias.lan")) == [("alias.lan", "CNAME", "nas.lan."), ("nas.lan", "A", "192.168.11.10")]


def test_b3_restart_false_saves_but_waits(pihole_standin, session):
    """B3/C9: with ?restart=false the change is saved but inactive until restartdns."""
    reply = api(pihole_standin, "PUT", "/api/config/dns/cnameRecords/alias.lan,upstream.natloop.test,300?restart=false",
                sid=session)
    assert reply.status == 201
    assert pihole_standin.server.value("dns.cnameRecords") == ["alias.lan,upstream.natloop.test,300"]
    assert pihole_standin.query("alias.lan").rcode() == 3
    assert pihole_standin.server.restart_count == 0
    reply = api(pihole_standin, "POST", "/api/action/restartdns", sid=session)
    assert reply.status == 200 and reply.json()["status"] == "success"
    assert pihole_standin.server.wait_ready()
    assert pihole_standin.server.restart_count == 1
    assert answers(pihole_standin.query("alias.lan")) == [("alias.lan", "CNAME", "upstream.natloop.test.")]
    assert pihole_standin.query("alias.lan").answer[0].ttl == 300


# --- B4. Blocking ---------------------------------------------------------------------------------------

def test_b4_blocking(pihole_standin, session):
    """B4: GET/POST /api/dns/blocking; blocked names answer 0.0.0.0 while enabled."""
    body = api(pihole_standin, "GET", "/api/dns/blocking", sid=session).json()
    assert (body["blocking"], body["timer"]) == ("enabled", None)
    assert addresses(pihole_standin.query("ads.natloop.test")) == ["0.0.0.0"]
    reply = api(pihole_standin, "POST", "/api/dns/blocking", {"blocking": False}, sid=session)
    assert reply.status == 200
    assert {key: value for key, value in reply.json().items() if key != "took"} == {"blocking": "disabled",
                                                                                    "timer": None}
    assert addresses(pihole_standin.query("ads.natloop.test")) == ["198.51.100.66"]
    assert "active = false" in toml_of(pihole_standin)


def test_b4_blocking_timer(pihole_standin, session):
    """B4: a timer flips blocking back when it runs out."""
    body = api(pihole_standin, "POST", "/api/dns/blocking", {"blocking": False, "timer": 30}, sid=session).json()
    assert (body["blocking"], body["timer"]) == ("disabled", 30)
    pihole_standin.clock.advance(31)
    body = api(pihole_standin, "GET", "/api/dns/blocking", sid=session).json()
    assert (body["blocking"], body["timer"]) == ("enabled", None)


def test_b4_blocking_needs_boolean(pihole_standin, session):
    """B4: a missing boolean is 400 body_error."""
    reply = api(pihole_standin, "POST", "/api/dns/blocking", {"blocking": "no"}, sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "body_error", "message": 'No "blocking" boolean in body data', "hint": None}


# --- B5. pihole.toml ------------------------------------------------------------------------------------

def test_b5_toml_changed_markers(pihole_standin, session):
    """B5: changed arrays are written with "### CHANGED, default = []"; the password as a BALLOON-SHA256 PHC hash."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    api(pihole_standin, "PUT", "/api/config/dns/cnameRecords/alias.lan,nas.lan?restart=false", sid=session)
    text = toml_of(pihole_standin)
    assert '[dns]\n' in text
    assert '  hosts = [\n    "192.168.11.10 nas.lan"\n  ] ### CHANGED, default = []\n' in text
    assert '  cnameRecords = [\n    "alias.lan,nas.lan"\n  ] ### CHANGED, default = []\n' in text
    parsed = tomllib.loads(text)
    assert parsed["dns"]["hosts"] == ["192.168.11.10 nas.lan"]
    assert parsed["webserver"]["api"]["pwhash"].startswith("$BALLOON-SHA256$v=1$")


def test_b5_toml_survives_restart(pihole_standin, session):
    """B5: pihole.toml is what FTL reads back when it starts."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    pihole_standin.restart()
    assert hosts(pihole_standin, session) == ["192.168.11.10 nas.lan"]


# --- B7. docker-pi-hole -----------------------------------------------------------------------------------

def test_b7_random_password_when_unset(pihole_standin_factory):
    """B7: with FTLCONF_webserver_api_password unset a random password is generated; the hash is kept after that."""
    handle = pihole_standin_factory(password=None)
    generated = handle.server.generated_password
    assert generated and len(generated) == 8
    pwhash = handle.server.value("webserver.api.pwhash")
    handle.restart()
    assert handle.server.value("webserver.api.pwhash") == pwhash
    login(handle, generated)


def test_b7_webpassword_file(pihole_standin_factory, tmp_path):
    """B7: WEBPASSWORD_FILE reads the password from /run/secrets/<name>."""
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    (secrets / "pihole_pw").write_text("from-a-secret\n", encoding="utf-8")
    handle = pihole_standin_factory(password=None, env={"WEBPASSWORD_FILE": "pihole_pw"}, secrets_dir=str(secrets))
    login(handle, "from-a-secret")


def test_b7_upstreams_from_env(pihole_standin, session):
    """B7: FTLCONF_dns_upstreams (';'-separated, IP#port) sets the upstreams unknown names go to."""
    body = api(pihole_standin, "GET", "/api/config/dns/upstreams", sid=session).json()
    assert body["config"]["dns"]["upstreams"] == [pihole_standin.upstream.address.replace(":", "#")]
    assert addresses(pihole_standin.query("upstream.natloop.test")) == ["198.51.100.80"]
    assert ("upstream.natloop.test", "A") in pihole_standin.upstream.zone.queries


def test_b7_empty_upstreams_default_to_google(pihole_standin_factory):
    """B7: empty upstreams default to 8.8.8.8 and 8.8.4.4 (the stand-in never contacts them: SERVFAIL)."""
    handle = pihole_standin_factory(env={"FTLCONF_dns_upstreams": ""})
    assert handle.server.value("dns.upstreams") == ["8.8.8.8", "8.8.4.4"]
    query = dns.message.make_query("upstream.natloop.test", "A")
    assert handle.server.resolve(query, "127.0.0.1").rcode() == 2


def test_b7_listening_mode(pihole_standin_factory):
    """B7: the default listening mode LOCAL ignores clients from other subnets; ALL answers them."""
    query = dns.message.make_query("pi.hole", "A")
    remote = non_local_address()
    local = pihole_standin_factory()
    assert local.server.value("dns.listeningMode") == "LOCAL"
    assert local.server.resolve(query, remote) is None
    assert local.server.resolve(query, "127.0.0.1") is not None
    every = pihole_standin_factory(env={"FTLCONF_dns_listeningMode": "ALL"})
    assert every.server.resolve(query, remote) is not None


def test_b7_pi_hole_name_answers(pihole_standin):
    """B7: the healthcheck's pi.hole query gets an answer."""
    reply = pihole_standin.query("pi.hole")
    assert reply.rcode() == 0 and len(addresses(reply)) == 1


def test_b7_dockerfile_interface():
    """B7: the image mimics pihole/pihole: EXPOSEd ports, no VOLUME, a healthcheck doing a DNS query."""
    path = os.path.join(os.path.dirname(__file__), "..", "standins", "docker", "pihole", "Dockerfile")
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    exposed = set(" ".join(re.findall(r"^EXPOSE (.+)$", text, re.M)).split())
    assert exposed == {"53/tcp", "53/udp", "67/udp", "80/tcp", "123/udp", "443/tcp"}
    assert re.search(r"^HEALTHCHECK CMD \[\"python3\", \"-m\", \"natloop_standins.healthcheck\"\]$", text, re.M)
    assert "VOLUME" not in text


# --- E. PATCH of the whole list ---------------------------------------------------------------------------

def test_e_patch_replaces_whole_list(pihole_standin, session):
    """E: PATCH /api/config replaces all of dns.hosts in one request; DNS answers at once, no restart."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.99%20old.lan", sid=session)
    entries = ["192.168.11.%d host%d.lan" % (i % 250 + 1, i) for i in range(1000)]
    started = time.monotonic()
    reply = api(pihole_standin, "PATCH", "/api/config", {"config": {"dns": {"hosts": entries}}}, sid=session)
    assert time.monotonic() - started < 2
    assert reply.status == 200
    assert reply.json()["config"]["dns"]["hosts"] == entries
    assert pihole_standin.server.restart_count == 0
    assert addresses(pihole_standin.query("host999.lan")) == ["192.168.11.250"]
    assert pihole_standin.query("old.lan").rcode() == 3


def test_e_patch_invalid_entry_changes_nothing(pihole_standin, session):
    """E: an invalid entry anywhere gives 400 "Config item validation failed" with dns.hosts[N] and changes nothing."""
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.99%20old.lan", sid=session)
    reply = api(pihole_standin, "PATCH", "/api/config",
                {"config": {"dns": {"hosts": ["192.168.11.1 a.lan", "nope b.lan"]}}}, sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": "Config item validation failed",
                               "hint": 'dns.hosts[1]: neither a valid IPv4 nor IPv6 address ("nope")'}
    assert hosts(pihole_standin, session) == ["192.168.11.99 old.lan"]


def test_e_patch_type_errors(pihole_standin, session):
    """E: a value of the wrong type is 400 "Config item is invalid"."""
    reply = api(pihole_standin, "PATCH", "/api/config", {"config": {"dns": {"hosts": "192.168.11.1 a.lan"}}},
                sid=session)
    assert reply.status == 400
    assert error_of(reply)["message"] == "Config item is invalid"
    assert error_of(reply)["hint"] == "dns.hosts: not of type array"


def test_e_patch_cname_records_restarts(pihole_standin, session):
    """E: dns.cnameRecords through PATCH restarts FTL like the per-item calls (unless ?restart=false)."""
    reply = api(pihole_standin, "PATCH", "/api/config?restart=false",
                {"config": {"dns": {"cnameRecords": ["a.lan,upstream.natloop.test"]}}}, sid=session)
    assert reply.status == 200 and pihole_standin.server.restart_count == 0
    reply = api(pihole_standin, "PATCH", "/api/config",
                {"config": {"dns": {"cnameRecords": ["b.lan,upstream.natloop.test"]}}}, sid=session)
    assert reply.status == 200
    assert pihole_standin.server.wait_ready()
    assert pihole_standin.server.restart_count == 1
    assert answers(pihole_standin.query("b.lan"))[0] == ("b.lan", "CNAME", "upstream.natloop.test.")


def test_e_patch_env_forced_and_read_only(pihole_standin_factory):
    """E/B7: PATCH of an env-forced item with another value is 400; misc.readOnly blocks PATCH."""
    handle = pihole_standin_factory(env={"FTLCONF_dns_hosts": "192.168.11.5 forced.lan"})
    sid = login(handle)["sid"]
    same = api(handle, "PATCH", "/api/config", {"config": {"dns": {"hosts": ["192.168.11.5 forced.lan"]}}}, sid=sid)
    assert same.status == 200
    reply = api(handle, "PATCH", "/api/config", {"config": {"dns": {"hosts": []}}}, sid=sid)
    assert reply.status == 400 and error_of(reply)["hint"] == "dns.hosts"
    locked = pihole_standin_factory(toml="[misc]\n  readOnly = true\n")
    sid = login(locked)["sid"]
    reply = api(locked, "PATCH", "/api/config", {"config": {"dns": {"hosts": []}}}, sid=sid)
    assert reply.status == 403
    assert error_of(reply) == {"key": "forbidden", "message": "The config is currently in read-only mode", "hint": None}
    assert api(locked, "PUT", "/api/config/dns/hosts/192.168.11.7%20x.lan", sid=sid).status == 201
