# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AdGuard Home v0.107.79 emulation: stand-in for tests, NOT the real AdGuard Home.

Implements the HTTP API and DNS behaviour described in CONTRACTS.md sections A1-A7 and
D: rewrites, login/cookie/Basic auth with the per-IP lockout, the install wizard,
status/protection/dns_config/dns_info/filtering, AdGuardHome.yaml persistence (schema 34
layout) and DNS answers with AdGuard's rewrite precedence. Known deviations are listed
in tests/standins/README.md.

CLI (mirrors the real image)::

    python3 -m natloop_standins.adguard --no-check-update \\
        -c /opt/adguardhome/conf/AdGuardHome.yaml -w /opt/adguardhome/work

Stand-in-only flags: ``--web-port``/``--dns-port``/``--listen-host`` override where it
listens, ``--emulate-version 0.107.67`` emulates an older server (no ``enabled`` field,
no /control/rewrite/settings*, no CNAME validation).
"""

import argparse
import base64
import binascii
import copy
import datetime
import ipaddress
import os
import re
import secrets
import socket
import sys

import bcrypt
import dns.name
import dns.rcode
import dns.rdatatype

from . import adguard_filtering as flt
from .dnsbase import DEFAULT_FORWARD_ALLOW, add_records, forward_allow_from_env, make_reply, qname_text
from .goish import ADDR, BOOL, INT, OPT_BOOL, STRING, STRINGS, UINT, GoDecodeError, Struct, go_decode, go_duration, go_json
from .httpbase import Response, http_date
from .netinfo import interfaces_for_web
from .persist import atomic_write, dump_yaml, load_json, load_yaml, save_json
from .server import StandinBase, run_until_signal

DEFAULT_VERSION = "0.107.79"
# AGH internal/dnsforward/process.go: mozillaFQDN and ddrHostFQDN.
MOZILLA_CANARY = "use-application-dns.net"
DDR_NAME = "_dns.resolver.arpa"
FIRST_RUN_WEB_PORT = 3000
SESSION_COOKIE = "agh_session"
COOKIE_TTL_SECONDS = 365 * 24 * 3600
FAILED_AUTH_TTL_SECONDS = 60
PASSWORD_MIN_RUNES = 8

# Version from which a feature exists (CONTRACTS.md A2/A4/A5).
FEATURES = {
    "protection_api": (0, 107, 28),
    "rewrite_update": (0, 107, 33),
    "rewrite_enabled": (0, 107, 68),
    "start_time": (0, 107, 70),
    "cname_validation": (0, 107, 79),
}

LANGUAGES = frozenset((
    "ar be bg cs da de en es fa fi fr hr hu id it ja ko nl no pl pt-br pt-pt ro ru si-lk sk sl "
    "sr-cs sv th tr uk vi zh-cn zh-hk zh-tw").split())
UPDATE_INTERVALS = (0, 1, 12, 24, 72, 168)
UPSTREAM_MODES = ("", "load_balance", "parallel", "fastest_addr")
BLOCKING_MODES = ("default", "refused", "nxdomain", "null_ip", "custom_ip")
UPSTREAM_SCHEMES = ("udp", "tcp", "tls", "https", "quic", "h3", "sdns")

HTML_PAGE = "<!DOCTYPE html><html><head><title>AdGuard Home stand-in</title></head><body>%s</body></html>\n"


class StartupError(Exception):
    """AdGuard Home refuses to start (it would log the error and exit 1)."""


def parse_version(text):
    return tuple(int(part) for part in text.lstrip("v").split("."))


def parse_go_duration(text, default):
    """Seconds of a Go duration string such as ``720h`` or ``1h30m``."""
    total, matched = 0.0, False
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", str(text or "")):
        matched = True
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return total if matched else default


def default_config(version):
    """What AdGuard Home writes after the install wizard (the parts the stand-in uses)."""
    conf = {
        "http": {"pprof": {"port": 6060, "enabled": False}, "address": "0.0.0.0:%d" % FIRST_RUN_WEB_PORT,
                 "session_ttl": "720h"},
        "users": [],
        "auth_attempts": 5,
        "block_auth_min": 15,
        "http_proxy": "",
        "language": "",
        "theme": "auto",
        "dns": {
            "bind_hosts": ["0.0.0.0"],
            "port": 53,
            "anonymize_client_ip": False,
            "ratelimit": 20,
            "refuse_any": True,
            "upstream_dns": ["https://dns10.quad9.net/dns-query"],
            "upstream_dns_file": "",
            "bootstrap_dns": ["9.9.9.10", "149.112.112.10", "2620:fe::10", "2620:fe::fe:10"],
            "fallback_dns": [],
            "upstream_mode": "load_balance",
            "fastest_timeout": "1s",
            "cache_enabled": True,
            "cache_size": 4194304,
            "cache_ttl_min": 0,
            "cache_ttl_max": 0,
            "cache_optimistic": False,
            "aaaa_disabled": False,
            "enable_dnssec": False,
            "edns_client_subnet": {"custom_ip": "", "enabled": False, "use_custom": False},
            "upstream_timeout": "10s",
            "use_private_ptr_resolvers": True,
            "local_ptr_upstreams": [],
            "serve_plain_dns": True,
            "hostsfile_enabled": True,
        },
        "filtering": {
            "blocking_ipv4": "",
            "blocking_ipv6": "",
            "protection_disabled_until": None,
            "blocking_mode": "default",
            "rewrites": [],
            "filters_update_interval": 24,
            "blocked_response_ttl": 10,
            "filtering_enabled": True,
            "rewrites_enabled": True,
            "parental_enabled": False,
            "safebrowsing_enabled": False,
            "protection_enabled": True,
        },
        "filters": [
            {"enabled": True, "url": "https://adguardteam.github.io/HostlistsRegistry/assets/filter_1.txt",
             "name": "AdGuard DNS filter", "id": 1},
            {"enabled": False, "url": "https://adguardteam.github.io/HostlistsRegistry/assets/filter_2.txt",
             "name": "AdAway Default Blocklist", "id": 2},
        ],
        "whitelist_filters": [],
        "user_rules": [],
        "schema_version": 34,
    }
    if version < FEATURES["rewrite_enabled"]:
        del conf["filtering"]["rewrites_enabled"]
        conf["schema_version"] = 30
    return conf


def _merge_defaults(loaded, defaults):
    for key, value in defaults.items():
        if key not in loaded:
            loaded[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(loaded[key], dict):
            _merge_defaults(loaded[key], value)
    return loaded


def _bind_error(proto, host, port):
    """Go's ``listen tcp 0.0.0.0:80: bind: ...`` text if the port cannot be bound, else None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
        if proto == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        shown = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        reason = (exc.strerror or str(exc)).lower()
        return "listen %s %s: bind: %s" % (proto, shown, reason)
    finally:
        sock.close()
    return None


