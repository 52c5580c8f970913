#!/usr/bin/env bash
# certfleet.acme.certificates against the test bed's fleet: a batch over http-01 through the
# webroot provider (one task per node) with one certificate the CA cannot validate, the failure at
# the role's end, a rerun with nothing due, dns-01 through the nsupdate provider (one update for the
# zone), AWX job slicing as two runs limited to different hosts, and this role and
# certfleet.acme.certificate at the same time on one certificate.
# ansible-test runs it from the target's folder and passes only verbosity flags; the test bed's
# variables are in the integration_config.yml it copies two levels up.
set -eux

config=$(realpath ../../integration_config.yml)
inventory=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["fleet_inventory"])' "$config")

work=$(mktemp -d)
started=()  # background processes of this script, stopped if it ends early
cleanup() {
    local pid
    for pid in "${started[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
export ANSIBLE_ROLES_PATH=
run() { ansible-playbook -i "$inventory" -e "@$config" -e "work_dir=$work" "$@"; }
source ../setup_lock_race/lock_race.sh

run setup.yml "$@"
run http01.yml "$@"
out=$(run rerun.yml "$@" 2>&1) || { printf '%s\n' "$out"; exit 1; }
printf '%s\n' "$out"
grep -Eq '^localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' <<<"$out" ||
    { echo "runme.sh: expected changed=0 on the rerun" >&2; exit 1; }
run dns01.yml "$@"
# Two slices of one job: web1 first, then web2 and web3.
run slices.yml --limit web1 "$@"
run slices.yml --limit web2,web3 "$@"
run bad_input.yml "$@"

# The batch and certfleet.acme.certificate on one new certificate at the same time must take turns
# on its lock: one order at the CA, one certificate written by one of them, the other seeing it.
# lock_race holds <dir>/shared/order.json.lock until both runs have reached their order step, so
# both have found no certificate and are about to order it; released, whichever gets the lock first
# orders, and the other resumes that order or finds the certificate written.
run both_roles_before.yml "$@"
mkdir -m 0700 "$work/certs/shared"
lock_race "$work/certs/shared/order.json.lock" "$work" both_roles.yml side \
    batch 'Decide and order what is due' single 'Create or resume the order of shared' "$@"
run both_roles_check.yml "$@"
