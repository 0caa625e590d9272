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

# Scenarios make test runs, in order: the failure itself, then each fix end to end, then the
# DNS-server roles on their own (port conflicts, wrong password).
MOLECULE_SCENARIOS ?= lab hairpin hosts split_dns_adguard split_dns_pihole adguard_home pihole

.PHONY: help bootstrap link images lint sanity unit integration molecule test demo lab-up lab-down clean clean-images benchmark benchmark-lab

help:
	@echo "make test   - lint, sanity, unit tests, molecule scenarios (what CI runs)"
	@echo "make demo   - bring up the lab, run site.yml on it, print per-client reachability"
	@echo "make unit | lint | sanity | molecule [MOLECULE_SCENARIOS='lab'] | lab-up | lab-down | benchmark | benchmark-lab"

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
	pytest -q -p no:cacheprovider -n 2 tests/unit tests/conformance

# Real ansible-playbook runs against the stand-in servers (no lab needed): the modules, the
# example inventory, and twenty sites converged in one site.yml run.
integration: bootstrap link
	pytest -q -p no:cacheprovider -n 2 tests/integration tests/sites

molecule: images link
	for s in $(MOLECULE_SCENARIOS); do echo "=== molecule test -s $$s"; $(LAB_LOCK) molecule test -s $$s || exit 1; done

test: lint sanity unit integration molecule

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
