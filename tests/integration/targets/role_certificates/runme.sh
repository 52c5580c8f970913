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
# hold_lock.py holds <dir>/shared/order.json.lock until both runs have reached their order step, so
# both have found no certificate and are about to order it; released, whichever gets the lock first
# orders, and the other resumes that order or finds the certificate written.
run both_roles_before.yml "$@"
mkdir -m 0700 "$work/certs/shared"
python hold_lock.py "$work/certs/shared/order.json.lock" "$work/release-lock" &
holder=$!
started+=("$holder")
wait_for() {  # wait_for <seconds> <what> <command...>: poll until the command succeeds
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@"; do
        ((SECONDS < deadline)) || { echo "runme.sh: timed out waiting for $what" >&2; return 1; }
        sleep 0.2
    done
}
wait_for 30 "the helper to hold the lock" test -e "$work/release-lock.held"
declare -A runs banners=([batch]='Decide and order what is due' [single]='Create or resume the order of shared')
for side in batch single; do
    PYTHONUNBUFFERED=1 ansible-playbook -i "$inventory" -e "@$config" -e "work_dir=$work" both_roles.yml -e "side=$side" "$@" \
        >"$work/both-$side.log" 2>&1 &
    runs[$side]=$!
    started+=("$!")
done
# A task's banner is printed before it runs: both runs are then at their order step, held by the lock.
at_order() {
    local side
    for side in batch single; do
        kill -0 "${runs[$side]}" 2>/dev/null || { cat "$work"/both-*.log; echo "runme.sh: the $side run ended before its order" >&2; exit 1; }
        grep -q "${banners[$side]}" "$work/both-$side.log" || return 1
    done
}
wait_for 300 "both runs to reach their order step" at_order || { cat "$work"/both-*.log; exit 1; }
touch "$work/release-lock"
wait "$holder"
rc_batch=0 rc_single=0
wait "${runs[batch]}" || rc_batch=$?
wait "${runs[single]}" || rc_single=$?
started=()
cat "$work/both-batch.log" "$work/both-single.log"
if ((rc_batch != 0 || rc_single != 0)); then
    echo "runme.sh: the runs on one certificate failed (batch: $rc_batch, single: $rc_single)" >&2
    exit 1
fi
run both_roles_check.yml "$@"
