# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pi-hole v6 (FTL v6.4.1, docker-pi-hole 2026.07.2) emulation: stand-in for tests, NOT
the real Pi-hole.

Implements CONTRACTS.md B1-B5, B7 and E: /api/auth with seats, rate limit, idle timeout
and SID transports; /api/config GET/PATCH and PUT/DELETE of dns.hosts and
dns.cnameRecords items with FTL's status codes and validator hints; env-forced items;
the FTL restart after cnameRecords changes (API and DNS refuse connections for
``restart_seconds``) unless ``?restart=false``; /api/action/restartdns;
/api/dns/blocking; pihole.toml and hosts/custom.list persistence; DNS answers from
dns.hosts and dns.cnameRecords (authoritative, TTL 0); the allow and deny lists of
/api/domains (pihole_lists) and an optional gravity list (empty by default: with no
gravity and no deny entry nothing is blocked); the names FTL never forwards (RFC 6761
``test``/``invalid``/``onion``/``bind``, ``local=`` for ``home.arpa``/``internal``/``lan``/
``pi.hole`` and for misc.dnsmasq_lines); the special domains answered locally while
blocking is on. A-only names have their other query types forwarded, as FTL does.
Deviations are listed in tests/standins/README.md, the behaviour checked on the real FTL
in its "Behaviour contract" sections.

CLI (environment as for the real image, config in /etc/pihole)::

    python3 -m natloop_standins.pihole [--config-dir /etc/pihole] [--restart-seconds 2]
