# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module util is private, not a public API: it may change at any time.

"""The one HTTP helper of the collection.

Every request of the AdGuard Home and Pi-hole clients goes through ``HttpClient.request``,
which calls ``open_url`` (this module's thin wrapper of ansible's ``Request``) and nothing else.
Unit tests replace ``open_url`` in this module by in-memory fakes, so they see exactly what would
go over the wire.
"""

import http.client
import json
import socket
import ssl
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import Request, make_context


def transport_argument_spec():
    """The TLS and timeout options every HTTP-speaking module takes (doc fragment natloop.lan._http)."""
    return dict(
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='int', default=10),
    )


def open_url(url, data=None, headers=None, method=None, context=None, **kwargs):
    """``ansible.module_utils.urls.open_url`` that also takes a prepared TLS ``context``.

    Ansible's own ``open_url`` builds a new TLS context for every request and loads the whole CA
    bundle into it, even for ``http://`` URLs: tens of milliseconds a request, seconds over the
    thousand writes of a large converge. ``HttpClient`` builds its context once per module run.
    """
    return Request().open(method or ('POST' if data else 'GET'), url, data=data, headers=headers,
                          context=context, **kwargs)


# Tests replace this to run retries without waiting.
sleep = time.sleep

# Longest wait we accept from a server's Retry-After header.
MAX_RETRY_AFTER = 30.0


class HttpResponse(object):
    """A finished HTTP exchange: status code, lower-cased headers and the raw body."""

    def __init__(self, method, url, status, headers, body):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body

    def text(self):
        return to_text(self.body or b'', errors='surrogate_or_replace')

    def json(self):
        """Decode the body as JSON; an empty body is ``None``."""
        if not self.body or not self.body.strip():
            return None
        try:
            return json.loads(self.text())
        except ValueError as exc:
            raise HttpError(
                'Invalid JSON in the answer to {0} {1}: {2}'.format(self.method, self.url, to_native(exc)),
                method=self.method, url=self.url, status=self.status, body=self.body,
            )


class HttpError(Exception):
    """An HTTP exchange that failed. ``status`` is None when no answer came back at all."""

    def __init__(self, msg, method=None, url=None, status=None, body=None, headers=None, attempts=1):
        super(HttpError, self).__init__(msg)
        self.msg = msg
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.attempts = attempts

    def body_text(self, limit=500):
        text = to_text(self.body or b'', errors='surrogate_or_replace').strip()
        if len(text) > limit:
            text = text[:limit] + '...'
        return text

    def json(self):
        try:
            return json.loads(to_text(self.body or b'', errors='surrogate_or_replace'))
        except ValueError:
            return None


class ConnectionFailure(HttpError):
    """No HTTP answer: refused, reset, timed out, TLS failure, name resolution failure."""

    def __init__(self, msg, method=None, url=None, refused=False, attempts=1):
        super(ConnectionFailure, self).__init__(msg, method=method, url=url, attempts=attempts)
        self.refused = refused


class RetryPolicy(object):
    """Which failures are retried, how often and how long to wait.

    ``statuses`` are retried for idempotent requests only. A request that is not idempotent
    (an AdGuard add, which would duplicate the entry) is retried only when the connection was
    refused, because then nothing reached the server. Statuses not listed (401 and 403 in
    particular) are never retried. The waits double from ``initial_delay`` up to ``max_delay``;
    the whole sequence of waits never exceeds ``budget`` seconds.
    """

    def __init__(self, attempts=6, initial_delay=0.5, max_delay=8.0, budget=30.0,
                 statuses=(500, 502, 503, 504), retry_connection_errors=True):
        self.attempts = attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.budget = budget
        self.statuses = frozenset(statuses)
        self.retry_connection_errors = retry_connection_errors

    def should_retry(self, error, idempotent):
        if isinstance(error, ConnectionFailure):
            if not self.retry_connection_errors:
                return False
            return idempotent or error.refused
        return idempotent and error.status in self.statuses

    def delay(self, attempt, error):
        """Seconds to wait before attempt number ``attempt + 1`` (``attempt`` counts from 1)."""
        delay = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        retry_after = _parse_retry_after(error.headers.get('retry-after'))
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay


