# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pi-hole v6 configuration items (stand-in for tests, NOT the real Pi-hole).

The subset of FTL's config tree the stand-in knows, with FTL's validators
(src/config/validator.c), JSON value checks (src/api/config.c ``getJSONvalue``),
``FTLCONF_*`` environment handling (docker-pi-hole, CONTRACTS.md B7) and the
pihole.toml writer/reader (B5).
"""

import copy
import re
import socket
import time
import tomllib

FTL_VERSION = "v6.4.1"

STRING_ARRAY, BOOL, UINT, UINT16, STRING, ENUM, PASSWORD = (
    "string array", "boolean", "unsigned integer", "unsigned integer (16 bit)", "string", "enum (string)",
    "password (write-only string)")
PASSWORD_PLACEHOLDER = "********"
DNSMASQ_TEMP_CONF = "/etc/pihole/dnsmasq.conf.temp"
DNSMASQ_FIRST_CNAME_LINE = 61


class Item:
    """One config item: dotted key, type, default and FTL's flags."""

    def __init__(self, key, kind, default, description, restart=False, write_only=False, toml_only=False,
                 invalidates_sessions=False, validator=None, allowed=None):
        self.key = key
        self.path = key.split(".")
        self.kind = kind
        self.default = default
        self.description = description
        self.restart = restart
        self.write_only = write_only
        self.toml_only = toml_only
        self.invalidates_sessions = invalidates_sessions
        self.validator = validator
        self.allowed = allowed

    @property
    def env_name(self):
        return "FTLCONF_" + self.key.replace(".", "_")


# -- validators (FTL src/config/validator.c) ----------------------------------------------
def valid_domain(name):
    """FTL ``valid_domain(domain, len, fqdn_only=false)``."""
    if not name or len(name) > 255:
        return False
    last_dot = -1
    for index, char in enumerate(name):
        if not (char in "-._" or ("a" <= char <= "z") or ("A" <= char <= "Z") or ("0" <= char <= "9")):
            return False
        if char == ".":
            if index - last_dot == 1 or index - last_dot > 64:
                return False
            last_dot = index
    tld_start = name[last_dot + 1] if last_dot + 1 < len(name) else ""
    return tld_start != "-" and name[-1] != "-"


def _valid_ip(text):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
            return True
        except (OSError, ValueError):
            continue
    return False


def validate_hosts(values, key):
    """``validate_dns_hosts``: every entry is ``IP HOST [HOST...]``."""
    for index, item in enumerate(values):
        where = "%s[%d]" % (key, index)
        if not isinstance(item, str):
            return "%s: not a string" % where
        if "\n" in item or "\r" in item:
            return "%s: contains newline characters" % where
        text = item.lstrip(" \t\n\v\f\r")
        match = re.match(r"([^ \t]*)([ \t](.*))?\Z", text, re.S)
        ip, rest = match.group(1), match.group(3)
        if not ip:
            return '%s: found no first element ("%s")' % (where, item)
        if not _valid_ip(ip):
            return '%s: neither a valid IPv4 nor IPv6 address ("%s")' % (where, ip)
        hosts = 0
        for host in re.split(r"[ \t]", rest.lstrip(" \t\n\v\f\r")) if rest is not None else []:
            host = host.lstrip(" \t\n\v\f\r")
            if not host:
                continue
            if host[0] == "#":
                break
            if not valid_domain(host):
                return '%s: invalid hostname ("%s")' % (where, host)
            hosts += 1
        if hosts < 1:
            return '%s: entry does not have at least one hostname ("%s")' % (where, item)
    return None


def validate_cnames(values, key):
    """``validate_dns_cnames``: ``cname[,cname...],target[,ttl]`` with no empty parts."""
    for index, item in enumerate(values):
        where = "%s[%d]" % (key, index)
        if not isinstance(item, str):
            return "%s: not a string" % where
        parts = item.split(",")
        for position, part in enumerate(parts):
            if part == "":
                return "%s: contains an empty string at position %d" % (where, position)
        if len(parts) < 2:
            return "%s: not a valid CNAME definition (too few elements)" % where
        if "\n" in item or "\r" in item:
            return "%s: contains newline characters" % where
    return None


def split_cname(record):
    """``(aliases, target, ttl)`` of a cnameRecords entry, as dnsmasq reads ``cname=``."""
    parts = record.split(",")
    ttl = None
    if len(parts) >= 3 and parts[-1].strip().isdigit():
        ttl = int(parts[-1])
        parts = parts[:-1]
    return [part.strip() for part in parts[:-1]], parts[-1].strip(), ttl


