# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_dnsmasq_dropin: the search for other DNS server options and the validated install, with the
real dnsmasq (``dnsmasq --test``) where it is installed. The role tests
(tests/unit/roles/test_router_dhcp_dns*.py) run the module itself through the role."""

import os
import shutil
import stat

import pytest

from ansible_collections.natloop.lan.plugins.module_utils import _dnsmasq_dropin as dropin

needs_dnsmasq = pytest.mark.skipif(not shutil.which('dnsmasq'), reason='dnsmasq is not installed')


def _write(path, text):
    with open(path, 'w') as handle:
        handle.write(text)
    return path


def test_search_finds_dns_server_options_and_splits_them(tmp_path):
    main = _write(str(tmp_path / 'dnsmasq.conf'), '# dhcp-option=6,1.1.1.1\ndhcp-option=6,192.168.11.1\n'
                                                  'dhcp-range=192.168.11.100,192.168.11.150\n')
    confdir = tmp_path / 'dnsmasq.d'
    confdir.mkdir()
    own = _write(str(confdir / '00-natloop.conf'), 'dhcp-option=option:dns-server,192.168.11.20\n')
    _write(str(confdir / 'lan.conf'), 'dhcp-option=option6:dns-server,[2001:db8::53]\n'
                                      'dhcp-option=lan,option6:dns-server,[2001:db8::53]\n'
                                      'dhcp-option-force = option:dns-server,10.0.0.1\n')
    found = dropin.dns_server_lines([main, str(confdir), str(tmp_path / 'missing.conf')], exclude=own)
    assert found == [
        main + ':2:dhcp-option=6,192.168.11.1',
        str(confdir / 'lan.conf') + ':1:dhcp-option=option6:dns-server,[2001:db8::53]',
        str(confdir / 'lan.conf') + ':2:dhcp-option=lan,option6:dns-server,[2001:db8::53]',
        str(confdir / 'lan.conf') + ':3:dhcp-option-force = option:dns-server,10.0.0.1',
    ]
    ipv4, tagged = dropin.split_found(found)
    assert ipv4 == [found[0], found[3]]
    # The untagged option6 loses to the drop-in's tagged one: only the tagged one competes.
    assert tagged == [found[2]]


def test_a_missing_dnsmasq_says_what_to_install(tmp_path):
    with pytest.raises(dropin.DropinError) as error:
        dropin.dnsmasq_version(str(tmp_path / 'no-such-dnsmasq'))
    assert 'cannot run %s --version' % (tmp_path / 'no-such-dnsmasq') in str(error.value)
    assert 'install dnsmasq' in str(error.value)


@needs_dnsmasq
def test_install_validates_with_dnsmasq_and_keeps_a_refused_content_out(tmp_path):
    confdir = tmp_path / 'dnsmasq.d'
    confdir.mkdir()
    path = str(confdir / '00-natloop.conf')
    assert dropin.dnsmasq_version('dnsmasq').lower().startswith('dnsmasq version')
    dropin.validate_and_install(path, b'dhcp-option=option:dns-server,192.168.11.20\n', 'dnsmasq', 0o644)
    assert dropin.read_file(path) == b'dhcp-option=option:dns-server,192.168.11.20\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644

    with pytest.raises(dropin.DropinError) as error:
        dropin.validate_and_install(path, b'dhcp-option=option:not-an-option,1.2.3.4\n', 'dnsmasq', 0o644)
    assert 'failed to validate' in str(error.value)
    # The old drop-in stays, and no temporary file is left in the conf-dir.
    assert dropin.read_file(path) == b'dhcp-option=option:dns-server,192.168.11.20\n'
    assert os.listdir(str(confdir)) == ['00-natloop.conf']
