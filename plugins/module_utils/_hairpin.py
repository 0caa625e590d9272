# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to natloop.lan: does a router's own port forward catch LAN clients' connections to the
public address? Used by natloop.lan.hairpin_nat_plan; not a public API.

The router's forwards are read as they are written (``nft -j list ruleset``, ``iptables-save -t nat``
of iptables-legacy or iptables-nft, RouterOS ``/ip/firewall/nat``) and reduced to one model:
a rule is a list of conditions plus an action (dnat to an address, or jump/goto a chain). Each
forward to a service's LAN address is then asked one question: would a packet from the LAN,
arriving on a LAN interface, addressed to the public address, on the service's protocol and ports,
match it? Where every port is covered by a forward that says yes, nothing is needed; otherwise the
role adds its own LAN-side DNAT for the ports that are not covered.

A condition that cannot be judged (an unknown match) makes the rule count as not matching, with a
note: adding a second DNAT for traffic a user rule would also catch is harmless, because the first
nat chain that DNATs a new connection wins and later nat chains at the same hook are skipped.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import ipaddress
import shlex

MATCH = 'match'
NOMATCH = 'nomatch'
UNKNOWN = 'unknown'

# Conditions: dicts with 'kind' in iif, saddr, daddr, daddr_local, proto, dport, neutral, unknown,
# 'neg' (bool), and kind-specific values. Intervals of ports are [(low, high)] inclusive.


def _intervals(pairs):
    merged = []
    for low, high in sorted(pairs):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _intersect(a, b):
    out = []
    for low1, high1 in a:
        for low2, high2 in b:
            low, high = max(low1, low2), min(high1, high2)
            if low <= high:
                out.append((low, high))
    return _intervals(out)


def _subtract(a, b):
    out = []
    for low, high in a:
        pieces = [(low, high)]
        for blow, bhigh in b:
            nxt = []
            for plow, phigh in pieces:
                if bhigh < plow or blow > phigh:
                    nxt.append((plow, phigh))
                    continue
                if plow < blow:
                    nxt.append((plow, blow - 1))
                if bhigh < phigh:
                    nxt.append((bhigh + 1, phigh))
            pieces = nxt
        out.extend(pieces)
    return _intervals(out)


ALL_PORTS = [(0, 65535)]


def ports_text(intervals):
    return ['%d' % low if low == high else '%d-%d' % (low, high) for low, high in intervals]


def _networks(values):
    nets = []
    for value in values:
        value = str(value).strip()
        if '-' in value:
            first, last = value.split('-', 1)
            nets.extend(ipaddress.summarize_address_range(ipaddress.ip_address(first.strip()),
                                                          ipaddress.ip_address(last.strip())))
        else:
            nets.append(ipaddress.ip_network(value, strict=False))
    return nets


def _relation(lan, nets):
    """'in' when all of the LAN is inside nets, 'out' when none of it is, else 'partial'."""
    if any(lan.version == net.version and lan.subnet_of(net) for net in nets):
        return 'in'
    if not any(lan.version == net.version and lan.overlaps(net) for net in nets):
        return 'out'
    return 'partial'


class Probe(object):
    """A LAN client's first packet to a service's public address."""

    def __init__(self, lan_cidr, lan_interfaces, public_ip, proto, ports):
        self.lan = ipaddress.ip_network(lan_cidr, strict=False)
        self.lan_interfaces = list(lan_interfaces)
        self.public_ip = ipaddress.ip_address(public_ip) if public_ip else None
        self.proto = proto
        self.ports = ports


