# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP helper against a real local HTTPS server with a self-signed certificate.

The helper builds its TLS context once per client (Ansible's open_url builds one per request);
these tests prove the context still honours validate_certs and ca_path, on real handshakes.
"""

import datetime
import http.server
import ipaddress
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.natloop.lan.plugins.module_utils import _http
from ansible_collections.natloop.lan.plugins.module_utils._http import ConnectionFailure, HttpClient


def _self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'natloop-test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(u'127.0.0.1'))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / 'cert.pem', directory / 'key.pem'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def https_server(tmp_path):
    cert_path, key_path = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'https://127.0.0.1:%d' % server.server_address[1], cert_path
    server.shutdown()
    server.server_close()


def test_self_signed_certificate_is_refused_by_default(https_server):
    url, _cert = https_server
    with pytest.raises(ConnectionFailure) as failure:
        HttpClient(url, timeout=5).request('GET', '/')
    assert 'CERTIFICATE_VERIFY_FAILED' in str(failure.value)


def test_ca_path_makes_the_certificate_trusted(https_server):
    url, cert = https_server
    assert HttpClient(url, ca_path=cert, timeout=5).request('GET', '/').json() == {'ok': True}


def test_validate_certs_false_accepts_it(https_server):
    url, _cert = https_server
    assert HttpClient(url, validate_certs=False, timeout=5).request('GET', '/').json() == {'ok': True}


def test_one_context_per_client_not_per_request(https_server, monkeypatch):
    url, cert = https_server
    built = []

    def counting_make_context(**kwargs):
        built.append(kwargs)
        return _http_make_context(**kwargs)

    _http_make_context = _http.make_context
    monkeypatch.setattr(_http, 'make_context', counting_make_context)
    client = HttpClient(url, ca_path=cert, timeout=5)
    for _attempt in range(3):
        client.request('GET', '/')
    assert built == [dict(cafile=cert, validate_certs=True)]


def test_plain_http_never_loads_certificates(monkeypatch):
    monkeypatch.setattr(_http, 'make_context', lambda **kwargs: pytest.fail('CA bundle loaded for plain HTTP'))
    context = HttpClient('http://127.0.0.1:9').tls_context()
    assert isinstance(context, ssl.SSLContext)