#: dnsmasq options the stand-in accepts in misc.dnsmasq_lines (only local= and address-less
#: server= change its answers; the others are stored and otherwise ignored).
DNSMASQ_OPTIONS = {
    "local", "server", "address", "cname", "host-record", "txt-record", "ptr-record", "srv-host", "mx-host",
    "domain", "expand-hosts", "domain-needed", "bogus-priv", "no-resolv", "no-hosts", "addn-hosts", "log-queries",
    "cache-size", "local-ttl", "neg-ttl", "max-ttl", "min-cache-ttl", "rebind-domain-ok", "stop-dns-rebind",
    "dhcp-option", "dhcp-host", "dhcp-range", "interface", "listen-address", "bind-interfaces", "strict-order",
    "all-servers", "filterwin2k", "rev-server", "conf-file", "edns-packet-max", "dns-forward-max",
}
DNSMASQ_FIRST_LINES_LINE = 135


def local_domains(lines):
    """Domains that ``local=/d/`` or an address-less ``server=/d/`` in misc.dnsmasq_lines make local-only."""
    found = []
    for line in lines:
        option, _sep, value = line.strip().partition("=")
        if option.strip() not in ("local", "server") or not value.startswith("/"):
            continue
        parts = value.split("/")
        if parts[-1].strip():
            continue  # server=/d/1.2.3.4 forwards, it does not make d local
        found.extend(part.strip().lower().rstrip(".") for part in parts[1:-1] if part.strip())
    return found


def forwarded_below(lines):
    """Domains d of ``server=/*.d/#`` lines: the names strictly below d go to the usual upstreams again, even
    under a ``local=/d/`` (dnsmasq's more specific match; measured on the real FTL v6.4.1, R10)."""
    found = []
    for line in lines:
        option, _sep, value = line.strip().partition("=")
        if option.strip() != "server" or not value.startswith("/"):
            continue
        parts = value.split("/")
        if parts[-1].strip() != "#":
            continue
        found.extend(part.strip()[2:].lower().rstrip(".") for part in parts[1:-1] if part.strip().startswith("*."))
    return found


def dnsmasq_test(values):
    """What ``dnsmasq --test`` would say about the generated config, None if it is fine.

    Checks cnameRecords (bad names, duplicate aliases) and misc.dnsmasq_lines (unknown
    options). The texts are the real FTL v6.4.1's (checked through run-isolated), with a
    line number that means nothing here."""
    seen = set()
    for offset, record in enumerate(values["dns.cnameRecords"]):
        line = DNSMASQ_FIRST_CNAME_LINE + offset
        aliases, target, _ttl = split_cname(record)
        where = '%s: "cname=%s"' % (DNSMASQ_TEMP_CONF, record)
        for name in aliases + [target]:
            if not valid_domain(name):
                return "dnsmasq: bad CNAME at line %d of %s" % (line, where)
        for alias in aliases:
            if alias.lower() in seen:
                return "dnsmasq: duplicate CNAME at line %d of %s" % (line, where)
            seen.add(alias.lower())
    for offset, text in enumerate(values.get("misc.dnsmasq_lines", [])):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        option = stripped.partition("=")[0].strip()
        if option not in DNSMASQ_OPTIONS:
            # sic: the real FTL cuts the first letter of dnsmasq's "bad option" message.
            return 'ad option at line %d of %s: "%s"' % (DNSMASQ_FIRST_LINES_LINE + offset, DNSMASQ_TEMP_CONF, text)
    return None


