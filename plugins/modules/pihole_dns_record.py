#!/usr/bin/python
# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: pihole_dns_record
short_description: Manage Pi-hole v6 local DNS records (A, AAAA, CNAME) as a list
version_added: 0.1.0
description:
  - Make a list of local DNS records present on, or absent from, Pi-hole v6, in one task.
  - A and AAAA records live in Pi-hole's C(dns.hosts), CNAME records in C(dns.cnameRecords).
  - A record is identified by its domain (compared in lower case) together with its answer. An A and an AAAA
    record for one name are two records and coexist.
  - The module logs in once, reads both lists in one request, and writes all changes in one request
    (C(PATCH /api/config) with the complete new lists; entries it does not manage are kept as they are). Then it
    checks what Pi-hole holds (in the answer to the write, or by reading again after a CNAME change restarted
    FTL), fails if that is not what was written, and logs out.
  - Changing C(dns.cnameRecords) restarts Pi-hole's DNS server (FTL); this happens at most once per run. Runs
    that only change A/AAAA records cause no restart.
  - After a restart the module returns only once the restarted FTL serves the API (C(GET /api/info/ftl) reports an
    uptime shorter than the time since the write; the old process answers for a moment after the write) and its
    DNS server answers a changed CNAME as written (see O(dns_address)), at most O(restart_timeout) seconds. So the
    next task can query Pi-hole right away.
  - Entries stored more than once are collapsed to one. A host line with several names is split only when one of
    its names has to change.
  - The whole input is validated before the first request; a bad item fails the task without any change.
author:
  - natloop.lan contributors (@natloop)
extends_documentation_fragment:
  - natloop.lan._pihole
  - natloop.lan._http
  - natloop.lan._writers
  - natloop.lan._writers.RECORDS
  - natloop.lan._attributes
  - natloop.lan._attributes.ACTIONGROUP_PIHOLE
attributes:
  check_mode:
    support: full
    details:
      - Check mode logs in, reads, and reports exactly the changes a real run would make, without writing.
  diff_mode:
    support: full
    details:
      - Before and after cover the managed records, those in O(records) and, with O(purge), those in O(purge_scope).
  idempotent:
    support: full
