# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""Pi-hole v6 client and record backend (dns.hosts and dns.cnameRecords).

One session per module run: log in once, send the SID in the X-FTL-SID header (no cookie,
so no CSRF token), log out at the end whatever happened; Pi-hole has only 16 API seats.

All changes of a run go to the server in ONE ``PATCH /api/config`` that carries the complete
new ``dns.hosts`` and/or ``dns.cnameRecords`` lists, built from the lists just read: entries
the module does not manage are passed through unchanged. FTL validates the whole request and
applies all of it or nothing, and it restarts at most once (only when cnameRecords changed).
A run that adds any number of A/AAAA records makes 5 requests (login, read, write, fresh read,
logout).

After a restart (measured on the real FTL v6.4.1, ../shared/peers/pihole-ftl/README.md): FTL
re-executes itself under the same PID; the answer to the PATCH and requests in the next few
hundred milliseconds come from the old process, and DNS does not answer for up to a second.
So the module waits, bounded by ``restart_timeout``, until GET /api/info/ftl reports an uptime
shorter than the time since the PATCH was sent (the restarted process serves the API), then
until FTL's DNS server answers a changed CNAME as written (``dns_address``). Only then are the
lists read again, which also proves FTL came back with them.
"""

import contextlib
import ipaddress
import re
import time
from collections import OrderedDict

from ansible.module_utils.basic import env_fallback

from ansible_collections.natloop.lan.plugins.module_utils import _dns_wire
from ansible_collections.natloop.lan.plugins.module_utils._http import (
    NO_RETRY,
    ConnectionFailure,
    HttpClient,
    HttpError,
    RetryPolicy,
    transport_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._lock import lock_argument_spec
from ansible_collections.natloop.lan.plugins.module_utils._record_module import (
    BackendError,
    ModuleBackend,
    info_argument_spec,
    sync_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._records import (
    TYPE_CNAME,
    Record,
    RecordError,
    RecordRules,
    in_scope,
    normalize_owned_names,
    record_from_server,
)

RULES = RecordRules('Pi-hole', 'records', ttl=True)

# 429 (login rate limit or all seats taken), 5xx and connection failures (FTL restarting after
# a CNAME change) are retried with doubling waits: 0.5, 1, 2, 4, 8, 8, 8 s, 40 s at most.
RETRY_POLICY = RetryPolicy(attempts=8, initial_delay=0.5, max_delay=8.0, budget=40.0,
                           statuses=(429, 500, 502, 503, 504))

APP_SUDO_HINT = (
    'Pi-hole refused to change its configuration (HTTP 403{0}). The session is restricted: an app '
    'password may only change settings when webserver.api.app_sudo is true (set it in the web '
    'interface under Settings > Web interface / API (expert), or run "pihole-FTL --config '
    'webserver.api.app_sudo true"), or log in with the web interface password instead. '
    'misc.readOnly=true also blocks configuration changes.'
)

ENV_FORCED_HINT = (
    'Pi-hole refuses to change {0}: {1}. The list is set by an FTLCONF_ environment variable '
    '(FTLCONF_dns_hosts or FTLCONF_dns_cnameRecords) of the Pi-hole container, which makes it '
    'read-only through the API. Remove that variable or stop managing these records with this '
    'module; use one channel only.'
)


def connection_argument_spec():
    spec = dict(
        url=dict(type='str', required=True, fallback=(env_fallback, ['NATLOOP_PIHOLE_URL'])),
        password=dict(type='str', no_log=True, aliases=['app_password'],
                      fallback=(env_fallback, ['NATLOOP_PIHOLE_PASSWORD'])),
    )
    spec.update(transport_argument_spec())
    return spec


def record_argument_spec():
    spec = connection_argument_spec()
    spec.update(sync_argument_spec('records', dict(
        domain=dict(type='str', required=True),
        answer=dict(type='str', required=True),
        ttl=dict(type='int'),
    ), settings_options()))
    spec.update(
        dns_address=dict(type='str'),
        restart_timeout=dict(type='int', default=60),
        local_names=dict(type='list', elements='str'),
        local_names_scope=dict(type='list', elements='str'),
    )
    return spec


# Local names (misc.dnsmasq_lines). Measured on the real FTL v6.4.1 (tests/standins/README.md,
# "Behaviour contract" R3 and R10): "local=/NAME/" answers NAME from local data only (its dns.hosts
# addresses; NOERROR without an answer for AAAA, HTTPS, SVCB, MX, TXT it has no data for; NXDOMAIN
# for a name without local data) and would do the same to every name below NAME, which
# "server=/*.NAME/#" sends to the upstreams again. A change of the lines restarts FTL.
TYPE_LOCAL = 'LOCAL'
LOCAL_LINES = ('local=/{0}/', 'server=/*.{0}/#')
_LOCAL_LINE_RES = (re.compile(r'^local=/([^/*#]+)/$'), re.compile(r'^server=/\*\.([^/*#]+)/#$'))


def local_records(name):
    """The two dnsmasq lines that make ``name`` (canonical) local, as Records of type LOCAL."""
    return [Record(name, line.format(name), TYPE_LOCAL) for line in LOCAL_LINES]


def _parse_local_line(line):
    """The canonical name of one of the LOCAL_LINES forms, or None for any other line."""
    for pattern in _LOCAL_LINE_RES:
        match = pattern.match(line.strip())
        if match:
            name = match.group(1).lower().rstrip('.')
            return name or None
    return None


# wait_for_dns: any answer will do (the name may well be NXDOMAIN).
ANY_ANSWER = object()

# Tests replace these.
monotonic = time.monotonic
sleep = time.sleep
RESTART_POLL = 0.1


def settings_options():
    """pihole_settings' own options (blocking required there), pihole_dns_record's ``settings`` suboptions."""
    return dict(blocking=dict(type='bool'))


def settings_argument_spec():
    spec = connection_argument_spec()
    spec.update(lock_argument_spec())
    spec.update(settings_options())
    spec['blocking']['required'] = True
    return spec


# The settings pihole_settings manages.
SETTINGS = ('blocking',)


def record_info_argument_spec():
    spec = connection_argument_spec()
    spec.update(info_argument_spec())
    return spec


def _api_base(url):
    url = url.rstrip('/')
    if url.endswith('/api'):
        return url
    return url + '/api'


def _error_fields(error):
    """(key, message, hint) of a Pi-hole JSON error body; empty strings where absent."""
    data = error.json()
    details = data.get('error') if isinstance(data, dict) else None
    if not isinstance(details, dict):
        return '', error.body_text(), ''
    return details.get('key') or '', details.get('message') or '', details.get('hint') or ''


class PiholeClient(object):
    """The few /api endpoints the record modules use, on one session."""

    def __init__(self, url, password=None, validate_certs=True, ca_path=None, timeout=10):
        self.password = password
        self.sid = None
        self.http = HttpClient(_api_base(url), validate_certs=validate_certs, ca_path=ca_path, timeout=timeout,
                               headers={'Accept': 'application/json'}, retry_policy=RETRY_POLICY)

    @classmethod
    def from_params(cls, params):
        return cls(params['url'], params['password'], params['validate_certs'], params['ca_path'], params['timeout'])

    def _call(self, method, path, body=None, ok=(200,), what=None):
        try:
            return self.http.request(method, path, json_body=body, ok_statuses=ok)
        except HttpError as error:
            raise BackendError(self.explain(error, what or '{0} {1}'.format(method, path)),
                               status=error.status, url=error.url)

    def explain(self, error, action):
        if isinstance(error, ConnectionFailure):
            return 'Cannot reach Pi-hole ({0}) after {1} attempt(s): {2}'.format(action, error.attempts, error.msg)
        key, message, hint = _error_fields(error)
        detail = ': '.join(part for part in (message, hint) if part) or '(no details)'
        if error.status == 401:
            if not self.password:
                return 'Pi-hole wants a password ({0} answered 401: {1}); set password.'.format(action, detail)
            return 'Pi-hole rejected the session ({0} answered 401: {1}).'.format(action, detail)
        if error.status == 404 and error.method == 'GET':
            return ('Pi-hole has no such endpoint ({0} answered 404). Is url the address of a Pi-hole v6 '
                    'web server? Pi-hole v5 is not supported.'.format(action))
        if error.status == 429:
            return 'Pi-hole kept answering 429 to {0} after {1} attempts: {2}'.format(action, error.attempts, detail)
        return 'Pi-hole answered HTTP {0} to {1}: {2}'.format(error.status, action, detail)

    def login(self):
        if not self.password:
            return
        try:
            response = self.http.request('POST', '/auth', json_body={'password': self.password})
        except HttpError as error:
            raise BackendError(self._login_failure(error), status=error.status)
        data = response.json() or {}
        session = data.get('session') or {}
        # A Pi-hole without password answers valid:true and no SID: nothing to send or log out.
        self.sid = session.get('sid')
        if self.sid:
            self.http.headers['X-FTL-SID'] = self.sid

    def _login_failure(self, error):
        key, message, hint = _error_fields(error)
        if error.status == 401:
            return 'Pi-hole rejected the password (HTTP 401). Not retried.'
        if error.status == 400 and 'totp' in (message + hint).lower():
            return ('Pi-hole wants a two-factor (TOTP) code for this password; log in with an app '
                    'password instead (Settings > Web interface / API > Configure app password).')
        if key == 'api_seats_exceeded':
            return ('Pi-hole has no free API seat after {0} attempts (HTTP 429 {1}): other clients hold '
                    'every session. Wait for them to log out or time out (30 minutes idle), or raise '
                    'webserver.api.max_sessions.'.format(error.attempts, message))
        return self.explain(error, 'logging in')

    def logout(self):
        if not self.sid:
            return
        try:
            self.http.request('DELETE', '/auth', ok_statuses=(204, 200, 401, 404))
        finally:
            self.sid = None
            self.http.headers.pop('X-FTL-SID', None)

    def get_blocking(self):
        data = self._call('GET', '/dns/blocking', what='reading whether Pi-hole blocks').json() or {}
        # FTL sends 'failure' when its resolver is down; its API spec says 'failed'.
        if data.get('blocking') not in ('enabled', 'disabled', 'failure', 'failed', 'unknown'):
            raise BackendError('Pi-hole returned an unexpected blocking state: {0!r}'.format(data)[:500])
        return data

    def set_blocking(self, enabled):
        # timer null: the change lasts until changed again, which also ends a timed pause.
        self._call('POST', '/dns/blocking', {'blocking': enabled, 'timer': None},
                   what='switching blocking {0}'.format('on' if enabled else 'off'))

    def get_dns_config(self):
        data = self._call('GET', '/config/dns', what='reading dns config').json() or {}
        dns = _dns_section(data)
        if dns is None:
            raise BackendError('Pi-hole returned an unexpected config: {0!r}'.format(data)[:500])
        return dns

    def ftl_info(self):
        """FTL's process details (pid, uptime in ms) from GET /api/info/ftl, asked once, never retried.

        None when the server has no such endpoint (not a real FTL: the stand-ins). Raises
        ConnectionFailure while FTL is down and HttpError for other failures.
        """
        try:
            response = self.http.request('GET', '/info/ftl', retry_policy=NO_RETRY)
        except HttpError as error:
            if error.status == 404:
                return None
            raise
        data = response.json() or {}
        ftl = data.get('ftl') if isinstance(data, dict) else None
        return ftl if isinstance(ftl, dict) else None

    def get_dnsmasq_lines(self):
        data = self._call('GET', '/config/misc/dnsmasq_lines', what='reading misc.dnsmasq_lines').json() or {}
        try:
            return data['config']['misc']['dnsmasq_lines']
        except (KeyError, TypeError):
            raise BackendError('Pi-hole returned an unexpected config: {0!r}'.format(data)[:500])

    def patch_dns(self, changes):
        """Send the changed lists (dns.hosts, dns.cnameRecords, misc.dnsmasq_lines) in one PATCH; return
        the dns section of FTL's answer, or None if it has none."""
        config = {}
        for name, value in changes.items():
            config.setdefault(_section_of(name), {})[name] = value
        try:
            response = self.http.request('PATCH', '/config', json_body={'config': config})
        except HttpError as error:
            raise BackendError(self._patch_failure(error, changes), status=error.status)
        try:
            return _dns_section(response.json())
        except HttpError:  # an answer that is not JSON: the lists are read again instead
            return None

    def _patch_failure(self, error, changes):
        names = ' and '.join(_section_of(name) + '.' + name for name in sorted(changes))
        key, message, hint = _error_fields(error)
        if error.status == 403:
            return APP_SUDO_HINT.format(': ' + message if message else '')
        text = ' '.join((message, hint))
        if 'environment variable' in text:
            return ENV_FORCED_HINT.format(names, message)
        if error.status == 400:
            return 'Pi-hole refused the new {0} list, nothing was changed: {1}'.format(
                names, ': '.join(part for part in (message, hint) if part))
        return self.explain(error, 'writing ' + names)


