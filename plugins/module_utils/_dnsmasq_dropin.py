# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_util is private to natloop.lan, not a public API: it can change without notice.
"""One dnsmasq drop-in file, and what the rest of dnsmasq's configuration says about DNS servers.

Everything the router needs on a run is done in one process (one Python start on the router):
dnsmasq must run (``--version``), other files are searched for the options that hand out DNS
servers (DHCP option 6 and ``option6:dns-server``), and the drop-in is compared with the wanted
content and, when it differs, validated by ``dnsmasq --test`` before it replaces the old one
(atomic rename). dnsmasq skips files whose names start with a dot in a conf-dir, so the temporary
copy never counts as configuration.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import subprocess
import tempfile

# A line that hands out DNS servers: option 6 (as "6," or "option:dns-server,", untagged as
# before) and option6:dns-server (or 23) with or without tags. Comments do not count.
DNS_OPTION = re.compile(
    r'^\s*dhcp-option(-force)?\s*=(\s*(6|option:dns-server),|([^#]*,)?\s*option6:(dns-server|23)([,\s]|$))')
# option6:dns-server with a tag or a network id before the option: dnsmasq advertises these as
# well as, or instead of, the drop-in's tagged option.
TAGGED_IPV6 = re.compile(r'^\s*dhcp-option(-force)?\s*=[^#]*,\s*option6:')


class DropinError(Exception):
    """Something a run must stop on, with the sentence that says what to fix."""


def dnsmasq_version(binary, run=subprocess.run):
    """The first line of ``binary --version``; DropinError when it cannot run."""
    try:
        proc = run([binary, '--version'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        raise DropinError('cannot run %s --version (%s): install dnsmasq or set the dnsmasq binary to use' % (binary, exc))
    if proc.returncode != 0:
        raise DropinError('cannot run %s --version (exit %d: %s): install dnsmasq or set the dnsmasq binary to use'
                          % (binary, proc.returncode, proc.stderr.decode('utf-8', 'replace').strip()))
    return (proc.stdout.decode('utf-8', 'replace').splitlines() or [''])[0]


def _files(paths):
    """Every file under ``paths`` (files as given, directories walked, sorted); missing ones left out."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    yield os.path.join(root, name)
        elif os.path.isfile(path):
            yield path


def dns_server_lines(paths, exclude=None):
    """["file:line:text"] of every line in ``paths`` that hands out DNS servers, ``exclude`` left out."""
    found = []
    for path in _files(paths):
        if exclude and os.path.abspath(path) == os.path.abspath(exclude):
            continue
        try:
            with open(path, 'rb') as handle:
                lines = handle.read().decode('utf-8', 'replace').splitlines()
        except (IOError, OSError):
            continue  # unreadable: as grep -s, not this run's business
        for number, line in enumerate(lines, 1):
            if DNS_OPTION.search(line):
                found.append('%s:%d:%s' % (path, number, line))
    return found


def split_found(found):
    """(option 6 lines, tagged option6:dns-server lines) of dns_server_lines()."""
    ipv4, tagged_ipv6 = [], []
    for entry in found:
        text = entry.split(':', 2)[2] if entry.count(':') >= 2 else entry
        if 'option6:' not in text:
            ipv4.append(entry)
        elif TAGGED_IPV6.search(text):
            tagged_ipv6.append(entry)
    return ipv4, tagged_ipv6


def read_file(path):
    """The file's bytes, or None when it does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as handle:
        return handle.read()


def validate_and_install(path, content, binary, mode, run=subprocess.run):
    """Write ``content`` beside ``path``, have ``binary --test`` read it, then rename it into place.

    Raises DropinError (the drop-in unchanged) when dnsmasq refuses it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix='.natloop-', suffix='.tmp', dir=directory)
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(content)
        os.chmod(temp, mode)
        proc = run([binary, '--test', '--conf-file=' + temp], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   check=False)
        if proc.returncode != 0:
            raise DropinError('failed to validate the drop-in with %s --test: %s' % (
                binary, (proc.stderr or proc.stdout).decode('utf-8', 'replace').strip()))
        os.rename(temp, path)
        temp = None
    finally:
        if temp is not None and os.path.exists(temp):
            os.unlink(temp)
