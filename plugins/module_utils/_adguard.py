# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""AdGuard Home client and record backend (DNS rewrites under /control/rewrite/).

Server facts this code relies on: add and delete never check for duplicates, delete removes
every entry whose domain and answer are string-equal and answers 200 even if nothing matched,
bodies must carry exactly ``Content-Type: application/json``, and five failed logins block
the client address for 15 minutes, so a 401 or 403 is never retried.
"""

import base64
import contextlib
import re
from collections import OrderedDict

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.natloop.lan.plugins.module_utils._http import (
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
    RecordError,
    RecordRules,
    in_scope,
    normalize_owned_names,
    record_from_server,
)

RULES = RecordRules(
    'AdGuard Home', 'rewrites',
    wildcards=True, keyword_answers=True, self_cname=True, enabled=True,
)

# Only idempotent requests are retried on 5xx; an add is retried only if the connection was
# refused (nothing reached the server). 401/403 are not in the list: never retried.
RETRY_POLICY = RetryPolicy(attempts=4, initial_delay=0.5, max_delay=4.0, budget=10.0, statuses=(500, 502, 503, 504))


def connection_argument_spec():
    spec = dict(
        url=dict(type='str', required=True, fallback=(env_fallback, ['NATLOOP_ADGUARD_URL'])),
        username=dict(type='str', fallback=(env_fallback, ['NATLOOP_ADGUARD_USERNAME'])),
        password=dict(type='str', no_log=True, fallback=(env_fallback, ['NATLOOP_ADGUARD_PASSWORD'])),
    )
    spec.update(transport_argument_spec())
    return spec


CONNECTION_REQUIRED_TOGETHER = [('username', 'password')]


def rewrite_argument_spec():
    spec = connection_argument_spec()
    spec.update(sync_argument_spec('rewrites', dict(
        domain=dict(type='str', required=True),
        answer=dict(type='str', required=True),
        enabled=dict(type='bool', default=True),
    ), settings_options()))
    return spec


def rewrite_info_argument_spec():
    spec = connection_argument_spec()
    spec.update(info_argument_spec())
    return spec


UPSTREAM_MODES = ('load_balance', 'parallel', 'fastest_addr')

# The settings adguard_settings manages, in the order they are read and written.
SETTINGS = ('upstream_dns', 'bootstrap_dns', 'upstream_mode', 'filtering_enabled', 'rewrites_enabled',
            'protection_enabled', 'nxdomain_names')

# nxdomain_names: one user rule per name, in the form AdGuard Home's own blocked-service list uses for
# the Private Relay names (AGH internal/filtering/servicelist.go, "icloud_private_relay"). User rules
# with $dnsrewrite apply while filtering is on, also with protection off (AGH
# internal/filtering/filtering.go matchHost: the dnsrewrite result is returned before the
# "if !setts.ProtectionEnabled" check); see tests/standins/README.md, "AdGuard Home: local names and canaries".
NXDOMAIN_RULE = '||{0}^$dnsrewrite=NXDOMAIN;;'
_NXDOMAIN_RULE_RE = re.compile(r'^\|\|([A-Za-z0-9_.-]+)\^\$dnsrewrite=NXDOMAIN;;$')
# The settings that POST /control/dns_config takes (it takes partial JSON: the others stay).
DNS_CONFIG_SETTINGS = ('upstream_dns', 'bootstrap_dns', 'upstream_mode')


def settings_options():
    """adguard_settings' own options, also adguard_rewrite's ``settings`` suboptions."""
    return dict(
        upstream_dns=dict(type='list', elements='str'),
        bootstrap_dns=dict(type='list', elements='str'),
        upstream_mode=dict(type='str', choices=list(UPSTREAM_MODES)),
        filtering_enabled=dict(type='bool'),
        rewrites_enabled=dict(type='bool'),
        protection_enabled=dict(type='bool'),
        nxdomain_names=dict(type='list', elements='str'),
        nxdomain_names_scope=dict(type='list', elements='str'),
    )


def settings_argument_spec():
    spec = connection_argument_spec()
    spec.update(lock_argument_spec())
    spec.update(settings_options())
    return spec


class AdGuardClient(object):
    """The rewrite endpoints of one AdGuard Home instance, with HTTP Basic auth and no cookies."""

    def __init__(self, url, username=None, password=None, validate_certs=True, ca_path=None, timeout=10):
        headers = {'Accept': 'application/json'}
        if username is not None:
            token = base64.b64encode(to_bytes(username) + b':' + to_bytes(password or ''))
            headers['Authorization'] = 'Basic ' + to_text(token)
        self.has_credentials = username is not None
        self.http = HttpClient(url, validate_certs=validate_certs, ca_path=ca_path, timeout=timeout,
                               headers=headers, retry_policy=RETRY_POLICY)

    @classmethod
    def from_params(cls, params):
        return cls(params['url'], params['username'], params['password'], params['validate_certs'],
                   params['ca_path'], params['timeout'])

    def _call(self, method, path, body=None, idempotent=True, what=None):
        try:
            return self.http.request(method, path, json_body=body, idempotent=idempotent)
        except HttpError as error:
            raise BackendError(self.explain(error, what), status=error.status, url=error.url)

    def explain(self, error, what=None):
        action = what or '{0} {1}'.format(error.method, error.url)
        if isinstance(error, ConnectionFailure):
            return 'Cannot reach AdGuard Home ({0}): {1}'.format(action, error.msg)
        status = error.status
        body = error.body_text()
        if status == 401:
            if not self.has_credentials:
                return 'AdGuard Home wants credentials (HTTP 401 for {0}): set username and password.'.format(action)
            return ('AdGuard Home rejected the credentials (HTTP 401 for {0}). Not retried: after 5 failed '
                    'attempts AdGuard Home blocks this address for 15 minutes, and answers 401 even to '
                    'correct credentials while the block lasts.'.format(action))
        if status == 403:
            return 'AdGuard Home refused {0} (HTTP 403: {1}). Not retried.'.format(action, body or 'Forbidden')
        if status in (301, 302, 303):
            location = error.headers.get('location', '')
            if 'install' in location:
                return ('AdGuard Home is not set up yet: {0} was redirected to {1}. Finish the setup '
                        'wizard (or provide AdGuardHome.yaml) first.'.format(action, location))
            return 'AdGuard Home redirected {0} to {1}; check url.'.format(action, location or '(no location)')
        if status in (307, 308):
            return ('AdGuard Home redirected {0} to {1}; it probably forces HTTPS: use the https:// '
                    'address in url.'.format(action, error.headers.get('location', '(no location)')))
        if status == 404:
            return 'AdGuard Home has no such endpoint ({0} answered 404); is url the AdGuard Home web address?'.format(action)
        if status == 415:
            return 'AdGuard Home refused the request format of {0} (HTTP 415: {1}).'.format(action, body)
        return 'AdGuard Home answered HTTP {0} to {1}: {2}'.format(status, action, body or '(empty body)')

    def list_rewrites(self):
        data = self._call('GET', '/control/rewrite/list', what='listing rewrites').json()
        if data is None:
            return []
        if not isinstance(data, list):
            raise BackendError('AdGuard Home returned an unexpected rewrite list: {0!r}'.format(data)[:500])
        return data

    def rewrite_settings(self):
        """The rewrite settings (v0.107.68+), or None where the endpoint does not exist."""
        try:
            return self.http.request('GET', '/control/rewrite/settings').json()
        except HttpError as error:
            if error.status in (404, 405):
                return None
            raise BackendError(self.explain(error, 'reading rewrite settings'), status=error.status)

    def get(self, path, what):
        return self._call('GET', path, what=what).json()

    def post(self, path, body, what, method='POST'):
        self._call(method, path, body, what=what)

    def add(self, domain, answer, enabled=None):
        body = OrderedDict([('domain', domain), ('answer', answer)])
        if enabled is not None:
            body['enabled'] = enabled
        self._call('POST', '/control/rewrite/add', body, idempotent=False,
                   what='adding rewrite {0} -> {1}'.format(domain, answer))

    def delete(self, domain, answer):
        self._call('POST', '/control/rewrite/delete', {'domain': domain, 'answer': answer},
                   what='deleting rewrite {0} -> {1}'.format(domain, answer))

    def update(self, target_domain, target_answer, domain, answer, enabled):
        body = {
            'target': {'domain': target_domain, 'answer': target_answer},
            'update': {'domain': domain, 'answer': answer, 'enabled': enabled},
        }
        self._call('PUT', '/control/rewrite/update', body,
                   what='updating rewrite {0} -> {1}'.format(target_domain, target_answer))


class _AdGuardModuleBackend(ModuleBackend):
    """What every AdGuard Home backend shares: a client built from the module's options, no session."""

    client_class = AdGuardClient

    @contextlib.contextmanager
    def session(self):
        # HTTP Basic on every request: no login, no cookie, nothing to close.
        yield


