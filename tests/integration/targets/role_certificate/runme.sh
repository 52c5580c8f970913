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
lock_dir="$work/certs/concurrent"
mkdir -m 0700 "$lock_dir"
python -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2] + ".held", "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
' "$lock_dir/order.json.lock" "$work/release-lock" &
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
declare -A runs
for id in a b; do
    PYTHONUNBUFFERED=1 ansible-playbook -i "$inventory" -e "@$config" -e "work_dir=$work" concurrent.yml -e "run_id=$id" "$@" \
        >"$work/concurrent-$id.log" 2>&1 &
    runs[$id]=$!
    started+=("$!")
done
# The banner of the task is printed before it runs: both runs are then at acme_order, held by the lock.
at_order() {
    local id
    for id in a b; do
        kill -0 "${runs[$id]}" 2>/dev/null || { cat "$work"/concurrent-*.log; echo "runme.sh: run $id ended before acme_order" >&2; exit 1; }
        grep -q 'Create or resume the order of concurrent' "$work/concurrent-$id.log" || return 1
    done
}
wait_for 300 "both runs to reach acme_order" at_order || { cat "$work"/concurrent-*.log; exit 1; }
touch "$work/release-lock"
wait "$holder"
rc_a=0 rc_b=0
wait "${runs[a]}" || rc_a=$?
wait "${runs[b]}" || rc_b=$?
started=()
cat "$work/concurrent-a.log" "$work/concurrent-b.log"
if ((rc_a != 0 || rc_b != 0)); then
    echo "runme.sh: the concurrent runs failed (run a: $rc_a, run b: $rc_b)" >&2
    exit 1
fi
run concurrent_check.yml "$@"
