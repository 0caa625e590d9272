# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AdGuard Home legacy rewrites and blocking rules (stand-in for tests, NOT the real
AdGuard Home).

Mirrors AGH internal/filtering/rewrites.go (normalize, findRewrites, processRewrites)
and golibs netutil.ValidateDomainName as of v0.107.79 (CONTRACTS.md A2, D).
"""

import ipaddress

import dns.rdatatype

A, AAAA, CNAME = dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.CNAME

#: Every enabled filter list is emulated as blocking this name and its subdomains
#: (the stand-in never downloads lists).
DEMO_BLOCKED_DOMAIN = "ads.natloop.test"

MAX_DOMAIN_NAME_LEN = 253
MAX_LABEL_LEN = 63


def _outer_rune_ok(char):
    return char.isascii() and char.isalnum()


def _label_error(label):
    if label == "":
        return "label is empty"
    if len(label) > MAX_LABEL_LEN:
        return "label is too long: got %d, max %d" % (len(label), MAX_LABEL_LEN)
    bad = None
    if not _outer_rune_ok(label[0]):
        bad = label[0]
    elif len(label) > 1:
        bad = next((c for c in label[1:-1] if not (_outer_rune_ok(c) or c == "-")), None)
        if bad is None and not _outer_rune_ok(label[-1]):
            bad = label[-1]
    if bad is not None:
        return "bad domain name label rune %s" % ("'%s'" % bad if bad != "'" else "'\\''")
    return None


def validate_domain_name(name):
    """golibs ``netutil.ValidateDomainName``: None if valid, else Go's error text."""
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError as exc:
        return 'bad domain name "%s": idna: %s' % (name, exc)
    if ascii_name == "":
        return 'bad domain name "%s": address is empty' % name
    if len(ascii_name) > MAX_DOMAIN_NAME_LEN:
        return 'bad domain name "%s": domain name is too long: got %d, max %d' % (
            name, len(ascii_name), MAX_DOMAIN_NAME_LEN)
    for label in ascii_name.split("."):
        error = _label_error(label)
        if error:
            return 'bad domain name "%s": bad domain name label "%s": %s' % (name, label, error)
    return None


def answer_kind(answer):
    """``(rdtype, ip)`` of a rewrite answer: literal A/AAAA keep upstream, IPs, else CNAME."""
    if answer == "AAAA":
        return AAAA, None
    if answer == "A":
        return A, None
    try:
        address = ipaddress.ip_address(answer)
    except ValueError:
        return CNAME, None
    return (A if address.version == 4 else AAAA), str(address)


def normalize(domain, answer, validate_cname):
    """Normalised ``(domain, error)``: the domain is lower-cased; CNAME targets are
    validated only by versions that do (v0.107.79)."""
    if validate_cname and answer_kind(answer)[0] == CNAME:
        error = validate_domain_name(answer)
        if error:
            return None, 'invalid CNAME target "%s": %s' % (answer, error)
    return domain.lower(), None


def is_wildcard(pattern):
    return len(pattern) > 1 and pattern[0] == "*" and pattern[1] == "."


def _matches_wildcard(host, pattern):
    return is_wildcard(pattern) and host.endswith(pattern[1:])


def _matches_qtype(kind, ip, qtype):
    if kind == CNAME:
        return True
    if qtype not in (A, AAAA):
        return False
    return kind == qtype or ip is None


def find_rewrites(entries, host, qtype):
    """``(rewrites, matched)``: CNAMEs first, exact before wildcard, longest wildcard only."""
    found, matched = [], False
    for entry in entries:
        if not entry.get("enabled", True):
            continue
        domain = entry["domain"]
        if domain != host and not _matches_wildcard(host, domain):
            continue
        matched = True
        kind, ip = answer_kind(entry["answer"])
        if _matches_qtype(kind, ip, qtype):
            found.append((kind, ip, entry))
    if not found:
        return [], matched
    found.sort(key=lambda item: (item[0] != CNAME, is_wildcard(item[2]["domain"]), -len(item[2]["domain"])))
    for index, item in enumerate(found):
        if is_wildcard(item[2]["domain"]):
            found = found[:max(1, index)]
            break
    return found, matched


class RewriteResult:
    """A rewritten answer: optional canonical name plus the IPs of the query type."""

    def __init__(self):
        self.canonical_name = None
        self.ips = []


def process_rewrites(entries, host, qtype):
    """RewriteResult, or None when the query is not rewritten (goes on to filtering)."""
    rewrites, matched = find_rewrites(entries, host, qtype)
    if not matched:
        return None
    result = RewriteResult()
    original, seen = host, set()
    while matched and rewrites and rewrites[0][0] == CNAME:
        entry = rewrites[0][2]
        pattern, target = entry["domain"], entry["answer"]
        if original == target or pattern == target:
            return None
        if host == target and is_wildcard(pattern):
            result.canonical_name = host
            break
        host = target
        if host in seen:
            return result
        seen.add(host)
        result.canonical_name = host
        rewrites, matched = find_rewrites(entries, host, qtype)
    for kind, ip, _entry in rewrites:
        if kind == qtype and qtype in (A, AAAA):
            if ip is None:
                return None
            result.ips.append(ip)
    return result


class RuleSet:
    """The few adblock rule forms the stand-in understands.

    ``||name^`` blocks name and subdomains, ``@@||name^`` allows them, ``IP name`` (hosts
    syntax) and a bare ``name`` block the name and its subdomains; ``!``/``#`` comments.
    ``||name^$dnsrewrite=NXDOMAIN;;`` (the form of AGH's blocked-service list,
    internal/filtering/servicelist.go) answers name and subdomains with NXDOMAIN.
    """

    def __init__(self, lines):
        self.block, self.allow, self.nxdomain = set(), set(), set()
        for raw in lines:
            line = raw.strip()
            if not line or line[0] in "!#":
                continue
            target = self.block
            if line.startswith("@@"):
                target, line = self.allow, line[2:]
            if line.startswith("||"):
                line = line[2:]
            modifiers = line.split("$", 1)[1] if "$" in line else ""
            if modifiers.lower().replace(";", "") == "dnsrewrite=nxdomain" and target is self.block:
                target = self.nxdomain
            line = line.split("$", 1)[0].rstrip("^").strip()
            parts = line.split()
            if len(parts) >= 2:
                try:
                    ipaddress.ip_address(parts[0])
                    parts = parts[1:]
                except ValueError:
                    continue
            for name in parts:
                target.add(name.lower().rstrip("."))

    @staticmethod
    def _hit(names, host):
        labels = host.split(".")
        return any(".".join(labels[i:]) in names for i in range(len(labels)))

    def dnsrewrite_nxdomain(self, host):
        return self._hit(self.nxdomain, host)

    def verdict(self, host):
        """'allow', 'block' or None."""
        if self._hit(self.allow, host):
            return "allow"
        if self._hit(self.block, host):
            return "block"
        return None