ITEMS = [
    Item("dns.upstreams", STRING_ARRAY, [], "Array of upstream DNS servers used by Pi-hole", restart=True),
    Item("dns.hosts", STRING_ARRAY, [], "Array of custom DNS records (IP HOSTNAME [HOSTNAME...])",
         validator=validate_hosts),
    Item("dns.domainNeeded", BOOL, False, "Never forward non-FQDN A and AAAA queries", restart=True),
    Item("dns.expandHosts", BOOL, False, "Add the domain to simple names in the hosts file", restart=True),
    Item("dns.bogusPriv", BOOL, True, "Never forward reverse lookups for private IP ranges", restart=True),
    Item("dns.dnssec", BOOL, False, "Validate DNS replies using DNSSEC", restart=True),
    Item("dns.listeningMode", ENUM, "LOCAL", "Interfaces and clients Pi-hole answers", restart=True,
         allowed=["LOCAL", "SINGLE", "BIND", "ALL", "NONE"]),
    Item("dns.queryLogging", BOOL, True, "Log DNS queries and replies"),
    Item("dns.cnameRecords", STRING_ARRAY, [], "List of CNAME records (cname[,cname],target[,ttl])",
         restart=True, validator=validate_cnames),
    Item("dns.port", UINT16, 53, "Port used by the DNS server", restart=True),
    Item("dns.blockTTL", UINT, 2, "TTL of blocked replies"),
    Item("dns.blocking.active", BOOL, True, "Should FTL block queries?"),
    Item("dns.blocking.mode", ENUM, "NULL", "How FTL replies to blocked queries",
         allowed=["NULL", "IP_NODATA_AAAA", "IP", "NX", "NODATA"]),
    Item("dns.specialDomains.mozillaCanary", BOOL, True, "Answer use-application-dns.net with NXDOMAIN"),
    Item("dns.specialDomains.iCloudPrivateRelay", BOOL, True,
         "Answer mask.icloud.com and mask-h2.icloud.com with NXDOMAIN"),
    Item("dns.specialDomains.designatedResolver", BOOL, True, "Answer _dns.resolver.arpa SVCB with NODATA"),
    Item("webserver.port", STRING, "80o,443os,[::]:80o,[::]:443os", "Ports of the web server", restart=True),
    Item("webserver.session.timeout", UINT, 1800, "Session timeout in seconds"),
    Item("webserver.api.max_sessions", UINT16, 16, "Number of concurrent API sessions", restart=True),
    Item("webserver.api.pwhash", STRING, "", "Hash of the web interface password", write_only=True,
         invalidates_sessions=True),
    Item("webserver.api.password", PASSWORD, "", "Web interface password (write-only)", write_only=True,
         invalidates_sessions=True),
    Item("webserver.api.totp_secret", STRING, "", "TOTP secret for two-factor authentication", write_only=True,
         invalidates_sessions=True),
    Item("webserver.api.app_pwhash", STRING, "", "Hash of the application password", write_only=True,
         invalidates_sessions=True),
    Item("webserver.api.app_sudo", BOOL, False, "May application password sessions change the config?"),
    Item("misc.readOnly", BOOL, False, "Put the configuration into read-only mode", toml_only=True),
    Item("misc.dnsmasq_lines", STRING_ARRAY, [], "Additional lines for the generated dnsmasq config",
         restart=True),
    Item("misc.etc_dnsmasq_d", BOOL, False, "Load additional dnsmasq config from /etc/dnsmasq.d/", restart=True),
]
ITEMS_BY_KEY = {item.key: item for item in ITEMS}


def defaults():
    return {item.key: copy.deepcopy(item.default) for item in ITEMS}


# -- JSON values (getJSONvalue) -------------------------------------------------------------
def json_value(item, value):
    """``(converted, None)`` or ``(None, reason)`` for a JSON value sent to PATCH /api/config."""
    if item.kind == BOOL:
        return (value, None) if isinstance(value, bool) else (None, "not of type bool")
    if item.kind in (UINT, UINT16):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
            return None, "not of type unsigned integer"
        if item.kind == UINT16 and value > 65535:
            return None, "not within valid range"
        return int(value), None
    if item.kind in (STRING, PASSWORD):
        return (value, None) if isinstance(value, str) else (None, "not of type string")
    if item.kind == ENUM:
        if not isinstance(value, str):
            return None, "not of type string"
        return (value, None) if value in item.allowed else (None, "invalid option")
    if item.kind == STRING_ARRAY:
        if not isinstance(value, list):
            return None, "not of type array"
        if not all(isinstance(element, str) for element in value):
            return None, "array has invalid elements"
        return list(value), None
    raise ValueError(item.kind)


# -- environment (FTLCONF_*) ----------------------------------------------------------------
def env_value(item, text):
    """Parse an ``FTLCONF_`` value; ``(value, None)`` or ``(None, reason)``."""
    if item.kind == BOOL:
        if text.strip().lower() in ("true", "false"):
            return text.strip().lower() == "true", None
        return None, "not of type bool"
    if item.kind in (UINT, UINT16):
        try:
            number = int(text.strip())
        except ValueError:
            return None, "not of type unsigned integer"
        return json_value(item, number)
    if item.kind == ENUM:
        for allowed in item.allowed:
            if allowed.lower() == text.strip().lower():
                return allowed, None
        return None, "invalid option"
    if item.kind == STRING_ARRAY:
        return [part.strip() for part in text.split(";") if part.strip()], None
    return text, None


