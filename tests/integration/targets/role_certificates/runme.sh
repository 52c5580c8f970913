#!/usr/bin/env bash
# shellcheck disable=SC2154  # work, run, run_unchanged and lock_race come from ../setup_role_runs/role_runs.sh
# certfleet.acme.certificates against the test bed's fleet: a batch over http-01 through the
# webroot provider (one task per node) with one certificate the CA cannot validate, the failure at
# the role's end, a rerun with nothing due, dns-01 through the nsupdate provider (one update for the
# zone), AWX job slicing as two runs limited to different hosts, an existing account key imported
# into a new credentials file (check mode first), an account created on the first run, and this role and certfleet.acme.certificate at
# the same time on one certificate.
# ansible-test runs it from the target's folder and passes only verbosity flags; the test bed's
# variables are in the integration_config.yml it copies two levels up.
set -eux

source ../setup_role_runs/role_runs.sh

run setup.yml "$@"
run http01.yml "$@"
run_unchanged rerun.yml "$@"
run dns01.yml "$@"
# Two slices of one job: web1 first, then web2 and web3.
run slices.yml --limit web1 "$@"
run slices.yml --limit web2,web3 "$@"
run bad_input.yml "$@"
run import_key.yml "$@"
run new_account.yml "$@"
run_unchanged new_account_rerun.yml "$@"

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