def _section_of(name):
    return 'misc' if name == 'dnsmasq_lines' else 'dns'


def _dns_section(data):
    try:
        dns = data['config']['dns']
    except (KeyError, TypeError):
        return None
    return dns if isinstance(dns, dict) else None


def _parse_hosts_line(line):
    """(ip, [hostnames]) of a dns.hosts entry "IP HOST [HOST...]", or None if it is not one."""
    tokens = line.split()
    if len(tokens) < 2:
        return None
    try:
        ipaddress.ip_address(tokens[0])
    except ValueError:
        return None
    return tokens[0], tokens[1:]


def _parse_cname_line(line):
    """(aliases, target, ttl or None) of "cname[,cname...],target[,ttl]", or None."""
    parts = [part.strip() for part in line.split(',')]
    ttl = None
    if len(parts) >= 3 and parts[-1].isdigit():
        ttl = int(parts[-1])
        parts = parts[:-1]
    if len(parts) < 2 or not all(parts):
        return None
    return parts[:-1], parts[-1], ttl


def _hosts_line(record):
    return '{0} {1}'.format(record.answer, record.domain)


def _cname_line(record):
    if record.ttl is None:
        return '{0},{1}'.format(record.domain, record.answer)
    return '{0},{1},{2}'.format(record.domain, record.answer, record.ttl)