options:
  records:
    description:
      - The records to make present or absent.
      - Each domain/answer pair may be listed only once. A domain can have at most one CNAME target, and a CNAME
        cannot be combined with other records for the same domain.
      - Pi-hole does not support wildcard names.
    type: list
    elements: dict
    required: true
    suboptions:
      domain:
        description:
          - The name, for example V(nas.example.com). Compared in lower case; a trailing dot is dropped.
        type: str
        required: true
      answer:
        description:
          - An IPv4 address (A record), an IPv6 address (AAAA record), or a domain name (CNAME target).
        type: str
        required: true
      ttl:
        description:
          - TTL in seconds of a CNAME record. Not allowed for A and AAAA records.
          - If not set, the record has no TTL of its own (Pi-hole's default applies); an existing TTL is removed.
        type: int
  state:
    description:
      - V(present) adds missing records and updates O(records[].ttl).
      - V(absent) removes the listed records, including all copies of them. O(records[].ttl) is not used.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With V(true) and O(state=present), records whose domain is inside O(purge_scope) but that are not in
        O(records) are removed. Records outside O(purge_scope) are never touched.
    type: bool
    default: false
  dns_address:
    description:
      - Where Pi-hole's DNS server answers, as V(host), V(host:port) or V([IPv6]:port), for the check after a CNAME
        change restarted FTL (a DNS query over UDP from the host the module runs on).
      - If not set, the host of O(url) and the DNS port Pi-hole reports (C(dns.port)). Set it when the DNS port is
        published elsewhere, for example a container port mapping. An empty string skips the DNS check (the API
        check remains).
    type: str
  restart_timeout:
    description:
      - Seconds to wait, from the write on, until a restarted FTL serves the API and answers DNS. Then the task fails.
    type: int
    default: 60
  local_names:
    description:
      - Names Pi-hole answers only from its local data, never from its upstreams, for every query type. Without this,
        Pi-hole forwards the AAAA, HTTPS (type 65), SVCB, MX and TXT questions of a name that has only A records to
        its upstreams, so a public AAAA or an HTTPS record with public address hints reaches the LAN.
      - For each name the module keeps two lines in Pi-hole's C(misc.dnsmasq_lines), V(local=/NAME/) and
        V(server=/*.NAME/#). Then the name gets its local A/AAAA records, NOERROR without an answer for other types,
        NXDOMAIN if it has no local record at all (as for the DoH and Private Relay canaries), and names below it
        are still forwarded. Measured on the real Pi-hole FTL v6.4.1.
      - The lines go to Pi-hole in the same request as the records, so a run restarts FTL at most once (a change of
        these lines restarts FTL, like a CNAME change). Other lines of C(misc.dnsmasq_lines) are kept as they are.
      - With O(state=absent) the lines of the listed names are removed.
      - Not set (the default) leaves C(misc.dnsmasq_lines) alone.
    type: list
    elements: str
  local_names_scope:
    description:
      - Names (V(example.com)) or patterns (V(*.example.com), V(*)) whose local-name lines this module owns; lines
        of a name in this scope that is not in O(local_names) are removed, with or without O(purge). Lines of other
        names are never touched.
    type: list
    elements: str
  purge_scope:
    description:
      - Domain patterns that O(purge) may clean up. Required with O(purge=true).
      - V(example.com) covers exactly that name; V(*.example.com) covers every name below V(example.com);
        V(*) covers every record.
    type: list
    elements: str
  settings:
    description:
      - Settings of M(natloop.lan.pihole_settings), set first on the same API session, under the same lock, so that a
        role that sets both makes one module run and one login per server.
      - Nothing of the records is changed when the settings fail.
    type: dict
    suboptions:
      blocking:
        description: As O(natloop.lan.pihole_settings#module:blocking).
        type: bool
notes:
  - Records set through the C(FTLCONF_dns_hosts) or C(FTLCONF_dns_cnameRecords) environment variables of the
    Pi-hole container cannot be changed through the API; the module fails with an explanation. Use one channel only.
seealso:
  - module: natloop.lan.pihole_dns_record_info
  - module: natloop.lan.adguard_rewrite
"""

EXAMPLES = r"""
- name: Answer the LAN names of the services with their LAN addresses
  natloop.lan.pihole_dns_record:
    url: http://192.168.11.53
    password: "{{ pihole_password }}"
    records:
      - domain: cloud.example.com
        answer: 192.168.11.20
      - domain: cloud.example.com
        answer: fd00:11::20
      - domain: www.example.com
        answer: cloud.example.com
        ttl: 300
  delegate_to: localhost

- name: Own everything in example.com, remove what is not listed
  natloop.lan.pihole_dns_record:
    records:
      - domain: cloud.example.com
        answer: 192.168.11.20
    purge: true
    purge_scope:
      - example.com
      - "*.example.com"
  module_defaults:
    group/natloop.lan.pihole:
      url: http://192.168.11.53
      password: "{{ pihole_password }}"

- name: Answer cloud.example.com only locally (no public AAAA or HTTPS record leaks in), one FTL restart at most
  natloop.lan.pihole_dns_record:
    url: http://192.168.11.53
    password: "{{ pihole_password }}"
    records:
      - domain: cloud.example.com
        answer: 192.168.11.20
    local_names:
      - cloud.example.com
      - use-application-dns.net
    local_names_scope:
      - cloud.example.com
      - use-application-dns.net

- name: Remove a record
  natloop.lan.pihole_dns_record:
    url: http://192.168.11.53
    password: "{{ pihole_password }}"
    state: absent
    records:
      - domain: old.example.com
        answer: 192.168.11.99
"""

RETURN = r"""
settings:
  description: The settings given in O(settings), as the server holds them after the run (predicted in check mode).
  returned: when O(settings) gives a value
  type: dict
settings_changes:
  description: The settings changed (or, in check mode, that a real run would change), as the settings module's C(changes).
  returned: when O(settings) gives a value
  type: list
  elements: dict
records:
  description:
    - The managed records after the run (predicted in check mode), sorted by domain, type and answer.
    - Managed are the records with a domain/answer pair from O(records) and, with O(purge), every record in O(purge_scope).
    - With O(local_names), the local-name lines are listed too, as entries of type C(LOCAL) whose answer is the line.
  returned: success
  type: list
  elements: dict
  contains:
    domain:
      description: The name, lower case.
      type: str
      sample: cloud.example.com
    answer:
      description: IP address (compressed form), CNAME target, or for type C(LOCAL) the C(misc.dnsmasq_lines) line.
      type: str
      sample: 192.168.11.20
    type:
      description: C(A), C(AAAA), C(CNAME) or C(LOCAL).
      type: str
      sample: A
    ttl:
      description: TTL of a CNAME record; V(null) when it has none and for A/AAAA records.
      type: int
      sample: null
created:
  description: Number of records added.
  returned: success
  type: int
  sample: 1
updated:
  description: Number of records changed, including records whose duplicate copies were collapsed.
  returned: success
  type: int
  sample: 0
deleted:
  description: Number of records removed (each counted once, however many copies it had).
  returned: success
  type: int
  sample: 0
changes:
  description: The changes made (or, in check mode, that a real run would make), one per record.
  returned: success
  type: list
  elements: dict
  contains:
    action:
      description: C(create), C(update) or C(delete).
      type: str
    domain:
      description: The name.
      type: str
    answer:
      description: The answer.
      type: str
    type:
      description: C(A), C(AAAA), C(CNAME) or C(LOCAL).
      type: str
    ttl:
      description: The TTL after the change (before it, for deletes).
      type: int
    reason:
      description: Why the change is needed.
      type: str
      sample: "ttl: none -> 300"
  sample:
    - action: create
      domain: cloud.example.com
      answer: 192.168.11.20
      type: A
      ttl: null
      reason: not on the server
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natloop.lan.plugins.module_utils._pihole import (
    PiholeBackend,
    record_argument_spec,
)
from ansible_collections.natloop.lan.plugins.module_utils._record_module import run_sync


def main():
    module = AnsibleModule(
        argument_spec=record_argument_spec(),
        required_if=[('purge', True, ['purge_scope'])],
        supports_check_mode=True,
    )
    run_sync(module, PiholeBackend.from_module(module))


if __name__ == '__main__':
    main()
