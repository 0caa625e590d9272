# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exceptions of the fake librouteros (same names as the real library)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class LibRouterosError(Exception):
    pass


class TrapError(LibRouterosError):
    pass