def _judge(cond, probe, covered):
    """(verdict, covered ports, why) for one condition."""
    kind, neg = cond['kind'], cond.get('neg', False)
    if kind == 'neutral':
        return MATCH, covered, None
    if kind == 'unknown':
        return UNKNOWN, covered, 'it has a match this check cannot judge (%s)' % cond['text']
    if kind == 'iif':
        if not probe.lan_interfaces:
            return UNKNOWN, covered, 'the LAN interface is unknown'
        hit = any(fnmatch.fnmatchcase(lan_if, pattern) for lan_if in probe.lan_interfaces for pattern in cond['names'])
        if hit != neg:
            return MATCH, covered, None
        return NOMATCH, covered, 'it only matches packets %s interface %s, and LAN clients come in on %s' % (
            'not from' if neg else 'from', ', '.join(cond['names']), ', '.join(probe.lan_interfaces))
    if kind == 'saddr':
        relation = _relation(probe.lan, cond['nets'])
        if relation == 'partial':
            return NOMATCH, covered, 'its source match %s%s covers only part of the LAN' % (
                '!= ' if neg else '', ', '.join(str(n) for n in cond['nets']))
        if (relation == 'in') != neg:
            return MATCH, covered, None
        return NOMATCH, covered, 'its source match %s%s excludes the LAN %s' % (
            '!= ' if neg else '', ', '.join(str(n) for n in cond['nets']), probe.lan)
    if kind == 'daddr':
        if probe.public_ip is None:
            return UNKNOWN, covered, 'the service has no public_ip to compare its destination match with'
        hit = any(probe.public_ip in net for net in cond['nets'] if net.version == probe.public_ip.version)
        if hit != neg:
            return MATCH, covered, None
        return NOMATCH, covered, 'its destination match %s%s does not take the public address %s' % (
            '!= ' if neg else '', ', '.join(str(n) for n in cond['nets']), probe.public_ip)
    if kind == 'daddr_local':
        # The public address is assumed to be the router's own (it does the port forwarding).
        if not neg:
            return MATCH, covered, None
        return NOMATCH, covered, 'it only matches destinations that are not the router\'s own addresses'
    if kind == 'proto':
        hit = cond['proto'] == probe.proto
        if hit != neg:
            return MATCH, covered, None
        return NOMATCH, covered, None
    if kind == 'dport':
        if cond.get('proto') and cond['proto'] != probe.proto:
            return NOMATCH, covered, None
        covered = _subtract(covered, cond['ports']) if neg else _intersect(covered, cond['ports'])
        return (MATCH if covered else NOMATCH), covered, None
    return UNKNOWN, covered, 'unknown condition %r' % kind


def judge_forward(conds, dnat, probe):
    """(verdict, covered ports, reasons) of a DNAT rule (its conditions, including those of the
    jumps that lead to it) for LAN traffic to the public address."""
    covered = list(probe.ports)
    verdict = MATCH
    reasons = []
    for cond in conds:
        result, covered, why = _judge(cond, probe, covered)
        if why:
            reasons.append(why)
        if result == NOMATCH:
            return NOMATCH, [], reasons
        if result == UNKNOWN:
            verdict = UNKNOWN
    if dnat.get('ports'):
        covered = _intersect(covered, dnat['ports'])
    if not covered:
        return NOMATCH, [], reasons
    return verdict, covered, reasons


def _leads_to_service(conds, dnat, service_ip, probe):
    """Is this a forward of the service's protocol and (some of its) ports, whoever it matches?"""
    if dnat.get('addr') != service_ip:
        return False
    covered = list(probe.ports)
    for cond in conds:
        if cond['kind'] == 'proto' and (cond['proto'] == probe.proto) == cond.get('neg', False):
            return False
        if cond['kind'] == 'dport':
            if cond.get('proto') and cond['proto'] != probe.proto:
                return False
            covered = _subtract(covered, cond['ports']) if cond.get('neg') else _intersect(covered, cond['ports'])
    return bool(covered)


def _flatten(chains, bases):
    """Every DNAT rule reachable from the base chains, with the conditions on its way: [(conds, dnat, text)]."""
    out = []

    def walk(chain, conds, depth):
        if depth > 16:
            return
        for rule in chains.get(chain, []):
            action = rule['action']
            here = conds + rule['conds']
            if action.get('kind') == 'dnat':
                out.append((here, action, rule['text']))
            elif action.get('kind') in ('jump', 'goto'):
                walk(action['target'], here, depth + 1)

    for base in bases:
        walk(base, [], 0)
    return out


# --- nftables (nft -j list ruleset) ---------------------------------------------------------------

def _nft_values(right):
    if isinstance(right, dict):
        if 'set' in right:
            values = []
            for item in right['set']:
                values.extend(_nft_values(item))
            return values
        if 'prefix' in right:
            return ['%s/%s' % (right['prefix']['addr'], right['prefix']['len'])]
        if 'range' in right:
            return [tuple(right['range'])]
        raise ValueError(right)
    return [right]


def _nft_ports(right):
    pairs = []
    for value in _nft_values(right):
        if isinstance(value, tuple):
            pairs.append((int(value[0]), int(value[1])))
        else:
            pairs.append((int(value), int(value)))
    return _intervals(pairs)


