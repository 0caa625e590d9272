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

import hashlib
import json
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
# fw4's parse_bool (firewall4 fw4.uc).
_TRUE = ('1', 'on', 'true', 'yes', 'enabled')
_FALSE = ('0', 'off', 'false', 'no', 'disabled')

# What the roles changed is recorded in sections of their own type in the same package, committed
# with the change in one `uci commit`. firewall4 and OpenWrt's dnsmasq init only read the section
# types they know, so these sections are ignored there without a warning (an unknown *option* in a
# redirect section makes fw4 warn "specifies unknown option").
HAIRPIN_RECORD_TYPE = 'natloop_hairpin'
DHCP_DNS_RECORD_TYPE = 'natloop_dhcp_dns'
# The redirect options the hairpin role may change, in the order it changes them.
REFLECTION_OPTIONS = ('reflection', 'reflection_src', 'reflection_zone')


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
    A section that does not exist is created when its options name its type ('.type': TYPE);
    desired[section] = None deletes the section.
    """
    _check_name(package, 'package')
    commands = []
    for section, options in desired.items():
        _check_name(section, 'section')
        if options is None:
            if section in sections:
                commands.append('uci delete %s.%s' % (package, section))
            continue
        current = sections.get(section)
        if current is None:
            section_type = options.get('.type')
            if not section_type:
                raise UciError('section %s.%s does not exist' % (package, section))
            _check_name(section_type, 'section type')
            commands.append('uci set %s.%s=%s' % (package, section, section_type))
            current = {'.type': section_type}
        for option, value in options.items():
            if option == '.type':
                continue
            _check_name(option, 'option')
            target = '%s.%s.%s' % (package, section, option)
            have = current.get(option)
            if value is None:
                if have is not None:
                    commands.append('uci delete %s' % target)
            elif isinstance(value, list):
                if have != value:
                    if have is not None and len(have) > 1 and value:
                        # Certainly a list: emptying it with del_list and refilling it keeps the option's
                        # place in the section (measured with the real uci), so undo restores `uci show`
                        # exactly. A single value may be an old-style option, which del_list cannot empty.
                        commands.extend('uci del_list %s=%s' % (target, shell_quote(item))
                                        for item in sorted(set(have), key=have.index))
                    elif have is not None:
                        commands.append('uci delete %s' % target)
                    commands.extend('uci add_list %s=%s' % (target, shell_quote(item)) for item in value)
            elif have != [value]:
                commands.append('uci set %s=%s' % (target, shell_quote(value)))
    return commands


def apply_desired(sections, desired):
    """Return a copy of sections as it will be after desired is applied (for diffs)."""
    after = dict((name, dict(options)) for name, options in sections.items())
    for section, options in desired.items():
        if options is None:
            after.pop(section, None)
            continue
        target = after.setdefault(section, {'.type': options.get('.type')})
        for option, value in options.items():
            if option == '.type':
                continue
            if value is None:
                target.pop(option, None)
            else:
                target[option] = list(value) if isinstance(value, list) else [value]
    return after


def dns_option(servers):
    return '6,' + ','.join(servers)


def _dhcp_items(values):
    """dhcp_option values as OpenWrt's dnsmasq init hands them to dnsmasq.

    An old-style `option dhcp_option '3,a 6,b'` is split at white space (one dhcp-option line per
    word); `uci show` prints it like a one-item list. A list item with white space becomes one broken
    line (dnsmasq refuses to start), so splitting it is the repair. Either way: one item per word.
    """
    items = []
    for value in values:
        items.extend(value.split())
    return items


def _dhcp_record_name(section):
    return 'natloop_dns_' + section


def dhcp_dns_desired(sections, section, servers, state, ipv6=None, forward=None):
    """Desired dhcp_option list of a dhcp section and the record of what it replaced.

    present: the option 6 entries are replaced by one entry (at the first one's position), every
    other entry keeps value and position. The entries it replaced are recorded once, in a section
    natloop_dns_SECTION of type natloop_dhcp_dns (list before; no list = there was none), so that
    absent can hand out again what was handed out before. absent: restores the recorded entries and
    deletes the record; without a record it changes nothing.
    Returns (desired, warnings).
    """
    if sections.get(section, {}).get('.type') != 'dhcp':
        raise UciError('dhcp.%s is not a "dhcp" section' % section)
    current = sections[section].get('dhcp_option', [])
    items = _dhcp_items(current)
    before = [item for item in items if _DNS_OPTION_RE.match(item)]
    record_name = _dhcp_record_name(section)
    record = sections.get(record_name)
    if record is not None and record.get('.type') != DHCP_DNS_RECORD_TYPE:
        raise UciError('dhcp.%s exists but is a %r section, not the record natloop.lan keeps there; rename it'
                       % (record_name, record.get('.type')))
    warnings = []
    desired = {}
    if state == 'present':
        replacement = [dns_option(servers)]
    elif record is not None:
        replacement = record.get('before', [])
        desired[record_name] = None
    else:
        if before and servers and dns_option(servers) in before:
            warnings.append('dhcp.%s hands out %s, but there is no record (dhcp.%s) that natloop.lan set it, so '
                            'state=absent leaves it; remove it with uci if it is ours'
                            % (section, dns_option(servers), record_name))
        return {}, warnings
    wanted = []
    placed = False
    for item in items:
        if not _DNS_OPTION_RE.match(item):
            wanted.append(item)
        elif not placed:
            # Keep the position of the entry it replaces: the diff then shows one line changed.
            wanted.extend(replacement)
            placed = True
    if not placed:
        wanted.extend(replacement)
    record_changes = {}
    if wanted != current:
        desired[section] = {'dhcp_option': wanted or None}
        if state == 'present' and record is None and before != replacement:
            record_changes['before'] = before or None
    extra = {}
    if ipv6 is not None:
        extra.update(_dhcp_dns6_changes(sections[section], ipv6['servers'], state, record or {}, record_changes))
    if forward is not None:
        for name, options in _forward_changes(sections, forward, state, record or {}, record_changes).items():
            desired.setdefault(name, {}).update(options)
    if extra:
        desired.setdefault(section, {}).update(extra)
    if state == 'present' and record_changes:
        if record is None:
            # The option 6 entries of now are what absent restores, also when only IPv6 changed.
            record_changes.setdefault('before', before or None)
            record_changes = dict({'.type': DHCP_DNS_RECORD_TYPE, 'section': section}, **record_changes)
        desired[record_name] = record_changes
    return desired, warnings


def _is_ipv6(value):
    return ':' in value


def _dhcp_dns6_changes(options, servers, state, record, record_changes):
    """The options of a dhcp section that set its IPv6 DNS adverts (RA RDNSS and DHCPv6 option 23).

    OpenWrt's odhcpd (RA and DHCPv6 on a default install) advertises the IPv6 addresses of the
    section's `dns` list, or, when it has none and `dns_service` is on (the default), the router's
    own address (openwrt/odhcpd src/router.c RDNSS and src/dhcpv6.c, odhcpd_get_interface_dns_addr6
    in src/odhcpd.c). OpenWrt's dnsmasq init, where dnsmasq does RA, writes
    option6:dns-server from the same `dns` list (package/network/services/dnsmasq/files/dnsmasq.init).
    present: `dns` = its IPv4 entries (odhcpd's DHCPv4, kept) + servers; no servers: `dns_service` 0
    and no IPv6 entry. The options changed and their values before are recorded once
    (`ipv6_changed`, `dns_before`, `dns_service_before`); absent puts them back.
    """
    changes = {}
    changed = list(record.get('ipv6_changed', []))
    if state == 'present':
        current = options.get('dns')
        wanted = [item for item in (current or []) if not _is_ipv6(item)] + list(servers)
        if wanted != (current or []):
            changes['dns'] = wanted or None
        if not servers and _bool(options, 'dns_service', True):
            changes['dns_service'] = '0'
        for option in ('dns', 'dns_service'):
            if option in changes and option not in changed:
                changed.append(option)
                have = options.get(option)
                if option == 'dns':
                    record_changes['dns_before'] = list(have) if have else None
                else:
                    record_changes['dns_service_before'] = have[0] if have else None
        if changed != list(record.get('ipv6_changed', [])):
            record_changes['ipv6_changed'] = changed
        return changes
    for option in changed:
        before = record.get(option + '_before')
        if option == 'dns':
            changes['dns'] = list(before) if before else None
        elif option == 'dns_service':
            changes['dns_service'] = before[0] if before else None
    return changes


def _forward_changes(sections, forward, state, record, record_changes):
    """`server` entries (/name/address) and `rebind_domain` entries of the first dnsmasq section.

    OpenWrt's dnsmasq init turns `list server` into --server and, while rebind_protection is on
    (the default), `list rebind_domain` into --rebind-domain-ok (dnsmasq.init, dnsmasq_start).
    present: adds the entries that are missing and records each added value (`server_added`,
    `rebind_domain_added`); absent removes exactly the recorded values again.
    """
    wanted = {'server': [], 'rebind_domain': []}
    if state == 'present':
        wanted['server'] = ['/%s/%s' % (domain, forward['server']) for domain in forward['domains']]
        if forward.get('rebind_exceptions'):
            wanted['rebind_domain'] = list(forward['domains'])
    desired = {}
    for option in ('server', 'rebind_domain'):
        added = list(record.get(option + '_added', []))
        for name, options in sections.items():
            if options.get('.type') != 'dnsmasq':
                continue
            current = list(options.get(option, []))
            if state == 'present':
                new = current + [value for value in wanted[option] if value not in current]
                added += [value for value in wanted[option] if value not in current and value not in added]
            else:
                new = [value for value in current if value not in added]
            if new != current:
                desired.setdefault(name, {})[option] = new or None
            break  # OpenWrt's @dnsmasq[0]: the instance that serves the LAN on a default install
        if state == 'present' and added != list(record.get(option + '_added', [])):
            record_changes[option + '_added'] = added
    return desired


def _port_ranges(values):
    """['80 443', '1000-1010'] / ['1000:1010'] -> [(80, 80), (443, 443), (1000, 1010)]; None = all."""
    if not values:
        return None
    ranges = []
    for part in re.split(r'[\s,]+', ' '.join(values).strip()):
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


def _protocols(values):
    """All protocols of a redirect: LuCI saves TCP+UDP as `list proto 'tcp'` / `list proto 'udp'`."""
    if not values:
        return set(['tcp', 'udp'])  # fw3/fw4 default for redirects
    protocols = set()
    for proto in ' '.join(values).lower().split():
        if proto in ('tcpudp', 'all', 'any'):
            protocols.update(['tcp', 'udp'])
        else:
            protocols.add(proto)
    return protocols


def _first(options, name):
    values = options.get(name)
    return values[0] if values else None


def _bool(options, name, default):
    value = _first(options, name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    return default


def _is_dnat_redirect(options):
    return (options.get('.type') == 'redirect'
            and (_first(options, 'target') or 'dnat').lower() == 'dnat'
            and _bool(options, 'enabled', True))


def matching_redirects(sections, services):
    """Redirect (port forward) sections that DNAT to one of the services' ports.

    services: [{'name', 'ip', 'ports': [{'proto', 'start', 'end'}]}]. A redirect matches when it is
    enabled, its dest_ip is the service's address and protocols and port ranges overlap (every value
    of list options counts; a redirect without ports forwards all ports). Returns (section names,
    names of services without a redirect).
    """
    matched = []
    unmatched = []
    for service in services:
        found = False
        for name, options in sections.items():
            if not _is_dnat_redirect(options) or _first(options, 'dest_ip') != service['ip']:
                continue
            ports = _port_ranges(options.get('dest_port') or options.get('src_dport'))
            protocols = _protocols(options.get('proto'))
            for port in service['ports']:
                if port['proto'] in protocols and _overlaps(ports, [(port['start'], port['end'])]):
                    found = True
                    if name not in matched:
                        matched.append(name)
                    break
        if not found:
            unmatched.append(service['name'])
    return matched, unmatched


def redirect_fingerprint(options):
    """Identity of a port forward that survives sections being added or removed before it (which
    changes its -X name) and the role's own reflection options."""
    identity = dict((key, value) for key, value in options.items()
                    if key not in REFLECTION_OPTIONS and not key.startswith('.'))
    text = json.dumps(identity, sort_keys=True)
    return 'natloop_' + hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]


