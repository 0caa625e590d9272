# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in servers for tests, NOT the real AdGuard Home / Pi-hole.

``natloop_standins.adguard`` emulates the AdGuard Home v0.107.79 HTTP API and DNS
behaviour, ``natloop_standins.pihole`` emulates Pi-hole v6 (FTL v6.4.1). Both follow
/work/shared/CONTRACTS.md; see tests/standins/README.md for the known deviations.
"""
