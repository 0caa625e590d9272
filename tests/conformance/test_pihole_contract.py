# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance of the Pi-hole v6 stand-in with CONTRACTS.md sections B and E, and with the
behaviour measured on the real pihole-FTL v6.4.1 (tests/standins/README.md, "Behaviour
contract", sections R1-R9).

Each test names the contract line it mirrors. Requests go over real HTTP and names are
resolved with real DNS queries. Tests taking the ``pihole`` fixture run against the
stand-in and, inside ``run-isolated`` (``make conformance-real``), against the real FTL
(see conftest.py). Tests taking ``pihole_standin`` run against the stand-in only; their
docstring says why.
"""

import os
import re
import socket
import threading
import time
import tomllib

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from natloop_standins import pihole_auth
from natloop_standins.netinfo import is_local_client
from natloop_standins.testclient import addresses, answers, http_request

JSON = "application/json; charset=utf-8"


def login(handle, password=None, **extra):
    if hasattr(handle, "login"):
        return handle.login(password, **extra)
    reply = http_request("POST", handle.base_url + "/api/auth", json_body=dict({"password": password or handle.password}, **extra))
    assert reply.status == 200, reply
    return reply.json()["session"]


def api(handle, method, path, json_body=None, sid=None, headers=None, body=None):
    headers = dict(headers or {})
    if sid:
        headers["X-FTL-SID"] = sid
    return http_request(method, handle.base_url + path, body=body, headers=headers, json_body=json_body)


@pytest.fixture
def standin_session(pihole_standin):
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

def test_b1_json_content_type_and_took(pihole, session):
    """B1: responses are application/json; charset=utf-8 and carry "took"."""
    reply = api(pihole, "GET", "/api/config/dns/hosts", sid=session)
    assert reply.header("Content-Type") == JSON
    body = reply.json()
    assert set(body) == {"config", "took"} and isinstance(body["took"], float)


def test_b1_missing_auth_is_401(pihole):
    """B1/C7: missing or invalid auth is 401 with key unauthorized (never a redirect)."""
    reply = api(pihole, "GET", "/api/config/dns/hosts")
    assert reply.status == 401
    assert error_of(reply) == {"key": "unauthorized", "message": "Unauthorized", "hint": None}
    reply = api(pihole, "GET", "/api/config/dns/hosts", sid="not-a-session")
    assert reply.status == 401


def test_b1_unknown_route_is_404(pihole, session):
    """B1: an unknown route is 404 with key not_found."""
    reply = api(pihole, "GET", "/api/nothing/here", sid=session)
    assert reply.status == 404 and error_of(reply)["key"] == "not_found"


# --- B2. Auth -----------------------------------------------------------------------------------------

def test_b2_login(pihole):
    """B2: a correct password gives the session object, a 23-char SID, validity 1800 and the sid cookie."""
    reply = http_request("POST", pihole.base_url + "/api/auth", json_body={"password": pihole.password})
    assert reply.status == 200
    body = reply.json()
    session = body["session"]
    assert set(session) == {"valid", "totp", "sid", "csrf", "validity", "message"}
    assert (session["valid"], session["totp"], session["validity"], session["message"]) == (
        True, False, 1800, "password correct")
    assert re.fullmatch(r"[A-Za-z0-9+/=]{23}", session["sid"]) and len(session["csrf"]) == 23
    assert reply.header("Set-Cookie") == "sid=%s; SameSite=Lax; Path=/; Max-Age=1800; HttpOnly" % session["sid"]


def test_b2_wrong_password(pihole):
    """B2: a wrong password is 401 with valid:false, sid:null, validity:-1, "password incorrect"."""
    reply = http_request("POST", pihole.base_url + "/api/auth", json_body={"password": "wrong"})
    assert reply.status == 401
    assert reply.json()["session"] == {"valid": False, "totp": False, "sid": None, "validity": -1,
                                       "message": "password incorrect"}


@pytest.mark.parametrize("body,message,hint", [
    (None, "No request body data", None),
    (b"{nope", "Invalid request body data (no valid JSON), error at hint", "ope"),
    (b'{"pw":"x"}', "No password found in JSON payload", None),
    (b'{"password":5}', "Field password has to be of type 'string'", None),
])
def test_b2_bad_login_bodies(pihole, body, message, hint):
    """B2: bad login bodies are 400 bad_request."""
    reply = http_request("POST", pihole.base_url + "/api/auth", body=body)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": message, "hint": hint}


def test_b2_rate_limit_more_than_three_per_second(pihole):
    """B2/C6: more than 3 password checks in one second (globally) give 429 rate_limiting.

    The checks are sent at the same time: on the real FTL one check takes about 0.2 s."""
    url = pihole.base_url + "/api/auth"
    replies = []

    def attempt():
        replies.append(http_request("POST", url, json_body={"password": "wrong"}))

    threads = [threading.Thread(target=attempt) for _attempt in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limited = [reply for reply in replies if reply.status == 429]
    assert limited and {reply.status for reply in replies} == {401, 429}, replies
    assert error_of(limited[0]) == {"key": "rate_limiting", "message": "Rate-limiting login attempts", "hint": None}
    pihole.advance(1.1)
    login(pihole)


def test_b2_successful_logins_do_not_count(pihole):
    """B2: successful logins do not count against the rate limit."""
    for _attempt in range(6):
        login(pihole)


def test_b2_sixteen_seats(pihole):
    """B2/C6: every login takes a new seat; 16 seats, then 429 api_seats_exceeded; DELETE frees one."""
    sids = [login(pihole)["sid"] for _attempt in range(16)]
    assert len(set(sids)) == 16
    reply = http_request("POST", pihole.base_url + "/api/auth", json_body={"password": pihole.password})
    assert reply.status == 429
    assert error_of(reply) == {"key": "api_seats_exceeded", "message": "API seats exceeded",
                               "hint": "increase webserver.api.max_sessions"}
    reply = api(pihole, "DELETE", "/api/auth", sid=sids[0])
    assert (reply.status, reply.body) == (204, b"")
    login(pihole)


def test_b2_expired_seats_are_reused(pihole_standin):
    """B2: an idle session expires after 1800 s and its seat is free for the next login
    (stand-in only: fake clock (1800 s))."""
    for _attempt in range(16):
        login(pihole_standin)
    pihole_standin.clock.advance(1801)
    login(pihole_standin)


def test_b2_get_auth_messages(pihole_standin):
    """B2: GET /api/auth is 200 with the session, or 401 no SID provided / session unknown / session expired
    (stand-in only: fake clock (1800 s))."""
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


def test_b2_idle_timeout_refreshed_by_every_call(pihole_standin, standin_session):
    """B2: the 1800 s idle timeout is refreshed by every authenticated call (stand-in only: fake clock)."""
    session = standin_session
    for _attempt in range(3):
        pihole_standin.clock.advance(1700)
        assert api(pihole_standin, "GET", "/api/dns/blocking", sid=session).status == 200
    pihole_standin.clock.advance(1801)
    assert api(pihole_standin, "GET", "/api/dns/blocking", sid=session).status == 401


def test_b2_delete_auth(pihole, session):
    """B2: DELETE /api/auth is 204 with no body and frees the seat; 401 without a valid session."""
    reply = api(pihole, "DELETE", "/api/auth", sid=session)
    assert (reply.status, reply.body) == (204, b"")
    reply = api(pihole, "GET", "/api/auth", sid=session)
    assert (reply.status, reply.json()["session"]["message"]) == (401, "session unknown")
    reply = api(pihole, "DELETE", "/api/auth", sid=session)
    assert reply.status == 401 and reply.json()["session"]["valid"] is False


@pytest.mark.parametrize("transport", ["header_sid", "header_x_ftl_sid", "query", "json_body", "form_body"])
def test_b2_sid_transports(pihole, session, transport):
    """B2/C7: the SID is read from the form body, JSON body, sid / X-FTL-SID header or the query."""
    url = pihole.base_url + "/api/dns/blocking"
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


def test_b2_sid_lookup_order(pihole, session):
    """B2: the header comes before the query string, so a bad header SID wins over a good query SID."""
    reply = http_request("GET", pihole.base_url + "/api/dns/blocking?sid=" + session.replace("+", "%2B"),
                         headers={"X-FTL-SID": "wrongwrongwrongwrongwro"})
    assert reply.status == 401


def test_b2_cookie_needs_csrf(pihole):
    """B2/C7: a cookie SID also needs the X-CSRF-TOKEN header on API calls."""
    session = login(pihole)
    url = pihole.base_url + "/api/dns/blocking"
    cookie = {"Cookie": "sid=" + session["sid"]}
    assert http_request("GET", url, headers=cookie).status == 401
    assert http_request("GET", url, headers=dict(cookie, **{"X-CSRF-TOKEN": "x" * 23})).status == 401
    assert http_request("GET", url, headers=dict(cookie, **{"X-CSRF-TOKEN": session["csrf"]})).status == 200
    assert http_request("GET", pihole.base_url + "/api/auth", headers=cookie).status == 200


def test_b2_no_password_set(pihole_standin_factory):
    """B2: with no password set everything is open; /api/auth says valid:true, sid:null, "no password set"
    (stand-in only: run-isolated always sets a password)."""
    handle = pihole_standin_factory(password="")
    assert api(handle, "GET", "/api/config/dns/hosts").status == 200
    reply = http_request("GET", handle.base_url + "/api/auth")
    assert reply.status == 200
    assert reply.json()["session"] == {"valid": True, "totp": False, "sid": None, "validity": -1,
                                       "message": "no password set"}
    assert api(handle, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan").status == 201


def test_b2_app_password_needs_app_sudo(pihole_standin_factory):
    """B2: app-password sessions get 403 on config writes unless webserver.api.app_sudo is true
    (stand-in only: another pihole.toml and environment)."""
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
    """B2: with 2FA on, a missing totp is 400, an invalid or reused token 401
    (stand-in only: a TOTP secret and the fake clock)."""
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
    """B2: sessions survive FTL restarts and are cleared on a password change
    (stand-in only: changes the password of the FTL other tests share)."""
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

def test_b3_get_hosts(pihole, session):
    """B3: GET /api/config/dns/hosts returns {"config":{"dns":{"hosts":[...]}},"took"}."""
    assert api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session).status == 201
    body = api(pihole, "GET", "/api/config/dns/hosts", sid=session).json()
    assert body["config"] == {"dns": {"hosts": ["192.168.11.10 nas.lan"]}}
    body = api(pihole, "GET", "/api/config/dns/cnameRecords", sid=session).json()
    assert body["config"] == {"dns": {"cnameRecords": []}}


def test_b3_put_new_then_present(pihole, session):
    """B3/C5: PUT of a new value is 201 {"took"}; the same value again is 400 "Item already present"."""
    reply = api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert reply.status == 201 and set(reply.json()) == {"took"}
    reply = api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": "Item already present",
                               "hint": "Uniqueness of items is enforced"}


def test_b3_value_is_percent_decoded(pihole, session):
    """B3: civetweb percent-decodes the value; '#' goes as %23."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.11%20c.lan%20%23note", sid=session)
    assert hosts(pihole, session) == ["192.168.11.11 c.lan #note"]