class _PiholeModuleBackend(ModuleBackend):
    """What every Pi-hole backend shares: a client built from the module's options, one session per run."""

    client_class = PiholeClient

    @contextlib.contextmanager
    def session(self):
        """Log in once, and always log out again: Pi-hole has only 16 API seats."""
        self.client.login()
        try:
            yield
        finally:
            try:
                self.client.logout()
            except HttpError as error:
                self.warn('Could not log out of Pi-hole ({0}); the session expires after 30 idle minutes.'.format(error.msg))


class PiholeBackend(_PiholeModuleBackend):
    """Reads both lists (and the local-name lines of misc.dnsmasq_lines) as Records and writes each
    plan as one PATCH of the changed lists, so FTL restarts at most once per write."""

    rules = RULES

    def __init__(self, client, warn, dns_address=None, restart_timeout=60, local_names=None, local_scope=None):
        super(PiholeBackend, self).__init__(client, warn)
        self.lists = {'hosts': [], 'cnameRecords': [], 'dnsmasq_lines': []}
        self.dns_address = dns_address
        self.restart_timeout = restart_timeout
        self.dns_port = 53
        self.restarts = 0
        # None: misc.dnsmasq_lines is neither read nor written.
        self.local_names = local_names
        self.local_scope = local_scope or []

    @classmethod
    def from_module(cls, module):
        params = module.params
        local_names = local_scope = None
        if params.get('local_names') is not None or params.get('local_names_scope'):
            try:
                local_names, local_scope = normalize_owned_names(
                    params.get('local_names'), params.get('local_names_scope'), RULES,
                    'local_names', 'local_names_scope')
            except RecordError as exc:
                module.fail_json(msg='Invalid input, nothing was changed: ' + ' | '.join(exc.problems),
                                 problems=exc.problems)
        return cls(PiholeClient.from_params(params), module.warn, params.get('dns_address'),
                   params.get('restart_timeout') or 60, local_names, local_scope)

    def owned(self, record):
        """Local-name lines of names in local_names_scope: synced with local_names, purge or not."""
        return record.rtype == TYPE_LOCAL and in_scope(record.domain, self.local_scope)

    def read(self):
        dns = self.client.get_dns_config()
        port = dns.get('port')
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
            self.dns_port = port
        records = self._records(dns)
        if self.local_names is not None:
            records.extend(self._local_records(self.client.get_dnsmasq_lines()))
        return records

    def _local_records(self, lines):
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise BackendError('Pi-hole returned an unexpected misc.dnsmasq_lines: {0!r}'.format(lines)[:500])
        self.lists['dnsmasq_lines'] = list(lines)
        records = []
        for index, line in enumerate(lines):
            name = _parse_local_line(line)
            if name is not None:
                form = LOCAL_LINES[0 if line.strip().startswith('local=') else 1]
                records.append(Record(name, form.format(name), TYPE_LOCAL, ref=('dnsmasq_lines', index, 0)))
        return records

    def _records(self, dns):
        records = []
        for name in ('hosts', 'cnameRecords'):
            lines = dns.get(name) or []
            if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
                raise BackendError('Pi-hole returned an unexpected dns.{0}: {1!r}'.format(name, lines)[:500])
            self.lists[name] = list(lines)
        for index, line in enumerate(self.lists['hosts']):
            parsed = _parse_hosts_line(line)
            if parsed is None:
                continue
            address, names = parsed
            for position, name in enumerate(names):
                records.append(record_from_server(name, address, RULES, ref=('hosts', index, position)))
        for index, line in enumerate(self.lists['cnameRecords']):
            parsed = _parse_cname_line(line)
            if parsed is None:
                continue
            aliases, target, ttl = parsed
            for position, alias in enumerate(aliases):
                record = record_from_server(alias, target, RULES, ttl=ttl, ref=('cnameRecords', index, position))
                if record.rtype == TYPE_CNAME:
                    records.append(record)
        return records

    def prepare(self, wanted, current):
        for name in self.local_names or []:
            wanted = wanted + local_records(name)
        return wanted, ('ttl',)

    def apply(self, plan):
        new_lists = self.render(plan)
        changes = OrderedDict()
        for name in ('hosts', 'cnameRecords', 'dnsmasq_lines'):
            if new_lists[name] != self.lists[name]:
                changes[name] = new_lists[name]
        if not changes:
            return
        sent = monotonic()
        self.client.patch_dns(changes)
        if 'cnameRecords' in changes or 'dnsmasq_lines' in changes:
            self.restarts += 1
            self.wait_for_restart(sent, plan)

    def wait_for_restart(self, sent, plan):
        """Return once the restarted FTL serves the API and answers DNS for a changed CNAME."""
        deadline = sent + self.restart_timeout
        last = 'no answer yet'
        while True:
            try:
                info = self.client.ftl_info()
            except ConnectionFailure as error:
                info, last = False, error.msg
            except HttpError as error:
                if error.status != 401:
                    raise BackendError(self.client.explain(error, 'asking whether FTL restarted (GET /api/info/ftl)'),
                                       status=error.status)
                # The session did not survive the restart (webserver.session.restore=false): log in again.
                info, last = False, 'the session ended with the restart'
                self.client.sid = None
                self.client.http.headers.pop('X-FTL-SID', None)
                self.client.login()
            if info is None:
                break       # no /api/info/ftl (not a real FTL): DNS below is the only sign
            if info is not False:
                uptime = info.get('uptime')
                if isinstance(uptime, (int, float)) and uptime / 1000.0 <= monotonic() - sent:
                    break
                last = 'FTL reports an uptime of {0:.1f} s: still the process from before the change'.format(
                    uptime / 1000.0 if isinstance(uptime, (int, float)) else float('nan'))
            if monotonic() >= deadline:
                raise BackendError(
                    'Pi-hole took the CNAME change, but its API was not served by a restarted FTL within {0} s '
                    '(restart_timeout): {1}. Check the Pi-hole container or service and its log: an FTL whose log ends at '
                    '"Restarting FTL" hung in its own restart (seen on v6.4.1) and needs a restart of the container '
                    'or service; the change itself is saved.'.format(
                        self.restart_timeout, last), restart_timeout=self.restart_timeout)
            sleep(RESTART_POLL)
        self.wait_for_dns(plan, deadline)

    def restart_probe(self, plan):
        """(alias, target or None) of a changed CNAME: what the restarted DNS server must answer;
        for a change of the local-name lines only, (name, ANY_ANSWER): any answer shows DNS is back."""
        cnames = [change for change in plan.changes if change.sample.rtype == TYPE_CNAME]
        for change in cnames:
            if change.action != 'delete':
                return change.wanted.domain, change.wanted.answer
        for change in cnames:
            return change.sample.domain, None
        for change in plan.changes:
            if change.sample.rtype == TYPE_LOCAL:
                return change.sample.domain, ANY_ANSWER
        return None

    def wait_for_dns(self, plan, deadline):
        probe = self.restart_probe(plan)
        if probe is None or self.dns_address == '':
            return
        address = self.dns_address
        if address is None:
            host = _dns_wire.split_host_port(self.client.http.base_url.split('://', 1)[-1].split('/', 1)[0], 80)[0]
            address = '[{0}]:{1}'.format(host, self.dns_port) if ':' in host else '{0}:{1}'.format(host, self.dns_port)
        name, target = probe
        last = 'no answer yet'
        while True:
            try:
                answer = _dns_wire.query(address, name, 'CNAME', timeout=1.0)
                if target is ANY_ANSWER:
                    return
                found = answer.values(name, 'CNAME')
                # A deleted alias: any answer without the CNAME (NXDOMAIN, or what the upstreams say).
                if (target in found) if target is not None else not found:
                    return
                last = 'it answered {0} {1}'.format(answer.rcode, ', '.join(found) or 'without a CNAME')
            except (OSError, ValueError) as exc:
                last = 'no answer ({0})'.format(exc or type(exc).__name__)
            if monotonic() >= deadline:
                raise BackendError(
                    "Pi-hole's DNS server at {0} did not answer {1} CNAME with {2} within {3} s (restart_timeout) after "
                    "the change restarted FTL: {4}. If Pi-hole's DNS is published on another address or port than "
                    "{0}, set dns_address (an empty string skips this check).".format(
                        address, name, 'any answer' if target is ANY_ANSWER else target or 'no CNAME (deleted)',
                        self.restart_timeout, last),
                    dns_address=address, restart_timeout=self.restart_timeout)
            sleep(RESTART_POLL)

    def render(self, plan):
        """The complete new lists: stored lines minus dropped names, plus new lines."""
        dropped = set()
        added = {'hosts': [], 'cnameRecords': [], 'dnsmasq_lines': []}
        for change in plan.changes:
            if change.action == 'delete':
                dropped.update(record.ref for record in change.current)
            elif change.action == 'create':
                added[_list_of(change.wanted)].append(change.wanted)
            else:
                keep = next((r for r in change.current if r.ttl == change.wanted.ttl), None)
                dropped.update(record.ref for record in change.current if record is not keep)
                if keep is None:
                    added[_list_of(change.wanted)].append(change.wanted)
        return {
            'hosts': self._rebuild('hosts', dropped, _parse_hosts_line, _join_hosts) + [_hosts_line(r) for r in added['hosts']],
            'cnameRecords': (self._rebuild('cnameRecords', dropped, _parse_cname_line, _join_cname)
                             + [_cname_line(r) for r in added['cnameRecords']]),
            # Lines of others (any other option or form) stay as they are, in their order.
            'dnsmasq_lines': ([line for index, line in enumerate(self.lists['dnsmasq_lines'])
                               if ('dnsmasq_lines', index, 0) not in dropped]
                              + [r.answer for r in added['dnsmasq_lines']]),
        }

    def _rebuild(self, name, dropped, parse, join):
        result = []
        for index, line in enumerate(self.lists[name]):
            parsed = parse(line)
            if parsed is None:
                result.append(line)
                continue
            names = parsed[1] if name == 'hosts' else parsed[0]
            kept = [item for position, item in enumerate(names) if (name, index, position) not in dropped]
            if len(kept) == len(names):
                result.append(line)
            elif kept:
                result.append(join(parsed, kept))
        return result


