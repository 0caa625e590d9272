# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Raw HTTP and DNS clients for tests against the stand-ins (stand-in for tests, NOT the
real AdGuard Home / Pi-hole).

``http_request`` sends exactly the headers it is given (urllib adds its own
Content-Type to POSTs, which AdGuard answers with 415), so tests can assert on the
server's handling of headers.
"""

import base64
import http.client
import json
import time
import urllib.parse

import dns.message
import dns.query
import dns.rdatatype


class Reply:
    """Status, headers and body of one HTTP response."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:200])


def basic_auth(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def http_request(method, url, body=None, headers=None, json_body=None, timeout=5, source_ip=None):
    """One request on a fresh connection; ``json_body`` adds ``Content-Type: application/json``."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    parsed = urllib.parse.urlsplit(url)
    source = (source_ip, 0) if source_ip else None
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout, source_address=source)
    try:
        target = parsed.path or "/"
        if parsed.query:
            target += "?" + parsed.query
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def dns_query(port, name, rdtype="A", tcp=False, host="127.0.0.1", timeout=3):
    """Send one query to a stand-in's DNS port and return the response message."""
    query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    if tcp:
        return dns.query.tcp(query, host, timeout=timeout, port=port)
    return dns.query.udp(query, host, timeout=timeout, port=port)


def answers(response, rdtype=None):
    """``[(owner, type, value), ...]`` of a DNS response's answer section."""
    found = []
    for rrset in response.answer:
        kind = dns.rdatatype.to_text(rrset.rdtype)
        if rdtype and kind != rdtype:
            continue
        for rdata in rrset:
            found.append((rrset.name.to_text(omit_final_dot=True), kind, rdata.to_text()))
    return found


def addresses(response, rdtype="A"):
    """Sorted A (or AAAA) values of a DNS response."""
    return sorted(value for _owner, _kind, value in answers(response, rdtype))


def wait_refused(url, timeout=5.0):
    """True once ``url`` refuses connections (a listener shut down), False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            http_request("GET", url, timeout=1)
        except OSError:
            return True
        time.sleep(0.02)
    return False


def wait_answering(url, timeout=10.0):
    """The first reply from ``url`` once it accepts connections again (after a restart)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return http_request("GET", url, timeout=1)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
