# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This doc fragment is private, not a public API: it may change at any time.


class ModuleDocFragment(object):

    # Connection options shared by every Pi-hole module.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Pi-hole v6 web server, for example V(http://192.168.11.53) or V(https://pi.hole).
        The API path C(/api) is added when missing.
      - If not set, the environment variable E(NATLOOP_PIHOLE_URL) is used.
    type: str
    required: true
  password:
    description:
      - The web interface password or an app password.
      - An app password may only change settings when Pi-hole's C(webserver.api.app_sudo) is V(true).
      - Accounts with two-factor authentication need an app password.
      - If not set, the environment variable E(NATLOOP_PIHOLE_PASSWORD) is used. Leave unset only if Pi-hole has no password.
    type: str
    aliases:
      - app_password
notes:
  - Pi-hole's own HTTPS certificate is self-signed for C(pi.hole); use plain HTTP, O(ca_path), or O(validate_certs=false).
  - Each module run opens one API session and always closes it, also when the run fails, so runs never use up
    Pi-hole's API seats (16 by default). The session ID goes in the C(X-FTL-SID) header.
  - HTTP 429 (login rate limit, no free seat), 5xx answers and refused connections (FTL restarting) are retried
    up to 8 times with waits doubling from 0.5 to 8 seconds, at most 40 seconds in all. HTTP 401 is never retried.
  - Environment variables are read where the module runs. Run these modules on the controller
    (with C(delegate_to) set to V(localhost)) or on any host that can reach Pi-hole.
"""