def test_b3_matching_is_exact(pihole, session):
    """B3: matching is exact and case-sensitive (strcmp)."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20NAS.lan", sid=session).status == 201
    assert api(pihole, "DELETE", "/api/config/dns/hosts/192.168.11.10%20Nas.lan", sid=session).status == 404
    assert hosts(pihole, session) == ["192.168.11.10 nas.lan", "192.168.11.10 NAS.lan"]


@pytest.mark.parametrize("value,hint", [
    ("x%20nas.lan", 'dns.hosts[0]: neither a valid IPv4 nor IPv6 address ("x")'),
    ("192.168.11.10%20bad!name", 'dns.hosts[0]: invalid hostname ("bad!name")'),
    ("192.168.11.10", 'dns.hosts[0]: entry does not have at least one hostname ("192.168.11.10")'),
])
def test_b3_invalid_hosts_value(pihole, session, value, hint):
    """B3: an invalid value is 400 "Invalid value" with the validator's hint."""
    reply = api(pihole, "PUT", "/api/config/dns/hosts/" + value, sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": "Invalid value", "hint": hint}
    assert hosts(pihole, session) == []


def test_b3_invalid_cname_value(pihole, session):
    """B3: cnames need two or more non-empty parts."""
    reply = api(pihole, "PUT", "/api/config/dns/cnameRecords/alias.lan", sid=session)
    assert reply.status == 400
    assert error_of(reply)["hint"] == "dns.cnameRecords[0]: not a valid CNAME definition (too few elements)"


def test_b3_delete(pihole, session):
    """B3/C5: DELETE of a present value is 204 with an empty body; absent values and unknown paths 404 {"took"}."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    reply = api(pihole, "DELETE", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    assert (reply.status, reply.body) == (204, b"")
    for path in ("/api/config/dns/hosts/192.168.11.10%20nas.lan", "/api/config/dns/nothing/x"):
        reply = api(pihole, "DELETE", path, sid=session)
        assert reply.status == 404 and set(reply.json()) == {"took"}, path


def test_b3_value_cannot_contain_slash(pihole, session):
    """B3: the value cannot contain '/', not even encoded."""
    reply = api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20a%2Fb.lan", sid=session)
    assert reply.status == 404 and set(reply.json()) == {"took"}


def test_b3_invalid_path_depth(pihole, session):
    """B3: a path without an item is 400 "Invalid path depth"."""
    reply = api(pihole, "PUT", "/api/config/dns", sid=session)
    assert reply.status == 400 and error_of(reply)["message"] == "Invalid path depth"


def test_b3_duplicate_cname_alias(pihole, session):
    """B3: a cname whose alias exists with another target is 400 "Invalid configuration" (dnsmasq)."""
    assert api(pihole, "PUT", "/api/config/dns/cnameRecords/alias.lan,nas.lan?restart=false",
               sid=session).status == 201
    reply = api(pihole, "PUT", "/api/config/dns/cnameRecords/alias.lan,other.lan?restart=false", sid=session)
    assert reply.status == 400
    error = error_of(reply)
    assert (error["key"], error["message"]) == ("bad_request", "Invalid configuration")
    # The real FTL cuts a varying number of leading characters off dnsmasq's message
    # ("dnsmasq: duplicate CNAME at line 91 ..." in one run, "uplicate CNAME at line 91 ..." in another).
    assert re.search(r'CNAME at line \d+ of /etc/pihole/dnsmasq.conf.temp: "cname=alias.lan,other.lan"$',
                     error["hint"]), error
    body = api(pihole, "GET", "/api/config/dns/cnameRecords", sid=session).json()
    assert body["config"]["dns"]["cnameRecords"] == ["alias.lan,nas.lan"]


def test_b3_env_forced_item_is_read_only(pihole_standin_factory):
    """B3/B7/C10: an item forced by FTLCONF_* cannot be changed through the API
    (stand-in only: the container environment)."""
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


def test_b3_hosts_live_without_restart(pihole, session):
    """B3: dns.hosts triggers no restart: DNS answers right away, custom.list is rewritten."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan%20files.lan", sid=session)
    assert addresses(pihole.query("nas.lan")) == ["192.168.11.10"]
    assert addresses(pihole.query("FILES.LAN")) == ["192.168.11.10"]
    with open(os.path.join(pihole.config_dir, "hosts", "custom.list"), encoding="utf-8") as stream:
        assert "192.168.11.10 nas.lan files.lan\n" in stream.read()


