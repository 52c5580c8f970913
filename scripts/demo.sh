#!/usr/bin/env bash
# Runs examples/demo.yml against the local test bed's fleet: starts Pebble, BIND and nginx if they
# do not run yet, issues and deploys the demo's certificates, and prints a table of what every web
# node serves. The test bed stays up afterwards, so a second `make demo` finds everything in place
# and reports changed=0; `make testbed-stop` stops it (a fresh start is a fresh CA and fleet).
# Extra arguments go to ansible-playbook.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection

rc=1
# shellcheck disable=SC2317,SC2329  # run by the EXIT trap (SC2317 on shellcheck < 0.10)
finish() {
    if ((rc != 0)); then
        "$TESTBED" logs 30 || true
    fi
    log "the test bed is still running (make testbed-stop stops it); the fleet's nodes answer on port 8443 (.testbed/inventory.yml)"
}
trap finish EXIT

"$TESTBED" start
vars=$ROOT/.testbed/vars.yml
(umask 077 && "$TESTBED" vars >"$vars")
inventory=$(sed -n 's/^fleet_inventory: "\(.*\)"$/\1/p' "$vars")
[[ -f $inventory ]] || die "the test bed wrote no fleet inventory ($inventory)"

cd "$ROOT/examples"
rc=0
ANSIBLE_COLLECTIONS_PATH=$BUILD \
ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-$VENV/bin/python} \
    ansible-playbook -i "$inventory" demo.yml -e "@$vars" "$@" || rc=$?
exit "$rc"
