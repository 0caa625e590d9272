# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""natloop.lan.site_preflight: check a site's model and choices and group the host by its fixes, on
the controller, in one task (documentation: plugins/modules/site_preflight.py).

One task instead of an assert, a group_by and the role's argument validation: every task costs each
host of every site a worker process, also on a run that changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.natloop.lan.plugins.module_utils._service_model import fix_groups, site_errors

ARGUMENT_SPEC = dict(
    site=dict(type="str", default=""),
    services=dict(type="raw", default=[]),
    fixes=dict(type="raw", default=[]),
    dns_provider=dict(type="raw", default="adguard_home"),
    dns_servers=dict(type="raw", default=[]),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        # Types are checked by site_errors, with messages naming the inventory variables.
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        errors = site_errors(args["services"], args["fixes"], args["dns_provider"], args["dns_servers"])
        result["changed"] = False
        if errors:
            result["failed"] = True
            result["errors"] = errors
            result["msg"] = "Site %s: %s" % (args["site"] or "?", "; ".join(errors))
            return result
        group, parents = fix_groups(args["fixes"])
        result["groups"] = parents
        if group:
            # Handled by the strategy as for group_by: the host joins `group`, a child of every fix's group.
            result["add_group"] = group
            result["parent_groups"] = parents
        return result