def test_b3_dns_record_types(pihole, session):
    """B3: A and AAAA from dns.hosts; a v4-only name gets NODATA for AAAA."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    api(pihole, "PUT", "/api/config/dns/hosts/fd00::10%20nas.lan", sid=session)
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.20%20v4only.lan", sid=session)
    assert addresses(pihole.query("nas.lan", "AAAA"), "AAAA") == ["fd00::10"]
    reply = pihole.query("v4only.lan", "AAAA")
    assert (reply.rcode(), reply.answer) == (0, [])


def test_b3_cname_restarts_ftl(pihole, session):
    """B3/C9/R4: a cnameRecords change restarts FTL after the reply; then the new process answers."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    reply = api(pihole, "PUT", "/api/config/dns/cnameRecords/alias.lan,nas.lan", sid=session)
    assert reply.status == 201
    pihole.wait_restarted()
    assert api(pihole, "GET", "/api/dns/blocking", sid=session).status == 200
    assert answers(pihole.query("alias.lan")) == [("alias.lan", "CNAME", "nas.lan."), ("nas.lan", "A", "192.168.11.10")]


def test_b3_restart_false_saves_but_waits(pihole, session):
    """B3/C9: with ?restart=false the change is saved but inactive until restartdns."""
    reply = api(pihole, "PUT", "/api/config/dns/cnameRecords/alias.lan,upstream.natloop.test,300?restart=false",
                sid=session)
    assert reply.status == 201
    body = api(pihole, "GET", "/api/config/dns/cnameRecords", sid=session).json()
    assert body["config"]["dns"]["cnameRecords"] == ["alias.lan,upstream.natloop.test,300"]
    assert pihole.query("alias.lan").rcode() == 3
    reply = api(pihole, "POST", "/api/action/restartdns", sid=session)
    assert reply.status == 200 and reply.json()["status"] == "success"
    pihole.wait_restarted()
    assert answers(pihole.query("alias.lan")) == [("alias.lan", "CNAME", "upstream.natloop.test.")]
    assert pihole.query("alias.lan").answer[0].ttl == 300


# --- B4. Blocking ---------------------------------------------------------------------------------------

