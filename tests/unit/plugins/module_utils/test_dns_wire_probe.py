# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Two copies of one DNS wire format, proven alike.

plugins/module_utils/_dns_wire.py (the record modules' question after a Pi-hole restart) and
roles/_dns_server/files/natloop_dns_probe.py (the roles' probe, shipped to the DNS server host by
ansible.builtin.script as one file, so it cannot import module_utils) both build questions and read
answers. The probe is the reference: every question encodes to the same bytes in both, and both
read the same records out of answers that dnspython builds (compressed names, mixed case).
"""

import importlib.util
import os

import dns.message
import dns.rcode
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.natloop.lan.plugins.module_utils import _dns_wire

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PROBE_PATH = os.path.join(REPO, 'roles', '_dns_server', 'files', 'natloop_dns_probe.py')


def _load_probe():
    spec = importlib.util.spec_from_file_location('natloop_dns_probe', PROBE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


probe = _load_probe()

TYPES = sorted(_dns_wire.TYPES)
# Host-name letters, upper case included, and a few letters that need IDNA.
LABEL = st.text(alphabet='abcxyzABCXYZ0189-\u00e4\u00f6\u00fc\u00e9\u00df', min_size=0, max_size=70)
NAME = st.builds(lambda labels, dot: '.'.join(labels) + dot, st.lists(LABEL, min_size=1, max_size=5), st.sampled_from(['', '.']))


def _outcome(build, name, rtype, query_id):
    try:
        return build(name, rtype, query_id)
    except (ValueError, UnicodeError) as exc:
        return type(exc).__name__ if not isinstance(exc, UnicodeError) else 'UnicodeError'


@settings(max_examples=400, deadline=None)
@given(name=NAME, rtype=st.sampled_from(TYPES), query_id=st.integers(0, 0xFFFF))
def test_every_question_encodes_alike(name, rtype, query_id):
    assert _outcome(_dns_wire.build_query, name, rtype, query_id) == _outcome(probe.build_query, name, rtype, query_id)


@pytest.mark.parametrize('name', ['nas.example.com', 'NAS.Example.COM.', 'a..b', 'b\u00fccher.example', 'x' * 63 + '.lan'])
def test_known_names_encode_alike(name):
    assert _dns_wire.build_query(name, 'A', 7) == probe.build_query(name, 'A', 7)


def test_a_too_long_label_is_refused_by_both():
    with pytest.raises(ValueError):
        _dns_wire.build_query('x' * 64 + '.lan', 'A', 1)
    with pytest.raises(ValueError):
        probe.build_query('x' * 64 + '.lan', 'A', 1)


OWNER = st.sampled_from(['nas.lan.', 'NAS.lan.', 'www.Example.test.', 'a.b.c.example.test.'])
RECORD = st.one_of(
    st.tuples(OWNER, st.just('A'), st.ip_addresses(v=4).map(str)),
    st.tuples(OWNER, st.just('AAAA'), st.ip_addresses(v=6).map(str)),
    st.tuples(OWNER, st.just('CNAME'), OWNER),
)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(RECORD, max_size=6), rcode=st.sampled_from([dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL]),
       rtype=st.sampled_from(TYPES))
def test_every_answer_reads_alike(records, rcode, rtype):
    query = dns.message.make_query('nas.lan.', rtype)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    for owner, kind, value in records:
        response.answer.append(dns.rrset.from_text(owner, 0, 'IN', kind, value))
    wire = response.to_wire()
    ours = _dns_wire.parse_response(wire, query.id)
    theirs = probe.parse_response(wire, query.id)
    assert ours.rcode == theirs['rcode']
    # _dns_wire lower-cases CNAME targets as well (it compares names); the probe keeps their case, and
    # compares addresses in their canonical text (_canonical: '::ffff:0:0', not inet_ntop's '::ffff:0.0.0.0').
    assert ours.records == [(item['name'], item['type'],
                             item['data'].lower() if item['type'] == 'CNAME' else probe._canonical(item['data']))
                            for item in theirs['records']]
