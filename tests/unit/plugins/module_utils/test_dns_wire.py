# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The stdlib DNS question of the Pi-hole restart wait, against answers dnspython builds (compressed names)."""

import socket
import threading

import dns.message
import dns.rcode
import dns.rrset
import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _dns_wire

# The real one: the unit tests' autouse fixture sends _dns_wire.query to the fake Pi-hole.
QUERY = _dns_wire.query


@pytest.mark.parametrize('address, result', [
    ('198.51.100.151', ('198.51.100.151', 53)), ('198.51.100.151:5335', ('198.51.100.151', 5335)),
    ('[2001:db8::1]:53', ('2001:db8::1', 53)), ('2001:db8::1', ('2001:db8::1', 53)), ('[::1]', ('::1', 53)),
])
def test_split_host_port(address, result):
    assert _dns_wire.split_host_port(address) == result


def serve_once(reply_for):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))

    def answer():
        data, peer = sock.recvfrom(4096)
        sock.sendto(b'\x00\x01garbage', peer)            # a stray datagram first: ignored
        sock.sendto(reply_for(dns.message.from_wire(data)).to_wire(), peer)
        sock.close()
    threading.Thread(target=answer, daemon=True).start()
    return '127.0.0.1:{0}'.format(sock.getsockname()[1])


def test_a_cname_chain_with_compressed_names():
    def reply(query):
        response = dns.message.make_response(query)
        response.answer.append(dns.rrset.from_text('WWW.lan.', 0, 'IN', 'CNAME', 'nas.lan.'))
        response.answer.append(dns.rrset.from_text('nas.lan.', 0, 'IN', 'A', '10.0.0.1'))
        response.answer.append(dns.rrset.from_text('nas.lan.', 0, 'IN', 'AAAA', 'fd00::1'))
        return response
    answer = QUERY(serve_once(reply), 'www.lan', 'A', timeout=2)
    assert answer.rcode == 'NOERROR'
    assert answer.values('www.lan', 'CNAME') == ['nas.lan']
    assert answer.values('nas.lan', 'A') == ['10.0.0.1'] and answer.values('nas.lan', 'AAAA') == ['fd00::1']


def test_nxdomain_and_no_answer():
    def reply(query):
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response
    answer = QUERY(serve_once(reply), 'gone.lan', 'CNAME', timeout=2)
    assert (answer.rcode, answer.records) == ('NXDOMAIN', [])


def test_silence_is_a_timeout():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    try:
        with pytest.raises(OSError):
            QUERY('127.0.0.1:{0}'.format(sock.getsockname()[1]), 'a.lan', timeout=0.2)
    finally:
        sock.close()
