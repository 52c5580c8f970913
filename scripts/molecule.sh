#!/usr/bin/env bash
# `molecule test` of the scenario in extensions/molecule/ (default: certfleet.acme.certificate
# over http-01 on the fleet), run from the build tree against a freshly started local test bed.
# The test bed is stopped afterwards in every case; on failure the service logs are printed.
# Extra arguments go to `molecule test`, e.g. scripts/molecule.sh --destroy=never
#
# Environment:
#   MOLECULE_SCENARIO   scenario to run (default: default)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection

SCENARIO=${MOLECULE_SCENARIO:-default}
# Our own state, inside the build tree: the test bed's variables, molecule's ephemeral folder (its
# generated inventory, ansible.cfg and state) and an Ansible home. Molecule would otherwise keep
# the ephemeral folder under ~/.ansible/tmp, named after the project folder, which every
# checkout's build tree shares ("acme"), and it creates ~/.ansible/collections.
WORK=$BUILD/molecule

rc=1
# shellcheck disable=SC2317,SC2329  # run by the EXIT trap (SC2317 on shellcheck < 0.10)
finish() {
    if ((rc != 0)); then
        "$TESTBED" logs 30 || true
    fi
    "$TESTBED" stop || true
    # Holds the test bed's secrets (TSIG key, EAB keys).
    rm -f "$WORK/testbed-vars.yml"
}
trap finish EXIT

command -v molecule >/dev/null || die "molecule is not in $VENV; run scripts/bootstrap.sh (make bootstrap)"

"$TESTBED" start
rm -rf "$WORK"
mkdir -p "$WORK/ephemeral"
(umask 077 && "$TESTBED" vars >"$WORK/testbed-vars.yml")

# What extensions/molecule/*/molecule.yml reads: the test bed's variables and its inventory.
export CERTFLEET_TESTBED_VARS=$WORK/testbed-vars.yml
CERTFLEET_FLEET_INVENTORY=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["fleet_inventory"])' "$CERTFLEET_TESTBED_VARS")
export CERTFLEET_FLEET_INVENTORY
export MOLECULE_EPHEMERAL_DIRECTORY=$WORK/ephemeral
export ANSIBLE_HOME=$WORK/ansible-home
# Colour codes only clutter CI logs.
[[ -t 1 ]] || export NO_COLOR=1

# From the collection's root (galaxy.yml) molecule looks for scenarios in extensions/molecule/.
cd "$COLLECTION"
start=$SECONDS
rc=0
molecule test --scenario-name "$SCENARIO" "$@" || rc=$?
log "molecule test --scenario-name $SCENARIO took $((SECONDS - start))s (exit $rc)"
exit "$rc"