def test_b4_blocking(gravity, session):
    """B4/R7: GET/POST /api/dns/blocking; a denied name answers 0.0.0.0 while enabled, upstream's answer when not."""
    pihole = gravity
    name = pihole.label("denied") + ".example.com"
    pihole.upstream.zone.add(name, "A", "198.51.100.66")
    body = api(pihole, "GET", "/api/dns/blocking", sid=session).json()
    assert (body["blocking"], body["timer"]) == ("enabled", None)
    assert api(pihole, "POST", "/api/domains/deny/exact", {"domain": name}, sid=session).status == 201
    assert pihole.wait_answer(name, ["0.0.0.0"]) == ["0.0.0.0"]
    reply = api(pihole, "POST", "/api/dns/blocking", {"blocking": False}, sid=session)
    assert reply.status == 200
    assert {key: value for key, value in reply.json().items() if key != "took"} == {"blocking": "disabled",
                                                                                    "timer": None}
    assert addresses(pihole.query(name)) == ["198.51.100.66"]
    assert "active = false" in toml_of(pihole)


def test_b4_blocking_timer(pihole, session):
    """B4: a timer flips blocking back when it runs out."""
    body = api(pihole, "POST", "/api/dns/blocking", {"blocking": False, "timer": 2}, sid=session).json()
    assert body["blocking"] == "disabled" and 1 < body["timer"] <= 2
    pihole.advance(2.5)
    body = api(pihole, "GET", "/api/dns/blocking", sid=session).json()
    assert (body["blocking"], body["timer"]) == ("enabled", None)


def test_b4_blocking_needs_boolean(pihole, session):
    """B4: a missing boolean is 400 body_error."""
    reply = api(pihole, "POST", "/api/dns/blocking", {"blocking": "no"}, sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "body_error", "message": 'No "blocking" boolean in body data', "hint": None}


# --- B5. pihole.toml ------------------------------------------------------------------------------------

