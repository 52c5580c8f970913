# Build and test pipeline for certfleet.acme. Every target installs what it needs first
# (scripts/bootstrap.sh is fast when nothing is missing), so any target works in a fresh clone.
#
#   make test           bootstrap, collection, unit, sanity, lint, integration, molecule, demo (stops at the first failure)
#   make unit|sanity|lint|integration|molecule   one stage
#   make demo           issue + deploy the demo fleet's certificates on the local test bed (left running)
#   make bench          certfleet.acme vs community.crypto on a Pebble of its own (slow; not part of make test):
#                       BENCH_N="10 30 100" certificates per tool, BENCH_NET=127.0.9 (docs/performance.md)
#   make testbed-start / testbed-stop   the local Pebble test bed for manual work (see testbed/testbed.sh)
#   make clean          remove build/ and .testbed/ (keeps .venv and .cache)

SHELL := /bin/bash
.DEFAULT_GOAL := help
# Stages share the build tree and the test bed ports: never run them concurrently.
.NOTPARALLEL:

.PHONY: help bootstrap collection unit sanity lint testbed-start testbed-stop integration molecule test demo bench clean

help:
	@sed -n '1,/^$$/p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

bootstrap:
	@scripts/bootstrap.sh

collection: bootstrap
	@scripts/build-collection.sh

unit: collection
	@scripts/unit.sh

sanity: collection
	@scripts/sanity.sh

lint: collection
	@scripts/lint.sh

testbed-start: bootstrap
	@testbed/testbed.sh start

testbed-stop:
	@testbed/testbed.sh stop

integration: collection
	@scripts/integration.sh

molecule: collection
	@scripts/molecule.sh

test:
	@scripts/test.sh

demo: collection
	@scripts/demo.sh

# bench/run.sh installs, builds and starts its own test bed itself; empty BENCH_N means its default.
bench:
	@bench/run.sh $(BENCH_N)

# Stops the test bed first: its daemons would otherwise run on without their state directory.
clean:
	@if [[ -d .testbed ]]; then testbed/testbed.sh stop; fi
	rm -rf build .testbed