def _list_of(record):
    if record.rtype == TYPE_LOCAL:
        return 'dnsmasq_lines'
    return 'cnameRecords' if record.rtype == TYPE_CNAME else 'hosts'


def _join_hosts(parsed, names):
    return ' '.join([parsed[0]] + names)


def _join_cname(parsed, aliases):
    target, ttl = parsed[1], parsed[2]
    return ','.join(aliases + [target] + ([str(ttl)] if ttl is not None else []))


class PiholeSettingsBackend(_PiholeModuleBackend):
    """Blocking on or off, on one API session."""

    label = 'Pi-hole'
    names = SETTINGS

    @classmethod
    def on_client(cls, client, warn, settings):
        return cls(client, warn)

    def read(self, names):
        current = OrderedDict()
        if 'blocking' in names:
            current['blocking'] = _blocking_state(self.client.get_blocking())
        return current

    def validate(self, changes):
        """Every Pi-hole v6 can switch blocking: nothing to refuse."""

    def write(self, changes):
        if 'blocking' in changes:
            self.client.set_blocking(changes['blocking'])


def _blocking_state(data):
    """True or False, or a string when a timer will flip it (or FTL could not apply it)."""
    state = data.get('blocking')
    timer = data.get('timer')
    if state in ('enabled', 'disabled') and timer is None:
        return state == 'enabled'
    if timer is not None:
        return '{0} for {1} more seconds'.format(state, int(timer))
    return state


# pihole_dns_record's ``settings`` option: pihole_settings' backend on the same client (and session).
PiholeBackend.settings_class = PiholeSettingsBackend
