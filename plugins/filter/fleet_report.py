# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One summary of the verify layer over every site: the data for the fleet report (Markdown, JSON,
JUnit XML) and the regressions against the previous report.

Bad input raises TypeError, which Ansible reports as a templating error with this message (the
filter stays free of controller-only imports, so its unit tests run next to module tests)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from xml.etree import ElementTree

from ansible.module_utils.common.text.converters import to_text

NOT_CHECKED = "not_checked"


def _case_key(case):
    return (case["site"], case["client"], case["service"])


def fleet_summary(clients, previous=None, allowed_verdicts=None):
    """Summarize per site and per client x service.

    clients: [{host, site, fixes, services (service_check's list, or None when the client was not
    checked), findings (service_check's client_findings), reason (why not checked)}]. previous: an
    earlier summary (its ``cases`` are compared). A case is ok when its verdict is in
    allowed_verdicts (default ["ok"]). Findings are warnings: listed and counted per site, never a
    failed case, a failing site or a regression.
    """
    if not isinstance(clients, list):
        raise TypeError("fleet_summary expects a list of clients, got %s" % type(clients).__name__)
    allowed = list(allowed_verdicts or ["ok"])
    cases, sites, warnings = [], {}, []
    for client in sorted(clients, key=lambda c: (to_text(c.get("site")), to_text(c.get("host")))):
        site_name = to_text(client.get("site") or "site")
        site = sites.setdefault(site_name, {
            "site": site_name, "fixes": sorted(client.get("fixes") or []), "clients_total": 0,
            "clients_ok": 0, "verdicts": {}, "warnings": {}, "not_changed": None})
        if client.get("not_changed") and not site["not_changed"]:
            site["not_changed"] = to_text(client["not_changed"])
        site["clients_total"] += 1
        services = client.get("services")
        if services is None:
            client_cases = [{"service": "-", "verdict": NOT_CHECKED,
                             "reason": to_text(client.get("reason") or "the client was not checked in this run")}]
        else:
            client_cases = [{"service": to_text(svc.get("domain") or svc.get("name")),
                             "verdict": to_text(svc.get("verdict")), "reason": to_text(svc.get("reason") or "")}
                            for svc in services]
        client_ok = True
        for case in client_cases:
            case.update(site=site_name, client=to_text(client.get("host")), ok=case["verdict"] in allowed)
            client_ok = client_ok and case["ok"]
            site["verdicts"][case["verdict"]] = site["verdicts"].get(case["verdict"], 0) + 1
            cases.append(case)
        if client_ok:
            site["clients_ok"] += 1
        for finding in client.get("findings") or []:
            code = to_text(finding.get("code"))
            site["warnings"][code] = site["warnings"].get(code, 0) + 1
            warnings.append({"site": site_name, "client": to_text(client.get("host")), "code": code,
                             "severity": to_text(finding.get("severity") or "warning"),
                             "server": to_text(finding.get("server") or ""), "reason": to_text(finding.get("reason") or "")})
    for site in sites.values():
        site["status"] = "ok" if site["clients_ok"] == site["clients_total"] else "failing"
    before = {}
    for case in (previous or {}).get("cases", []) if isinstance(previous, dict) else []:
        if isinstance(case, dict) and {"site", "client", "service"} <= set(case):
            before[_case_key(case)] = case
    now = dict((_case_key(case), case) for case in cases)
    regressions = [dict(case, was=before[key]["verdict"]) for key, case in sorted(now.items())
                   if not case["ok"] and before.get(key, {}).get("ok")]
    # A client x service that was ok before and is missing now (host gone from the run) regressed too.
    regressions += [dict(case, verdict=NOT_CHECKED, ok=False, was=case["verdict"],
                         reason="not checked in this run")
                    for key, case in sorted(before.items()) if key not in now and case.get("ok")
                    and key[0] in sites]
    return {
        "sites": [sites[name] for name in sorted(sites)],
        "cases": cases,
        "warnings": warnings,
        "allowed_verdicts": allowed,
        "totals": {"sites": len(sites), "sites_ok": sum(1 for s in sites.values() if s["status"] == "ok"),
                   "clients": sum(s["clients_total"] for s in sites.values()),
                   "clients_ok": sum(s["clients_ok"] for s in sites.values()),
                   "cases": len(cases), "cases_failed": sum(1 for c in cases if not c["ok"]),
                   "warnings": len(warnings)},
        "regressions": regressions,
    }


def fleet_junit(summary):
    """JUnit XML: one test suite per site, one test case per client x service, a failure per bad verdict.

    Warnings are no failures: a suite property counts them and the suite's system-out lists them."""
    if not isinstance(summary, dict) or "sites" not in summary:
        raise TypeError("fleet_junit expects the result of natloop.lan.fleet_summary")
    totals = summary["totals"]
    root = ElementTree.Element("testsuites", name="natloop.lan", tests=str(totals["cases"]),
                               failures=str(totals["cases_failed"]))
    for site in summary["sites"]:
        site_cases = [c for c in summary["cases"] if c["site"] == site["site"]]
        suite = ElementTree.SubElement(root, "testsuite", name=site["site"], tests=str(len(site_cases)),
                                       failures=str(sum(1 for c in site_cases if not c["ok"])))
        props = ElementTree.SubElement(suite, "properties")
        ElementTree.SubElement(props, "property", name="fixes", value=",".join(site["fixes"]) or "none")
        if site.get("not_changed"):
            ElementTree.SubElement(props, "property", name="not_changed", value=site["not_changed"])
        site_warnings = [w for w in summary.get("warnings", []) if w["site"] == site["site"]]
        ElementTree.SubElement(props, "property", name="warnings", value=str(len(site_warnings)))
        for case in site_cases:
            element = ElementTree.SubElement(suite, "testcase", classname=site["site"],
                                             name="%s %s" % (case["client"], case["service"]))
            if not case["ok"]:
                failure = ElementTree.SubElement(element, "failure", message=case["verdict"], type=case["verdict"])
                failure.text = case["reason"]
        if site_warnings:
            ElementTree.SubElement(suite, "system-out").text = "\n".join(
                "warning %s %s (%s): %s" % (w["client"], w["code"], w["server"], w["reason"]) for w in site_warnings)
    return to_text(ElementTree.tostring(root, encoding="unicode"))


class FilterModule(object):
    def filters(self):
        return {"fleet_summary": fleet_summary, "fleet_junit": fleet_junit}