"""

import argparse
import copy
import ipaddress
import json
import os
import re
import secrets
import string
import sys
import threading
import time
import urllib.parse

import dns.exception
import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype
import dns.reversename

from . import pihole_auth as auth
from . import pihole_config as cfg
from . import pihole_lists
from .dnsbase import DEFAULT_FORWARD_ALLOW, add_records, forward_allow_from_env, make_reply, qname_text
from .httpbase import Response, json_bytes
from .netinfo import is_local_client, primary_address
from .persist import atomic_write, load_json, save_json
from .server import StandinBase, run_until_signal

DOCKER_DEFAULT_UPSTREAMS = ["8.8.8.8", "8.8.4.4"]
#: TTL of local answers (dns.hosts, cnameRecords, pi.hole): the real FTL answers them with 0.
LOCAL_TTL = 0
#: FTL's generated dnsmasq.conf: server=/d/ (RFC 6761) and local=/d/; both mean "answer
#: from local data only": NXDOMAIN for unknown names, NODATA for other types.
RFC6761_DOMAINS = ("test", "invalid", "onion", "bind")
LOCAL_DOMAINS = ("home.arpa", "internal", "lan", "pi.hole")
#: dns.specialDomains: answered locally only while blocking is enabled.
MOZILLA_CANARY = "use-application-dns.net"
ICLOUD_RELAY = ("mask.icloud.com", "mask-h2.icloud.com")
DESIGNATED_RESOLVER = "_dns.resolver.arpa"
DOCKER_TAG = "2026.07.2"

API_AUTH_UNAUTHORIZED = -1
API_AUTH_EMPTYPASS = -3
JSON_TYPE = "application/json; charset=utf-8"
ENV_FORCED_MESSAGE = "Config items set via environment variables cannot be changed via the API"


class ApiCall:
    """State of one /api request (FTL's ``struct ftl_conn``)."""

    def __init__(self, request, started):
        self.request = request
        self.method = request.method
        self.started = started
        self.item = ""
        self.session_index = None
        self.message = None
        self.extra_headers = []
        self.restart = False
        self.payload = request.body.decode("utf-8", errors="replace") if request.body else None
        self.json = None
        self.json_error = None
        if self.payload:
            text = self.payload.lstrip(" \t\r\n")
            try:
                self.json, _end = json.JSONDecoder().raw_decode(text)
            except json.JSONDecodeError as exc:
                # cJSON reports the text one character after where Python stops (FTL v6.4.1: "{nope" -> "ope").
                self.json_error = text[exc.pos + 1:]

    def query_bool(self, name, default):
        values = urllib.parse.parse_qs(self.request.query, keep_blank_values=True).get(name)
        if values and values[0].lower() in ("true", "false"):
            return values[0].lower() == "true"
        return default


def _form_value(text, name):
    for key, value in urllib.parse.parse_qsl(text or "", keep_blank_values=True):
        if key == name and value:
            return value.replace(" ", "+")
    return None


def web_port_from_setting(setting):
    """First plain-HTTP port of ``webserver.port`` (e.g. ``80o,443os`` -> 80)."""
    for part in setting.split(","):
        match = re.fullmatch(r"(?:\[[^\]]*\]:|[0-9.]+:)?(\d+)([a-z]*)", part.strip())
        if match and "s" not in match.group(2):
            return int(match.group(1))
    return 80


class PiholeStandin(StandinBase):
    """In-process Pi-hole v6 stand-in.

    ``PiholeStandin(config_dir, env={"FTLCONF_webserver_api_password": "pw"},
    listen_host="127.0.0.1", web_port=0, dns_port=0)``; ``env`` plays the container
    environment (default: ``os.environ``).
    """

    server_header = "natloop-standin (NOT Pi-hole FTL)"

    def __init__(self, config_dir, *, env=None, listen_host=None, web_port=None, dns_port=None, clock=None,
                 restart_seconds=0.5, secrets_dir="/run/secrets", gravity=(), gravity_db=True,
                 old_api_seconds=0.3, old_dns_seconds=0.02, upstream_timeout=2.0,
                 forward_allow=DEFAULT_FORWARD_ALLOW):
        super().__init__(listen_host=listen_host, clock=clock, logger_name="natloop_standins.pihole",
                         upstream_timeout=upstream_timeout, forward_allow=forward_allow)
        self.config_dir = config_dir
        self.env = dict(os.environ if env is None else env)
        self.web_port_override = web_port
        self.dns_port_override = dns_port
        self.restart_seconds = restart_seconds
        self.old_api_seconds = old_api_seconds
        self.old_dns_seconds = min(old_dns_seconds, old_api_seconds)
        self.secrets_dir = secrets_dir
        self.gravity = {name.lower() for name in gravity}
        self.lists = pihole_lists.DomainLists(os.path.join(config_dir, "natloop-standin-gravity.json"), self.clock,
                                              available=gravity_db)
        self.values = cfg.defaults()
        self.active = cfg.defaults()
        self.env_forced = set()
        self.seats = auth.SessionSeats(16)
        self.passwords = auth.PasswordChecker(self.clock)
        self.totp = auth.TOTPVerifier(self.clock)
        self.blocking_timer = None
        self.generated_password = None
        self.restart_count = 0
        self._restart_lock = threading.Lock()
        self._restart_thread = None
        self._ready = threading.Event()
        self._closed = False

    # -- files -------------------------------------------------------------------------
    @property
    def toml_path(self):
        return os.path.join(self.config_dir, "pihole.toml")

    @property
    def custom_list_path(self):
        return os.path.join(self.config_dir, "hosts", "custom.list")

    @property
    def sessions_path(self):
        return os.path.join(self.config_dir, "natloop-standin-sessions.json")

    def _write_toml(self):
        atomic_write(self.toml_path, cfg.render_toml(self.values, self.env_forced, self.clock.now()))

    def _write_custom_list(self):
        atomic_write(self.custom_list_path, cfg.render_custom_list(self.values["dns.hosts"], self.clock.now()))

    def _save_sessions(self):
        save_json(self.sessions_path, [session.to_dict() if session else None for session in self.seats.slots])

    def _load_sessions(self):
        stored = load_json(self.sessions_path, [])
        for index, data in enumerate(stored[:len(self.seats.slots)]):
            self.seats.slots[index] = auth.Session.from_dict(data) if data else None

    # -- state inspection --------------------------------------------------------------
    def value(self, key):
        """Current value of a config item (what GET /api/config shows, hashes included)."""
        with self.lock:
            return copy.deepcopy(self.values[key])

    def sessions(self):
        with self.lock:
            return [session.to_dict() for _index, session in self.seats.used()]

    # -- lifecycle ---------------------------------------------------------------------
    def _boot(self, fresh):
        """What FTL does when it starts: read pihole.toml, apply FTLCONF_*, write files."""
        values = cfg.defaults()
        if os.path.exists(self.toml_path):
            try:
                with open(self.toml_path, encoding="utf-8") as stream:
                    values, warnings = cfg.parse_toml(stream.read())
            except (OSError, ValueError) as exc:
                values, warnings = cfg.defaults(), ["cannot read (%s), using defaults" % exc]
            for warning in warnings:
                self.log.warning("pihole.toml: %s", warning)
        forced = set()
        for item in cfg.ITEMS:
            raw = cfg.lookup_env(self.env, item.env_name)
            if raw is None or item.kind == cfg.PASSWORD:
                continue
            value, reason = cfg.env_value(item, raw)
            if reason is None and item.validator is not None:
                reason = item.validator(value, item.key)
            if reason:
                self.log.warning("ignoring %s: %s", item.env_name, reason)
                continue
            values[item.key] = value
            forced.add(item.key)
        if not values["dns.upstreams"]:
            values["dns.upstreams"] = list(DOCKER_DEFAULT_UPSTREAMS)
            forced.discard("dns.upstreams")
        self._boot_password(values, forced)
        self.values, self.env_forced = values, forced
        self.active = copy.deepcopy(values)
        self.seats.resize(values["webserver.api.max_sessions"])
        if fresh:
            self._load_sessions()
            self.lists.load()
        self._write_toml()
        self._write_custom_list()

    def _boot_password(self, values, forced):
        password = cfg.lookup_env(self.env, "FTLCONF_webserver_api_password")
        secret_file = self.env.get("WEBPASSWORD_FILE")
        if password is None and secret_file:
            try:
                with open(os.path.join(self.secrets_dir, secret_file), encoding="utf-8") as stream:
                    password = stream.read().rstrip("\n")
            except OSError as exc:
                self.log.warning("WEBPASSWORD_FILE: %s", exc)
        if password is not None:
            forced.add("webserver.api.password")
            if password == "":
                values["webserver.api.pwhash"] = ""
            elif not (values["webserver.api.pwhash"] and auth.PasswordChecker(self.clock).verify(
                    password, values["webserver.api.pwhash"]) == auth.PASSWORD_CORRECT):
                values["webserver.api.pwhash"] = auth.create_password_hash(password)
                self.seats.clear()
            return
        if not values["webserver.api.pwhash"]:
            generated = "".join(secrets.choice(string.ascii_letters + string.digits) for _position in range(8))
            self.generated_password = generated
            values["webserver.api.pwhash"] = auth.create_password_hash(generated)
            self.log.warning("  [i] Assigning random password: %s", generated)

    def _ports(self):
        web = self.web_port_override
        if web is None:
            web = web_port_from_setting(self.values["webserver.port"])
        dns_port = self.dns_port_override if self.dns_port_override is not None else self.values["dns.port"]
        return web, dns_port

    def _listen(self):
        host = self.listen_host or "0.0.0.0"
        web, dns_port = self._ports()
        self._start_dns(host, dns_port)
        try:
            self._start_http(host, web)
        except OSError:
            self._stop_dns()
            raise
        # Ephemeral ports stay the same across FTL restarts.
        if self.web_port_override == 0:
            self.web_port_override = self.web_port
        if self.dns_port_override == 0:
            self.dns_port_override = self.dns_port
        self._ready.set()

    def start(self):
        with self.lock:
            self._closed = False
            self._boot(fresh=True)
            self._listen()
        return self

    def restart(self, downtime=0.0):
        """Restart FTL: stop answering, wait ``downtime`` seconds, re-read config, answer again."""
        with self._restart_lock:
            self._ready.clear()
            super().stop()
            with self.lock:
                self._save_sessions()
            if downtime:
                time.sleep(downtime)
            with self.lock:
                if self._closed:
                    return
                self._boot(fresh=False)
                self._listen()
                self.restart_count += 1

    def _restart_after_reply(self):
        """FTL's re-exec as measured on v6.4.1: the old process stops DNS at once (about 20 ms
        after its reply) but its API answers for about 0.3 s more; then nothing answers
        until the new process serves both (0.7-1.0 s after the reply)."""
        with self._restart_lock:
            time.sleep(self.old_dns_seconds)
            self._stop_dns()
            time.sleep(self.old_api_seconds - self.old_dns_seconds)
            self._stop_http()
            with self.lock:
                self._save_sessions()
            time.sleep(self.restart_seconds)
            with self.lock:
                if self._closed:
                    return
                self._boot(fresh=False)
                self._listen()
                self.restart_count += 1

    def schedule_restart(self):
        """FTL re-exec after a reply: see :meth:`_restart_after_reply`."""
        if self._restart_thread is not None and self._restart_thread.is_alive():
            return
        thread = threading.Thread(target=self._restart_after_reply, name="ftl-restart", daemon=True)
        thread.start()
        self._restart_thread = thread

    def wait_ready(self, timeout=10.0):
        """Block until a pending FTL restart has finished; False on timeout."""
        return self._ready.wait(timeout)

    def stop(self):
        """Stop for good (a pending FTL restart does not bring the listeners back)."""
        self._closed = True
        super().stop()
        self._ready.clear()

    # -- blocking ----------------------------------------------------------------------
    def _tick_blocking_timer(self):
        if self.blocking_timer and self.blocking_timer[0] <= self.clock.now():
            self.values["dns.blocking.active"] = self.blocking_timer[1]
            self.blocking_timer = None
            self._write_toml()

    def _blocking_reply(self):
        timer = None
        if self.blocking_timer:
            timer = max(0.0, self.blocking_timer[0] - self.clock.now())
        return {"blocking": "enabled" if self.values["dns.blocking.active"] else "disabled", "timer": timer}

    # -- HTTP ----------------------------------------------------------------------------
    def _reply(self, call, status, obj=None):
        if obj is None:
            response = Response(status, headers=call.extra_headers)
        else:
            obj["took"] = time.perf_counter() - call.started
            response = Response(status, json_bytes(obj), JSON_TYPE, headers=call.extra_headers)
        if call.restart:
            # Not ready from now on, so wait_ready() cannot slip in before the restart begins.
            self._ready.clear()
            response.after_send.append(self.schedule_restart)
        return response

    def _error(self, call, status, key, message, hint=None):
        return self._reply(call, status, {"error": {"key": key, "message": message, "hint": hint}})

    def handle_http(self, request):
        started = time.perf_counter()
        with self.lock:
            self._tick_blocking_timer()
            if not (request.raw_path == "/api" or request.raw_path.startswith("/api/")):
                return self._web_page(request)
            call = ApiCall(request, started)
            return self._route(call)

    @staticmethod
    def _web_page(request):
        if request.raw_path == "/":
            return Response(302, headers=[("Location", "/admin/")])
        if request.raw_path == "/admin" or request.raw_path.startswith("/admin/"):
            return Response(200, "<!DOCTYPE html><html><body>Pi-hole stand-in (NOT the real Pi-hole)</body></html>\n",
                            "text/html; charset=utf-8")
        return Response(404, "Error 404: Not Found\n", "text/plain; charset=utf-8")

    def _routes(self):
        return [
            ("/api/auth/sessions", self._api_auth_sessions, True),
            ("/api/auth/session", self._api_auth_session_delete, True),
            ("/api/auth", self._api_auth, False),
            ("/api/config", self._api_config, True),
            ("/api/dns/blocking", self._api_blocking, True),
            ("/api/action/restartdns", self._api_restartdns, True),
            ("/api/info/version", self._api_version, True),
            ("/api/info/login", self._api_info_login, False),
            ("/api/domains", self._api_domains, True),
        ]

    def _route(self, call):
        raw = call.request.raw_path
        for prefix, handler, needs_auth in self._routes():
            if raw == prefix:
                call.item = ""
            elif raw.startswith(prefix + "/"):
                call.item = raw[len(prefix) + 1:]
            else:
                continue
            if needs_auth and self._check_client_auth(call, is_api=True) == API_AUTH_UNAUTHORIZED:
                return self._error(call, 401, "unauthorized", "Unauthorized")
            response = handler(call)
            if response is not None:
                return response
            break
        return self._error(call, 404, "not_found", "Not found", raw)

    def _method_not_allowed(self, call):
        return self._error(call, 405, "method_not_allowed", "Method not allowed", call.method)

    def _check_json_payload(self, call):
        if call.json is None:
            if call.json_error is None:
                return self._error(call, 400, "bad_request", "No request body data")
            return self._error(call, 400, "bad_request", "Invalid request body data (no valid JSON), error at hint",
                               call.json_error)
        return None

    # -- auth ----------------------------------------------------------------------------
    def _sid_from_request(self, call):
        """``(sid, from_cookie)`` in FTL's lookup order, or ``(None, False)``."""
        request = call.request
        if call.payload:
            sid = _form_value(call.payload, "sid")
            if sid is not None:
                return sid, False
            if isinstance(call.json, dict) and isinstance(call.json.get("sid"), str):
                return call.json["sid"], False
        for header in ("sid", "X-FTL-SID"):
            if request.header(header) is not None:
                return request.header(header), False
        cookie = request.cookies().get("sid")
        if cookie:
            return cookie, True
        sid = _form_value(request.query, "sid")
        if sid is not None:
            return sid, False
        return None, False

    def _check_client_auth(self, call, is_api):
        if not self.values["webserver.api.pwhash"]:
            call.message = "no password set"
            return API_AUTH_EMPTYPASS
        sid, from_cookie = self._sid_from_request(call)
        if sid is None:
            call.message = "no SID provided"
            return API_AUTH_UNAUTHORIZED
        sid = sid[:auth.SID_LENGTH]
        csrf = None
        if from_cookie and is_api:
            csrf = call.request.header("X-CSRF-TOKEN")
            if csrf is None:
                call.message = "Cookie authentication without CSRF token"
                return API_AUTH_UNAUTHORIZED
            csrf = csrf[:auth.SID_LENGTH]
        index, session = self.seats.find(sid)
        now = self.clock.now()
        if session is not None and csrf is not None and session.csrf != csrf:
            call.message = "CSRF token mismatch"
            return API_AUTH_UNAUTHORIZED
        if session is None or session.valid_until < now:
            call.message = "session expired" if session is not None else "session unknown"
            return API_AUTH_UNAUTHORIZED
        timeout = self.values["webserver.session.timeout"]
        session.valid_until = now + timeout
        call.session_index = index
        call.extra_headers.append(("Set-Cookie", "sid=%s; SameSite=Lax; Path=/; Max-Age=%d; HttpOnly" % (session.sid, timeout)))
        call.message = "correct password"
        return index

    def _session_object(self, call, user_id, now):
        totp = bool(self.values["webserver.api.totp_secret"])
        if user_id == API_AUTH_EMPTYPASS:
            return {"session": {"valid": True, "totp": totp, "sid": None, "validity": -1, "message": call.message}}
        session = self.seats.slots[user_id] if user_id is not None and user_id >= 0 else None
        if session is not None:
            return {"session": {"valid": True, "totp": totp, "sid": session.sid, "csrf": session.csrf,
                                "validity": int(session.valid_until - now), "message": call.message}}
        return {"session": {"valid": False, "totp": totp, "sid": None, "validity": -1, "message": call.message}}

    def _auth_status(self, call, user_id, now):
        delete_cookie = ("Set-Cookie", "sid=deleted; SameSite=Lax; Path=/; Max-Age=-1")
        if user_id >= 0 and call.method in ("GET", "POST"):
            call.extra_headers = [header for header in call.extra_headers if header[0] != "Set-Cookie"]
            call.extra_headers.append(("Set-Cookie", "sid=%s; SameSite=Lax; Path=/; Max-Age=%d; HttpOnly"
                                       % (self.seats.slots[user_id].sid, cfg.ITEMS_BY_KEY["webserver.session.timeout"].default)))
            return self._reply(call, 200, self._session_object(call, user_id, now))
        if call.method == "DELETE":
            if user_id >= 0:
                call.extra_headers = [delete_cookie]
                code = 204 if self.seats.free(user_id) else 404
                self._save_sessions()
                return self._reply(call, code)
            return self._reply(call, 401, self._session_object(call, user_id, now))
        if user_id == API_AUTH_EMPTYPASS:
            return self._reply(call, 200, self._session_object(call, user_id, now))
        call.extra_headers = [delete_cookie]
        return self._reply(call, 401, self._session_object(call, user_id, now))

    def _api_auth(self, call):
        if call.item:
            return None
        if call.method not in ("GET", "POST", "DELETE"):
            return self._method_not_allowed(call)
        now = self.clock.now()
        pwhash = self.values["webserver.api.pwhash"]
        password = None
        if call.method == "POST":
            error = self._check_json_payload(call)
            if error:
                return error
            if not isinstance(call.json, dict) or "password" not in call.json:
                return self._error(call, 400, "bad_request", "No password found in JSON payload")
            if not isinstance(call.json["password"], str):
                return self._error(call, 400, "bad_request", "Field password has to be of type 'string'")
            password = call.json["password"]
        user_id = self._check_client_auth(call, is_api=False)
        if user_id != API_AUTH_UNAUTHORIZED and not password:
            return self._auth_status(call, user_id, now)
        if call.method == "DELETE" or (password is None and pwhash):
            return self._auth_status(call, user_id, now)
        if not pwhash and not password:
            result = auth.PASSWORD_CORRECT
        else:
            result = self.passwords.verify_login(password, pwhash, self.values["webserver.api.app_pwhash"])
        if result in (auth.PASSWORD_CORRECT, auth.APP_PASSWORD_CORRECT):
            totp_secret = self.values["webserver.api.totp_secret"]
            if totp_secret and result == auth.PASSWORD_CORRECT:
                token = call.json.get("totp")
                if token is None:
                    return self._error(call, 400, "bad_request", "No 2FA token found in JSON payload")
                verdict = self.totp.verify(totp_secret, token if isinstance(token, int) else 0)
                if verdict == "reused":
                    return self._error(call, 401, "unauthorized", "Reused 2FA token", "wait for new token")
                if verdict != "correct":
                    return self._error(call, 401, "unauthorized", "Invalid 2FA token")
            session = auth.Session(auth.new_sid(), auth.new_sid(), now, now + self.values["webserver.session.timeout"],
                                   call.request.client_ip, app=result == auth.APP_PASSWORD_CORRECT,
                                   user_agent=call.request.header("User-Agent"))
            index = self.seats.take(now, session)
            if index is None:
                self.log.warning("No free API seats available (webserver.api.max_sessions = %d)", len(self.seats.slots))
                return self._error(call, 429, "api_seats_exceeded", "API seats exceeded",
                                   "increase webserver.api.max_sessions")
            self._save_sessions()
            user_id = index
            call.message = "app-password correct" if result == auth.APP_PASSWORD_CORRECT else "password correct"
        elif result == auth.PASSWORD_RATE_LIMITED:
            return self._error(call, 429, "rate_limiting", "Rate-limiting login attempts")
        else:
            call.message = "password incorrect"
        return self._auth_status(call, user_id, now)

    def _api_auth_sessions(self, call):
        if call.item:
            return None
        if call.method != "GET":
            return self._method_not_allowed(call)
        now = self.clock.now()
        timeout = self.values["webserver.session.timeout"]
        listed = [{"id": index, "current_session": index == call.session_index, "valid": session.valid_until >= now,
                   "tls": {"login": False, "mixed": False}, "login_at": int(session.login_at),
                   "last_active": int(session.valid_until - timeout), "valid_until": int(session.valid_until),
                   "remote_addr": session.remote_addr, "user_agent": session.user_agent, "x_forwarded_for": None,
                   "app": session.app, "cli": False}
                  for index, session in self.seats.used()]
        return self._reply(call, 200, {"sessions": listed})

    def _api_auth_session_delete(self, call):
        if call.method != "DELETE":
            return self._method_not_allowed(call)
        if not re.fullmatch(r"-?\d+", call.item or ""):
            return self._error(call, 400, "bad_request", "Missing or invalid session ID")
        index = int(call.item)
        if index < 0 or index >= len(self.seats.slots):
            return self._error(call, 400, "bad_request", "Session ID out of bounds")
        if self.seats.slots[index] is None:
            return self._error(call, 400, "bad_request", "Session ID not in use")
        self.seats.free(index)
        self._save_sessions()
        return self._reply(call, 204)

    # -- config ----------------------------------------------------------------------------
    def _api_config(self, call):
        if call.method == "GET":
            return self._config_get(call)
        session = self.seats.slots[call.session_index] if call.session_index is not None else None
        if session is not None and session.app and not self.values["webserver.api.app_sudo"]:
            return self._error(call, 403, "forbidden", "Unable to change configuration (read-only)",
                               "The current app session is not allowed to modify Pi-hole config settings "
                               "(webserver.api.app_sudo is false)")
        if call.method == "PATCH":
            return self._config_patch(call)
        if call.method in ("PUT", "DELETE"):
            return self._config_put_delete(call)
        return self._method_not_allowed(call)

    def _config_get(self, call):
        requested = cfg.config_path(urllib.parse.unquote(call.item))
        detailed = call.query_bool("detailed", False)
        return self._reply(call, 200, {"config": cfg.config_tree(self.values, self.env_forced, requested, detailed)})

    def _commit(self, values, rewrite_hosts):
        self.values = values
        self._write_toml()
        if rewrite_hosts:
            self._write_custom_list()

    def _config_put_delete(self, call):
        if not call.item:
            return None
        restart = call.query_bool("restart", True)
        requested = cfg.config_path(urllib.parse.unquote(call.item))
        min_level = len(requested)
        verb = ("PUT", "add", "to") if call.method == "PUT" else ("DELETE", "remove", "from")
        hint = 'Use, e.g., %s /api/config/dns/upstreams/127.0.0.1 to %s "127.0.0.1" %s config.dns.upstreams' % verb
        if min_level < 2:
            return self._error(call, 400, "bad_request", "Invalid path depth", hint)
        value = requested[min_level - 1]
        values = copy.deepcopy(self.values)
        found, message, restart_needed, rewrite_hosts = False, None, False, False
        for item in cfg.ITEMS:
            if item.kind != cfg.STRING_ARRAY:
                continue
            level = len(item.path)
            if not cfg.paths_equal(item.path, requested, max(min_level - 2, level - 1)) or min_level != level + 1:
                continue
            if item.key in self.env_forced:
                return self._error(call, 400, "bad_request", ENV_FORCED_MESSAGE, item.key)
            entries = values[item.key]
            found = value in entries
            if call.method == "PUT":
                if found:
                    message, hint = "Item already present", "Uniqueness of items is enforced"
                    break
                entries.append(value)
                found = True
                error = item.validator(entries, item.key) if item.validator else None
                if error:
                    return self._error(call, 400, "bad_request", "Invalid value", error)
            else:
                if not found:
                    break
                entries.remove(value)
            restart_needed = item.restart
            rewrite_hosts = item.key == "dns.hosts"
            break
        if not found:
            return self._reply(call, 404, {})
        if message:
            return self._error(call, 400, "bad_request", message, hint)
        if restart_needed:
            error = cfg.dnsmasq_test(values)
            if error:
                return self._error(call, 400, "bad_request", "Invalid configuration", error)
            call.restart = restart
        self._commit(values, rewrite_hosts)
        if call.method == "PUT":
            return self._reply(call, 201, {})
        return self._reply(call, 204)

    def _config_patch(self, call):
        error = self._check_json_payload(call)
        if error:
            return error
        conf = call.json.get("config") if isinstance(call.json, dict) else None
        if not isinstance(conf, dict):
            return self._error(call, 400, "body_error", 'No "config" object in body data')
        if self.values["misc.readOnly"]:
            return self._error(call, 403, "forbidden", "The config is currently in read-only mode")
        restart = call.query_bool("restart", True)
        values = copy.deepcopy(self.values)
        changed = restart_needed = rewrite_hosts = False
        for item in cfg.ITEMS:
            element = conf
            for part in item.path:
                element = element.get(part) if isinstance(element, dict) else None
                if element is None:
                    break
            if element is None:
                continue
            if item.toml_only and element is True:
                return self._error(call, 400, "bad_request",
                                   "This config option can only be set in pihole.toml, not via the API", item.key)
            if item.write_only and element == cfg.PASSWORD_PLACEHOLDER:
                continue
            new, reason = cfg.json_value(item, element)
            if reason:
                return self._error(call, 400, "bad_request", "Config item is invalid", "%s: %s" % (item.key, reason))
            current = "" if item.kind == cfg.PASSWORD else self.values[item.key]
            if item.key in self.env_forced and new != current:
                return self._error(call, 400, "bad_request", ENV_FORCED_MESSAGE, item.key)
            if item.kind != cfg.PASSWORD and new == current:
                continue
            changed = True
            error = item.validator(new, item.key) if item.validator else None
            if error:
                return self._error(call, 400, "bad_request", "Config item validation failed", error)
            restart_needed = restart_needed or item.restart
            rewrite_hosts = rewrite_hosts or item.key == "dns.hosts"
            if item.invalidates_sessions:
                self.seats.clear()
                self._save_sessions()
            if item.kind == cfg.PASSWORD:
                values["webserver.api.pwhash"] = auth.create_password_hash(new) if new else ""
            else:
                values[item.key] = new
        if changed:
            if restart_needed:
                error = cfg.dnsmasq_test(values)
                if error:
                    return self._error(call, 400, "bad_request", "Invalid configuration", error)
                call.restart = restart
            self._commit(values, rewrite_hosts)
        return self._config_get(call)

    # -- domain lists (FTL src/api/list.c) -------------------------------------------------
    def _api_domains(self, call):
        raw = call.request.raw_path
        list_type = kind = None
        item, can_modify = "", False
        for prefix, list_type, kind, can_modify in pihole_lists.ROUTES:
            if raw == prefix or raw.startswith(prefix + "/"):
                item = urllib.parse.unquote(raw[len(prefix) + 1:])
                break
        try:
            if call.method == "GET":
                return self._reply(call, 200, {"domains": self.lists.read(list_type, kind, item)})
            if can_modify and call.method in ("POST", "PUT"):
                if call.method == "PUT" and not item:
                    return self._error(call, 400, "uri_error", "Invalid request: Specify item in URI")
                payload = call.json if call.payload else {}
                status, body = self.lists.write(call.method, list_type, kind, item, payload)
                return self._reply(call, status, body)
            if can_modify and call.method == "DELETE":
                if self.lists.remove(list_type, kind, item):
                    return self._reply(call, 204)
                return self._reply(call, 404, {})
        except pihole_lists.ListError as exc:
            return self._error(call, exc.status, exc.key, exc.message, exc.hint)
        return self._method_not_allowed(call)

    # -- dns/blocking, actions, info ----------------------------------------------------
    def _api_blocking(self, call):
        if call.item:
            return None
        if call.method == "GET":
            return self._reply(call, 200, self._blocking_reply())
        if call.method != "POST":
            return self._method_not_allowed(call)
        error = self._check_json_payload(call)
        if error:
            return error
        blocking = call.json.get("blocking") if isinstance(call.json, dict) else None
        if not isinstance(blocking, bool):
            return self._error(call, 400, "body_error", 'No "blocking" boolean in body data')
        timer = call.json.get("timer")
        self.values["dns.blocking.active"] = blocking
        if isinstance(timer, (int, float)) and not isinstance(timer, bool) and timer > 0:
            self.blocking_timer = (self.clock.now() + timer, not blocking)
        else:
            self.blocking_timer = None
        self._write_toml()
        return self._reply(call, 200, self._blocking_reply())

    def _api_restartdns(self, call):
        if call.item:
            return None
        if call.method != "POST":
            return self._method_not_allowed(call)
        call.restart = True
        return self._reply(call, 200, {"status": "success"})

    def _api_version(self, call):
        if call.method != "GET":
            return self._method_not_allowed(call)
        local = {"branch": "master", "hash": "8d1add8d", "date": "2026-08-01 00:00:00 +0000"}
        return self._reply(call, 200, {"version": {
            "core": {"local": dict(local, version="v6.3"), "remote": None},
            "web": {"local": dict(local, version="v6.4"), "remote": None},
            "ftl": {"local": dict(local, version=cfg.FTL_VERSION), "remote": None},
            "docker": {"local": DOCKER_TAG, "remote": None},
            "standin": True,
        }})

    def _api_info_login(self, call):
        if call.method != "GET":
            return self._method_not_allowed(call)
        return self._reply(call, 200, {"https_port": 0, "dns": self.dns_running})

    # -- DNS -----------------------------------------------------------------------------
    def _client_allowed(self, client_ip):
        mode = self.active["dns.listeningMode"]
        if mode != "LOCAL":
            return True
        try:
            return is_local_client(client_ip)
        except ValueError:
            return False

    @staticmethod
    def _hosts_index(entries):
        """``{name.lower(): [ip, ...]}`` plus reverse ``{ip: name}`` from dns.hosts."""
        forward, reverse = {}, {}
        for entry in entries:
            fields = entry.split("#", 1)[0].split()
            if len(fields) < 2:
                continue
            ip = str(ipaddress.ip_address(fields[0]))
            for name in fields[1:]:
                forward.setdefault(name.lower().rstrip("."), []).append(ip)
            reverse.setdefault(ip, fields[1].rstrip("."))
        return forward, reverse

    def _local_only(self, name):
        """True if FTL's dnsmasq config answers ``name`` from local data only (never forwarded)."""
        lines = self.active["misc.dnsmasq_lines"]
        zones = RFC6761_DOMAINS + LOCAL_DOMAINS + tuple(cfg.local_domains(lines))
        matched = [zone for zone in zones if name == zone or name.endswith("." + zone)]
        if not matched:
            return False
        # server=/*.d/# sends the names below d upstream again where it is the more specific match.
        longest = max(len(zone) for zone in matched)
        return not any(name.endswith("." + below) and len(below) >= longest for below in cfg.forwarded_below(lines))

    def _special_domain_reply(self, query, name, qtype):
        """dns.specialDomains while blocking is enabled (FTL answers them itself), else None."""
        special = self.values
        if name == MOZILLA_CANARY and special["dns.specialDomains.mozillaCanary"]:
            return make_reply(query, dns.rcode.NXDOMAIN)
        if name in ICLOUD_RELAY and special["dns.specialDomains.iCloudPrivateRelay"]:
            return make_reply(query, dns.rcode.NXDOMAIN)
        if (name == DESIGNATED_RESOLVER and qtype == dns.rdatatype.SVCB
                and special["dns.specialDomains.designatedResolver"]):
            return make_reply(query)
        return None

    def _blocked_name(self, name):
        if self.lists.allowed(name):
            return False
        return name in self.gravity or self.lists.denied(name)

    def resolve(self, query, client_ip):
        question = query.question[0]
        name, qtype = qname_text(question.name).lower(), question.rdtype
        with self.lock:
            if not self._client_allowed(client_ip):
                self.log.info("ignoring query from non-local network %s", client_ip)
                return None
            self._tick_blocking_timer()
            blocking = self.values["dns.blocking.active"]
            special = self._special_domain_reply(query, name, qtype) if blocking else None
            blocked = blocking and self._blocked_name(name)
            block_mode, block_ttl = self.values["dns.blocking.mode"], self.values["dns.blockTTL"]
            forward, reverse = self._hosts_index(self.values["dns.hosts"])
            cnames = {}
            for record in self.active["dns.cnameRecords"]:
                aliases, target, ttl = cfg.split_cname(record)
                for alias in aliases:
                    cnames[alias.lower()] = (target, LOCAL_TTL if ttl is None else ttl)
            local_only = self._local_only(name)
            upstreams = list(self.active["dns.upstreams"])
        if name == "pi.hole":
            # The address of the interface the query came in on; the lab's containers have no
            # IPv6, so AAAA gets NOERROR without an answer (as on the real-parts image).
            response = self._authoritative(query)
            if qtype == dns.rdatatype.A:
                add_records(response, question.name, qtype, LOCAL_TTL, [primary_address()])
            return response
        if special is not None:
            return special
        if blocked:
            return self._blocked(query, block_mode, block_ttl)
        if name in cnames:
            return self._cname_reply(query, name, cnames, forward)
        local_ips = self._ips_of(forward.get(name, []), qtype) if qtype in (dns.rdatatype.A, dns.rdatatype.AAAA) else []
        if local_ips:
            response = self._authoritative(query)
            add_records(response, question.name, qtype, LOCAL_TTL, local_ips)
            return response
        if qtype == dns.rdatatype.PTR:
            try:
                address = str(dns.reversename.to_address(question.name))
            except (dns.exception.SyntaxError, ValueError):
                address = None
            if address in reverse:
                response = self._authoritative(query)
                add_records(response, question.name, qtype, LOCAL_TTL, [reverse[address] + "."])
                return response
        if local_only:
            # local=/server=/ domains: NODATA for a name with other local data, NXDOMAIN otherwise.
            return make_reply(query) if name in forward else make_reply(query, dns.rcode.NXDOMAIN)
        # Not answered locally, even for a name with local A records: its AAAA, HTTPS, SVCB,
        # MX, TXT... go to the upstreams, as on the real FTL.
        answer = self.forwarder.forward(query, upstreams)
        return answer if answer is not None else make_reply(query, dns.rcode.SERVFAIL)

    @staticmethod
    def _authoritative(query):
        response = make_reply(query)
        response.flags |= dns.flags.AA
        return response

    @staticmethod
    def _ips_of(ips, qtype):
        version = 4 if qtype == dns.rdatatype.A else 6
        return [ip for ip in ips if ipaddress.ip_address(ip).version == version]

    def _cname_reply(self, query, name, cnames, forward):
        question = query.question[0]
        response = self._authoritative(query)
        owner, seen = question.name, set()
        while name in cnames and name not in seen:
            seen.add(name)
            target, ttl = cnames[name]
            add_records(response, owner, dns.rdatatype.CNAME, ttl, [target.rstrip(".") + "."])
            owner, name = dns.name.from_text(target), target.lower().rstrip(".")
        if name in forward and question.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            add_records(response, owner, question.rdtype, LOCAL_TTL, self._ips_of(forward[name], question.rdtype))
        return response

    @classmethod
    def _blocked(cls, query, mode, ttl):
        if mode == "NX":
            return make_reply(query, dns.rcode.NXDOMAIN)
        response = cls._authoritative(query)
        if mode == "NODATA":
            return response
        question = query.question[0]
        if question.rdtype == dns.rdatatype.A:
            add_records(response, question.name, question.rdtype, ttl,
                        ["0.0.0.0" if mode == "NULL" else primary_address()])
        elif question.rdtype == dns.rdatatype.AAAA and mode == "NULL":
            add_records(response, question.name, question.rdtype, ttl, ["::"])
        return response


def build_parser():
    parser = argparse.ArgumentParser(prog="natloop_standins.pihole",
                                     description="Pi-hole v6 stand-in for tests (NOT the real Pi-hole)")
    parser.add_argument("--config-dir", default="/etc/pihole", help="where pihole.toml lives")
    parser.add_argument("--web-port", type=int, default=None, help="override webserver.port")
    parser.add_argument("--dns-port", type=int, default=None, help="override dns.port")
    parser.add_argument("--listen-host", default=None, help="bind every listener to this address")
    parser.add_argument("--restart-seconds", type=float, default=0.5,
                        help="how long nothing answers when FTL restarts, after the old process's API stops")
    parser.add_argument("--old-api-seconds", type=float, default=0.3,
                        help="how long the old process's API still answers after a reply that restarts FTL")
    parser.add_argument("--secrets-dir", default="/run/secrets", help="where WEBPASSWORD_FILE is looked up")
    parser.add_argument("--gravity", action="append", default=None,
                        help="a domain gravity blocks (repeatable; default: none, like a Pi-hole without adlists)")
    parser.add_argument("--no-gravity-db", action="store_true",
                        help="behave like FTL without gravity.db: /api/domains answers 400 database_error")
    parser.add_argument("--upstream-timeout", type=float, default=2.0, help="seconds per upstream query")
    parser.add_argument("--forward-allow", default=None,
                        help="comma-separated networks upstream queries may go to (default: loopback and lab ranges)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    allow = (tuple(net.strip() for net in args.forward_allow.split(",") if net.strip())
             if args.forward_allow else forward_allow_from_env())
    standin = PiholeStandin(args.config_dir, listen_host=args.listen_host, web_port=args.web_port,
                            dns_port=args.dns_port, restart_seconds=args.restart_seconds, secrets_dir=args.secrets_dir,
                            gravity=tuple(args.gravity or ()), gravity_db=not args.no_gravity_db,
                            old_api_seconds=args.old_api_seconds,
                            upstream_timeout=args.upstream_timeout, forward_allow=allow)
    return run_until_signal(standin)


if __name__ == "__main__":
    sys.exit(main())