def lookup_env(env, name):
    """Value of ``name`` in ``env``, matching the variable name case-insensitively."""
    if name in env:
        return env[name]
    lowered = name.lower()
    for key, value in env.items():
        if key.lower() == lowered:
            return value
    return None


# -- pihole.toml ----------------------------------------------------------------------------
def _toml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return '"%s"' % escaped


def _toml_value(value, indent):
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = ",\n".join("%s  %s" % (indent, _toml_scalar(element)) for element in value)
        return "[\n%s\n%s]" % (inner, indent)
    return _toml_scalar(value)


def render_toml(values, env_forced, now=None):
    """pihole.toml text; changed items carry ``### CHANGED, default = ...`` (B5)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(now))
    lines = [
        "# Pi-hole configuration file (%s)" % FTL_VERSION,
        "# Encoding: UTF-8",
        "# This file is managed by pihole-FTL",
        "# Written by the natloop stand-in (natloop_standins.pihole), NOT the real Pi-hole",
        "# Last updated on %s" % stamp,
        "",
    ]
    tables = []
    for item in ITEMS:
        if item.kind == PASSWORD:
            continue
        table = tuple(item.path[:-1])
        if table not in tables:
            tables.append(table)
    for table in tables:
        depth = len(table) - 1
        lines.append("%s[%s]" % ("  " * depth, ".".join(table)))
        indent = "  " * (depth + 1)
        for item in ITEMS:
            if tuple(item.path[:-1]) != table or item.kind == PASSWORD:
                continue
            value = values[item.key]
            lines.append("%s# %s" % (indent, item.description))
            line = "%s%s = %s" % (indent, item.path[-1], _toml_value(value, indent))
            if item.key in env_forced:
                line += " ### CHANGED (env), default = %s" % _toml_value(item.default, "").replace("\n", "")
            elif value != item.default:
                line += " ### CHANGED, default = %s" % _toml_value(item.default, "").replace("\n", "")
            lines.append(line)
            lines.append("")
    return "\n".join(lines)


def parse_toml(text):
    """``(values, warnings)`` from pihole.toml text: unknown or invalid items fall back to defaults."""
    values, warnings = defaults(), []
    data = tomllib.loads(text)
    for item in ITEMS:
        node = data
        for part in item.path:
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        if node is None or item.kind == PASSWORD:
            continue
        value, reason = json_value(item, node)
        if reason:
            warnings.append("%s: %s, using default" % (item.key, reason))
            continue
        values[item.key] = value
    return values, warnings


def render_custom_list(hosts, now=None):
    """/etc/pihole/hosts/custom.list as FTL writes it from dns.hosts."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(now))
    lines = ["# This file is managed by pihole-FTL (natloop stand-in, NOT the real Pi-hole)",
             "# Last updated on %s" % stamp]
    lines.extend(hosts)
    lines.append("# There are %d entries in this file" % len(hosts))
    return "\n".join(lines) + "\n"


# -- /api/config tree helpers ----------------------------------------------------------------
def config_path(text):
    """FTL ``gen_config_path``: split on '/', empty components dropped."""
    return [part for part in text.split("/") if part]


def paths_equal(first, second, max_level):
    """FTL ``check_paths_equal``: compare components 0..max_level."""
    for index in range(max(len(first), len(second)) + 1):
        a = first[index] if index < len(first) else None
        b = second[index] if index < len(second) else None
        if index > 0 and a is None and b is None:
            return True
        if a is None or b is None or a != b:
            return False
        if index == max_level:
            return True
    return True


def public_value(item, value):
    return PASSWORD_PLACEHOLDER if item.write_only else copy.deepcopy(value)


def config_tree(values, env_forced, requested, detailed=False):
    """The ``config`` object of GET /api/config[/requested...]."""
    root = {}
    min_level = len(requested)
    for item in ITEMS:
        level = len(item.path)
        if min_level:
            if min_level > level and item.kind != STRING_ARRAY:
                continue
            if min_level > level + 1 and item.kind == STRING_ARRAY:
                continue
            if not paths_equal(item.path, requested, min_level - 1):
                continue
        parent = root
        for part in item.path[:-1]:
            parent = parent.setdefault(part, {})
        value = public_value(item, values.get(item.key, item.default))
        if detailed:
            value = {
                "description": item.description,
                "allowed": item.allowed,
                "type": item.kind,
                "value": value,
                "default": public_value(item, item.default),
                "modified": values.get(item.key) != item.default,
                "flags": {"restart_dnsmasq": item.restart, "session_reset": item.invalidates_sessions,
                          "env_var": item.key in env_forced},
            }
        parent[item.path[-1]] = value
    return root