class AdGuardBackend(_AdGuardModuleBackend):
    """Reads rewrites as Records and carries out plans with add, delete and update calls."""

    rules = RULES

    def __init__(self, client, warn):
        super(AdGuardBackend, self).__init__(client, warn)
        # True/False once known: the list carries 'enabled' from v0.107.68 on.
        self.enabled_supported = None

    def read(self):
        records = []
        for entry in self.client.list_rewrites():
            if not isinstance(entry, dict) or not isinstance(entry.get('domain'), str) or not isinstance(entry.get('answer'), str):
                raise BackendError('AdGuard Home returned an unexpected rewrite entry: {0!r}'.format(entry)[:500])
            if 'enabled' in entry:
                self.enabled_supported = True
            enabled = entry.get('enabled')
            records.append(record_from_server(
                entry['domain'], entry['answer'], RULES,
                enabled=True if enabled is None else bool(enabled),
                ref=(entry['domain'], entry['answer']),
            ))
        if records and self.enabled_supported is None:
            self.enabled_supported = False
        return records

    def prepare(self, wanted, current):
        """Decide whether 'enabled' can be managed on this server."""
        disabled = [record for record in wanted if not record.enabled]
        if disabled and self.enabled_supported is None:
            # Empty list: ask the settings endpoint, which came with the 'enabled' field.
            self.enabled_supported = self.client.rewrite_settings() is not None
        if self.enabled_supported is False:
            if disabled:
                self.warn(
                    'This AdGuard Home (before v0.107.68) has no per-rewrite enabled flag; enabled=false is '
                    'ignored for: {0}'.format(', '.join(record.describe() for record in disabled)))
            return [record.copy(enabled=True) for record in wanted], ()
        return wanted, ('enabled',)

    def apply(self, plan):
        # Deletes first, so a purge never races a re-added copy of the same string pair.
        for change in plan.changes:
            if change.action == 'delete':
                for domain, answer in _distinct_refs(change.current):
                    self.client.delete(domain, answer)
        for change in plan.changes:
            if change.action == 'update':
                self._update(change)
        for change in plan.changes:
            if change.action == 'create':
                self._add(change.wanted)

    def _add(self, record):
        self.client.add(record.domain, record.answer, enabled=None if record.enabled else False)

    def _update(self, change):
        want = change.wanted
        copies = OrderedDict()
        for record in change.current:
            copies.setdefault(record.ref, []).append(record)
        # A spelling stored exactly once can stay in place; delete would remove every copy of it.
        keeper = next((ref for ref, records in copies.items() if len(records) == 1), None)
        for ref in copies:
            if ref != keeper:
                self.client.delete(*ref)
        if keeper is None:
            self._add(want)
            return
        kept = copies[keeper][0]
        if self.enabled_supported and kept.enabled != want.enabled:
            self.client.update(keeper[0], keeper[1], keeper[0], keeper[1], want.enabled)


