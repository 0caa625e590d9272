# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Stateful in-memory fakes of the AdGuard Home and Pi-hole v6 HTTP APIs for unit tests.

They replace ``open_url`` in the collection's ``_http`` helper, so the module code runs
unchanged down to the last function before the socket. They follow /work/shared/CONTRACTS.md
for the endpoints the modules use, count every request, and have a ``read_only`` switch:
with it on, any request that would change the server raises AssertionError (used for
check-mode and no-op tests). Faults (statuses, refused connections) can be queued.
"""

import base64
import email.message
import io
import ipaddress
import itertools
import json
import re
import socket
import threading
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit

OPEN_URL = 'ansible_collections.natloop.lan.plugins.module_utils._http.open_url'
DNS_QUERY = 'ansible_collections.natloop.lan.plugins.module_utils._dns_wire.query'


class FakeClock(object):
    """The clock the Pi-hole restart wait reads (``monotonic``) and waits on (``sleep``): waits take no time."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []
        self._lock = threading.Lock()

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


CLOCK = FakeClock()

# The FakePihole that answered last: fake_dns_query asks its DNS server.
_LAST_PIHOLE = []


def fake_dns_query(address, name, rtype='A', timeout=1.0):
    """``_dns_wire.query`` against the FakePihole that answered the last HTTP request."""
    from ansible_collections.natloop.lan.plugins.module_utils._dns_wire import DnsAnswer
    server = _LAST_PIHOLE[-1]
    server.dns_queries.append((address, name, rtype))
    return server.dns_answer(name, rtype, DnsAnswer)


class WriteInReadOnlyMode(AssertionError):
    pass


class FakeResponse(object):
    def __init__(self, status, headers, body):
        self.status = status
        self._headers = _message(headers)
        self._body = body

    def read(self):
        return self._body

    def getcode(self):
        return self.status

    def info(self):
        return self._headers

    def close(self):
        pass


def _message(headers):
    message = email.message.Message()
    for name, value in (headers or {}).items():
        message[name] = value
    return message


class Request(object):
    def __init__(self, method, url, headers, body, kwargs):
        parts = urlsplit(url)
        self.method = method
        self.url = url
        self.path = unquote(parts.path)
        self.query = parts.query
        self.headers = dict((k.lower(), v) for k, v in (headers or {}).items())
        self.body = body
        self.kwargs = kwargs

    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def __repr__(self):
        return '{0} {1}'.format(self.method, self.path)


class FakeServer(object):
    """Common plumbing: request log, fault queue, read-only switch, HTTPError raising."""

    def __init__(self):
        self.read_only = False
        self.requests = []
        self.faults = []    # list of [predicate, action, remaining]
        # Called with each request before it is handled (tests force interleavings with it).
        self.before_request = None
        self.after_request = None
        # One request at a time, as the real servers take their writes.
        self.serial = threading.Lock()

    # -- test helpers
    def fail(self, action, method=None, path=None, times=1):
        """Queue a fault: ``action`` is an int status or 'refused'."""
        def matches(request):
            return (method is None or request.method == method) and (path is None or request.path == path)
        self.faults.append([matches, action, times])

    def writes(self):
        return [r for r in self.requests if self.is_write(r)]

    def calls(self):
        return ['{0} {1}'.format(r.method, r.path) for r in self.requests]

    def assert_basic_auth_json_no_cookie(self, username, password):
        """Every request carried these Basic credentials and no cookie; every body was exactly JSON."""
        token = 'Basic ' + base64.b64encode('{0}:{1}'.format(username, password).encode()).decode()
        for request in self.requests:
            assert request.headers['authorization'] == token, request
            assert 'cookie' not in request.headers, request
            if request.body is None:
                assert 'content-type' not in request.headers, request
            else:
                assert request.headers['content-type'] == 'application/json', request

    # -- the open_url replacement
    def __call__(self, url, data=None, headers=None, method=None, **kwargs):
        request = Request(method or ('POST' if data else 'GET'), url, headers, data, kwargs)
        if self.before_request is not None:
            self.before_request(request)
        try:
            with self.serial:
                return self._call(request, kwargs)
        finally:
            if self.after_request is not None:
                self.after_request(request)

    def _call(self, request, kwargs):
        self.requests.append(request)
        assert kwargs.get('follow_redirects') == 'none'
        assert kwargs.get('use_netrc') is False
        for fault in self.faults:
            matches, action, remaining = fault
            if remaining > 0 and matches(request):
                fault[2] -= 1
                if action == 'refused':
                    raise URLError(ConnectionRefusedError(111, 'Connection refused'))
                return self._respond(request, action, self.fault_headers(action), self.fault_body(action))
        if self.read_only and self.is_write(request):
            raise WriteInReadOnlyMode('write in read-only mode: {0} {1!r}'.format(request, request.body))
        status, response_headers, body = self.handle(request)
        return self._respond(request, status, response_headers, body)

    def _respond(self, request, status, headers, body):
        if 200 <= status < 300:
            return FakeResponse(status, headers, body)
        raise HTTPError(request.url, status, 'fake', _message(headers), io.BytesIO(body))

    def fault_headers(self, status):
        return {}

    def fault_body(self, status):
        return b''


