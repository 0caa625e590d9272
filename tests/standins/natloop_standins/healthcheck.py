# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container healthcheck of the Pi-hole stand-in (stand-in for tests, NOT the real Pi-hole).

Does what docker-pi-hole's ``dig -p $(pihole-FTL --config dns.port) +short +norecurse
+retry=0 @127.0.0.1 pi.hole || exit 1`` does: healthy when the DNS port answers a
query for pi.hole.
"""

import os
import sys
import tomllib

import dns.exception
import dns.flags
import dns.message
import dns.query

from .pihole_config import lookup_env


def dns_port(config_dir="/etc/pihole", env=None):
    env = os.environ if env is None else env
    forced = lookup_env(env, "FTLCONF_dns_port")
    if forced and forced.strip().isdigit():
        return int(forced)
    try:
        with open(os.path.join(config_dir, "pihole.toml"), "rb") as stream:
            return int(tomllib.load(stream).get("dns", {}).get("port", 53))
    except (OSError, ValueError, tomllib.TOMLDecodeError):
        return 53


def main():
    query = dns.message.make_query("pi.hole", "A")
    query.flags &= ~dns.flags.RD
    try:
        dns.query.udp(query, "127.0.0.1", timeout=3, port=dns_port())
    except (dns.exception.DNSException, OSError) as exc:
        print("unhealthy: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