def _nft_addresses(right):
    return _networks('%s-%s' % value if isinstance(value, tuple) else value for value in _nft_values(right))


def _nft_condition(match):
    op = match.get('op', '==')
    if op not in ('==', '!=', 'in'):
        raise ValueError(op)
    neg = op == '!='
    left, right = match['left'], match['right']
    if 'meta' in left:
        key = left['meta']['key']
        if key in ('iifname', 'iif'):
            return {'kind': 'iif', 'neg': neg, 'names': [str(v) for v in _nft_values(right)]}
        if key == 'l4proto':
            values = _nft_values(right)
            if len(values) == 1 and values[0] in ('tcp', 'udp'):
                return {'kind': 'proto', 'neg': neg, 'proto': values[0]}
        if key == 'nfproto':
            values = _nft_values(right)
            if values == ['ipv4']:
                return {'kind': 'neutral'} if not neg else {'kind': 'proto', 'neg': False, 'proto': 'none'}
            if values == ['ipv6']:
                return {'kind': 'proto', 'neg': False, 'proto': 'none'} if not neg else {'kind': 'neutral'}
    if 'payload' in left:
        protocol, field = left['payload'].get('protocol'), left['payload'].get('field')
        if protocol == 'ip' and field in ('saddr', 'daddr'):
            return {'kind': field, 'neg': neg, 'nets': _nft_addresses(right)}
        if protocol in ('tcp', 'udp', 'th') and field == 'dport':
            return {'kind': 'dport', 'neg': neg, 'proto': None if protocol == 'th' else protocol,
                    'ports': _nft_ports(right)}
    if 'fib' in left:
        fib = left['fib']
        if fib.get('result') == 'type' and fib.get('flags') == ['daddr'] and _nft_values(right) == ['local']:
            return {'kind': 'daddr_local', 'neg': neg}
    if 'ct' in left and left['ct'].get('key') in ('state', 'status'):
        return {'kind': 'neutral'}
    raise ValueError(left)


def _nft_rule(expr):
    conds = []
    action = {}
    for item in expr:
        (key, value), = item.items()
        if key == 'match':
            try:
                conds.append(_nft_condition(value))
            except (ValueError, KeyError, TypeError):
                conds.append({'kind': 'unknown', 'text': _short(value)})
        elif key == 'dnat':
            if not isinstance(value.get('addr'), str) or value.get('family', 'ip') != 'ip':
                action = {'kind': 'other'}
            else:
                action = {'kind': 'dnat', 'addr': value['addr']}
                if isinstance(value.get('port'), int):
                    action['ports'] = [(value['port'], value['port'])]
                elif isinstance(value.get('port'), dict) and 'range' in value['port']:
                    action['ports'] = [tuple(value['port']['range'])]
        elif key in ('jump', 'goto'):
            action = {'kind': key, 'target': value['target']}
        elif key == 'xt':
            action = {'kind': 'xt'}
        elif key in ('counter', 'log', 'comment', 'limit'):
            continue
        else:
            action = action or {'kind': 'other'}
    return conds, action


def _short(value):
    text = '%s' % (value, )
    return text if len(text) < 120 else text[:117] + '...'


def parse_nft(ruleset, skip_tables=()):
    """{'chains': {...}, 'bases': [...], 'xt': bool} from the output of nft -j list ruleset."""
    chains, bases, texts = {}, [], {}
    found_xt = False
    for item in ruleset.get('nftables', []):
        if 'chain' in item:
            chain = item['chain']
            if chain['family'] not in ('ip', 'inet') or chain['table'] in skip_tables:
                continue
            key = (chain['family'], chain['table'], chain['name'])
            chains.setdefault(key, [])
            if chain.get('type') == 'nat' and chain.get('hook') == 'prerouting':
                bases.append(key)
        elif 'rule' in item:
            rule = item['rule']
            key = (rule['family'], rule['table'], rule['chain'])
            if key not in chains:
                continue
            conds, action = _nft_rule(rule.get('expr', []))
            if action.get('kind') == 'xt':
                found_xt = True  # iptables-nft: read from iptables-nft-save instead
                continue
            if action.get('kind') in ('jump', 'goto'):
                action = dict(action, target=(key[0], key[1], action['target']))
            texts = 'nftables %s %s chain %s rule handle %s' % (key[0], key[1], key[2], rule.get('handle'))
            chains[key].append({'conds': conds, 'action': action, 'text': texts})
    return {'chains': chains, 'bases': bases, 'xt': found_xt}


