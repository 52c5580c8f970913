#!/usr/bin/env bash
# shellcheck disable=SC2154  # work, run, run_unchanged and lock_race come from ../setup_role_runs/role_runs.sh
# certfleet.acme.certificate against the test bed's fleet: webroot (http-01 on every node of the
# load-balanced name), nsupdate (dns-01 wildcard + apex, dns-persist-01 written once) and custom
# providers; failures that must still remove the proofs; bad input (variables, names, TLS, DNS publishing
# mistakes) that must leave an existing certificate as it was; check mode; reruns with nothing to do.
# ansible-test runs it from the target's folder and passes only verbosity flags; the test bed's
# variables are in the integration_config.yml it copies two levels up.
set -eux

source ../setup_role_runs/role_runs.sh

run setup.yml "$@"
run http01.yml "$@"
run_unchanged rerun.yml -e scenario=http01 "$@"
run dns01.yml "$@"
run_unchanged rerun.yml -e scenario=dns01 "$@"
run dns_persist01.yml "$@"
run_unchanged rerun.yml -e scenario=dns_persist01 "$@"
run custom.yml "$@"
run_unchanged rerun.yml -e scenario=custom "$@"
run switch_ca.yml "$@"
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
