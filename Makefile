# swarmops.swarm — one entry point for the test bed, the tests and the local demo.
#   make demo       bring up a three-node lab (node containers) and run site.yml + status.yml on it
#   make test       everything CI runs: unit, sanity, lint, module integration, every molecule scenario
#   make test-fast  the inner loop: unit tests and lint, no node containers
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV       := $(CURDIR)/.venv
BIN        := $(VENV)/bin
TESTBED    := tests/testbed
RELEASES   := bookworm trixie
SCENARIOS  := docker default ha
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: help
help:
	@grep -E '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

# ---- the test bed ---------------------------------------------------------------------------
.PHONY: engine venv images mirror testbed registry
engine: ## install and start a Docker engine on this machine when none answers
	bash $(TESTBED)/ensure-engine.sh

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## the Python virtualenv with the pinned toolchain
	bash $(TESTBED)/link-collection.sh

images: engine ## node images (bare Debian hosts) and the node images with an engine preinstalled
	bash $(TESTBED)/build-node-image.sh bookworm & b=$$!; \
	bash $(TESTBED)/build-node-image.sh trixie & t=$$!; wait $$b; wait $$t
	bash $(TESTBED)/build-engine-image.sh bookworm
	bash $(TESTBED)/build-engine-image.sh trixie
	bash $(TESTBED)/build-service-image.sh

mirror: images ## the signed local mirror of Docker's apt repository, served on the test networks
	bash $(TESTBED)/build-mirror.sh

testbed: venv images mirror registry ## everything the tests and the demo stand on

registry: images ## the test bed's private registry (TLS, htpasswd) with the service image pushed to it
	bash $(TESTBED)/registry.sh up

# ---- tests ----------------------------------------------------------------------------------
.PHONY: test test-fast unit lint sanity aws core-matrix integration integration-cluster integration-service integration-targets faults firewall-ssh objects rolling lifecycle molecule $(addprefix molecule-,$(SCENARIOS)) distribution registry
unit: venv ## unit tests of the pure logic (spec normalisation, diffs, argument checks)
	$(BIN)/pytest -q tests/unit tests/meta

.PHONY: site-spec
site-spec: venv ## after editing a role's argument spec: regenerate the one check site.yml makes (swarm_preflight's `site`)
	$(BIN)/python tests/unit/roles/site_spec.py --write

lint: venv ## yamllint, ansible-lint (production profile), antsibull-docs (plugin docs, links, guides)
	$(BIN)/yamllint -s .
	@# Its own ANSIBLE_HOME: a swarmops.swarm installed in ~/.ansible/collections would otherwise shadow this tree.
	ANSIBLE_HOME=$(CURDIR)/.cache/ansible-home $(BIN)/ansible-lint --offline --profile production
	bash tests/sanity/lint-docs.sh

sanity: venv ## ansible-test sanity on the installed-tree layout
	bash tests/sanity/run.sh

aws: venv ## the AWS playbooks, role and inventory against a local moto server (no AWS account, no containers)
	$(BIN)/pytest -q tests/aws

# The older ansible-core releases requires_ansible admits: sanity and the unit tests on each (the rest of the
# suites run on the pinned one). One small venv per release.
CORE_MATRIX := 2.17.14 2.18.19
CORE_VENVS  := $(foreach v,$(CORE_MATRIX),.cache/core-$(v)/.installed)
.cache/core-%/.installed:
	python3 -m venv .cache/core-$*
	.cache/core-$*/bin/pip install -q ansible-core==$* pytest==9.2.0 pyyaml
	touch $@

.PHONY: core-matrix
core-matrix: venv $(CORE_VENVS) ## sanity and unit tests on every older ansible-core that requires_ansible admits
	@for v in $(CORE_MATRIX); do \
	  echo "=== ansible-core $$v: unit"; .cache/core-$$v/bin/pytest -q -p no:cacheprovider tests/unit || exit 1; \
	  echo "=== ansible-core $$v: sanity"; VENV_BIN=$(CURDIR)/.cache/core-$$v/bin bash tests/sanity/run.sh || exit 1; \
	done

integration: integration-cluster integration-service integration-targets ## the modules against real engines: multi-node swarms, and single-node targets

integration-cluster: testbed ## swarm_init, swarm_join, swarm_info, swarm_node
	$(BIN)/pytest -q tests/integration/test_swarm_init.py tests/integration/test_swarm_join.py \
	  tests/integration/test_swarm_info.py tests/integration/test_swarm_node.py

integration-service: testbed ## swarm_service
	$(BIN)/pytest -q tests/integration/test_swarm_service.py

integration-targets: testbed ## each swarm module on one node: ansible-test integration targets (tests/integration/targets)
	bash tests/integration/run-targets.sh

$(addprefix molecule-,$(SCENARIOS)): molecule-%: testbed
	$(BIN)/molecule test -s $*

molecule: $(addprefix molecule-,$(SCENARIOS)) ## every molecule scenario

firewall-ssh: testbed ## the firewall role over real SSH, ufw and firewalld: SSH kept, who reaches what, published ports
	bash $(TESTBED)/build-ssh-image.sh bookworm
	bash $(TESTBED)/build-ssh-image.sh trixie
	$(BIN)/pytest -q -p no:cacheprovider tests/firewall_ssh

faults: testbed ## broken clusters healed (or refused) by a re-run, bad input, secrets
	$(BIN)/pytest -q --durations=10 tests/faults

rolling: testbed ## engine changes rolled over three managers one at a time, the swarm up throughout
	$(BIN)/pytest -q --durations=10 tests/rolling

lifecycle: testbed ## day 2 on one lab: labels, drain, promote/demote, remove, autolock key, rotations, reset
	$(BIN)/pytest -q --durations=10 tests/lifecycle

objects: testbed registry ## networks, secrets, configs, stacks and the private registry on a three-node swarm
	$(BIN)/pytest -q tests/objects

distribution: testbed ## build + install the tarball, ansible-doc, ansible-builder, ansible-runner job templates
	$(BIN)/pytest -q tests/distribution

test-fast: unit lint ## the inner loop

test: ## everything CI runs (see .ci/run)
	bash tests/run-all.sh

# ---- the local lab --------------------------------------------------------------------------
.PHONY: lab demo demo-down status
lab: testbed ## three node containers (manager1, worker1, worker2) on network swarmlab
	bash $(TESTBED)/lab.sh up

demo: lab ## the lab, then site.yml (the tutorial, then the app from the private registry) and status.yml
	bash $(TESTBED)/registry.sh connect swarmlab
	$(BIN)/ansible-playbook -i inventories/lab site.yml
	$(BIN)/ansible-playbook -i inventories/lab playbooks/status.yml

status: venv ## status.yml against the lab
	$(BIN)/ansible-playbook -i inventories/lab playbooks/status.yml

demo-down: ## remove the lab's node containers and network
	bash $(TESTBED)/lab.sh down

# ---- benchmarks -----------------------------------------------------------------------------
.PHONY: bench
bench: testbed ## the speed figures of bench/README.md, on a lab of its own
	$(BIN)/python bench/bench.py