# --- iptables (iptables-save -t nat) --------------------------------------------------------------

def _ipt_ports(text):
    pairs = []
    for part in text.split(','):
        low, _sep, high = part.partition(':')
        pairs.append((int(low), int(high or low)))
    return _intervals(pairs)


def _ipt_rule(args):
    conds, action = [], {}
    neg = False
    proto = None
    i = 0
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if arg == '!':
            neg = True
            i += 1
            continue
        step = 2
        if arg in ('-i', '--in-interface'):
            conds.append({'kind': 'iif', 'neg': neg, 'names': [value[:-1] + '*' if value.endswith('+') else value]})
        elif arg in ('-s', '--source', '--src'):
            conds.append({'kind': 'saddr', 'neg': neg, 'nets': _networks(value.split(','))})
        elif arg in ('-d', '--destination', '--dst'):
            conds.append({'kind': 'daddr', 'neg': neg, 'nets': _networks(value.split(','))})
        elif arg in ('-p', '--protocol'):
            proto = value.lower()
            if proto in ('tcp', 'udp', '6', '17'):
                proto = {'6': 'tcp', '17': 'udp'}.get(proto, proto)
                conds.append({'kind': 'proto', 'neg': neg, 'proto': proto})
            else:
                conds.append({'kind': 'unknown', 'text': '-p %s' % value})
        elif arg in ('--dport', '--destination-port', '--dports', '--destination-ports'):
            conds.append({'kind': 'dport', 'neg': neg, 'proto': proto, 'ports': _ipt_ports(value)})
        elif arg == '--dst-type':
            if value == 'LOCAL':
                conds.append({'kind': 'daddr_local', 'neg': neg})
            else:
                conds.append({'kind': 'unknown', 'text': '--dst-type %s' % value})
        elif arg in ('--ctstate', '--state', '--comment'):
            pass
        elif arg in ('-m', '--match'):
            if value not in ('tcp', 'udp', 'multiport', 'addrtype', 'comment', 'conntrack', 'state'):
                conds.append({'kind': 'unknown', 'text': '-m %s' % value})
        elif arg in ('-j', '--jump', '-g', '--goto'):
            if value == 'DNAT':
                action = {'kind': 'dnat'}
            elif value in ('ACCEPT', 'RETURN', 'MASQUERADE', 'SNAT', 'REDIRECT', 'LOG', 'MARK', 'CONNMARK'):
                action = {'kind': 'other'}
            else:
                action = {'kind': 'goto' if arg in ('-g', '--goto') else 'jump', 'target': value}
        elif arg == '--to-destination' and action.get('kind') == 'dnat':
            addr, _sep, ports = value.partition(':')
            action['addr'] = addr
            if ports:
                low, _sep, high = ports.partition('-')
                action['ports'] = [(int(low), int(high or low))]
        elif arg.startswith('-') and value is not None and not value.startswith('-'):
            conds.append({'kind': 'unknown', 'text': '%s%s %s' % ('! ' if neg else '', arg, value)})
        else:
            conds.append({'kind': 'unknown', 'text': arg})
            step = 1
        neg = False
        i += step
    return conds, action


def parse_iptables_save(text, source='iptables'):
    """{'chains', 'bases'} of the nat table in one iptables-save output."""
    chains, in_nat = {}, False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line.startswith('*'):
            in_nat = line == '*nat'
            continue
        if not in_nat or not line or line.startswith('#') or line == 'COMMIT':
            continue
        if line.startswith(':'):
            chains.setdefault((source, line[1:].split()[0]), [])
            continue
        if not line.startswith('-A '):
            continue
        args = shlex.split(line)
        key = (source, args[1])
        conds, action = _ipt_rule(args[2:])
        if action.get('kind') in ('jump', 'goto'):
            action = dict(action, target=(source, action['target']))
        chains.setdefault(key, []).append({'conds': conds, 'action': action, 'text': '%s: %s' % (source, line)})
    bases = [(source, 'PREROUTING')] if (source, 'PREROUTING') in chains else []
    return {'chains': chains, 'bases': bases}


# --- RouterOS (/ip/firewall/nat) -------------------------------------------------------------------

ROUTEROS_NEUTRAL = frozenset([
    '.id', 'chain', 'action', 'to-addresses', 'to-ports', 'comment', 'log', 'log-prefix', 'disabled', 'dynamic',
    'invalid', 'bytes', 'packets', 'jump-target', 'connection-state', 'connection-nat-state',
])