def _valid_upstream(line):
    spec = line
    if spec.startswith("[/"):
        _domains, sep, spec = spec[2:].partition("/]")
        if not sep:
            return False
    for address in spec.split():
        scheme, sep, rest = address.partition("://")
        if sep:
            if scheme.lower() not in UPSTREAM_SCHEMES or not rest:
                return False
            continue
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address.strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if flt.validate_domain_name(host):
                return False
    return bool(spec.split())


class AuthRateLimiter:
    """AGH internal/home/authratelimiter.go, keyed on the client IP."""

    def __init__(self, clock, block_seconds, max_attempts):
        self.clock = clock
        self.block_seconds = block_seconds
        self.max_attempts = max_attempts
        self.failed = {}

    def _cleanup(self, now):
        for key in [key for key, (_num, until) in self.failed.items() if now > until]:
            del self.failed[key]

    def check(self, ip):
        """Seconds left in the block, 0 if not blocked."""
        now = self.clock.now()
        self._cleanup(now)
        num, until = self.failed.get(ip, (0, 0))
        if num < self.max_attempts:
            return 0
        return max(0.0, until - now)

    def inc(self, ip):
        now = self.clock.now()
        num, until = self.failed.get(ip, (0, now + FAILED_AUTH_TTL_SECONDS))
        num += 1
        if num >= self.max_attempts:
            until = now + self.block_seconds
        self.failed[ip] = (num, until)

    def remove(self, ip):
        self.failed.pop(ip, None)