def test_b5_toml_changed_markers(pihole, session):
    """B5: changed arrays are written with "### CHANGED, default = []"; the password as a BALLOON-SHA256 PHC hash."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    api(pihole, "PUT", "/api/config/dns/cnameRecords/alias.lan,nas.lan?restart=false", sid=session)
    text = toml_of(pihole)
    assert '[dns]\n' in text
    assert '  hosts = [\n    "192.168.11.10 nas.lan"\n  ] ### CHANGED, default = []\n' in text
    assert '  cnameRecords = [\n    "alias.lan,nas.lan"\n  ] ### CHANGED, default = []\n' in text
    parsed = tomllib.loads(text)
    assert parsed["dns"]["hosts"] == ["192.168.11.10 nas.lan"]
    assert parsed["webserver"]["api"]["pwhash"].startswith("$BALLOON-SHA256$v=1$")


def test_b5_toml_survives_restart(pihole_standin, standin_session):
    """B5: pihole.toml is what FTL reads back when it starts (stand-in only: a process restart)."""
    session = standin_session
    api(pihole_standin, "PUT", "/api/config/dns/hosts/192.168.11.10%20nas.lan", sid=session)
    pihole_standin.restart()
    assert hosts(pihole_standin, session) == ["192.168.11.10 nas.lan"]


# --- B7. docker-pi-hole -----------------------------------------------------------------------------------

def test_b7_random_password_when_unset(pihole_standin_factory):
    """B7: with FTLCONF_webserver_api_password unset a random password is generated; the hash is kept after that
    (stand-in only: docker-pi-hole's start-up)."""
    handle = pihole_standin_factory(password=None)
    generated = handle.server.generated_password
    assert generated and len(generated) == 8
    pwhash = handle.server.value("webserver.api.pwhash")
    handle.restart()
    assert handle.server.value("webserver.api.pwhash") == pwhash
    login(handle, generated)


def test_b7_webpassword_file(pihole_standin_factory, tmp_path):
    """B7: WEBPASSWORD_FILE reads the password from /run/secrets/<name> (stand-in only: docker-pi-hole's start-up)."""
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    (secrets / "pihole_pw").write_text("from-a-secret\n", encoding="utf-8")
    handle = pihole_standin_factory(password=None, env={"WEBPASSWORD_FILE": "pihole_pw"}, secrets_dir=str(secrets))
    login(handle, "from-a-secret")


def test_b7_upstreams_from_env(pihole_standin, standin_session):
    """B7: FTLCONF_dns_upstreams (';'-separated, IP#port) sets the upstreams unknown names go to
    (stand-in only: the container environment)."""
    session = standin_session
    body = api(pihole_standin, "GET", "/api/config/dns/upstreams", sid=session).json()
    assert body["config"]["dns"]["upstreams"] == [pihole_standin.upstream.address.replace(":", "#")]
    assert addresses(pihole_standin.query("upstream.example.com")) == ["198.51.100.80"]
    assert ("upstream.example.com", "A") in pihole_standin.upstream.zone.queries


def test_b7_empty_upstreams_default_to_google(pihole_standin_factory):
    """B7: empty upstreams default to 8.8.8.8 and 8.8.4.4 (the stand-in never contacts them: SERVFAIL)
    (stand-in only: docker-pi-hole's start-up)."""
    handle = pihole_standin_factory(env={"FTLCONF_dns_upstreams": ""})
    assert handle.server.value("dns.upstreams") == ["8.8.8.8", "8.8.4.4"]
    query = dns.message.make_query("upstream.example.com", "A")
    assert handle.server.resolve(query, "127.0.0.1").rcode() == 2


def test_b7_listening_mode(pihole_standin_factory):
    """B7: the default listening mode LOCAL ignores clients from other subnets; ALL answers them
    (stand-in only: clients from another subnet)."""
    query = dns.message.make_query("pi.hole", "A")
    remote = non_local_address()
    local = pihole_standin_factory()
    assert local.server.value("dns.listeningMode") == "LOCAL"
    assert local.server.resolve(query, remote) is None
    assert local.server.resolve(query, "127.0.0.1") is not None
    every = pihole_standin_factory(env={"FTLCONF_dns_listeningMode": "ALL"})
    assert every.server.resolve(query, remote) is not None


def test_b7_pi_hole_name_answers(pihole):
    """B7: the healthcheck's pi.hole query gets an answer."""
    reply = pihole.query("pi.hole")
    assert reply.rcode() == 0 and len(addresses(reply)) == 1


def test_b7_dockerfile_interface():
    """B7: the image mimics pihole/pihole: EXPOSEd ports, no VOLUME, a healthcheck doing a DNS query
    (stand-in only: the stand-in's image)."""
    path = os.path.join(os.path.dirname(__file__), "..", "standins", "docker", "pihole", "Dockerfile")
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    exposed = set(" ".join(re.findall(r"^EXPOSE (.+)$", text, re.M)).split())
    assert exposed == {"53/tcp", "53/udp", "67/udp", "80/tcp", "123/udp", "443/tcp"}
    assert re.search(r"^HEALTHCHECK CMD \[\"python3\", \"-m\", \"natloop_standins.healthcheck\"\]$", text, re.M)
    assert "VOLUME" not in text


# --- E. PATCH of the whole list ---------------------------------------------------------------------------

def test_e_patch_replaces_whole_list(pihole, session):
    """E: PATCH /api/config replaces all of dns.hosts in one request; DNS answers at once, no restart."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.99%20old.lan", sid=session)
    entries = ["192.168.11.%d host%d.lan" % (i % 250 + 1, i) for i in range(1000)]
    started = time.monotonic()
    reply = api(pihole, "PATCH", "/api/config", {"config": {"dns": {"hosts": entries}}}, sid=session)
    assert time.monotonic() - started < 2
    assert reply.status == 200
    assert reply.json()["config"]["dns"]["hosts"] == entries
    assert addresses(pihole.query("host999.lan")) == ["192.168.11.250"]
    assert pihole.query("old.lan").rcode() == 3


def test_e_patch_invalid_entry_changes_nothing(pihole, session):
    """E: an invalid entry anywhere gives 400 "Config item validation failed" with dns.hosts[N] and changes nothing."""
    api(pihole, "PUT", "/api/config/dns/hosts/192.168.11.99%20old.lan", sid=session)
    reply = api(pihole, "PATCH", "/api/config",
                {"config": {"dns": {"hosts": ["192.168.11.1 a.lan", "nope b.lan"]}}}, sid=session)
    assert reply.status == 400
    assert error_of(reply) == {"key": "bad_request", "message": "Config item validation failed",
                               "hint": 'dns.hosts[1]: neither a valid IPv4 nor IPv6 address ("nope")'}
    assert hosts(pihole, session) == ["192.168.11.99 old.lan"]


def test_e_patch_type_errors(pihole, session):
    """E: a value of the wrong type is 400 "Config item is invalid"."""
    reply = api(pihole, "PATCH", "/api/config", {"config": {"dns": {"hosts": "192.168.11.1 a.lan"}}},
                sid=session)
    assert reply.status == 400
    assert error_of(reply)["message"] == "Config item is invalid"
    assert error_of(reply)["hint"] == "dns.hosts: not of type array"


def test_e_patch_cname_records_restarts(pihole, session):
    """E: dns.cnameRecords through PATCH restarts FTL like the per-item calls (unless ?restart=false)."""
    reply = api(pihole, "PATCH", "/api/config?restart=false",
                {"config": {"dns": {"cnameRecords": ["a.lan,upstream.natloop.test"]}}}, sid=session)
    assert reply.status == 200
    assert pihole.query("a.lan").rcode() == 3
    reply = api(pihole, "PATCH", "/api/config",
                {"config": {"dns": {"cnameRecords": ["b.lan,upstream.natloop.test"]}}}, sid=session)
    assert reply.status == 200
    pihole.wait_restarted()
    assert answers(pihole.query("b.lan"))[0] == ("b.lan", "CNAME", "upstream.natloop.test.")


def test_e_patch_env_forced_and_read_only(pihole_standin_factory):
    """E/B7: PATCH of an env-forced item with another value is 400; misc.readOnly blocks PATCH
    (stand-in only: the container environment and another pihole.toml)."""
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


# --- R. Behaviour measured on the real FTL v6.4.1 (tests/standins/README.md, "Behaviour contract") -------
# Source: ../shared/peers/pihole-ftl/README.md and ../shared/peers/pihole-image/README.md (measured
# on the binary), FTL src/config/dnsmasq_config.c (the generated dnsmasq.conf), src/api/list.c.

def flags_of(reply):
    return dns.flags.to_text(reply.flags).split()


def put_hosts(pihole, session, *entries):
    reply = api(pihole, "PATCH", "/api/config", {"config": {"dns": {"hosts": list(entries)}}}, sid=session)
    assert reply.status == 200, reply


def test_r1_a_only_name_forwards_other_types(pihole, session):
    """R1: for a name with only A entries in dns.hosts, AAAA/HTTPS/SVCB/MX/TXT go to the upstreams."""
    name = pihole.label("svc") + ".example.com"
    values = {"AAAA": "2001:db8::7", "HTTPS": '1 . alpn="h2"', "SVCB": '1 . alpn="h2"',
              "MX": "10 mail.example.com.", "TXT": '"hello"'}
    pihole.upstream.zone.add(name, "A", "198.51.100.7")
    for rdtype, value in values.items():
        pihole.upstream.zone.add(name, rdtype, value)
    put_hosts(pihole, session, "192.168.11.10 " + name)
    assert addresses(pihole.query(name)) == ["192.168.11.10"]
    for rdtype, value in values.items():
        reply = pihole.query(name, rdtype)
        assert [found for _owner, _kind, found in answers(reply, rdtype)] == [value], rdtype
        assert (name, rdtype) in pihole.upstream.zone.queries
    assert (name, "A") not in pihole.upstream.zone.queries


def test_r1_aaaa_only_name_forwards_a_and_subnames(pihole, session):
    """R1: an AAAA-only name gets its A from the upstreams; names below a local name are forwarded too."""
    name = pihole.label("six") + ".example.com"
    pihole.upstream.zone.add(name, "A", "198.51.100.8").add("www." + name, "A", "198.51.100.9")
    put_hosts(pihole, session, "fd00::8 " + name)
    assert addresses(pihole.query(name, "AAAA"), "AAAA") == ["fd00::8"]
    assert addresses(pihole.query(name)) == ["198.51.100.8"]
    assert addresses(pihole.query("www." + name)) == ["198.51.100.9"]


def test_r2_local_answers_are_authoritative_with_ttl_0(pihole, session):
    """R2: local answers (dns.hosts A/AAAA, cnameRecords) carry the aa flag and TTL 0."""
    put_hosts(pihole, session, "192.168.11.10 nas.lan", "fd00::10 nas.lan")
    for rdtype in ("A", "AAAA"):
        reply = pihole.query("nas.lan", rdtype)
        assert "AA" in flags_of(reply) and [rrset.ttl for rrset in reply.answer] == [0], reply
    reply = api(pihole, "PATCH", "/api/config", {"config": {"dns": {"cnameRecords": ["alias.lan,nas.lan"]}}},
                sid=session)
    assert reply.status == 200
    pihole.wait_restarted()
    reply = pihole.query("alias.lan")
    assert "AA" in flags_of(reply)
    assert [(rrset.ttl, dns.rdatatype.to_text(rrset.rdtype)) for rrset in reply.answer] == [(0, "CNAME"), (0, "A")]


def test_r3_dnsmasq_lines_local_makes_a_name_local_only(pihole, session):
    """R3: misc.dnsmasq_lines ["local=/<name>/"] restarts FTL; other types get NOERROR with no
    answer, names below get NXDOMAIN, none of them is forwarded."""
    name = pihole.label("loc") + ".example.com"
    pihole.upstream.zone.add(name, "AAAA", "2001:db8::7").add(name, "MX", "10 mail.example.com.")
    pihole.upstream.zone.add(name, "TXT", '"x"').add(name, "HTTPS", "1 .").add("a." + name, "A", "198.51.100.9")
    put_hosts(pihole, session, "192.168.11.10 " + name)
    reply = api(pihole, "PATCH", "/api/config", {"config": {"misc": {"dnsmasq_lines": ["local=/%s/" % name]}}},
                sid=session)
    assert reply.status == 200 and reply.json()["config"]["misc"]["dnsmasq_lines"] == ["local=/%s/" % name]
    pihole.wait_restarted()
    assert addresses(pihole.query(name)) == ["192.168.11.10"]
    for rdtype in ("AAAA", "MX", "TXT", "HTTPS"):
        reply = pihole.query(name, rdtype)
        assert (reply.rcode(), reply.answer) == (dns.rcode.NOERROR, []), rdtype
    assert pihole.query("a." + name).rcode() == dns.rcode.NXDOMAIN
    assert [query for query in pihole.upstream.zone.queries if query[0].endswith(name)] == []


def test_r3_dnsmasq_lines_local_without_records_is_nxdomain(pihole, session):
    """R3: a local=/<name>/ name without local records gets NXDOMAIN (the upstream's A is never asked)."""
    name = pihole.label("empty") + ".example.com"
    pihole.upstream.zone.add(name, "A", "198.51.100.30")
    reply = api(pihole, "PATCH", "/api/config", {"config": {"misc": {"dnsmasq_lines": ["local=/%s/" % name]}}},
                sid=session)
    assert reply.status == 200
    pihole.wait_restarted()
    assert pihole.query(name).rcode() == dns.rcode.NXDOMAIN
    assert (name, "A") not in pihole.upstream.zone.queries


def test_r3_dnsmasq_lines_bad_option(pihole, session):
    """R3: a line dnsmasq rejects is 400 "Invalid configuration" with dnsmasq's message; nothing changes."""
    reply = api(pihole, "PATCH", "/api/config",
                {"config": {"misc": {"dnsmasq_lines": ["local=/x.example.com/", "nonsense-option=1"]}}}, sid=session)
    assert reply.status == 400
    error = error_of(reply)
    assert (error["key"], error["message"]) == ("bad_request", "Invalid configuration")
    # As for duplicate CNAMEs, the real FTL cuts leading characters off dnsmasq's message ("ad option ...").
    assert re.search(r'option at line \d+ of /etc/pihole/dnsmasq.conf.temp: "nonsense-option=1"$',
                     error["hint"]), error
    body = api(pihole, "GET", "/api/config/misc/dnsmasq_lines", sid=session).json()
    assert body["config"]["misc"]["dnsmasq_lines"] == []


def test_r4_restart_old_process_answers_then_gap(pihole, session):
    """R4: after a reply that restarts FTL, the old process still answers the API for a moment
    (DNS stops within about 50 ms); then neither API nor DNS answers for a short gap; then both do."""
    put_hosts(pihole, session, "192.168.11.10 nas.lan")
    reply = api(pihole, "PATCH", "/api/config", {"config": {"dns": {"cnameRecords": ["alias.lan,nas.lan"]}}},
                sid=session)
    assert reply.status == 200
    # The old process: its API answers a request sent right after the reply.
    assert api(pihole, "GET", "/api/dns/blocking", sid=session).status == 200
    api_gap = dns_gap = False
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        api_up = pihole.api_answers(timeout=0.2)
        dns_up = pihole.dns_answers(timeout=0.05)
        api_gap, dns_gap = api_gap or not api_up, dns_gap or not dns_up
        if api_gap and dns_gap and api_up and dns_up:
            break
        time.sleep(0.005)
    assert api_gap and dns_gap, "no gap seen: API %s, DNS %s" % (api_gap, dns_gap)
    assert api_up and dns_up, "not back within 15 s"
    assert answers(pihole.query("alias.lan"))[0] == ("alias.lan", "CNAME", "nas.lan.")


def test_r5_concurrent_patches_serialize(pihole_standin, standin_session):
    """R5: concurrent PATCH /api/config requests are applied one after the other: each gets 200 and
    the list is one writer's whole list. Stand-in only: on the real FTL v6.4.1 two simultaneous
    PATCHes crashed FTL once (peer README), and this suite must not take the shared FTL down."""
    lists = [["192.168.11.%d w%d-%d.lan" % (n + 1, writer, n) for n in range(200)] for writer in range(4)]
    results = []

    def write(entries):
        results.append(api(pihole_standin, "PATCH", "/api/config", {"config": {"dns": {"hosts": entries}}},
                           sid=standin_session).status)

    threads = [threading.Thread(target=write, args=(entries,)) for entries in lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 4
    assert hosts(pihole_standin, standin_session) in lists


@pytest.mark.parametrize("zone", ["test", "invalid", "onion", "bind", "home.arpa", "internal", "lan", "pi.hole"])
def test_r6_local_only_domains_never_forwarded(pihole, session, zone):
    """R6: RFC 6761 names (server=/test/ ...) and local=/home.arpa/, internal, lan, pi.hole are never
    forwarded, with blocking on or off: NXDOMAIN; local records under them still answer."""
    name = "%s.%s" % (pihole.label("x"), zone)
    pihole.upstream.zone.add(name, "A", "198.51.100.12")
    assert pihole.query(name).rcode() == dns.rcode.NXDOMAIN
    assert api(pihole, "POST", "/api/dns/blocking", {"blocking": False}, sid=session).status == 200
    assert pihole.query(name).rcode() == dns.rcode.NXDOMAIN
    assert pihole.upstream.zone.queries == []
    if zone != "pi.hole":
        local = "%s.%s" % (pihole.label("rec"), zone)
        put_hosts(pihole, session, "192.168.11.20 " + local)
        assert addresses(pihole.query(local)) == ["192.168.11.20"]
        reply = pihole.query(local, "AAAA")
        assert (reply.rcode(), reply.answer) == (dns.rcode.NOERROR, [])
        assert pihole.upstream.zone.queries == []


def test_r7_no_blocking_without_gravity_or_deny_entry(pihole, session):
    """R7: with blocking on, empty gravity and no deny entry, nothing is blocked: names are forwarded."""
    name = pihole.label("ads") + ".example.com"
    pihole.upstream.zone.add(name, "A", "198.51.100.66")
    body = api(pihole, "GET", "/api/dns/blocking", sid=session).json()
    assert body["blocking"] == "enabled"
    assert addresses(pihole.query(name)) == ["198.51.100.66"]


def test_r7_deny_list_api(gravity, session):
    """R7: /api/domains/deny/exact: POST (string or array, lower-cased) 201 with "domains" and
    "processed"; a duplicate is 201 with a processed error; GET; DELETE 204, then 404 {"took"}."""
    pihole = gravity
    url = "/api/domains/deny/exact"
    reply = api(pihole, "POST", url, {"domain": "Blocked.Example.com", "comment": "lab"}, sid=session)
    assert reply.status == 201
    body = reply.json()
    assert set(body) == {"domains", "processed", "took"}
    row = body["domains"][0]
    assert {key: row[key] for key in ("domain", "unicode", "type", "kind", "comment", "groups", "enabled")} == {
        "domain": "blocked.example.com", "unicode": "blocked.example.com", "type": "deny", "kind": "exact",
        "comment": "lab", "groups": [0], "enabled": True}
    assert body["processed"] == {"errors": [], "success": [{"item": "blocked.example.com"}]}
    reply = api(pihole, "POST", url, {"domain": "blocked.example.com"}, sid=session)
    assert reply.status == 201
    assert reply.json()["processed"] == {"errors": [{"item": "blocked.example.com", "error":
                                                     "UNIQUE constraint failed: domainlist.domain, domainlist.type"}],
                                         "success": []}
    reply = api(pihole, "POST", url, {"domain": ["b.example.com", "c.example.com"]}, sid=session)
    assert reply.status == 201 and len(reply.json()["processed"]["success"]) == 2
    listed = api(pihole, "GET", url, sid=session).json()["domains"]
    assert [row["domain"] for row in listed] == ["blocked.example.com", "b.example.com", "c.example.com"]
    assert [row["domain"] for row in api(pihole, "GET", url + "/b.example.com", sid=session).json()["domains"]] == [
        "b.example.com"]
    reply = api(pihole, "POST", url, {}, sid=session)
    assert (reply.status, error_of(reply)["key"]) == (400, "bad_request")
    reply = api(pihole, "POST", url + "/x.example.com", {"domain": "x.example.com"}, sid=session)
    assert (reply.status, error_of(reply)["key"]) == (400, "uri_error")
    reply = api(pihole, "DELETE", url + "/blocked.example.com", sid=session)
    assert (reply.status, reply.body) == (204, b"")
    reply = api(pihole, "DELETE", url + "/blocked.example.com", sid=session)
    assert reply.status == 404 and set(reply.json()) == {"took"}


def test_r7_deny_entry_blocks_while_blocking_is_on(gravity, session):
    """R7: a deny entry answers A 0.0.0.0 and AAAA :: (aa, TTL dns.blockTTL = 2) while blocking is on;
    with blocking off, or once the entry is deleted, the upstream's answer."""
    pihole = gravity
    name = pihole.label("deny") + ".example.com"
    pihole.upstream.zone.add(name, "A", "198.51.100.9")
    assert addresses(pihole.query(name)) == ["198.51.100.9"]
    assert api(pihole, "POST", "/api/domains/deny/exact", {"domain": name}, sid=session).status == 201
    # The real FTL reloads its lists asynchronously: 2-140 ms measured, also for a name asked before.
    assert pihole.wait_answer(name, ["0.0.0.0"]) == ["0.0.0.0"]
    pihole.upstream.zone.queries.clear()
    reply = pihole.query(name)
    assert addresses(reply) == ["0.0.0.0"] and "AA" in flags_of(reply) and reply.answer[0].ttl == 2
    assert addresses(pihole.query(name, "AAAA"), "AAAA") == ["::"]
    assert pihole.upstream.zone.queries == []
    assert api(pihole, "DELETE", "/api/domains/deny/exact/" + name, sid=session).status == 204
    assert pihole.wait_answer(name, ["198.51.100.9"]) == ["198.51.100.9"]


def test_r8_pi_hole_name(pihole):
    """R8: pi.hole A is answered locally (aa, TTL 0) with an address of the machine; AAAA is NOERROR
    with only the answering interface's IPv6 addresses (none in the lab's containers)."""
    reply = pihole.query("pi.hole")
    assert reply.rcode() == dns.rcode.NOERROR and "AA" in flags_of(reply)
    (address,) = addresses(reply)
    assert is_local_client(address) and reply.answer[0].ttl == 0
    reply = pihole.query("pi.hole", "AAAA")
    assert reply.rcode() == dns.rcode.NOERROR
    assert all(is_local_client(value) for value in addresses(reply, "AAAA"))


@pytest.mark.parametrize("name,rdtype,blocked_rcode", [
    ("use-application-dns.net", "A", dns.rcode.NXDOMAIN),
    ("use-application-dns.net", "AAAA", dns.rcode.NXDOMAIN),
    ("mask.icloud.com", "A", dns.rcode.NXDOMAIN),
    ("mask-h2.icloud.com", "A", dns.rcode.NXDOMAIN),
    ("_dns.resolver.arpa", "SVCB", dns.rcode.NOERROR),
])
def test_r9_special_domains_follow_blocking(pihole, session, name, rdtype, blocked_rcode):
    """R9: dns.specialDomains are answered locally (no answer) while blocking is on, forwarded while it is off."""
    values = {"A": "198.51.100.10", "AAAA": "2001:db8::10", "SVCB": "1 dns.example.net."}
    if (name, rdtype) not in [(key[0], dns.rdatatype.to_text(key[1])) for key in pihole.upstream.zone.records]:
        pihole.upstream.zone.add(name, rdtype, values[rdtype])
    reply = pihole.query(name, rdtype)
    assert (reply.rcode(), reply.answer) == (blocked_rcode, [])
    assert pihole.upstream.zone.queries == []
    assert api(pihole, "POST", "/api/dns/blocking", {"blocking": False}, sid=session).status == 200
    reply = pihole.query(name, rdtype)
    assert [value for _owner, _kind, value in answers(reply, rdtype)] == [values[rdtype]]
    assert (name, rdtype) in pihole.upstream.zone.queries


def test_r10_local_lines_with_the_records_in_one_patch_names_below_forwarded(pihole, session):
    """R10 (issue 13): one PATCH carries dns.hosts and misc.dnsmasq_lines ["local=/N/", "server=/*.N/#"] and
    restarts FTL once; then N's AAAA/HTTPS/SVCB/MX/TXT get NOERROR without an answer (never the upstream's),
    while "server=/*.N/#" keeps the names below N going to the upstreams (without it: NXDOMAIN, R3)."""
    name = pihole.label("pub") + ".example.com"
    zone = pihole.upstream.zone
    zone.add(name, "A", "198.51.100.1").add(name, "AAAA", "2001:db8:100::1").add(name, "MX", "10 mail.example.com.")
    zone.add(name, "HTTPS", "1 . ipv4hint=198.51.100.1").add(name, "SVCB", "1 .").add(name, "TXT", '"public"')
    zone.add("www." + name, "A", "198.51.100.9")
    lines = ["local=/%s/" % name, "server=/*.%s/#" % name]
    reply = api(pihole, "PATCH", "/api/config",
                {"config": {"dns": {"hosts": ["192.168.11.20 " + name]}, "misc": {"dnsmasq_lines": lines}}}, sid=session)
    assert reply.status == 200 and reply.json()["config"]["misc"]["dnsmasq_lines"] == lines
    pihole.wait_restarted()
    assert addresses(pihole.query(name)) == ["192.168.11.20"]
    for rdtype in ("AAAA", "HTTPS", "SVCB", "MX", "TXT"):
        reply = pihole.query(name, rdtype)
        assert (reply.rcode(), reply.answer) == (dns.rcode.NOERROR, []), rdtype
    assert [query for query in zone.queries if query[0] == name] == []
    assert addresses(pihole.query("www." + name)) == ["198.51.100.9"]
    assert ("www." + name, "A") in zone.queries


@pytest.mark.parametrize("blocking", [False, True])
def test_r11_canary_local_lines_answer_nxdomain_with_blocking_off(pihole, session, blocking):
    """R11 (issue 13): with "local=/C/" lines the canaries get NXDOMAIN with blocking on or off (R9: with blocking
    off and no lines FTL forwards them); _dns.resolver.arpa SVCB gets NXDOMAIN with blocking off, and FTL's own
    NOERROR without an answer (dns.specialDomains, answered first) with blocking on. Nothing goes upstream."""
    canaries = ["use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com", "_dns.resolver.arpa"]
    zone = pihole.upstream.zone
    known = [(key[0], dns.rdatatype.to_text(key[1])) for key in zone.records]
    for name, rdtype, value in [(name, "A", "198.51.100.77") for name in canaries[:3]] + [
            ("_dns.resolver.arpa", "SVCB", "1 dns.example.net.")]:
        if (name, rdtype) not in known:
            zone.add(name, rdtype, value)
    lines = [line % name for name in canaries for line in ("local=/%s/", "server=/*.%s/#")]
    assert api(pihole, "PATCH", "/api/config", {"config": {"misc": {"dnsmasq_lines": lines}}}, sid=session).status == 200
    pihole.wait_restarted()
    assert api(pihole, "POST", "/api/dns/blocking", {"blocking": blocking}, sid=session).status == 200
    zone.queries.clear()
    for name in canaries[:3]:
        for rdtype in ("A", "AAAA"):
            reply = pihole.query(name, rdtype)
            assert (reply.rcode(), reply.answer) == (dns.rcode.NXDOMAIN, []), (name, rdtype)
    reply = pihole.query("_dns.resolver.arpa", "SVCB")
    assert (reply.rcode(), reply.answer) == (dns.rcode.NOERROR if blocking else dns.rcode.NXDOMAIN, [])
    assert zone.queries == []
