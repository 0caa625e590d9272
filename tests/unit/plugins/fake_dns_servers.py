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
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit

OPEN_URL = 'ansible_collections.natloop.lan.plugins.module_utils._http.open_url'


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

    # -- the open_url replacement
    def __call__(self, url, data=None, headers=None, method=None, **kwargs):
        request = Request(method or ('POST' if data else 'GET'), url, headers, data, kwargs)
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


class FakeAdGuard(FakeServer):
    """AdGuard Home /control/rewrite/*. ``version`` is a (minor, patch) tuple of v0.107.x...:
    'enabled' exists from patch 68, /rewrite/update from 33."""

    def __init__(self, username='admin', password='secret', patch=79, rewrites=None, setup_done=True):
        super(FakeAdGuard, self).__init__()
        self.username = username
        self.password = password
        self.patch = patch
        self.setup_done = setup_done
        self.failed_auth = 0
        self.rewrites = []
        for entry in rewrites or []:
            self.rewrites.append(dict(entry))
            if self.has_enabled:
                self.rewrites[-1].setdefault('enabled', True)

    @property
    def has_enabled(self):
        return self.patch >= 68

    def is_write(self, request):
        return request.path in ('/control/rewrite/add', '/control/rewrite/delete', '/control/rewrite/update',
                                '/control/rewrite/settings/update')

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
        }
        if self.patch >= 33:
            routes['/control/rewrite/update'] = ('PUT', self._update)
        if self.patch >= 68:
            routes['/control/rewrite/settings'] = ('GET', self._settings)
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

    def _settings(self, request):
        return 200, {'Content-Type': 'application/json'}, b'{"enabled":true}\n'


# ------------------------------------------------------------------------------------------------
# Pi-hole v6


_PIHOLE_HOST_RE = re.compile(r'^[A-Za-z0-9._-]+$')


class FakePihole(FakeServer):
    """Pi-hole v6 /api/auth, /api/config (GET, PATCH) for dns.hosts and dns.cnameRecords.

    A change of cnameRecords "restarts FTL": the next ``restart_downtime`` requests are refused.
    """

    def __init__(self, password='secret', app_password=None, app_sudo=False, hosts=None, cnames=None,
                 env_forced=(), max_sessions=16, restart_downtime=2):
        super(FakePihole, self).__init__()
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
        if self.down_for > 0:
            self.down_for -= 1
            self.requests.append(Request(method or 'GET', url, headers, data, kwargs))
            raise URLError(ConnectionRefusedError(111, 'Connection refused'))
        return super(FakePihole, self).__call__(url, data=data, headers=headers, method=method, **kwargs)

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
        if request.path == '/api/config' and request.method == 'PATCH':
            return self._patch(request)
        return self._error(404, 'not_found', 'Not found', request.path)

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
        restart = 'cnameRecords' in dns and list(cnames) != self.cnames
        # FTL v6.3+ collapses whitespace of hosts entries when it writes them.
        self.hosts = [' '.join(line.split()) for line in hosts]
        self.cnames = list(cnames)
        if restart:
            self.restarts += 1
            self.down_for = self.restart_downtime
        # Like FTL (api_config_get at the end of the PATCH handler): the whole config after the change.
        return self._json(200, self._config())

    def _config(self):
        return {'config': {'dns': {
            'upstreams': ['127.0.0.1#9'], 'hosts': list(self.hosts), 'cnameRecords': list(self.cnames),
        }}}

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
