# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_util is private to natloop.lan, not a public API: it can change without notice.
"""Plan OpenWrt ``uci`` changes on the controller.

OpenWrt devices usually have no Python, so the roles read the device's state with
``uci -X show <package>`` over ansible.builtin.raw, plan here, and send back only the
``uci`` commands that change something. Nothing in here touches a device.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    from shlex import quote as shell_quote
except ImportError:  # pragma: no cover - Python 2 only
    from pipes import quote as shell_quote

# One quoted value as `uci show` prints it: a single quote inside is written '\''.
_VALUE_RE = re.compile(r"'((?:[^']|'\\'')*)'")
_NAME_RE = re.compile(r'^[A-Za-z0-9_]+$')
# DHCP option 6 (DNS servers) as OpenWrt and dnsmasq accept it, without tags.
_DNS_OPTION_RE = re.compile(r'^(?:6|option:dns-server),')


class UciError(Exception):
    pass


def _unquote_values(text):
    values = []
    rest = text.strip()
    while rest:
        match = _VALUE_RE.match(rest)
        if not match:
            raise UciError('cannot parse uci value %r' % text)
        values.append(match.group(1).replace("'\\''", "'"))
        rest = rest[match.end():].lstrip(' ')
    return values


def parse_show(text, package):
    """Parse `uci -X show PACKAGE` into {section: {'.type': str, option: [values]}}.

    Options and lists look alike in `uci show` (a one-element list prints like an option),
    so every value is a list here; callers that want a single value take its only element.
    Section order is kept (dicts keep insertion order on Python 3.7+).
    """
    sections = {}
    prefix = package + '.'
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith(prefix) or '=' not in line:
            raise UciError('unexpected line in "uci show %s": %r' % (package, line))
        key, value = line[len(prefix):].split('=', 1)
        if '.' in key:
            section, option = key.split('.', 1)
            if section not in sections:
                raise UciError('option %r before its section in "uci show %s"' % (key, package))
            sections[section][option] = _unquote_values(value)
        else:
            sections[key] = {'.type': value}
    return sections


def _check_name(name, what):
    if not _NAME_RE.match(name):
        raise UciError('invalid uci %s name %r' % (what, name))


def plan_commands(sections, package, desired):
    """Return the uci commands that turn sections into desired.

    desired is {section: {option: str | list | None}}: a str sets an option, a list sets a list
    (replacing it as a whole), None removes the option. Options not named are left alone.
    """
    _check_name(package, 'package')
    commands = []
    for section, options in desired.items():
        _check_name(section, 'section')
        if section not in sections:
            raise UciError('section %s.%s does not exist' % (package, section))
        current = sections[section]
        for option, value in options.items():
            _check_name(option, 'option')
            target = '%s.%s.%s' % (package, section, option)
            have = current.get(option)
            if value is None:
                if have is not None:
                    commands.append('uci delete %s' % target)
            elif isinstance(value, list):
                if have != value:
                    if have is not None:
                        commands.append('uci delete %s' % target)
                    commands.extend('uci add_list %s=%s' % (target, shell_quote(item)) for item in value)
            elif have != [value]:
                commands.append('uci set %s=%s' % (target, shell_quote(value)))
    return commands


def apply_desired(sections, desired):
    """Return a copy of sections as it will be after desired is applied (for diffs)."""
    after = dict((name, dict(options)) for name, options in sections.items())
    for section, options in desired.items():
        for option, value in options.items():
            if value is None:
                after[section].pop(option, None)
            else:
                after[section][option] = list(value) if isinstance(value, list) else [value]
    return after


def dns_option(servers):
    return '6,' + ','.join(servers)


def dhcp_dns_desired(sections, section, servers, state):
    """Desired dhcp_option list of a dhcp section: option 6 replaced, every other option kept."""
    if sections.get(section, {}).get('.type') != 'dhcp':
        raise UciError('dhcp.%s is not a "dhcp" section' % section)
    current = sections[section].get('dhcp_option', [])
    wanted = []
    placed = False
    for value in current:
        if not _DNS_OPTION_RE.match(value):
            wanted.append(value)
        elif state == 'present' and not placed:
            # Keep the position of the option it replaces: the diff then shows one line changed.
            wanted.append(dns_option(servers))
            placed = True
    if state == 'present' and not placed:
        wanted.append(dns_option(servers))
    return {section: {'dhcp_option': wanted or None}}


def _port_ranges(text):
    """'80 443 1000-1010' / '1000:1010' -> [(80, 80), (443, 443), (1000, 1010)]; None = all."""
    if text is None:
        return None
    ranges = []
    for part in re.split(r'[\s,]+', text.strip()):
        if not part:
            continue
        bounds = re.split(r'[-:]', part, 1)
        try:
            ranges.append((int(bounds[0]), int(bounds[-1])))
        except ValueError:
            raise UciError('cannot parse port %r' % part)
    return ranges


def _overlaps(ranges_a, ranges_b):
    if ranges_a is None or ranges_b is None:
        return True
    return any(a_low <= b_high and b_low <= a_high for a_low, a_high in ranges_a for b_low, b_high in ranges_b)


def _protocols(text):
    if text is None:
        return set(['tcp', 'udp'])  # fw3/fw4 default for redirects
    protocols = set()
    for proto in text.lower().split():
        if proto == 'tcpudp':
            protocols.update(['tcp', 'udp'])
        elif proto in ('all', 'any'):
            protocols.update(['tcp', 'udp'])
        else:
            protocols.add(proto)
    return protocols


def _first(options, name):
    values = options.get(name)
    return values[0] if values else None


def matching_redirects(sections, services):
    """Redirect (port forward) sections that DNAT to one of the services' ports.

    services: [{'name', 'ip', 'ports': [{'proto', 'start', 'end'}]}]. A redirect matches when its
    dest_ip is the service's address and protocol and port ranges overlap (a redirect without
    ports forwards all ports). Returns (section names, names of services without a redirect).
    """
    matched = []
    unmatched = []
    for service in services:
        found = False
        for name, options in sections.items():
            if options.get('.type') != 'redirect':
                continue
            if (_first(options, 'target') or 'DNAT') != 'DNAT' or _first(options, 'dest_ip') != service['ip']:
                continue
            ports = _port_ranges(_first(options, 'dest_port') or _first(options, 'src_dport'))
            protocols = _protocols(_first(options, 'proto'))
            for port in service['ports']:
                if port['proto'] in protocols and _overlaps(ports, [(port['start'], port['end'])]):
                    found = True
                    if name not in matched:
                        matched.append(name)
                    break
        if not found:
            unmatched.append(service['name'])
    return matched, unmatched


def reflection_desired(sections, redirects, state, reflection_src='internal'):
    """Desired reflection options of the given redirects (absent switches reflection off)."""
    desired = {}
    for name in redirects:
        if state == 'present':
            desired[name] = {'reflection': '1', 'reflection_src': reflection_src}
        else:
            # fw3/fw4 reflect by default: only an explicit 0 turns hairpin NAT off.
            desired[name] = {'reflection': '0', 'reflection_src': None}
    return desired
