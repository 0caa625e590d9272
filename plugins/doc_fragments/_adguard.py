# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This doc fragment is private, not a public API: it may change at any time.


class ModuleDocFragment(object):

    # Connection options shared by every AdGuard Home module.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the AdGuard Home web interface, for example V(http://192.168.11.53) or V(https://adguard.lan:8443).
      - If not set, the environment variable E(NATLOOP_ADGUARD_URL) is used.
      - After the setup wizard, the web interface listens on the port chosen there, not on port 3000.
    type: str
    required: true
  username:
    description:
      - User name for HTTP Basic authentication.
      - If not set, the environment variable E(NATLOOP_ADGUARD_USERNAME) is used.
      - Leave unset only if AdGuard Home has no users configured.
    type: str
  password:
    description:
      - Password for HTTP Basic authentication.
      - If not set, the environment variable E(NATLOOP_ADGUARD_PASSWORD) is used.
    type: str
notes:
  - The module authenticates with HTTP Basic on every request and never sends a session cookie.
  - A request answered with HTTP 401 or 403 is never retried. AdGuard Home blocks the client address for
    15 minutes after 5 failed authentication attempts, so check O(username) and O(password) before re-running.
  - Requests that fail with a 5xx status or a connection error are retried a few times with increasing waits,
    except adding a rewrite, which is only retried when the connection was refused (AdGuard Home does not
    reject duplicates).
  - Environment variables are read where the module runs. Run these modules on the controller
    (with C(delegate_to) set to V(localhost)) or on any host that can reach AdGuard Home.
"""