def _is_true(value):
    return value is True or str(value).lower() in ('true', 'yes')


def _ros_value(value):
    value = str(value)
    return (True, value[1:]) if value.startswith('!') else (False, value)


def _ros_rule(entry, lan_lists):
    conds = []
    for key, value in sorted(entry.items()):
        if key in ROUTEROS_NEUTRAL or value in (None, ''):
            continue
        neg, text = _ros_value(value)
        try:
            if key == 'in-interface':
                conds.append({'kind': 'iif', 'neg': neg, 'names': [text]})
            elif key == 'in-interface-list':
                if text == 'all':
                    conds.append({'kind': 'neutral'} if not neg else {'kind': 'proto', 'proto': 'none'})
                else:
                    conds.append({'kind': 'iif', 'neg': neg, 'names': lan_lists.get(text) or ['list:' + text]})
            elif key in ('src-address', 'dst-address'):
                conds.append({'kind': key[0] + 'addr', 'neg': neg, 'nets': _networks(text.split(','))})
            elif key == 'dst-address-type':
                if text == 'local':
                    conds.append({'kind': 'daddr_local', 'neg': neg})
                else:
                    conds.append({'kind': 'unknown', 'text': '%s=%s' % (key, value)})
            elif key == 'protocol':
                proto = {'6': 'tcp', '17': 'udp'}.get(text, text)
                conds.append({'kind': 'proto', 'neg': neg, 'proto': proto})
            elif key == 'dst-port':
                pairs = []
                for part in text.split(','):
                    low, _sep, high = part.partition('-')
                    pairs.append((int(low), int(high or low)))
                conds.append({'kind': 'dport', 'neg': neg, 'proto': None, 'ports': _intervals(pairs)})
            else:
                conds.append({'kind': 'unknown', 'text': '%s=%s' % (key, value)})
        except ValueError:
            conds.append({'kind': 'unknown', 'text': '%s=%s' % (key, value)})
    action = {'kind': 'other'}
    if entry.get('action') == 'dst-nat' and entry.get('to-addresses'):
        action = {'kind': 'dnat', 'addr': str(entry['to-addresses'])}
        if entry.get('to-ports'):
            low, _sep, high = str(entry['to-ports']).partition('-')
            action['ports'] = [(int(low), int(high or low))]
    elif entry.get('action') == 'jump' and entry.get('jump-target'):
        action = {'kind': 'jump', 'target': entry['jump-target']}
    return conds, action


def parse_routeros(entries, lan_lists=None, skip_comment=None):
    chains = {}
    for entry in entries:
        if _is_true(entry.get('disabled')) or _is_true(entry.get('dynamic')):
            continue
        if skip_comment and str(entry.get('comment', '')).startswith(skip_comment):
            continue
        conds, action = _ros_rule(entry, lan_lists or {})
        text = 'RouterOS /ip/firewall/nat %s: %s' % (entry.get('.id', '?'), ' '.join(
            '%s=%s' % (k, v) for k, v in entry.items() if k not in ('.id', 'bytes', 'packets')))
        chains.setdefault(entry.get('chain'), []).append({'conds': conds, 'action': action, 'text': text})
    return {'chains': chains, 'bases': ['dstnat'] if 'dstnat' in chains else []}


def routeros_lan(addresses, members, lan_cidr):
    """LAN interfaces (from /ip/address) and {interface list: [interfaces]} (from /interface/list/member)."""
    lan = ipaddress.ip_network(lan_cidr, strict=False)
    interfaces = []
    for entry in addresses or []:
        if _is_true(entry.get('disabled')) or 'address' not in entry:
            continue
        try:
            if ipaddress.ip_interface(entry['address']).ip in lan:
                interfaces.append(entry['interface'])
        except ValueError:
            continue
    lists = {}
    for entry in members or []:
        if not _is_true(entry.get('disabled')):
            lists.setdefault(entry.get('list'), []).append(entry.get('interface'))
    return sorted(set(interfaces)), lists


def linux_lan(ip_addr_json, lan_cidr):
    """LAN interfaces from the output of ip -j addr show."""
    lan = ipaddress.ip_network(lan_cidr, strict=False)
    interfaces = []
    for link in ip_addr_json or []:
        for info in link.get('addr_info', []):
            if info.get('family', 'inet') == 'inet' and info.get('local'):
                if ipaddress.ip_address(info['local']) in lan:
                    interfaces.append(link['ifname'])
    return sorted(set(interfaces))