def _distinct_refs(records):
    seen = OrderedDict()
    for record in records:
        seen[record.ref] = True
    return list(seen)


class AdGuardSettingsBackend(_AdGuardModuleBackend):
    """Upstreams, filtering, rewrites and protection: read from four endpoints, each only when asked."""

    label = 'AdGuard Home'

    def __init__(self, client, warn, nxdomain_scope=None):
        super(AdGuardSettingsBackend, self).__init__(client, warn)
        self.filtering_interval = None
        self.rewrites_switchable = None
        self.nxdomain_scope = nxdomain_scope or []
        self.nxdomain_wanted = []
        self.user_rules = None

    names = SETTINGS

    @classmethod
    def from_module(cls, module):
        return cls.on_client(AdGuardClient.from_params(module.params), module.warn, module.params)

    @classmethod
    def on_client(cls, client, warn, settings):
        return cls(client, warn, settings.get('nxdomain_names_scope'))

    def normalize(self, wanted):
        """Canonical nxdomain_names (sorted, lower case) and scope; BackendError names every bad item."""
        if 'nxdomain_names' not in wanted and not self.nxdomain_scope:
            return wanted
        try:
            names, self.nxdomain_scope = normalize_owned_names(
                wanted.get('nxdomain_names'), self.nxdomain_scope, RULES, 'nxdomain_names', 'nxdomain_names_scope')
        except RecordError as exc:
            raise BackendError('Invalid input, nothing was changed: ' + ' | '.join(exc.problems), problems=exc.problems)
        if 'nxdomain_names' in wanted:
            wanted = OrderedDict(wanted)
            wanted['nxdomain_names'] = self.nxdomain_wanted = sorted(set(names))
        return wanted

    def _managed_rule_name(self, rule):
        """The name of a rule in NXDOMAIN_RULE form that this run manages, else None."""
        match = _NXDOMAIN_RULE_RE.match(rule.strip()) if isinstance(rule, str) else None
        if match is None:
            return None
        name = match.group(1).lower().rstrip('.')
        if name in self.nxdomain_wanted or in_scope(name, self.nxdomain_scope):
            return name
        return None

    def read(self, names):
        # Always first, and never retried on 401: the one request that proves the credentials.
        status = self.client.get('/control/status', 'reading the status (login)') or {}
        current = OrderedDict()
        if any(name in DNS_CONFIG_SETTINGS for name in names):
            info = self.client.get('/control/dns_info', 'reading the upstream DNS settings') or {}
            current['upstream_dns'] = info.get('upstream_dns') or []
            current['bootstrap_dns'] = info.get('bootstrap_dns') or []
            # An empty mode is AdGuard Home's default, load balancing.
            current['upstream_mode'] = info.get('upstream_mode') or 'load_balance'
        if 'filtering_enabled' in names or 'nxdomain_names' in names:
            filtering = self.client.get('/control/filtering/status', 'reading the filtering settings') or {}
            current['filtering_enabled'] = bool(filtering.get('enabled'))
            self.filtering_interval = filtering.get('interval')
            rules = filtering.get('user_rules') or []
            if not isinstance(rules, list):
                raise BackendError('AdGuard Home returned unexpected user rules: {0!r}'.format(rules)[:500])
            self.user_rules = list(rules)
            current['nxdomain_names'] = sorted(set(
                name for name in (self._managed_rule_name(rule) for rule in rules) if name is not None))
        if 'rewrites_enabled' in names:
            settings = self.client.rewrite_settings()
            # Before v0.107.68 rewrites cannot be switched off: they are always on.
            current['rewrites_enabled'] = True if settings is None else bool(settings.get('enabled'))
            self.rewrites_switchable = settings is not None
        if 'protection_enabled' in names:
            current['protection_enabled'] = _protection_state(status)
        return OrderedDict((name, current.get(name)) for name in names)

    def validate(self, changes):
        """Fail before any write (and in check mode) on a change this server cannot make."""
        if 'rewrites_enabled' in changes and not self.rewrites_switchable:
            raise BackendError('This AdGuard Home (before v0.107.68) cannot switch rewrites off; '
                               'leave rewrites_enabled unset or true.')

    def write(self, changes):
        dns_config = OrderedDict((name, changes[name]) for name in DNS_CONFIG_SETTINGS if name in changes)
        if dns_config:
            self.client.post('/control/dns_config', dns_config, 'setting ' + ', '.join(dns_config))
        if 'filtering_enabled' in changes:
            # The interval is sent back as read: the endpoint wants both fields.
            interval = self.filtering_interval if self.filtering_interval is not None else 24
            self.client.post('/control/filtering/config', {'enabled': changes['filtering_enabled'], 'interval': interval},
                             'switching filtering {0}'.format(_on_off(changes['filtering_enabled'])))
        if 'rewrites_enabled' in changes:
            self.client.post('/control/rewrite/settings/update', {'enabled': changes['rewrites_enabled']},
                             'switching rewrites {0}'.format(_on_off(changes['rewrites_enabled'])), method='PUT')
        if 'protection_enabled' in changes:
            self._set_protection(changes['protection_enabled'])
        if 'nxdomain_names' in changes:
            self.client.post('/control/filtering/set_rules', {'rules': self.render_rules(changes['nxdomain_names'])},
                             'setting the user rules')

    def render_rules(self, names):
        """The complete new user rules: the rules just read, without the managed NXDOMAIN rules of names no
        longer wanted, plus the missing ones. Rules of others stay as they are, in their order."""
        present = set()
        rules = []
        for rule in self.user_rules or []:
            name = self._managed_rule_name(rule)
            if name is not None and (name not in names or name in present):
                continue
            if name is not None:
                present.add(name)
            rules.append(rule)
        rules.extend(NXDOMAIN_RULE.format(name) for name in names if name not in present)
        return rules

    def _set_protection(self, enabled):
        what = 'switching protection {0}'.format(_on_off(enabled))
        try:
            # No duration: the change lasts until changed again, which also ends a timed pause.
            self.client.http.request('POST', '/control/protection', json_body={'enabled': enabled})
        except HttpError as error:
            if error.status not in (404, 405):
                raise BackendError(self.client.explain(error, what), status=error.status, url=error.url)
            # Before v0.107.28 protection is a field of the DNS settings.
            self.client.post('/control/dns_config', {'protection_enabled': enabled}, what)


def _protection_state(status):
    """True or False, or a string saying that protection is paused and comes back by itself."""
    enabled = bool(status.get('protection_enabled'))
    remaining = status.get('protection_disabled_duration') or 0
    if not enabled and remaining > 0:
        return 'paused for {0} more seconds'.format(int(remaining) // 1000)
    return enabled


def _on_off(value):
    return 'on' if value else 'off'


# adguard_rewrite's ``settings`` option: adguard_settings' backend on the same client.
AdGuardBackend.settings_class = AdGuardSettingsBackend
