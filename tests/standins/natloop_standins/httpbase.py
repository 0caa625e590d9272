# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Threaded HTTP plumbing shared by the stand-ins (stand-in for tests, NOT the real
AdGuard Home / Pi-hole).

An *app* object implements ``handle_http(request) -> Response``; :class:`HTTPListener`
serves it on one address. Every response closes the connection, so a listener that is
stopped (Pi-hole restart, AdGuard port move) really stops answering.
"""

import http.server
import json
import logging
import socket
import threading
import urllib.parse
from email.utils import formatdate

LOG = logging.getLogger("natloop_standins.http")


class Request:
    """One parsed HTTP request."""

    def __init__(self, method, target, headers, body, client_address, chunked=False):
        self.method = method
        self.target = target
        raw_path, _sep, self.query = target.partition("?")
        self.raw_path = raw_path
        self.path = urllib.parse.unquote(raw_path)
        self.headers = headers
        self.body = body
        self.client_ip = client_address[0]
        self.client_port = client_address[1]
        self.chunked = chunked

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def content_length(self):
        """Go's ``http.Request.ContentLength``: -1 when unknown (chunked), else the byte count."""
        if self.chunked:
            return -1
        return len(self.body)

    def query_values(self, name):
        return urllib.parse.parse_qs(self.query, keep_blank_values=True).get(name, [])

    def cookies(self):
        """Cookie header parsed into a dict; the first occurrence of a name wins."""
        found = {}
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name not in found:
                    found[name] = value
        return found


class Response:
    """What an app returns; ``after_send`` callables run once the bytes are on the wire."""

    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = list(headers or [])
        if content_type is not None:
            self.headers.insert(0, ("Content-Type", content_type))
        self.after_send = []

    def add_header(self, name, value):
        self.headers.append((name, value))
        return self

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def json_bytes(obj):
    """Compact JSON (no spaces), UTF-8, as both servers send it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def http_date(timestamp):
    return formatdate(timestamp, usegmt=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return self.server.app.server_header

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        LOG.debug("%s %s", self.address_string(), format % args)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks), True
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(length) if length > 0 else b""), False

    def _dispatch(self):
        body, chunked = self._read_body()
        request = Request(self.command, self.path, self.headers, body, self.client_address, chunked)
        try:
            response = self.server.app.handle_http(request)
        except Exception:  # pylint: disable=broad-exception-caught
            LOG.exception("stand-in failed on %s %s", self.command, self.path)
            response = Response(500, b"internal error in the stand-in\n", "text/plain; charset=utf-8")
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)
        self.wfile.flush()
        self.close_connection = True
        for callback in response.after_send:
            callback()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _dispatch


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        super().__init__(address, _Handler)


class HTTPListener:
    """Serves ``app`` on ``host:port`` in a background thread (port 0 picks a free one)."""

    def __init__(self, app, host, port):
        self.app = app
        self.host = host
        self.port = port
        self._server = None
        self._thread = None

    def start(self):
        self._server = _Server((self.host, self.port), self.app)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="http-%s" % self.port, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    @property
    def running(self):
        return self._server is not None