# ------------------------------------------------------------------------------------------------
# AdGuard Home


def _agh_valid_cname_target(value):
    # netutil.ValidateDomainName as of v0.107.79, reduced to what the tests need.
    if not value or len(value) > 253:
        return False
    return all(re.match(r'^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$', label) for label in value.split('.'))


def _agh_plain_ip(spec):
    for text in (spec, spec.rpartition(':')[0].strip('[]')):
        try:
            ipaddress.ip_address(text)
            return True
        except ValueError:
            pass
    return False


class FakeAdGuard(FakeServer):
    """AdGuard Home /control/rewrite/*, status, protection, dns_info/dns_config and filtering.

    ``patch`` is the x of v0.107.x: /control/protection exists from 28, /rewrite/update from 33,
    'enabled' and /rewrite/settings* from 68."""

    def __init__(self, username='admin', password='secret', patch=79, rewrites=None, setup_done=True,
                 upstream_dns=('127.0.0.1:9',), bootstrap_dns=('127.0.0.1',), upstream_mode='load_balance',
                 filtering_enabled=True, filtering_interval=24, rewrites_enabled=True, protection_enabled=True,
                 protection_paused_ms=0, ignored=(), user_rules=()):
        super(FakeAdGuard, self).__init__()
        self.user_rules = list(user_rules)
        self.username = username
        self.password = password
        self.patch = patch
        self.setup_done = setup_done
        self.failed_auth = 0
        # The settings of adguard_settings, as AdGuardHome.yaml would hold them.
        self.dns = {'upstream_dns': list(upstream_dns), 'bootstrap_dns': list(bootstrap_dns), 'fallback_dns': [],
                    'upstream_mode': upstream_mode}
        self.filtering_enabled = filtering_enabled
        self.filtering_interval = filtering_interval
        self.rewrites_enabled = rewrites_enabled
        self.protection_enabled = protection_enabled
        # Milliseconds left of a timed pause of protection (the fake clock never moves).
        self.protection_paused_ms = protection_paused_ms
        # Settings whose writes answer success but change nothing (a server that does not hold them).
        self.ignored = set(ignored)
        self.rewrites = []
        for entry in rewrites or []:
            self.rewrites.append(dict(entry))
            if self.has_enabled:
                self.rewrites[-1].setdefault('enabled', True)

    @property
    def has_enabled(self):
        return self.patch >= 68

    @property
    def has_protection_api(self):
        return self.patch >= 28

    def is_write(self, request):
        return request.path in ('/control/rewrite/add', '/control/rewrite/delete', '/control/rewrite/update',
                                '/control/rewrite/settings/update', '/control/dns_config', '/control/filtering/config',
                                '/control/protection', '/control/filtering/set_rules')

    def settings(self):
        """Every setting adguard_settings manages, as the server holds it (for assertions)."""
        return {
            'upstream_dns': self.dns['upstream_dns'], 'bootstrap_dns': self.dns['bootstrap_dns'],
            'upstream_mode': self.dns['upstream_mode'], 'filtering_enabled': self.filtering_enabled,
            'filtering_interval': self.filtering_interval, 'rewrites_enabled': self.rewrites_enabled,
            'protection_enabled': self.protection_enabled, 'protection_paused_ms': self.protection_paused_ms,
            'nxdomain_names': sorted(rule[2:-len('^$dnsrewrite=NXDOMAIN;;')] for rule in self.user_rules
                                     if rule.startswith('||') and rule.endswith('^$dnsrewrite=NXDOMAIN;;')),
        }

    def fault_headers(self, status):
        return {'Content-Type': 'text/plain; charset=utf-8'}

    def fault_body(self, status):
        return b'injected fault\n'

    @staticmethod
    def _text(status, msg):
        return status, {'Content-Type': 'text/plain; charset=utf-8'}, (msg + '\n').encode()

    def pairs(self):
        return [(r['domain'], r['answer']) for r in self.rewrites]

    def handle(self, request):
        assert 'cookie' not in request.headers, 'AdGuard requests must never carry a cookie'
        if not self.setup_done:
            return 302, {'Location': 'install.html'}, b''
        if self.username is not None:
            expected = 'Basic ' + base64.b64encode('{0}:{1}'.format(self.username, self.password).encode()).decode()
            if self.failed_auth >= 5 or request.headers.get('authorization') != expected:
                self.failed_auth += 1
                return 401, {}, b''
        content_type = request.headers.get('content-type')
        if request.body is not None and content_type != 'application/json':
            return self._text(415, 'only content-type application/json is allowed')
        if request.body is None and request.method == 'POST' and content_type is not None:
            return self._text(415, 'only content-type application/json is allowed')

        routes = {
            '/control/rewrite/list': ('GET', self._list),
            '/control/rewrite/add': ('POST', self._add),
            '/control/rewrite/delete': ('POST', self._delete),
            '/control/status': ('GET', self._status),
            '/control/dns_info': ('GET', self._dns_info),
            '/control/dns_config': ('POST', self._dns_config),
            '/control/filtering/status': ('GET', self._filtering_status),
            '/control/filtering/config': ('POST', self._filtering_config),
            '/control/filtering/set_rules': ('POST', self._set_rules),
        }
        if self.patch >= 28:
            routes['/control/protection'] = ('POST', self._protection)
        if self.patch >= 33:
            routes['/control/rewrite/update'] = ('PUT', self._update)
        if self.patch >= 68:
            routes['/control/rewrite/settings'] = ('GET', self._settings)
            routes['/control/rewrite/settings/update'] = ('PUT', self._settings_update)
        if request.path not in routes:
            return self._text(404, '404 page not found')
        method, handler = routes[request.path]
        if request.method != method:
            return self._text(405, 'only method {0} is allowed'.format(method))
        if request.body is not None:
            try:
                request.json()
            except ValueError as exc:
                return self._text(400, 'json.Decode: {0}'.format(exc))
        return handler(request)

    def _list(self, request):
        out = []
        for entry in self.rewrites:
            item = {'domain': entry['domain'], 'answer': entry['answer']}
            if self.has_enabled:
                item['enabled'] = entry['enabled']
            out.append(item)
        return 200, {'Content-Type': 'application/json'}, (json.dumps(out) + '\n').encode()

    def _normalize(self, domain, answer):
        if answer not in ('A', 'AAAA'):
            try:
                ipaddress.ip_address(answer)
            except ValueError:
                if self.patch >= 79 and not _agh_valid_cname_target(answer):
                    return None, 'normalizing: invalid CNAME target "{0}": bad domain name'.format(answer)
        return {'domain': domain.lower(), 'answer': answer}, None

    def _add(self, request):
        body = request.json()
        entry, error = self._normalize(body.get('domain', ''), body.get('answer', ''))
        if error:
            return self._text(400, error)
        if self.has_enabled:
            enabled = body.get('enabled')
            entry['enabled'] = True if enabled is None else enabled
        self.rewrites.append(entry)
        return 200, {}, b''

    def _delete(self, request):
        body = request.json()
        self.rewrites = [r for r in self.rewrites
                         if not (r['domain'] == body.get('domain') and r['answer'] == body.get('answer'))]
        return 200, {}, b''

    def _update(self, request):
        body = request.json()
        target, update = body.get('target') or {}, body.get('update') or {}
        for index, entry in enumerate(self.rewrites):
            if entry['domain'] == target.get('domain') and entry['answer'] == target.get('answer'):
                new, error = self._normalize(update.get('domain', ''), update.get('answer', ''))
                if error:
                    return self._text(400, error)
                if self.has_enabled:
                    enabled = update.get('enabled')
                    new['enabled'] = entry['enabled'] if enabled is None else enabled
                self.rewrites[index] = new
                return 200, {}, b''
        return self._text(400, 'target rule not found')

    @staticmethod
    def _json(data):
        return 200, {'Content-Type': 'application/json'}, (json.dumps(data) + '\n').encode()

    def _settings(self, request):
        return self._json({'enabled': self.rewrites_enabled})

    def _settings_update(self, request):
        body = request.json()
        # Go's decoder: an absent or null "enabled" is false, so {} disables rewrites.
        if 'rewrites_enabled' not in self.ignored:
            self.rewrites_enabled = bool(body.get('enabled'))
        return 200, {}, b''

    def _status(self, request):
        status = {
            'version': 'v0.107.{0}'.format(self.patch), 'language': '', 'dns_addresses': ['127.0.0.1'],
            'dns_port': 53, 'http_port': 80, 'protection_enabled': self.protection_enabled,
            'dhcp_available': True, 'running': True,
        }
        if self.has_protection_api:
            status['protection_disabled_duration'] = self.protection_paused_ms
        if self.patch >= 70:
            status['start_time'] = 1767225600000
        return self._json(status)

    def _dns_info(self, request):
        info = dict((name, list(value) if isinstance(value, list) else value) for name, value in self.dns.items())
        info.update(upstream_dns_file='', protection_enabled=self.protection_enabled, ratelimit=20,
                    blocking_mode='default', blocking_ipv4='', blocking_ipv6='', cache_size=4194304,
                    protection_disabled_until=None, default_local_ptr_upstreams=[])
        return self._json(info)

    def _dns_config(self, request):
        body = request.json()
        if not isinstance(body, dict):
            return self._text(400, 'decoding request: json: cannot unmarshal into Go value of type dnsforward.jsonDNSConfig')
        mode = body.get('upstream_mode')
        if mode is not None and mode not in ('', 'load_balance', 'parallel', 'fastest_addr'):
            return self._text(400, 'validating dns config: upstream_mode: bad value "{0}"'.format(mode))
        upstreams = body.get('upstream_dns')
        if upstreams is not None and not [line for line in upstreams
                                          if line.strip() and not line.strip().startswith(('#', '[/'))]:
            return self._text(400, 'validating dns config: upstream servers: no default upstreams specified')
        for line in body.get('bootstrap_dns') or []:
            if not _agh_plain_ip(line.strip()):
                return self._text(400, 'validating dns config: checking bootstrap "{0}": not a plain ip address'.format(line))
        # Partial JSON: only the fields present (and not null) change.
        for name in ('upstream_dns', 'bootstrap_dns', 'fallback_dns', 'upstream_mode'):
            if body.get(name) is not None and name not in self.ignored:
                self.dns[name] = body[name]
        if body.get('protection_enabled') is not None and 'protection_enabled' not in self.ignored:
            self.protection_enabled = bool(body['protection_enabled'])
        return 200, {}, b''

    def _filtering_status(self, request):
        return self._json({'filters': [{'id': 1, 'enabled': True, 'url': 'https://filters.example/1.txt',
                                        'name': 'AdGuard DNS filter', 'rules_count': 1}],
                           'whitelist_filters': [], 'user_rules': list(self.user_rules),
                           'interval': self.filtering_interval, 'enabled': self.filtering_enabled})

    def _set_rules(self, request):
        # AGH internal/filtering/http.go handleFilteringSetRules: the whole list is replaced.
        if 'nxdomain_names' not in self.ignored:
            self.user_rules = list(request.json().get('rules') or [])
        return 200, {}, b''

    def _filtering_config(self, request):
        body = request.json()
        # Both fields are taken as sent: an absent interval is 0 (never update the lists).
        interval = body.get('interval') or 0
        if interval not in (0, 1, 12, 24, 72, 168):
            return self._text(400, 'Unsupported interval')
        if 'filtering_enabled' not in self.ignored:
            self.filtering_enabled = bool(body.get('enabled'))
            self.filtering_interval = interval
        return 200, {}, b''

    def _protection(self, request):
        body = request.json()
        enabled, duration = bool(body.get('enabled')), body.get('duration') or 0
        if duration and enabled:
            return self._text(400, 'Setting a duration is only allowed with protection disabling')
        if 'protection_enabled' not in self.ignored:
            # Without a duration the change is permanent, which also ends a timed pause.
            self.protection_enabled = enabled
            self.protection_paused_ms = duration
        return 200, {'Content-Type': 'text/plain; charset=utf-8'}, b'OK\n'