# --- the plan ------------------------------------------------------------------------------------

def service_ports(service):
    """{proto: [(low, high)]} of a service in the natloop_services shape."""
    out = {}
    for port in service.get('ports') or []:
        low = int(port['port'] if 'port' in port else port['start'])
        high = int(port['port'] if 'port' in port else port['end'])
        out.setdefault(port['proto'], []).append((low, high))
    return dict((proto, _intervals(pairs)) for proto, pairs in out.items())


def plan(services, lan_cidr, lan_interfaces, rulesets, mode='auto'):
    """Decide per service and protocol whether the role must add a LAN-side DNAT.

    rulesets: [{'chains', 'bases'}] as returned by the parse_* functions.
    mode: auto (detect), always, never.
    Returns (decisions, notes): decisions [{name, proto, ip, public_ip, ports (text), lan_dnat,
    lan_dnat_ports (text), forwards, reason}], notes: sentences for the user.
    """
    forwards = []
    for ruleset in rulesets:
        forwards.extend(_flatten(ruleset['chains'], ruleset['bases']))
    decisions, notes = [], []
    for service in services:
        for proto, ports in sorted(service_ports(service).items()):
            probe = Probe(lan_cidr, lan_interfaces, service.get('public_ip'), proto, ports)
            covered, found, why = [], [], []
            for conds, dnat, text in forwards:
                if not _leads_to_service(conds, dnat, service['lan_ipv4'], probe):
                    continue
                found.append(text)
                verdict, rule_covered, reasons = judge_forward(conds, dnat, probe)
                if verdict == MATCH:
                    covered = _intervals(covered + rule_covered)
                else:
                    why.append('%s: %s' % (text, '; '.join(reasons) or 'its ports differ'))
                    if verdict == UNKNOWN:
                        notes.append('%s %s: could not tell whether %s catches LAN clients (%s); assumed it does '
                                     'not, so the LAN-side DNAT is added (harmless if it does: the first DNAT wins).'
                                     % (service['name'], proto, text, '; '.join(reasons)))
            missing = _subtract(ports, covered)
            decision = {'name': service['name'], 'proto': proto, 'ip': service['lan_ipv4'],
                        'public_ip': service.get('public_ip'), 'ports': ports_text(ports), 'forwards': found}
            if mode == 'never':
                decision.update(lan_dnat=False, lan_dnat_ports=[], reason='hairpin_nat_lan_dnat is never')
            elif mode == 'always':
                decision.update(lan_dnat=True, lan_dnat_ports=ports_text(ports), reason='hairpin_nat_lan_dnat is always')
            elif not missing:
                decision.update(lan_dnat=False, lan_dnat_ports=[],
                                reason='the port forward already catches LAN clients: ' + '; '.join(found))
            else:
                decision.update(lan_dnat=True, lan_dnat_ports=ports_text(missing))
                if not found:
                    decision['reason'] = 'no port forward to %s %s %s found in the router\'s rules' % (
                        service['lan_ipv4'], proto, ','.join(ports_text(ports)))
                    notes.append('%s %s: no port forward to %s found on this router; the LAN-side DNAT is added '
                                 'anyway (it only acts on the public address when it is this router\'s).'
                                 % (service['name'], proto, service['lan_ipv4']))
                else:
                    decision['reason'] = 'ports %s are not forwarded for LAN clients: %s' % (
                        ','.join(ports_text(missing)), ' | '.join(why) or 'the forwards cover other ports')
            decisions.append(decision)
    return decisions, notes


def routeros_moves(entries, comment_prefix, chains=('dstnat', 'srcnat')):
    """RouterOS evaluates a chain top-down and the first NAT rule wins: the role's rules must come
    before every other rule of their chain. Returns [{'numbers': 'id,id', 'destination': id}]."""
    moves = []
    for chain in chains:
        rows = [entry for entry in entries if entry.get('chain') == chain and not _is_true(entry.get('dynamic'))]
        ours = [entry['.id'] for entry in rows if str(entry.get('comment', '')).startswith(comment_prefix)]
        if not ours:
            continue
        if [entry['.id'] for entry in rows[:len(ours)]] == ours:
            continue
        first_other = next(entry['.id'] for entry in rows if entry['.id'] not in ours)
        moves.append({'numbers': ','.join(ours), 'destination': first_other})
    return moves