NO_RETRY = RetryPolicy(attempts=1)


def _parse_retry_after(value):
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def _lower_headers(message):
    if message is None:
        return {}
    try:
        return dict((k.lower(), v) for k, v in message.items())
    except AttributeError:
        return {}


def _is_refused(exc):
    reason = getattr(exc, 'reason', exc)
    return isinstance(reason, ConnectionRefusedError)


class HttpClient(object):
    """Requests against one base URL with fixed TLS settings, headers and retry policy."""

    def __init__(self, base_url, validate_certs=True, ca_path=None, timeout=10,
                 headers=None, retry_policy=None):
        self.base_url = base_url.rstrip('/')
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.retry_policy = retry_policy or NO_RETRY
        # Each entry: (method, path, status or None). Kept for error messages and debugging.
        self.history = []
        self._tls_context = None

    def tls_context(self):
        """The one TLS context of this client, built on first use."""
        if self._tls_context is None:
            if self.base_url.lower().startswith('https:'):
                self._tls_context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
            else:
                # Plain HTTP and redirects are never followed, so no TLS handshake can happen:
                # an empty client context spares loading the CA bundle.
                self._tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return self._tls_context

    def url(self, path):
        return self.base_url + path

    def request(self, method, path, json_body=None, headers=None, ok_statuses=(200,), idempotent=True,
                retry_policy=None):
        """Send one request, retrying per policy; return an HttpResponse or raise HttpError.

        A JSON body is sent with exactly ``Content-Type: application/json``; a request without
        a body carries no Content-Type at all (AdGuard Home answers 415 otherwise).
        """
        policy = retry_policy or self.retry_policy
        url = self.url(path)
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        data = None
        if json_body is not None:
            data = json.dumps(json_body, sort_keys=True).encode('utf-8')
            all_headers['Content-Type'] = 'application/json'

        waited = 0.0
        attempt = 1
        while True:
            try:
                response = self._send_once(method, url, all_headers, data)
                self.history.append((method, path, response.status))
                if response.status in ok_statuses:
                    return response
                raise HttpError(
                    '{0} {1} answered HTTP {2}'.format(method, url, response.status),
                    method=method, url=url, status=response.status, body=response.body,
                    headers=response.headers, attempts=attempt,
                )
            except HttpError as error:
                if isinstance(error, ConnectionFailure):
                    self.history.append((method, path, None))
                error.attempts = attempt
                if attempt >= policy.attempts or not policy.should_retry(error, idempotent):
                    raise
                delay = policy.delay(attempt, error)
                if waited + delay > policy.budget:
                    raise
                sleep(delay)
                waited += delay
                attempt += 1

    def _send_once(self, method, url, headers, data):
        try:
            response = open_url(
                url,
                context=self.tls_context(),
                data=data,
                headers=headers,
                method=method,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                follow_redirects='none',
                use_proxy=True,
                use_netrc=False,
                http_agent='natloop.lan',
            )
            try:
                body = response.read()
                status = response.getcode()
                response_headers = _lower_headers(response.info())
            finally:
                response.close()
            return HttpResponse(method, url, status, response_headers, body)
        except HTTPError as exc:
            try:
                body = exc.read()
            except Exception:  # the error may come without a readable body
                body = b''
            return HttpResponse(method, url, exc.code, _lower_headers(exc.headers), body)
        except URLError as exc:
            raise ConnectionFailure(
                'Cannot connect to {0}: {1}'.format(url, to_native(exc.reason)),
                method=method, url=url, refused=_is_refused(exc),
            )
        except ssl.SSLError as exc:
            raise ConnectionFailure('TLS error talking to {0}: {1}'.format(url, to_native(exc)), method=method, url=url)
        except http.client.HTTPException as exc:
            # The connection broke mid-answer (a server going down for a restart does this).
            raise ConnectionFailure('Broken answer from {0}: {1!r}'.format(url, exc), method=method, url=url)
        except (socket.timeout, OSError) as exc:
            raise ConnectionFailure(
                'Connection to {0} failed: {1}'.format(url, to_native(exc)),
                method=method, url=url, refused=isinstance(exc, ConnectionRefusedError),
            )
