# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This doc fragment is private, not a public API: it may change at any time.


class ModuleDocFragment(object):

    # TLS and timeout options of every module that talks HTTP (module_utils._http.transport_argument_spec).
    DOCUMENTATION = r"""
options:
  validate_certs:
    description:
      - Whether to validate the server's TLS certificate when O(url) uses HTTPS.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) to validate the server's certificate with.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: int
    default: 10
"""
