# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pi-hole v6 domain lists (``/api/domains/...``): stand-in for tests, NOT the real Pi-hole.

FTL keeps them in ``gravity.db`` (table ``domainlist``; FTL src/api/list.c, checked on the
real pihole-FTL v6.4.1 through run-isolated): exact and regex entries on an allow and a
deny list, unique per (domain, type). The stand-in stores them as JSON next to
pihole.toml. With ``available=False`` it behaves like an FTL without gravity.db (the
real-parts image in a lab without network): every call is 400 ``database_error``.
"""

import re

from .persist import load_json, save_json

#: Route prefixes in FTL's matching order: (prefix, type, kind, can_modify).
ROUTES = [
    ("/api/domains/allow/exact", "allow", "exact", True),
    ("/api/domains/allow/regex", "allow", "regex", True),
    ("/api/domains/allow", "allow", None, False),
    ("/api/domains/deny/exact", "deny", "exact", True),
    ("/api/domains/deny/regex", "deny", "regex", True),
    ("/api/domains/deny", "deny", None, False),
    ("/api/domains/exact", None, "exact", False),
    ("/api/domains/regex", None, "regex", False),
    ("/api/domains", None, None, False),
]
UNIQUE_ERROR = "UNIQUE constraint failed: domainlist.domain, domainlist.type"


class ListError(Exception):
    """An FTL error reply: ``(status, key, message, hint)``."""

    def __init__(self, status, key, message, hint=None):
        super().__init__(message)
        self.status, self.key, self.message, self.hint = status, key, message, hint


class DomainLists:
    """The ``domainlist`` table: rows ``{id, domain, type, kind, comment, enabled, ...}``."""

    def __init__(self, path, clock, available=True):
        self.path = path
        self.clock = clock
        self.available = available
        self.rows = []
        self.next_id = 1

    def load(self):
        stored = load_json(self.path, {"rows": [], "next_id": 1})
        self.rows, self.next_id = stored["rows"], stored["next_id"]

    def save(self):
        save_json(self.path, {"rows": self.rows, "next_id": self.next_id})

    # -- DNS ------------------------------------------------------------------------------
    def _matches(self, name, list_type):
        for row in self.rows:
            if not row["enabled"] or row["type"] != list_type:
                continue
            if row["kind"] == "exact" and row["domain"] == name:
                return True
            if row["kind"] == "regex":
                try:
                    if re.search(row["domain"], name):
                        return True
                except re.error:
                    continue
        return False

    def denied(self, name):
        """True if the deny list holds ``name`` (lower case) and the allow list does not."""
        return self._matches(name, "deny") and not self._matches(name, "allow")

    def allowed(self, name):
        return self._matches(name, "allow")

    # -- API ------------------------------------------------------------------------------
    def _public(self, row):
        return {"domain": row["domain"], "unicode": row["domain"], "type": row["type"], "kind": row["kind"],
                "comment": row["comment"], "groups": [0], "enabled": row["enabled"], "id": row["id"],
                "date_added": row["date_added"], "date_modified": row["date_modified"]}

    def read(self, list_type, kind, item):
        if not self.available:
            raise ListError(400, "database_error", "Could not read domains from database table",
                            "Database not available")
        return [self._public(row) for row in self.rows
                if (list_type is None or row["type"] == list_type) and (kind is None or row["kind"] == kind)
                and (not item or row["domain"] == item)]

    def _find(self, domain, list_type, kind):
        for row in self.rows:
            if (row["domain"], row["type"], row["kind"]) == (domain, list_type, kind):
                return row
        return None

    def write(self, method, list_type, kind, item, payload):
        """POST (item from the payload, string or array) or PUT (item from the URI).

        ``(status, body)``: 201/200 with the last item's rows and ``processed``."""
        if not self.available:
            raise ListError(400, "database_error", "Could not read domains from database table",
                            "Database not available")
        if not isinstance(payload, dict):
            raise ListError(400, "bad_request", "Invalid request body data (no valid JSON)")
        if method == "POST":
            if item:
                raise ListError(400, "uri_error", "Invalid request: Specify item in payload, not as URI parameter",
                                item)
            domains = payload.get("domain")
            if isinstance(domains, str):
                domains = [domains]
            if not isinstance(domains, list) or not domains or not all(isinstance(d, str) for d in domains):
                raise ListError(400, "bad_request",
                                'Invalid request: No valid "domain" in payload (must be either string or array)')
        else:
            domains = [item]
        for domain in domains:
            if re.search(r"[ \t\n\r]", domain):
                raise ListError(400, "bad_request", "Spaces, newlines and tabs are not allowed in domains and URLs",
                                domain)
        comment = payload.get("comment") if isinstance(payload.get("comment"), str) and payload.get("comment") else None
        enabled = payload.get("enabled") if isinstance(payload.get("enabled"), bool) else True
        now = int(self.clock.now())
        processed = {"errors": [], "success": []}
        last = None
        for domain in domains:
            if kind == "exact":
                domain = domain.lower()
            row = self._find(domain, list_type, kind)
            if row is not None and method == "POST":
                processed["errors"].append({"item": domain, "error": UNIQUE_ERROR})
            elif row is not None:
                row.update(comment=comment, enabled=enabled, date_modified=now)
                processed["success"].append({"item": domain})
            else:
                row = {"id": self.next_id, "domain": domain, "type": list_type, "kind": kind, "comment": comment,
                       "enabled": enabled, "date_added": now, "date_modified": now}
                self.next_id += 1
                self.rows.append(row)
                processed["success"].append({"item": domain})
            last = domain
        self.save()
        status = 201 if method == "POST" else 200
        return status, {"domains": self.read(list_type, kind, last), "processed": processed}

    def remove(self, list_type, kind, item):
        """True if an entry was removed (204), False if there was none (404)."""
        if not self.available:
            raise ListError(400, "database_error", "Could not remove domain from database table",
                            "Database not available")
        row = self._find(item, list_type, kind)
        if row is None:
            return False
        self.rows.remove(row)
        self.save()
        return True
