# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This doc fragment is private, not a public API: it may change at any time.


class ModuleDocFragment(object):

    # Descriptions of the attributes; modules state their support level.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # For modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    ACTIONGROUP_ADGUARD = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/natloop.lan.adguard) in C(module_defaults) to set the connection options once for all AdGuard Home modules.
    support: full
    membership:
      - natloop.lan.adguard
"""

    ACTIONGROUP_PIHOLE = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/natloop.lan.pihole) in C(module_defaults) to set the connection options once for all Pi-hole modules.
    support: full
    membership:
      - natloop.lan.pihole
"""
