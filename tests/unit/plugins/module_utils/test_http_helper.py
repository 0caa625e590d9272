# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import io
import socket
from email.message import Message
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _http
from ansible_collections.natloop.lan.plugins.module_utils._http import (
    ConnectionFailure,
    HttpClient,
    HttpError,
    RetryPolicy,
)
from ansible_collections.natloop.lan.tests.unit.plugins.fake_dns_servers import FakeResponse


class Script(object):
    """open_url replacement that plays a list of outcomes and records the calls."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def __call__(self, url, data=None, headers=None, method=None, **kwargs):
        self.calls.append(dict(url=url, data=data, headers=dict(headers or {}), method=method, **kwargs))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        status, headers, body = outcome
        if status >= 300:
            message = Message()
            for name, value in headers.items():
                message[name] = value
            raise HTTPError(url, status, 'x', message, io.BytesIO(body))
        return FakeResponse(status, headers, body)


@pytest.fixture
def sleeps(monkeypatch):
    waited = []
    monkeypatch.setattr(_http, 'sleep', waited.append)
    return waited


def client(monkeypatch, script, **kwargs):
    monkeypatch.setattr(_http, 'open_url', script)
    return HttpClient('http://srv.test/', **kwargs)


REFUSED = URLError(ConnectionRefusedError(111, 'Connection refused'))
POLICY = RetryPolicy(attempts=4, initial_delay=1, max_delay=3, budget=100, statuses=(503,))


def test_json_body_has_exactly_the_json_content_type_and_no_body_has_none(monkeypatch, sleeps):
    script = Script((200, {}, b'[]\n'), (200, {}, b''))
    http = client(monkeypatch, script, headers={'Accept': 'application/json'}, timeout=7, validate_certs=False,
                  ca_path='/ca.pem')
    assert http.request('GET', '/list').json() == []
    assert http.request('POST', '/add', json_body={'b': 1, 'a': 2}).json() is None
    get, post = script.calls
    assert 'Content-Type' not in get['headers'] and get['data'] is None
    assert post['headers']['Content-Type'] == 'application/json'
    assert post['data'] == b'{"a": 2, "b": 1}'
    assert get['url'] == 'http://srv.test/list'
    assert (get['timeout'], get['validate_certs'], get['ca_path']) == (7, False, '/ca.pem')
    assert get['follow_redirects'] == 'none' and get['use_netrc'] is False


def test_unexpected_status_raises_with_status_and_body(monkeypatch, sleeps):
    http = client(monkeypatch, Script((400, {'Content-Type': 'text/plain'}, b'bad thing\n')))
    with pytest.raises(HttpError) as info:
        http.request('POST', '/add', json_body={})
    assert info.value.status == 400 and info.value.body_text() == 'bad thing'
    assert sleeps == []


def test_redirect_is_not_followed(monkeypatch, sleeps):
    http = client(monkeypatch, Script((302, {'Location': 'install.html'}, b'')))
    with pytest.raises(HttpError) as info:
        http.request('GET', '/control/status')
    assert info.value.status == 302 and info.value.headers['location'] == 'install.html'


def test_idempotent_requests_retry_listed_statuses_with_doubling_capped_waits(monkeypatch, sleeps):
    http = client(monkeypatch, Script((503, {}, b''), (503, {}, b''), (503, {}, b''), (200, {}, b'{}')),
                  retry_policy=POLICY)
    assert http.request('GET', '/x').status == 200
    assert sleeps == [1, 2, 3]


def test_attempts_are_bounded(monkeypatch, sleeps):
    http = client(monkeypatch, Script(*[(503, {}, b'')] * 10), retry_policy=POLICY)
    with pytest.raises(HttpError) as info:
        http.request('GET', '/x')
    assert info.value.attempts == 4 and len(sleeps) == 3


def test_budget_is_bounded(monkeypatch, sleeps):
    policy = RetryPolicy(attempts=50, initial_delay=1, max_delay=1, budget=5, statuses=(503,))
    http = client(monkeypatch, Script(*[(503, {}, b'')] * 50), retry_policy=policy)
    with pytest.raises(HttpError):
        http.request('GET', '/x')
    assert sum(sleeps) == 5


def test_unlisted_statuses_are_never_retried(monkeypatch, sleeps):
    for status in (401, 403, 404, 400):
        http = client(monkeypatch, Script((status, {}, b''), (200, {}, b'')), retry_policy=POLICY)
        with pytest.raises(HttpError):
            http.request('GET', '/x')
    assert sleeps == []


def test_non_idempotent_requests_retry_only_refused_connections(monkeypatch, sleeps):
    http = client(monkeypatch, Script((503, {}, b''), (200, {}, b'')), retry_policy=POLICY)
    with pytest.raises(HttpError):
        http.request('POST', '/add', json_body={}, idempotent=False)
    http = client(monkeypatch, Script(URLError(socket.timeout('timed out')), (200, {}, b'')), retry_policy=POLICY)
    with pytest.raises(ConnectionFailure) as info:
        http.request('POST', '/add', json_body={}, idempotent=False)
    assert not info.value.refused
    http = client(monkeypatch, Script(REFUSED, (200, {}, b'')), retry_policy=POLICY)
    assert http.request('POST', '/add', json_body={}, idempotent=False).status == 200
    assert sleeps == [1]


def test_retry_after_is_honoured_but_capped(monkeypatch, sleeps):
    http = client(monkeypatch, Script((503, {'Retry-After': '7'}, b''), (503, {'Retry-After': '3600'}, b''),
                                      (200, {}, b'')), retry_policy=RetryPolicy(attempts=3, budget=1000, statuses=(503,)))
    http.request('GET', '/x')
    assert sleeps == [7.0, _http.MAX_RETRY_AFTER]


def test_connection_errors_become_connection_failures(monkeypatch, sleeps):
    http = client(monkeypatch, Script(REFUSED))
    with pytest.raises(ConnectionFailure) as info:
        http.request('GET', '/x')
    assert info.value.refused and info.value.status is None and 'Connection refused' in info.value.msg
    http = client(monkeypatch, Script(OSError('boom')))
    with pytest.raises(ConnectionFailure):
        http.request('GET', '/x')


def test_invalid_json_is_an_http_error(monkeypatch, sleeps):
    http = client(monkeypatch, Script((200, {}, b'<html>')))
    with pytest.raises(HttpError, match='Invalid JSON'):
        http.request('GET', '/x').json()
