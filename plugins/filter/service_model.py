# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.natloop.lan.plugins.module_utils._service_model import service_model_errors


class FilterModule(object):
    def filters(self):
        return {"service_model_errors": service_model_errors}