def _reflection_changes(options, reflection_src):
    """Options to set on a redirect so that firewall4 reflects it to its own LAN zone: none where
    it does already (firewall4 defaults: reflection 1, reflection_src internal, reflection_zone =
    the forward's dest zone)."""
    changes = {}
    if not _bool(options, 'reflection', True):
        changes['reflection'] = '1'
    if (_first(options, 'reflection_src') or 'internal') != reflection_src:
        changes['reflection_src'] = reflection_src
    zones = options.get('reflection_zone')
    dest = _first(options, 'dest')
    if zones and dest and dest not in zones:
        changes['reflection_zone'] = list(zones) + [dest]
    return changes


def _redirect_label(name, options):
    return '%s (%s)' % (name, _first(options, 'name')) if _first(options, 'name') else name


def reflection_desired(sections, redirects, state, reflection_src='internal'):
    """Desired reflection options of the given redirects, and records of what was there before.

    present: on each redirect only the options that keep firewall4 from reflecting it to its LAN
    zone are changed (none where it reflects already), and their previous values are recorded in a
    section of type natloop_hairpin named after the redirect's fingerprint (option changed: the
    options the role set; OPTION_before: the value before, absent = was not set).
    absent: every record is undone on the redirect it belongs to and deleted; redirects without a
    record are never touched, so reflection the role did not enable stays as it was.
    Returns (desired, warnings).
    """
    desired = {}
    warnings = []
    records = dict((name, options) for name, options in sections.items() if options.get('.type') == HAIRPIN_RECORD_TYPE)
    if state == 'present':
        for name in redirects:
            options = sections[name]
            changes = _reflection_changes(options, reflection_src)
            if not changes:
                continue
            record_name = redirect_fingerprint(options)
            record = records.get(record_name, {})
            changed = list(record.get('changed', []))
            wanted_record = {'.type': HAIRPIN_RECORD_TYPE, 'redirect': _redirect_label(name, options)}
            for option in REFLECTION_OPTIONS:
                if option in changes and option not in changed:
                    changed.append(option)
                    have = options.get(option)
                    if option == 'reflection_zone':
                        wanted_record[option + '_before'] = list(have) if have else None
                    else:
                        wanted_record[option + '_before'] = have[0] if have else None
            wanted_record['changed'] = changed
            desired[name] = changes
            desired[record_name] = wanted_record
        return desired, warnings
    by_fingerprint = dict((redirect_fingerprint(options), name) for name, options in sections.items()
                          if options.get('.type') == 'redirect')
    for record_name, record in records.items():
        desired[record_name] = None
        name = by_fingerprint.get(record_name)
        if name is None:
            warnings.append('firewall.%s records reflection options set by natloop.lan on the port forward %s, '
                            'which no longer exists as it was (edited or deleted): only the record is removed'
                            % (record_name, _first(record, 'redirect')))
            continue
        restore = {}
        for option in record.get('changed', []):
            if option not in REFLECTION_OPTIONS:
                continue
            before = record.get(option + '_before')
            if option == 'reflection_zone':
                restore[option] = list(before) if before else None
            else:
                restore[option] = before[0] if before else None
        desired[name] = restore
    return desired, warnings
