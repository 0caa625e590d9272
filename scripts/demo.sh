#!/usr/bin/env bash
# make demo: bring up a fresh lab, show that LAN clients cannot reach rustdesk.example.com by name,
# run site.yml with a fix set chosen for the lab, and show the same clients before and after.
#   NATLOOP_DEMO_FIXES         comma-separated natloop_fixes (default split_dns,hairpin; also hosts)
#   NATLOOP_DEMO_DNS_PROVIDER  adguard_home (default) or pihole, for split_dns
#   NATLOOP_DEMO_LAB           field (default: the field lab of issue 13 - dual stack, RA naming the
#                              ISP resolver, public AAAA/HTTPS, rebind protection) or plain
# Extra arguments go to the site.yml run. The lab stays up for you to poke at; `make lab-down`
# removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
fixes=${NATLOOP_DEMO_FIXES:-split_dns,hairpin}
provider=${NATLOOP_DEMO_DNS_PROVIDER:-adguard_home}
case ${NATLOOP_DEMO_LAB:-field} in
  field) realistic=true ;;
  plain) realistic=false ;;
  *) echo "demo: NATLOOP_DEMO_LAB must be field or plain, not $NATLOOP_DEMO_LAB" >&2; exit 2 ;;
esac
case $provider in
  adguard_home|pihole) ;;
  *) echo "demo: NATLOOP_DEMO_DNS_PROVIDER must be adguard_home or pihole, not $provider" >&2; exit 2 ;;
esac
# The DNS server's lab settings (image, admin password, upstream = the lab's ISP resolver) are the
# ones its split-DNS molecule scenario uses: its inventories and its create playbook, one place.
scenario=molecule/split_dns_${provider%_home}
paths=$(python3 scripts/scenario_inventories.py "$scenario")
inventories=()
for path in $paths; do inventories+=(-i "$path"); done
reports=${NATLOOP_REPORT_DIR:-$PWD/reports}/demo
rm -rf "$reports" && mkdir -p "$reports"
log=/tmp/natloop-demo.log
: >"$log"
start=$(date +%s)
step() { printf '[demo %3ds] %s\n' "$(( $(date +%s) - start ))" "$*"; }
run() { "$@" >>"$log" 2>&1 || { tail -40 "$log"; echo "demo: failed, full log: $log" >&2; exit 1; }; }

step "fresh lab: router, server, two LAN clients, an outside host and a public DNS"
run ansible-playbook "${inventories[@]}" lab/lab_down.yml
run ansible-playbook "${inventories[@]}" "$scenario/create.yml" -e "{\"natloop_lab_realistic\": $realistic}"

step "before: diagnose.yml (changes nothing)"
NATLOOP_REPORT_DIR=$reports/before run ansible-playbook -i inventory/lab playbooks/diagnose.yml \
  -e natloop_fail_on_regression=false

fix_list=$(python3 -c 'import json, sys; print(json.dumps([f for f in sys.argv[1].split(",") if f]))' "$fixes")
step "fix: site.yml with natloop_fixes=$fix_list, DNS provider $provider"
NATLOOP_REPORT_DIR=$reports/after run ansible-playbook "${inventories[@]}" site.yml \
  -e "{\"natloop_fixes\": $fix_list, \"natloop_dns_provider\": \"$provider\", \"natloop_lab_realistic\": $realistic}" "$@"

step "done"
python3 - "$reports/before/fleet.json" "$reports/after/fleet.json" "$fixes" <<'EOF'
import json, sys
before, after = (json.load(open(path)) for path in sys.argv[1:3])
verdicts = dict(((c["client"], c["service"]), c) for c in after["cases"])
print("\n| client | name | before (no fix) | after (%s) |" % sys.argv[3].replace(",", " + "))
print("|---|---|---|---|")
for case in before["cases"]:
    now = verdicts.get((case["client"], case["service"]), {"verdict": "-", "reason": ""})
    print("| %s | %s | %s | %s |" % (case["client"], case["service"], case["verdict"], now["verdict"]))
print("\nWhy, after: " + "; ".join("%s: %s" % (c["client"], c["reason"]) for c in after["cases"]))
EOF
echo
echo "Reports: $reports/{before,after}/ (per site and fleet). Full log: $log."
echo "The lab is still up: make lab-down removes it."
