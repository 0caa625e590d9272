#!/usr/bin/env bash
# make demo: bring up the lab, run the collection's entry playbook on it, print per client whether
# rustdesk.example.com is reachable. The lab stays up for you to poke at; `make lab-down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
export NATLOOP_REPORT_DIR=${NATLOOP_REPORT_DIR:-$PWD/reports}
rm -f "$NATLOOP_REPORT_DIR"/*.md
ansible-playbook -i inventory/lab lab/lab_up.yml >/tmp/natloop-lab-up.log || { tail -30 /tmp/natloop-lab-up.log; exit 1; }
ansible-playbook -i inventory/lab site.yml "$@" >/tmp/natloop-demo.log || { tail -40 /tmp/natloop-demo.log; exit 1; }
echo
cat "$NATLOOP_REPORT_DIR"/*.md
echo
echo "Full log: /tmp/natloop-demo.log. The lab is still up: make lab-down removes it."
