#!/usr/bin/env bash
# Runs examples/demo.yml against a local test bed. KEEP_TESTBED=1 leaves the test bed running
# afterwards (stop it with make testbed-stop). Extra arguments go to ansible-playbook.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection

if [[ ! -f $ROOT/examples/demo.yml ]]; then
    printf 'demo: examples/demo.yml does not exist yet; nothing to run.\n' >&2
    exit 1
fi

rc=1
# shellcheck disable=SC2317,SC2329  # run by the EXIT trap (SC2317 on shellcheck < 0.10)
finish() {
    if ((rc != 0)); then
        "$TESTBED" logs 30 || true
    fi
    if [[ ${KEEP_TESTBED:-0} == 1 ]]; then
        log "KEEP_TESTBED=1: test bed left running (variables: .testbed/vars.yml, stop: make testbed-stop)"
    else
        "$TESTBED" stop || true
    fi
}
trap finish EXIT

"$TESTBED" start
vars=$ROOT/.testbed/vars.yml
(umask 077 && "$TESTBED" vars >"$vars")

cd "$ROOT/examples"
inventory=()
# An examples/ansible.cfg names its own inventory; otherwise use an inventory file if present.
if [[ ! -f ansible.cfg ]]; then
    for f in inventory.yml inventory.ini inventory hosts.yml hosts; do
        if [[ -e $f ]]; then
            inventory=(-i "$f")
            break
        fi
    done
fi
rc=0
# Interpreter discovery would find the system or a pyenv shim without cryptography; an
# inventory's ansible_python_interpreter still takes precedence over this setting.
ANSIBLE_COLLECTIONS_PATH=$BUILD \
ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-$VENV/bin/python} \
    ansible-playbook "${inventory[@]}" demo.yml -e "@$vars" "$@" || rc=$?
exit "$rc"