# ------------------------------------------------------------------------------------------------
# Pi-hole v6


_PIHOLE_HOST_RE = re.compile(r'^[A-Za-z0-9._-]+$')


class FakePihole(FakeServer):
    """Pi-hole v6 /api/auth, /api/config (GET, PATCH) for dns.hosts and dns.cnameRecords, /api/dns/blocking.

    A change of cnameRecords "restarts FTL" as the real FTL v6.4.1 does (../shared/peers/pihole-ftl/README.md):
    the next ``old_process_requests`` requests (HTTP, and DNS questions) are still answered by the old
    process, with the old lists and its old uptime; then ``restart_downtime`` requests are refused and
    DNS questions time out; then the restarted process answers, its uptime counted from that moment
    on ``CLOCK``. GET /api/info/ftl reports pid and uptime (ms) like FTL.
    """

    def __init__(self, password='secret', app_password=None, app_sudo=False, hosts=None, cnames=None,
                 env_forced=(), max_sessions=16, restart_downtime=2, blocking='enabled', blocking_timer=None,
                 ignored=(), old_process_requests=0, info_ftl=True, dnsmasq_lines=None):
        super(FakePihole, self).__init__()
        # misc.dnsmasq_lines: a change restarts FTL like a cnameRecords change (real FTL v6.4.1).
        self.dnsmasq_lines = list(dnsmasq_lines or [])
        self.old_process_requests = old_process_requests
        self.info_ftl = info_ftl
        self.old = None             # (hosts, cnames, started) of the old process while it still answers
        self.stale_for = 0
        self.started = CLOCK.now - 3600.0
        self.pending_start = False
        self.answering_old = False
        self.dns_queries = []
        # 'enabled', 'disabled', or 'failure' (FTL's DNS resolver is down); the timer in seconds.
        self.blocking = blocking
        self.blocking_timer = blocking_timer
        # Settings whose writes answer success but change nothing (a server that does not hold them).
        self.ignored = set(ignored)
        self.password = password
        self.app_password = app_password
        self.app_sudo = app_sudo
        self.hosts = list(hosts or [])
        self.cnames = list(cnames or [])
        self.env_forced = set(env_forced)
        self.max_sessions = max_sessions
        self.restart_downtime = restart_downtime
        self.down_for = 0
        self.restarts = 0
        self.sessions = {}
        self.logins = 0
        self._sids = itertools.count(1)

    def is_write(self, request):
        if request.path.startswith('/api/config'):
            return request.method in ('PATCH', 'PUT', 'DELETE', 'POST')
        if request.path == '/api/dns/blocking':
            return request.method == 'POST'
        return request.path.startswith('/api/action/')

    def fault_headers(self, status):
        return {'Content-Type': 'application/json; charset=utf-8'}

    def fault_body(self, status):
        if status == 429:
            return self._error_body('api_seats_exceeded', 'API seats exceeded', 'increase webserver.api.max_sessions')
        return self._error_body('injected', 'injected fault', None)

    @staticmethod
    def _error_body(key, message, hint):
        return json.dumps({'error': {'key': key, 'message': message, 'hint': hint}, 'took': 0.0001}).encode()

    def _json(self, status, data):
        data = dict(data)
        data['took'] = 0.0001
        return status, {'Content-Type': 'application/json; charset=utf-8'}, json.dumps(data).encode()

    def _error(self, status, key, message, hint=None):
        return status, {'Content-Type': 'application/json; charset=utf-8'}, self._error_body(key, message, hint)

    def __call__(self, url, data=None, headers=None, method=None, **kwargs):
        _LAST_PIHOLE[:] = [self]
        return super(FakePihole, self).__call__(url, data=data, headers=headers, method=method, **kwargs)

    def _call(self, request, kwargs):
        step = self._restart_step()
        if step == 'down':
            self.requests.append(request)
            raise URLError(ConnectionRefusedError(111, 'Connection refused'))
        self.answering_old = step == 'old'
        try:
            return super(FakePihole, self)._call(request, kwargs)
        finally:
            self.answering_old = False

    def _restart_step(self):
        """Where a restart stands for the next request or DNS question: 'old', 'down' or 'new'."""
        if self.stale_for > 0:
            self.stale_for -= 1
            return 'old'
        self.old = None
        if self.down_for > 0:
            self.down_for -= 1
            return 'down'
        if self.pending_start:
            self.pending_start = False
            self.started = CLOCK.now
        return 'new'

    def _view(self):
        """(hosts, cnames, started) of the process that answers now."""
        if self.answering_old and self.old is not None:
            return self.old
        return self.hosts, self.cnames, self.started

    def dns_answer(self, name, rtype, answer_class):
        step = self._restart_step()
        if step == 'down':
            raise socket.timeout('timed out')
        hosts, cnames = (self.old[0], self.old[1]) if step == 'old' and self.old else (self.hosts, self.cnames)
        records = []
        for line in cnames:
            parts = line.split(',')
            if parts[-1].isdigit():
                parts = parts[:-1]
            if name in [alias.lower() for alias in parts[:-1]]:
                records.append((name, 'CNAME', parts[-1].lower()))
        if not records and rtype in ('A', 'AAAA'):
            for line in hosts:
                tokens = line.split()
                if name in [host.lower() for host in tokens[1:]] and (':' in tokens[0]) == (rtype == 'AAAA'):
                    records.append((name, rtype, tokens[0]))
        return answer_class('NOERROR' if records else 'NXDOMAIN', records)

    def handle(self, request):
        assert 'cookie' not in request.headers
        if request.path == '/api/auth':
            return self._auth(request)
        if self.password is not None:
            sid = request.headers.get('x-ftl-sid')
            if sid not in self.sessions:
                return self._error(401, 'unauthorized', 'Unauthorized', None)
        if request.path == '/api/config/dns' and request.method == 'GET':
            return self._json(200, self._config())
        if request.path == '/api/config/misc/dnsmasq_lines' and request.method == 'GET':
            return self._json(200, {'config': {'misc': {'dnsmasq_lines': list(self.dnsmasq_lines)}}})
        if request.path == '/api/config' and request.method == 'PATCH':
            return self._patch(request)
        if request.path == '/api/dns/blocking':
            return self._blocking(request)
        if request.path == '/api/info/ftl' and request.method == 'GET' and self.info_ftl:
            return self._info_ftl()
        return self._error(404, 'not_found', 'Not found', request.path)

    def _blocking_reply(self):
        return self._json(200, {'blocking': self.blocking, 'timer': self.blocking_timer})

    def _blocking(self, request):
        # FTL src/api/dns.c get_blocking / set_blocking.
        if request.method == 'GET':
            return self._blocking_reply()
        if request.method != 'POST':
            return self._error(405, 'method_not_allowed', 'Method not allowed')
        if self.blocking == 'failure':
            return self._error(500, 'dns_failure', 'DNS resolver is not running')
        try:
            body = request.json()
        except (ValueError, AttributeError):
            return self._error(400, 'bad_request', 'Invalid request body data (no valid JSON)')
        blocking = body.get('blocking') if isinstance(body, dict) else None
        if not isinstance(blocking, bool):
            return self._error(400, 'body_error', 'No "blocking" boolean in body data')
        timer = body.get('timer')
        timer = float(timer) if isinstance(timer, (int, float)) and not isinstance(timer, bool) and timer > 0 else None
        target = 'enabled' if blocking else 'disabled'
        if 'blocking' not in self.ignored:
            if target == self.blocking:
                self.blocking_timer = None      # no change: a running timer is deleted
            else:
                self.blocking, self.blocking_timer = target, timer
        return self._blocking_reply()

    def _auth(self, request):
        if request.method == 'POST':
            self.logins += 1
            body = request.json()
            if 'password' not in body:
                return self._error(400, 'bad_request', 'No password found in JSON payload')
            password = body['password']
            if password == self.password or (self.app_password is not None and password == self.app_password):
                if len(self.sessions) >= self.max_sessions:
                    return self._error(429, 'api_seats_exceeded', 'API seats exceeded', 'increase webserver.api.max_sessions')
                sid = 'sid{0:020d}'.format(next(self._sids))
                self.sessions[sid] = {'app': password != self.password}
                return self._json(200, {'session': {'valid': True, 'totp': False, 'sid': sid, 'csrf': 'x',
                                                    'validity': 1800, 'message': 'password correct'}})
            return self._json(401, {'session': {'valid': False, 'totp': False, 'sid': None, 'validity': -1,
                                                'message': 'password incorrect'}})
        if request.method == 'DELETE':
            sid = request.headers.get('x-ftl-sid')
            if sid in self.sessions:
                del self.sessions[sid]
                return 204, {}, b''
            return self._error(401, 'unauthorized', 'Unauthorized')
        return self._error(404, 'not_found', 'Not found')

    def _patch(self, request):
        session = self.sessions.get(request.headers.get('x-ftl-sid'), {})
        if session.get('app') and not self.app_sudo:
            return self._error(403, 'forbidden', 'Unable to change configuration (read-only)',
                               'The current app session is not allowed to modify Pi-hole config settings')
        dns = (request.json().get('config') or {}).get('dns') or {}
        misc = (request.json().get('config') or {}).get('misc') or {}
        for name in dns:
            if name in self.env_forced:
                return self._error(400, 'bad_request',
                                   'Config items set via environment variables cannot be changed via the API',
                                   'dns.' + name)
        hosts = dns.get('hosts', self.hosts)
        cnames = dns.get('cnameRecords', self.cnames)
        for index, line in enumerate(hosts):
            problem = self._host_problem(line)
            if problem:
                return self._error(400, 'bad_request', 'Config item validation failed',
                                   'dns.hosts[{0}]: {1}'.format(index, problem))
        targets = {}
        for index, line in enumerate(cnames):
            parts = line.split(',')
            if len(parts) < 2 or not all(parts):
                return self._error(400, 'bad_request', 'Config item validation failed',
                                   'dns.cnameRecords[{0}]: not a valid CNAME definition (too few elements)'.format(index))
            if parts[-1].isdigit():
                parts = parts[:-1]
            for alias in parts[:-1]:
                if targets.setdefault(alias.lower(), parts[-1].lower()) != parts[-1].lower():
                    return self._error(400, 'bad_request', 'Invalid configuration',
                                       'duplicate CNAME: {0}'.format(alias))
        lines = misc.get('dnsmasq_lines', self.dnsmasq_lines)
        restart = ('cnameRecords' in dns and list(cnames) != self.cnames) or list(lines) != self.dnsmasq_lines
        self.dnsmasq_lines = list(lines)
        old_hosts, old_cnames = list(self.hosts), list(self.cnames)
        # FTL v6.3+ collapses whitespace of hosts entries when it writes them.
        self.hosts = [' '.join(line.split()) for line in hosts]
        self.cnames = list(cnames)
        if restart:
            self.restarts += 1
            self.old = (old_hosts, old_cnames, self.started)
            self.stale_for = self.old_process_requests
            self.down_for = self.restart_downtime
            self.pending_start = True
        # Like FTL (api_config_get at the end of the PATCH handler): the whole config after the change.
        return self._json(200, self._config())

    def _config(self):
        hosts, cnames = self._view()[:2]
        return {'config': {'dns': {
            'upstreams': ['127.0.0.1#9'], 'hosts': list(hosts), 'cnameRecords': list(cnames), 'port': 53,
        }}}

    def _info_ftl(self):
        # FTL src/api/info.c: uptime in milliseconds; the PID stays across its re-exec.
        started = self._view()[2]
        return self._json(200, {'ftl': {'pid': 4242, 'uptime': (CLOCK.now - started) * 1000.0, 'privacy_level': 0}})

    @staticmethod
    def _host_problem(line):
        tokens = line.split()
        if not tokens:
            return 'entry is empty'
        try:
            ipaddress.ip_address(tokens[0])
        except ValueError:
            return 'neither a valid IPv4 nor IPv6 address ("{0}")'.format(tokens[0])
        if len(tokens) < 2:
            return 'entry does not have at least one hostname'
        for host in tokens[1:]:
            if not _PIHOLE_HOST_RE.match(host):
                return 'invalid hostname ("{0}")'.format(host)
        return None
