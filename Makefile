# natloop.lan: one entry point for developers and CI. `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
COLL_PATH := $(ROOT)/.collections
BUILD_COLL := $(ROOT)/.build/ansible_collections/natloop/lan
# Ansible never talks to Galaxy here: a closed local port is the tripwire.
export ANSIBLE_GALAXY_SERVER := http://127.0.0.1:9
export ANSIBLE_COLLECTIONS_PATH := $(COLL_PATH)
export ANSIBLE_PIPELINING := 1
export ANSIBLE_FORCE_COLOR := 0
export PATH := $(BIN):$(PATH)
export PYTHONPATH := $(COLL_PATH)
export MOLECULE_GLOB := molecule/*/molecule.yml

# The pip version ansible-test 2.19 bootstraps its sanity venvs with.
ANSIBLE_TEST_PIP := 24.2

# One lab per machine (fixed subnets and bridge names): every lab user takes this lock.
LAB_LOCK := flock /tmp/natloop-lab.lock

# The real peers (Pi-hole FTL, OpenWrt's uci/firewall4, the Pi-hole real-parts image): shared/peers
# next to the project (or the machine's /work/shared/peers), or where NATLOOP_PEERS says. Tests that
# need a missing peer are skipped, saying so.
NATLOOP_PEERS ?= $(firstword $(wildcard $(abspath $(ROOT)/../shared/peers) /work/shared/peers) $(abspath $(ROOT)/../shared/peers))
export NATLOOP_PEERS
NATLOOP_OPENWRT_PEER ?= $(NATLOOP_PEERS)/openwrt
export NATLOOP_OPENWRT_PEER

# Scenarios make test runs, in order: the failure itself, then each fix end to end, then the
# DNS-server roles on their own (port conflicts, wrong password).
MOLECULE_SCENARIOS ?= lab hairpin hairpin_wan hosts split_dns_adguard split_dns_pihole adguard_home pihole

.PHONY: docs-lint matrix ee-context help bootstrap link images lint sanity unit conformance-real integration integration-real-ftl molecule test demo lab-up lab-down clean clean-images benchmark benchmark-lab

help:
	@echo "make test   - lint, sanity, unit tests, molecule scenarios (what CI runs)"
	@echo "make demo   - bring up the lab, run site.yml on it, print per-client reachability"
	@echo "make unit | conformance-real | matrix | lint | docs-lint | sanity | integration | integration-real-ftl | molecule [MOLECULE_SCENARIOS='lab'] | lab-up | lab-down | benchmark | benchmark-lab | ee-context"

bootstrap:
	scripts/bootstrap-host.sh

link:
	@mkdir -p $(COLL_PATH)/ansible_collections/natloop
	@ln -sfn ../../.. $(COLL_PATH)/ansible_collections/natloop/lan

images: bootstrap
	scripts/build-images.sh

lint: bootstrap link
	@# ansible-lint prefers an installed copy of this collection over the tree it lints.
	@rm -rf $(HOME)/.ansible/collections/ansible_collections/natloop/lan
	cd $(ROOT) && ansible-lint --profile production
	$(MAKE) --no-print-directory docs-lint

# antsibull-docs's docsite linter: the collection's docs, and (--plugin-docs) every plugin's and
# role's documentation as the Ansible docsite renders it (markup, references, schema).
ANTSIBULL_DOCS ?= antsibull-docs
docs-lint: link
	$(ANTSIBULL_DOCS) lint-collection-docs --plugin-docs $(COLL_PATH)/ansible_collections/natloop/lan

# ansible-test wants the collection under ansible_collections/<ns>/<name>: sync a copy there.
sanity: bootstrap link
	@rm -rf $(ROOT)/.build && mkdir -p $(BUILD_COLL)
	@git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C $(BUILD_COLL) -xf -
	@# ansible-test's pip bootstrap host is unreachable here: give it an offline one.
	@mkdir -p $(HOME)/.ansible/test/cache && cp scripts/ansible_test_get_pip.py $(HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(ANSIBLE_TEST_PIP)).py
	@# Its own git repo: otherwise ansible-test asks the enclosing repo, which ignores .build/.
	@cd $(BUILD_COLL) && git init -q && git add -A
	cd $(BUILD_COLL) && ansible-test sanity --local --python 3.11 --requirements --color no $(SANITY_ARGS)

unit: bootstrap link
	pytest -q -p no:cacheprovider -n 2 tests/unit tests/conformance tests/packaging

# Sanity (the release-dependent tests) and plugin unit tests on the newest ansible-core (Python
# 3.12+, skipped with a message where there is none) and the oldest one meta/runtime.yml claims.
matrix: link
	scripts/core-matrix.sh

# The Pi-hole conformance tests once more, against the real pihole-FTL v6.4.1 of the peer,
# inside its run-isolated (own network namespace; nothing leaves the machine). Without the
# peer the tier is skipped, and pytest says so for every test. Override the peers' place
# with NATLOOP_PEERS=/path/to/shared/peers.
RUN_ISOLATED := $(NATLOOP_PEERS)/pihole-ftl/run-isolated
# Every run-isolated goes through scripts/real-ftl-run: the command's own exit status, and a timeout.
REAL_FTL_RUN := $(ROOT)/scripts/real-ftl-run
CONFORMANCE_REAL := pytest -q -p no:cacheprovider -rs -m real_ftl tests/conformance/test_pihole_contract.py
conformance-real: bootstrap link
	@if [ -x "$(RUN_ISOLATED)" ]; then \
	  echo "=== Pi-hole conformance against the real FTL ($(RUN_ISOLATED))"; \
	  NATLOOP_PIHOLE_GRAVITY_SCHEMA=$(NATLOOP_PEERS)/pihole-image/upstream/pi-hole/advanced/Templates/gravity.db.sql \
	    $(REAL_FTL_RUN) $(RUN_ISOLATED) -- $(CONFORMANCE_REAL); \
	else \
	  echo "=== SKIPPED: Pi-hole conformance against the real FTL: peer $(RUN_ISOLATED) not found"; \
	  NATLOOP_REAL_PIHOLE_PEER_MISSING=$(RUN_ISOLATED) $(CONFORMANCE_REAL); \
	fi

# Real ansible-playbook runs against the stand-in servers (no lab needed): the modules, the
# example inventory, and twenty sites converged in one site.yml run; then the same parallel-writer
# tests against the real Pi-hole FTL.
integration: bootstrap link
	pytest -q -rs -p no:cacheprovider -n 2 tests/integration tests/sites
	$(MAKE) --no-print-directory integration-real-ftl

# The real Pi-hole FTL v6.4.1 (a peer next to the project: ../shared/peers/pihole-ftl; another place with
# NATLOOP_PIHOLE_FTL_PEER). Its tests run inside its run-isolated (FTL and pytest in a network namespace of
# their own, ports of their own); without the peer they are skipped, saying so.
NATLOOP_PIHOLE_FTL_PEER ?= $(NATLOOP_PEERS)/pihole-ftl
REAL_FTL_TESTS := tests/integration/test_parallel_writers.py tests/integration/test_isolated_ftl.py -k real_ftl

integration-real-ftl: bootstrap link
	@if [ -x "$(NATLOOP_PIHOLE_FTL_PEER)/run-isolated" ]; then \
	  echo "=== real Pi-hole FTL: $(REAL_FTL_TESTS) inside $(NATLOOP_PIHOLE_FTL_PEER)/run-isolated"; \
	  $(REAL_FTL_RUN) "$(NATLOOP_PIHOLE_FTL_PEER)/run-isolated" --web-port 18181 --dns-port 15381 -- \
	    pytest -q -rs -s -p no:cacheprovider $(REAL_FTL_TESTS); \
	else \
	  echo "SKIPPED: the real Pi-hole FTL tests ($(REAL_FTL_TESTS)): $(NATLOOP_PIHOLE_FTL_PEER)/run-isolated is missing (set NATLOOP_PIHOLE_FTL_PEER)"; \
	fi

# Each scenario's output also goes to .build/logs; on a failure the failed tasks are printed last,
# where a CI log's tail shows them (the middle of a long log is cut). A failed scenario runs once
# more from scratch (MOLECULE_TRIES=1: never): a lab timing flake passes then, a defect fails again.
# A pass on the second try is printed at the end with the first try's failed tasks, never hidden.
MOLECULE_TRIES ?= 2
molecule: images link
	@mkdir -p $(ROOT)/.build/logs; second_tries=""; \
	for s in $(MOLECULE_SCENARIOS); do \
	  for try in $$(seq 1 $(MOLECULE_TRIES)); do \
	    echo "=== molecule test -s $$s (try $$try of $(MOLECULE_TRIES))"; log=$(ROOT)/.build/logs/molecule-$$s.try$$try.log; \
	    if $(LAB_LOCK) molecule test -s $$s 2>&1 | tee "$$log"; then break; fi; \
	    python $(ROOT)/scripts/ansible_failures.py "$$log"; \
	    [ "$$try" -lt $(MOLECULE_TRIES) ] || { echo "=== molecule test -s $$s FAILED $$try time(s)"; exit 1; }; \
	    second_tries="$$second_tries $$s"; \
	  done; \
	done; \
	for s in $$second_tries; do \
	  echo "=== molecule: $$s passed only on a later try; what failed first:"; \
	  python $(ROOT)/scripts/ansible_failures.py $(ROOT)/.build/logs/molecule-$$s.try1.log; \
	done

# The steps in order, each timed (CI's log then says where its time went); the first failure stops.
TEST_STEPS := lint sanity unit conformance-real matrix integration molecule
test:
	@total=$$(date +%s); for step in $(TEST_STEPS); do \
	  start=$$(date +%s); \
	  $(MAKE) --no-print-directory $$step || { echo "=== make test: $$step FAILED after $$(( $$(date +%s) - start )) s"; exit 1; }; \
	  echo "=== make test: $$step took $$(( $$(date +%s) - start )) s ($$(( $$(date +%s) - total )) s so far)"; \
	done

lab-up: images link
	$(LAB_LOCK) ansible-playbook -i inventory/lab lab/lab_up.yml

lab-down: link
	$(LAB_LOCK) ansible-playbook -i inventory/lab lab/lab_down.yml

demo: images link
	$(LAB_LOCK) scripts/demo.sh

benchmark: bootstrap link
	python tests/benchmark/records_benchmark.py
	python tests/benchmark/sites_benchmark.py

# First run with the DNS server's deployment vs no-op, one site on the lab.
benchmark-lab: images link
	python tests/benchmark/lab_site_benchmark.py

clean: lab-down
	rm -rf .build .cache

# The image cache (debootstrap base, lab, stand-in and real-parts Pi-hole images) that make test otherwise reuses.
clean-images:
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^natloop-(lab|standin|peer)/' | xargs -r docker rmi

# The execution environment's build context (AWX/AAP): the collection tarball, then
# ansible-builder create. Building the image needs a registry, which this machine lacks.
ee-context: bootstrap
	rm -rf dist .build/ee && mkdir -p dist
	ansible-galaxy collection build --output-path dist .
	cp dist/natloop-lan-*.tar.gz dist/natloop-lan.tar.gz
	ansible-builder create -f execution-environment.yml -c .build/ee --output-filename Containerfile