class AdGuardStandin(StandinBase):
    """In-process AdGuard Home stand-in.

    ``AdGuardStandin(config_path, work_dir, listen_host="127.0.0.1", web_port=0, dns_port=0)``
    starts on ephemeral loopback ports. ``web_port``/``dns_port`` override the ports
    the config names (None: honour the config); ``listen_host`` overrides every bind
    address. If ``config_path`` does not exist the install wizard runs. ``env`` plays
    the process environment (default: ``os.environ``).
    """

    server_header = "natloop-standin (NOT AdGuard Home)"

    def __init__(self, config_path, work_dir, *, listen_host=None, web_port=None, dns_port=None, clock=None,
                 emulate_version=DEFAULT_VERSION, upstream_timeout=2.0, forward_allow=DEFAULT_FORWARD_ALLOW,
                 env=None):
        super().__init__(listen_host=listen_host, clock=clock, logger_name="natloop_standins.adguard",
                         upstream_timeout=upstream_timeout, forward_allow=forward_allow)
        self.env = dict(os.environ if env is None else env)
        self.config_path = config_path
        self.work_dir = work_dir
        self.web_port_override = web_port
        self.dns_port_override = dns_port
        self.version = parse_version(emulate_version)
        self.version_string = "v" + ".".join(str(part) for part in self.version)
        self.conf = None
        self.first_run = False
        self.install_registered = False
        self.sessions = {}
        self.rate_limiter = None
        self.started_at = None

    # -- helpers ---------------------------------------------------------------------
    def has(self, feature):
        return self.version >= FEATURES[feature]

    @property
    def sessions_path(self):
        return os.path.join(self.work_dir, "data", "sessions.db")

    @property
    def rewrites(self):
        """Copy of the stored rewrites, in config order."""
        with self.lock:
            return copy.deepcopy(self.conf["filtering"]["rewrites"]) if self.conf else []

    def _bind_host(self, configured):
        return self.listen_host or configured

    # -- lifecycle -------------------------------------------------------------------
    def start(self):
        with self.lock:
            self.started_at = self.clock.now()
            self.sessions = {}
            if not os.path.exists(self.config_path):
                self.first_run = True
                self.install_registered = True
                self.conf = default_config(self.version)
                self.rate_limiter = AuthRateLimiter(self.clock, 15 * 60, 5)
                port = FIRST_RUN_WEB_PORT if self.web_port_override is None else self.web_port_override
                self._start_http(self._bind_host("0.0.0.0"), port)
                self.log.info("first run: install wizard on port %s", self.web_port)
                return self
            self.first_run = False
            self.install_registered = False
            self.conf = self._load_config()
            self.rate_limiter = AuthRateLimiter(self.clock, int(self.conf.get("block_auth_min") or 15) * 60,
                                                int(self.conf.get("auth_attempts") or 5))
            self.sessions = load_json(self.sessions_path, {})
            host, port = self._http_address()
            self._start_dns(self._bind_host(self._dns_bind_host()), self._dns_port())
            try:
                self._start_http(self._bind_host(host), port if self.web_port_override is None else self.web_port_override)
            except OSError:
                self._stop_dns()
                raise
            return self

    def restart(self):
        """Simulate stopping and starting the process (in-memory state is lost)."""
        self.stop()
        return self.start()

    def _load_config(self):
        loaded = load_yaml(self.config_path)
        if not isinstance(loaded, dict):
            raise StartupError("parsing config file: not a YAML mapping")
        conf = _merge_defaults(loaded, default_config(self.version))
        legacy = conf["dns"].pop("rewrites", None)
        if legacy and not conf["filtering"].get("rewrites"):
            conf["filtering"]["rewrites"] = legacy
        conf["filtering"]["rewrites"] = [dict(entry) for entry in conf["filtering"].get("rewrites") or []]
        for index, entry in enumerate(conf["filtering"]["rewrites"]):
            entry["domain"] = str(entry.get("domain") or "")
            entry["answer"] = str(entry.get("answer") or "")
            if self.has("rewrite_enabled"):
                entry["enabled"] = entry.get("enabled") is not False
            else:
                entry.pop("enabled", None)
            domain, error = flt.normalize(entry["domain"], entry["answer"], self.has("cname_validation"))
            if error:
                raise StartupError("filtering: rewrites: preparing: at index %d: %s" % (index, error))
            entry["domain"] = domain
        conf["users"] = conf.get("users") or []
        return conf

    def _http_address(self):
        address = str(self.conf["http"].get("address") or "0.0.0.0:80")
        host, _sep, port = address.rpartition(":")
        return host.strip("[]") or "0.0.0.0", int(port)

    def _dns_bind_host(self):
        hosts = self.conf["dns"].get("bind_hosts") or ["0.0.0.0"]
        return str(hosts[0])

    def _configured_dns_port(self):
        port = self.conf["dns"].get("port")
        return 53 if port in (None, "") else int(port)

    def _dns_port(self):
        return self._configured_dns_port() if self.dns_port_override is None else self.dns_port_override

    def save(self):
        """Write AdGuardHome.yaml (every successful mutation does this), in AdGuard's key order."""
        conf = copy.deepcopy(self.conf)
        if not self.has("rewrite_enabled"):
            conf["filtering"].pop("rewrites_enabled", None)
            for entry in conf["filtering"]["rewrites"]:
                entry.pop("enabled", None)
        until = conf["filtering"].get("protection_disabled_until")
        if until is not None:
            conf["filtering"]["protection_disabled_until"] = datetime.datetime.fromtimestamp(
                until, datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        order = list(default_config(self.version))
        ordered = {key: conf[key] for key in order if key in conf}
        ordered.update((key, value) for key, value in conf.items() if key not in ordered)
        ordered["schema_version"] = ordered.pop("schema_version")
        atomic_write(self.config_path, dump_yaml(ordered), mode=0o600)

    def _save_sessions(self):
        save_json(self.sessions_path, self.sessions)

    # -- protection ------------------------------------------------------------------
    def _protection_until(self):
        """Epoch seconds until which protection is paused, or None."""
        value = self.conf["filtering"].get("protection_disabled_until")
        if value in (None, ""):
            return None
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        try:
            return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None

    def _refresh_protection(self):
        """Re-enable protection once a timed pause is over."""
        until = self._protection_until()
        if until is not None and self.clock.now() >= until:
            self.conf["filtering"]["protection_enabled"] = True
            self.conf["filtering"]["protection_disabled_until"] = None
            self.save()

    # -- HTTP ------------------------------------------------------------------------
    @staticmethod
    def _text(status, message, headers=None):
        return Response(status, message + "\n", "text/plain; charset=utf-8",
                        headers=[("X-Content-Type-Options", "nosniff")] + list(headers or []))

    @staticmethod
    def _json(obj):
        return Response(200, go_json(obj), "application/json")

    @staticmethod
    def _ok():
        return Response(200, "OK\n", "text/plain; charset=utf-8")

    @staticmethod
    def _redirect(location):
        return Response(302, headers=[("Location", location)])

    def _not_found(self):
        return self._text(404, "404 page not found")

    def handle_http(self, request):
        with self.lock:
            if self.first_run:
                return self._pre_install(request)
            self._refresh_protection()
            return self._post_install(request)

    def _ensure(self, request, method):
        """AGH control.go ``ensure``: method, then Content-Type of data-modifying requests."""
        if request.method != method:
            return self._text(405, "only method %s is allowed" % method)
        if method in ("POST", "PUT", "DELETE"):
            ctype = request.header("Content-Type")
            if request.content_length == 0:
                if ctype is not None:
                    return self._text(415, 'empty body with content-type "%s" not allowed' % ctype)
            elif ctype != "application/json":
                return self._text(415, "only content-type application/json is allowed")
        return None

    def _pre_install(self, request):
        path = request.path
        if path.startswith("/control/install/"):
            return self._install_route(request)
        if path == "/install.html":
            return Response(200, HTML_PAGE % "install wizard", "text/html; charset=utf-8")
        if path.startswith("/install.") or path.startswith("/assets/"):
            return self._not_found()
        return self._redirect("install.html")

    def _install_route(self, request):
        routes = {
            "/control/install/get_addresses": ("GET", self._h_get_addresses),
            "/control/install/check_config": ("POST", self._h_check_config),
            "/control/install/configure": ("POST", self._h_configure),
        }
        if request.path not in routes:
            return self._not_found()
        method, handler = routes[request.path]
        return self._ensure(request, method) or handler(request)

    @staticmethod
    def _is_public(path):
        if path in ("/control/login", "/control/install/get_addresses", "/control/install/check_config",
                    "/control/install/configure", "/install.html", "/dns-query", "/apple/doh.mobileconfig",
                    "/apple/dot.mobileconfig") or path.startswith("/dns-query/"):
            return True
        return bool(re.fullmatch(r"/login\.[^/]*", path) or re.fullmatch(r"/assets/[^/]*", path))

    def _routes(self):
        routes = {
            "/control/status": ("GET", self._h_status),
            "/control/login": ("POST", self._h_login),
            "/control/logout": ("GET", self._h_logout),
            "/control/rewrite/list": ("GET", self._h_rewrite_list),
            "/control/rewrite/add": ("POST", self._h_rewrite_add),
            "/control/rewrite/delete": ("POST", self._h_rewrite_delete),
            "/control/dns_config": ("POST", self._h_dns_config),
            "/control/dns_info": ("GET", self._h_dns_info),
            "/control/filtering/config": ("POST", self._h_filtering_config),
            "/control/filtering/status": ("GET", self._h_filtering_status),
            "/control/filtering/set_rules": ("POST", self._h_set_rules),
        }
        if self.has("rewrite_update"):
            routes["/control/rewrite/update"] = ("PUT", self._h_rewrite_update)
        if self.has("rewrite_enabled"):
            routes["/control/rewrite/settings"] = ("GET", self._h_rewrite_settings)
            routes["/control/rewrite/settings/update"] = ("PUT", self._h_rewrite_settings_update)
        if self.has("protection_api"):
            routes["/control/protection"] = ("POST", self._h_protection)
        return routes

    def _post_install(self, request):
        path = request.path
        if self.conf["users"]:
            user = self._authenticate(request)
            if user is None:
                if not self._is_public(path):
                    if path in ("/", "/index.html"):
                        return self._redirect("login.html")
                    return Response(401)
            elif path == "/login.html":
                return self._redirect("/")
        if path.startswith("/control/install/") or path == "/install.html":
            return self._text(403, "Forbidden") if self.install_registered else self._not_found()
        route = self._routes().get(path)
        if route is None:
            if path in ("/", "/index.html", "/login.html"):
                return Response(200, HTML_PAGE % "AdGuard Home stand-in", "text/html; charset=utf-8")
            return self._not_found()
        method, handler = route
        return self._ensure(request, method) or handler(request)

    # -- auth ------------------------------------------------------------------------
    def _user(self, name):
        return next((user for user in self.conf["users"] if user.get("name") == name), None)

    @staticmethod
    def _password_ok(user, password):
        try:
            return bcrypt.checkpw(password.encode("utf-8"), str(user.get("password") or "").encode("utf-8"))
        except ValueError:
            return False

    def _session_user(self, token):
        if not re.fullmatch(r"[0-9a-fA-F]{32}", token):
            return None
        session = self.sessions.get(token.lower())
        if session is None:
            return None
        if session["expire"] < self.clock.now():
            del self.sessions[token.lower()]
            self._save_sessions()
            return None
        return self._user(session["login"])

    def _authenticate(self, request):
        cookies = request.cookies()
        if SESSION_COOKIE in cookies:
            return self._session_user(cookies[SESSION_COOKIE])
        credentials = self._basic_auth(request)
        if credentials is None:
            return None
        ip = request.client_ip
        if self.rate_limiter.check(ip) > 0:
            return None
        user = self._user(credentials[0])
        if user is not None and self._password_ok(user, credentials[1]):
            self.rate_limiter.remove(ip)
            return user
        self.rate_limiter.inc(ip)
        return None

    @staticmethod
    def _basic_auth(request):
        header = request.header("Authorization") or ""
        if not header[:6].lower() == "basic ":
            return None
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        return (name, password) if sep else None

    def _h_login(self, request):
        try:
            body = go_decode(request.body, Struct("loginJSON", name=STRING, password=STRING))
        except GoDecodeError as exc:
            return self._text(400, "json decode: %s" % exc)
        ip = request.client_ip
        left = self.rate_limiter.check(ip)
        if left > 0:
            return self._text(429, "auth: blocked for %s" % go_duration(left), headers=[("Retry-After", str(int(left)))])
        user = self._user(body["name"] or "")
        if user is None or not self._password_ok(user, body["password"] or ""):
            self.rate_limiter.inc(ip)
            return self._text(403, "invalid username or password")
        self.rate_limiter.remove(ip)
        token = secrets.token_hex(16)
        ttl = parse_go_duration(self.conf["http"].get("session_ttl"), 720 * 3600)
        self.sessions[token] = {"login": user["name"], "expire": self.clock.now() + ttl}
        self._save_sessions()
        cookie = "%s=%s; Path=/; Expires=%s; HttpOnly; SameSite=Lax" % (
            SESSION_COOKIE, token, http_date(self.clock.now() + COOKIE_TTL_SECONDS))
        response = self._ok()
        for header in (("Set-Cookie", cookie), ("Cache-Control", "no-store, no-cache, must-revalidate, proxy-revalidate"),
                       ("Pragma", "no-cache"), ("Expires", "0")):
            response.add_header(*header)
        return response

    def _h_logout(self, request):
        token = request.cookies().get(SESSION_COOKIE)
        if token is None:
            return self._redirect("/login.html")
        if not re.fullmatch(r"[0-9a-fA-F]{32}", token):
            return Response(401)
        if self.sessions.pop(token.lower(), None) is not None:
            self._save_sessions()
        response = self._redirect("/login.html")
        response.add_header("Set-Cookie", "%s=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
                            % SESSION_COOKIE)
        return response

    # -- rewrites ----------------------------------------------------------------------
    def _entry_schema(self, name="rewriteEntryJSON", with_enabled=True):
        fields = {"domain": STRING, "answer": STRING}
        if with_enabled and self.has("rewrite_enabled"):
            fields["enabled"] = OPT_BOOL
        return Struct(name, **fields)

    def _h_rewrite_list(self, _request):
        entries = []
        for entry in self.conf["filtering"]["rewrites"]:
            item = {"domain": entry["domain"], "answer": entry["answer"]}
            if self.has("rewrite_enabled"):
                item["enabled"] = entry.get("enabled", True)
            entries.append(item)
        return self._json(entries)

    def _normalized(self, body):
        domain, error = flt.normalize(body["domain"] or "", body["answer"] or "", self.has("cname_validation"))
        if error:
            return None, self._text(400, "normalizing: %s" % error)
        entry = {"domain": domain, "answer": body["answer"] or ""}
        if self.has("rewrite_enabled"):
            entry["enabled"] = body.get("enabled")
        return entry, None

    def _h_rewrite_add(self, request):
        try:
            body = go_decode(request.body, self._entry_schema())
        except GoDecodeError as exc:
            return self._text(400, "json.Decode: %s" % exc)
        entry, error = self._normalized(body)
        if error:
            return error
        if "enabled" in entry and entry["enabled"] is None:
            entry["enabled"] = True
        self.conf["filtering"]["rewrites"].append(entry)
        self.save()
        return Response(200)

    def _h_rewrite_delete(self, request):
        try:
            body = go_decode(request.body, self._entry_schema(with_enabled=False))
        except GoDecodeError as exc:
            return self._text(400, "json.Decode: %s" % exc)
        domain, answer = body["domain"] or "", body["answer"] or ""
        self.conf["filtering"]["rewrites"] = [entry for entry in self.conf["filtering"]["rewrites"]
                                              if not (entry["domain"] == domain and entry["answer"] == answer)]
        self.save()
        return Response(200)

    def _h_rewrite_update(self, request):
        schema = Struct("rewriteUpdateJSON", target=self._entry_schema(with_enabled=False), update=self._entry_schema())
        try:
            body = go_decode(request.body, schema)
        except GoDecodeError as exc:
            return self._text(400, "json.Decode: %s" % exc)
        entry, error = self._normalized(body["update"])
        if error:
            return error
        target = body["target"]
        rewrites = self.conf["filtering"]["rewrites"]
        index = next((i for i, old in enumerate(rewrites)
                      if old["domain"] == (target["domain"] or "") and old["answer"] == (target["answer"] or "")), -1)
        if index < 0:
            return self._text(400, "target rule not found")
        if "enabled" in entry and entry["enabled"] is None:
            entry["enabled"] = rewrites[index].get("enabled", True)
        rewrites[index] = entry
        self.save()
        return Response(200)

    def _h_rewrite_settings(self, _request):
        return self._json({"enabled": bool(self.conf["filtering"].get("rewrites_enabled", True))})

    def _h_rewrite_settings_update(self, request):
        try:
            body = go_decode(request.body, Struct("rewriteSettingsJSON", enabled=BOOL))
        except GoDecodeError as exc:
            return self._text(400, "json.Decode: %s" % exc)
        self.conf["filtering"]["rewrites_enabled"] = bool(body["enabled"])
        self.save()
        return Response(200)

    # -- status, protection, dns -----------------------------------------------------
    def _dns_addresses(self):
        port = self._configured_dns_port()
        hosts = []
        for host in self.conf["dns"].get("bind_hosts") or ["127.0.0.1"]:
            if ipaddress.ip_address(host).is_unspecified:
                for iface in interfaces_for_web().values():
                    hosts.extend(iface["ip_addresses"])
            else:
                hosts.append(host)
        return [host if port == 53 else ("[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port))
                for host in hosts]

    def _h_status(self, _request):
        until = self._protection_until()
        remaining = int(max(0.0, until - self.clock.now()) * 1000) if until is not None else 0
        status = {
            "version": self.version_string,
            "language": self.conf.get("language") or "",
            "dns_addresses": self._dns_addresses(),
            "dns_port": self._configured_dns_port(),
            "http_port": self._http_address()[1],
            "protection_disabled_duration": remaining,
            "protection_enabled": bool(self.conf["filtering"].get("protection_enabled", True)),
        }
        if self.has("start_time"):
            status["start_time"] = int(self.started_at * 1000)
        status["dhcp_available"] = True
        status["running"] = self.dns_running
        return self._json(status)

    def _h_protection(self, request):
        try:
            body = go_decode(request.body, Struct("setProtectionJSON", enabled=BOOL, duration=UINT))
        except GoDecodeError as exc:
            return self._text(400, "reading req: %s" % exc)
        until = None
        if body["duration"]:
            if body["enabled"]:
                return self._text(400, "Setting a duration is only allowed with protection disabling")
            until = self.clock.now() + body["duration"] / 1000.0
        self.conf["filtering"]["protection_enabled"] = bool(body["enabled"])
        self.conf["filtering"]["protection_disabled_until"] = until
        self.save()
        return self._ok()

    # dns_info / dns_config field -> (section, key) in AdGuardHome.yaml
    DNS_FIELDS = {
        "upstream_dns": ("dns", "upstream_dns", STRINGS),
        "upstream_dns_file": ("dns", "upstream_dns_file", STRING),
        "bootstrap_dns": ("dns", "bootstrap_dns", STRINGS),
        "fallback_dns": ("dns", "fallback_dns", STRINGS),
        "upstream_mode": ("dns", "upstream_mode", STRING),
        "protection_enabled": ("filtering", "protection_enabled", OPT_BOOL),
        "ratelimit": ("dns", "ratelimit", UINT),
        "blocking_mode": ("filtering", "blocking_mode", STRING),
        "blocking_ipv4": ("filtering", "blocking_ipv4", STRING),
        "blocking_ipv6": ("filtering", "blocking_ipv6", STRING),
        "blocked_response_ttl": ("filtering", "blocked_response_ttl", UINT),
        "dnssec_enabled": ("dns", "enable_dnssec", OPT_BOOL),
        "disable_ipv6": ("dns", "aaaa_disabled", OPT_BOOL),
        "cache_size": ("dns", "cache_size", UINT),
        "cache_ttl_min": ("dns", "cache_ttl_min", UINT),
        "cache_ttl_max": ("dns", "cache_ttl_max", UINT),
        "cache_optimistic": ("dns", "cache_optimistic", OPT_BOOL),
        "use_private_ptr_resolvers": ("dns", "use_private_ptr_resolvers", OPT_BOOL),
        "local_ptr_upstreams": ("dns", "local_ptr_upstreams", STRINGS),
    }

    def _h_dns_info(self, _request):
        info = {}
        for field, (section, key, _kind) in self.DNS_FIELDS.items():
            info[field] = copy.deepcopy(self.conf[section].get(key))
        info["protection_disabled_until"] = None
        until = self._protection_until()
        if until is not None:
            info["protection_disabled_until"] = datetime.datetime.fromtimestamp(
                until, datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        info["edns_cs_enabled"] = bool(self.conf["dns"].get("edns_client_subnet", {}).get("enabled", False))
        info["default_local_ptr_upstreams"] = []
        return self._json(info)

    def _validate_dns_config(self, body):
        mode = body.get("upstream_mode")
        if mode is not None and mode not in UPSTREAM_MODES:
            return 'upstream_mode: bad value "%s"' % mode
        blocking = body.get("blocking_mode")
        if blocking is not None and blocking not in BLOCKING_MODES:
            return 'blocking_mode: bad value "%s"' % blocking
        for field in ("upstream_dns", "fallback_dns"):
            for line in body.get(field) or []:
                line = line.strip()
                if line and not line.startswith("#") and not _valid_upstream(line):
                    return 'upstream servers: validating upstream servers: bad upstream "%s"' % line
        upstreams = body.get("upstream_dns")
        if upstreams is not None:
            defaults = [line for line in upstreams if line.strip() and not line.strip().startswith(("#", "[/"))]
            file_set = body.get("upstream_dns_file") or self.conf["dns"].get("upstream_dns_file")
            if not defaults and not file_set:
                return "upstream servers: no default upstreams specified"
        for line in body.get("bootstrap_dns") or []:
            spec = line.strip()
            if spec and not (spec.startswith("#") or _plain_ip(spec)):
                return 'checking bootstrap "%s": not a plain ip address' % spec
        return None

    def _h_dns_config(self, request):
        schema = Struct("jsonDNSConfig", **{field: kind for field, (_s, _k, kind) in self.DNS_FIELDS.items()})
        try:
            body = go_decode(request.body, schema)
        except GoDecodeError as exc:
            return self._text(400, "decoding request: %s" % exc)
        error = self._validate_dns_config(body)
        if error:
            return self._text(400, "validating dns config: %s" % error)
        for field, (section, key, _kind) in self.DNS_FIELDS.items():
            if body.get(field) is not None:
                self.conf[section][key] = body[field]
        self.save()
        return Response(200)

    # -- filtering ---------------------------------------------------------------------
    def _h_filtering_config(self, request):
        try:
            body = go_decode(request.body, Struct("filteringConfig", enabled=BOOL, interval=UINT))
        except GoDecodeError as exc:
            return self._text(400, "json.Decode: %s" % exc)
        if (body["interval"] or 0) not in UPDATE_INTERVALS:
            return self._text(400, "Unsupported interval")
        self.conf["filtering"]["filtering_enabled"] = bool(body["enabled"])
        self.conf["filtering"]["filters_update_interval"] = body["interval"] or 0
        self.save()
        return Response(200)

    def _h_filtering_status(self, _request):
        def listed(filters):
            return [{"id": item.get("id"), "enabled": bool(item.get("enabled")), "url": item.get("url", ""),
                     "name": item.get("name", ""), "rules_count": 1 if item.get("enabled") else 0}
                    for item in filters or []]
        return self._json({
            "filters": listed(self.conf.get("filters")),
            "whitelist_filters": listed(self.conf.get("whitelist_filters")),
            "user_rules": list(self.conf.get("user_rules") or []),
            "interval": self.conf["filtering"].get("filters_update_interval", 24),
            "enabled": bool(self.conf["filtering"].get("filtering_enabled", True)),
        })

    def _h_set_rules(self, request):
        try:
            body = go_decode(request.body, Struct("setRulesJSON", rules=STRINGS))
        except GoDecodeError as exc:
            return self._text(400, "json.Decode: %s" % exc)
        self.conf["user_rules"] = body["rules"] or []
        self.save()
        return Response(200)

    # -- install wizard ----------------------------------------------------------------
    def _h_get_addresses(self, _request):
        web_port = int(self.env.get("ADGUARD_HOME_DEFAULT_WEB_PORT") or 80)
        return self._json({"interfaces": interfaces_for_web(), "version": self.version_string,
                           "web_port": web_port, "dns_port": 53})

    def _listen_ip(self, requested):
        return self.listen_host or requested or "0.0.0.0"

    def _h_check_config(self, request):
        entry = Struct("checkConfReqEnt", ip=ADDR, port=INT, autofix=BOOL)
        schema = Struct("checkConfReq", web=entry, dns=entry, set_static_ip=BOOL, language=STRING)
        try:
            body = go_decode(request.body, schema)
        except GoDecodeError as exc:
            return self._text(400, "decoding the request: %s" % exc)
        web, dns_req = body["web"], body["dns"]
        web_port, dns_port = web["port"] or 0, dns_req["port"] or 0
        response = {"web": {"status": "", "can_autofix": False}, "dns": {"status": "", "can_autofix": False},
                    "static_ip": {"static": "", "ip": "", "error": ""}}
        if web_port and dns_port and web_port == dns_port:
            response["web"]["status"] = "validating ports: duplicated values: [%d]" % web_port
        elif web_port not in (0, self.web_port):
            error = _bind_error("tcp", self._listen_ip(web["ip"]), web_port)
            if error:
                response["web"]["status"] = "validating ports: %s" % error
        if dns_port:
            error = None
            if dns_port != self.web_port:
                error = _bind_error("tcp", self._listen_ip(dns_req["ip"]), dns_port)
            error = error or _bind_error("udp", self._listen_ip(dns_req["ip"]), dns_port)
            if error:
                response["dns"]["status"] = "validating ports: %s" % error
            elif dns_req["ip"] and not ipaddress.ip_address(dns_req["ip"]).is_unspecified:
                response["static_ip"] = {"static": "no", "ip": dns_req["ip"], "error": ""}
        language = body["language"] or ""
        response["language"] = {"status": "" if not language or language in LANGUAGES
                                else 'unknown language "%s"' % language}
        return self._json(response)

    def _h_configure(self, request):
        entry = Struct("applyConfigReqEnt", ip=ADDR, port=INT)
        schema = Struct("applyConfigReq", username=STRING, password=STRING, web=entry, dns=entry, language=STRING)
        try:
            body = go_decode(request.body, schema)
        except GoDecodeError as exc:
            return self._text(400, "parsing request: %s" % exc)
        web, dns_req = body["web"], body["dns"]
        web_ip, dns_ip = web["ip"] or "0.0.0.0", dns_req["ip"] or "0.0.0.0"
        if not web["port"] or not dns_req["port"]:
            return self._text(400, "ports cannot be 0")
        language = body["language"] or ""
        if language and language not in LANGUAGES:
            return self._text(400, 'unknown language "%s"' % language)
        new_web = (self._listen_ip(web_ip), web["port"])
        move_web = new_web != (self._http.host, self.web_port)
        if move_web:
            error = _bind_error("tcp", *new_web)
            if error:
                return self._text(400, "checking address %s:%d: %s" % (web_ip, web["port"], error))
        if len(body["password"] or "") < PASSWORD_MIN_RUNES:
            return self._text(422, "password must be at least %d symbols long" % PASSWORD_MIN_RUNES)
        dns_bind = (self._listen_ip(dns_ip), dns_req["port"])
        error = _bind_error("udp", *dns_bind) or _bind_error("tcp", *dns_bind)
        if error:
            return self._text(400, error)
        self.conf["http"]["address"] = ("[%s]:%d" if ":" in web_ip else "%s:%d") % (web_ip, web["port"])
        self.conf["dns"]["bind_hosts"] = [dns_ip]
        self.conf["dns"]["port"] = dns_req["port"]
        if language:
            self.conf["language"] = language
        try:
            self._start_dns(*dns_bind)
        except OSError as exc:
            self.conf = default_config(self.version)
            return self._text(500, str(exc))
        hashed = bcrypt.hashpw((body["password"] or "").encode("utf-8"), bcrypt.gensalt(rounds=10, prefix=b"2a"))
        self.conf["users"] = [{"name": body["username"] or "", "password": hashed.decode("ascii")}]
        try:
            self.save()
        except OSError as exc:
            self._stop_dns()
            self.conf = default_config(self.version)
            return self._text(500, "Couldn't write config: %s" % exc)
        self.first_run = False
        response = self._ok()
        if move_web:
            old = self._http
            self._start_http(*new_web)
            response.after_send.append(old.stop)
        return response

    # -- DNS ---------------------------------------------------------------------------
    def _upstreams_for(self, host):
        default, specific = [], []
        for line in self.conf["dns"].get("upstream_dns") or []:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[/"):
                domains, _sep, servers = line[2:].partition("/]")
                for domain in domains.split("/"):
                    domain = domain.lower().rstrip(".")
                    if host == domain or host.endswith("." + domain):
                        specific.append((len(domain), servers.split()))
            else:
                default.extend(line.split())
        if specific:
            return max(specific, key=lambda item: item[0])[1]
        return default

    def _ruleset(self):
        lines = list(self.conf.get("user_rules") or [])
        if any(item.get("enabled") for item in self.conf.get("filters") or []):
            lines.append("||%s^" % flt.DEMO_BLOCKED_DOMAIN)
        return flt.RuleSet(lines)

    def resolve(self, query, client_ip):
        question = query.question[0]
        host, qtype = qname_text(question.name).lower(), question.rdtype
        # AGH internal/dnsforward/requesthandler.go: processInitial, then processDDRQuery, before any filtering.
        # process.go processInitial: the Firefox canary's A/AAAA get NXDOMAIN, whatever protection says.
        if qtype in (dns.rdatatype.A, dns.rdatatype.AAAA) and host == MOZILLA_CANARY:
            return make_reply(query, dns.rcode.NXDOMAIN)
        # process.go processDDRQuery/makeDDRResponse (dns.handle_ddr, true by default): answered by AdGuard Home
        # itself, with SVCB records for its own encrypted listeners only; the stand-in has none, so no answer.
        if host == DDR_NAME and self.conf["dns"].get("handle_ddr", True):
            return make_reply(query)
        with self.lock:
            self._refresh_protection()
            filtering = self.conf["filtering"]
            ttl = int(filtering.get("blocked_response_ttl") or 10)
            upstreams = self._upstreams_for(host)
            fallback = list(self.conf["dns"].get("fallback_dns") or [])
            result = verdict = None
            if host and filtering.get("filtering_enabled", True):
                if filtering.get("rewrites_enabled", True) or not self.has("rewrite_enabled"):
                    result = flt.process_rewrites(filtering["rewrites"], host, qtype)
                if result is None:
                    # filtering.go matchHost: $dnsrewrite results of user rules and lists apply while filtering
                    # is on, with protection on or off; the other rules only with protection on.
                    rules = self._ruleset()
                    if rules.dnsrewrite_nxdomain(host):
                        verdict = "nxdomain"
                    elif filtering.get("protection_enabled", True):
                        verdict = rules.verdict(host)
            blocking = (filtering.get("blocking_mode") or "default", filtering.get("blocking_ipv4") or "",
                        filtering.get("blocking_ipv6") or "")
        if result is not None:
            return self._rewritten(query, result, ttl, upstreams, fallback)
        if verdict == "nxdomain":
            return make_reply(query, dns.rcode.NXDOMAIN)
        if verdict == "block":
            return self._blocked(query, ttl, blocking)
        return self._forwarded(query, upstreams, fallback)

    def _forwarded(self, query, upstreams, fallback, name=None):
        for servers in (upstreams, fallback):
            if not servers:
                continue
            if name is None:
                answer = self.forwarder.forward(query, servers)
            else:
                answer = self.forwarder.resolve_name(query, name, servers)
            if answer is not None:
                return answer
        return make_reply(query, dns.rcode.SERVFAIL)

    def _rewritten(self, query, result, ttl, upstreams, fallback):
        question = query.question[0]
        response = make_reply(query)
        if result.canonical_name and not result.ips:
            upstream = self._forwarded(query, upstreams, fallback, name=result.canonical_name)
            response.set_rcode(upstream.rcode())
            if upstream.answer:
                add_records(response, question.name, dns.rdatatype.CNAME, ttl, [result.canonical_name + "."])
                response.answer.extend(upstream.answer)
            return response
        owner = question.name
        if result.canonical_name:
            add_records(response, owner, dns.rdatatype.CNAME, ttl, [result.canonical_name + "."])
            owner = dns.name.from_text(result.canonical_name)
        add_records(response, owner, question.rdtype, ttl, result.ips)
        return response

    @staticmethod
    def _blocked(query, ttl, blocking):
        mode, ipv4, ipv6 = blocking
        if mode == "nxdomain":
            return make_reply(query, dns.rcode.NXDOMAIN)
        if mode == "refused":
            return make_reply(query, dns.rcode.REFUSED)
        response = make_reply(query)
        question = query.question[0]
        if question.rdtype == dns.rdatatype.A:
            add_records(response, question.name, question.rdtype, ttl, [ipv4 if mode == "custom_ip" and ipv4 else "0.0.0.0"])
        elif question.rdtype == dns.rdatatype.AAAA:
            add_records(response, question.name, question.rdtype, ttl, [ipv6 if mode == "custom_ip" and ipv6 else "::"])
        return response


def _plain_ip(spec):
    try:
        ipaddress.ip_address(spec)
        return True
    except ValueError:
        host, sep, port = spec.rpartition(":")
        if not sep or not port.isdigit():
            return False
        try:
            ipaddress.ip_address(host.strip("[]"))
            return True
        except ValueError:
            return False


def build_parser():
    parser = argparse.ArgumentParser(prog="natloop_standins.adguard",
                                     description="AdGuard Home stand-in for tests (NOT the real AdGuard Home)")
    parser.add_argument("-c", "--config", default="AdGuardHome.yaml", help="path to AdGuardHome.yaml")
    parser.add_argument("-w", "--work-dir", default=None, help="working directory (data/ lives here)")
    parser.add_argument("--no-check-update", action="store_true", help="accepted for compatibility")
    parser.add_argument("--no-etc-hosts", action="store_true", help="accepted for compatibility")
    parser.add_argument("--no-permcheck", action="store_true", help="accepted for compatibility")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--web-addr", default=None, help="host:port of the web interface (overrides the config)")
    parser.add_argument("--web-port", type=int, default=None, help="stand-in only: web port override")
    parser.add_argument("--dns-port", type=int, default=None, help="stand-in only: DNS port override")
    parser.add_argument("--listen-host", default=None, help="stand-in only: bind every listener to this address")
    parser.add_argument("--emulate-version", default=DEFAULT_VERSION, help="AdGuard Home version to emulate")
    parser.add_argument("--upstream-timeout", type=float, default=2.0, help="seconds per upstream query")
    parser.add_argument("--forward-allow", default=None,
                        help="comma-separated networks upstream queries may go to (default: loopback and lab ranges)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    work_dir = os.path.abspath(args.work_dir or os.getcwd())
    config = args.config if os.path.isabs(args.config) else os.path.join(work_dir, args.config)
    web_port, listen_host = args.web_port, args.listen_host
    if args.web_addr:
        host, _sep, port = args.web_addr.rpartition(":")
        web_port = int(port)
        listen_host = listen_host or host.strip("[]") or None
    allow = (tuple(net.strip() for net in args.forward_allow.split(",") if net.strip())
             if args.forward_allow else forward_allow_from_env())
    standin = AdGuardStandin(config, work_dir, listen_host=listen_host, web_port=web_port, dns_port=args.dns_port,
                             emulate_version=args.emulate_version, upstream_timeout=args.upstream_timeout,
                             forward_allow=allow)
    try:
        return run_until_signal(standin)
    except StartupError as exc:
        print("[fatal] %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
