#!/usr/bin/env bash
# certfleet.acme.certificate against the test bed's fleet: webroot (http-01 on every node of the
# load-balanced name), nsupdate (dns-01 wildcard + apex, dns-persist-01 written once) and custom
# providers; failures that must still remove the proofs; bad input (variables, names, TLS, DNS publishing
# mistakes) that must leave an existing certificate as it was; check mode; reruns with nothing to do.
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

# A run that must change nothing: the recap of localhost says changed=0 and failed=0.
run_unchanged() {
    local out
    out=$(run "$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
    printf '%s\n' "$out"
    grep -Eq '^localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' <<<"$out" ||
        { echo "runme.sh: expected changed=0 on the rerun of $*" >&2; return 1; }
}

run setup.yml "$@"
run http01.yml "$@"
run_unchanged rerun.yml -e scenario=http01 "$@"
run dns01.yml "$@"
run_unchanged rerun.yml -e scenario=dns01 "$@"
run dns_persist01.yml "$@"
run_unchanged rerun.yml -e scenario=dns_persist01 "$@"
run custom.yml "$@"
run_unchanged rerun.yml -e scenario=custom "$@"
run failures.yml "$@"
run hostile_webroot.yml "$@"
run bad_input.yml "$@"

# Two runs of one new certificate at the same time must give one order and one certificate.
# A helper process holds the certificate's lock (order.json.lock) until both runs have reached
# acme_order, so they are really concurrent there: each has found no certificate and is about
# to order one. Released, one creates the order and the other resumes it, then they take turns
# validating and finalizing; the second finalize finds the order done and keeps the certificate.
run concurrent_before.yml "$@"
mkdir -m 0700 "$work/certs/concurrent"
lock_race "$work/certs/concurrent/order.json.lock" "$work" concurrent.yml run_id \
    a 'Create or resume the order of concurrent' b 'Create or resume the order of concurrent' "$@"
run concurrent_check.yml "$@"
