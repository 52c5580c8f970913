#!/usr/bin/env bash
# The benchmark: certfleet.acme against community.crypto on one local Pebble, in one command.
#
#   bench/run.sh [N ...]          default N: 10 30 100 (certificates per tool and run)
#   make bench [BENCH_N="10 30"]
#
# It installs what is missing (scripts/bootstrap.sh), builds the collection, starts the test bed
# on its own addresses with Pebble's fault injection off, issues N certificates with each tool,
# checks every one, times the nightly run with nothing due, prints the tables and writes
# bench/results/<run id>/{results.json,results.csv,table.txt} (bench/results/latest points there).
# The test bed is stopped at the end, also after a failure. See bench/README.md.
#
# Environment:
#   BENCH_NET        first three octets of the test bed's loopback addresses (default 127.0.9),
#                    handed to testbed/testbed.sh as TESTBED_NET
#   BENCH_TOOLS      which tools, space-separated (default: all: cc_two_step cc_order certfleet certfleet_role)
#   BENCH_KEEP_BED   1 = leave the test bed running afterwards (stop it with
#                    TESTBED_NET=$BENCH_NET testbed/testbed.sh stop)
#   BENCH_KEEP_WORK  1 = keep the certificates and keys under build/bench/<run id>/
set -euo pipefail
# Checked with the file it sources under `shellcheck -x`; plain shellcheck cannot follow it (SC1091).
# shellcheck source=../scripts/lib.sh source-path=SCRIPTDIR disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"

BENCH_NET=${BENCH_NET:-127.0.9}
[[ $BENCH_NET =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "BENCH_NET=$BENCH_NET is not 127.X.Y"

for n in "$@"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive whole number, got '$n' (usage: bench/run.sh [N ...])"
done

scripts/bootstrap.sh
scripts/build-collection.sh

# The test bed keeps its state in .testbed/ of this checkout, whatever its addresses: a bed that
# already runs here (make demo, make testbed-start) would be stopped by ours. Leave it alone.
# Read first, matched after: under pipefail, grep -q ending the pipe early could hide a match.
bed_status=$("$TESTBED" status 2>/dev/null || true)
if grep -q 'running (pid' <<<"$bed_status"; then
    die "a test bed of this checkout is running; stop it first (make testbed-stop), the benchmark starts its own"
fi

# Only the settings the benchmark is defined with reach Pebble: no random validation sleeps, no
# rejected nonces, no reused authorizations (every order needs its validation).
while IFS= read -r var; do
    unset "$var"
done < <(compgen -e | grep '^PEBBLE_' || true)
export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0
export TESTBED_NET=$BENCH_NET

stop_bed() {
    rm -f "$vars_file"
    if [[ ${BENCH_KEEP_BED:-0} == 1 ]]; then
        log "test bed left running on $BENCH_NET (TESTBED_NET=$BENCH_NET testbed/testbed.sh stop)"
    else
        "$TESTBED" stop >/dev/null || true
    fi
}
vars_file=build/bench/testbed-vars.yml
trap stop_bed EXIT

log "starting the test bed on $BENCH_NET"
"$TESTBED" restart

mkdir -p build/bench bench/results
# Holds the test bed's TSIG and EAB secrets too: private, and removed at the end.
(umask 077 && "$TESTBED" vars >"$vars_file")

args=(--testbed-vars "$vars_file")
if [[ -n ${BENCH_TOOLS:-} ]]; then
    read -r -a tools <<<"$BENCH_TOOLS"
    args+=(--tools "${tools[@]}")
fi
[[ ${BENCH_KEEP_WORK:-0} == 1 ]] && args+=(--keep-work)

# The sizes first: --tools takes every word after it.
"$VENV/bin/python" bench/bench.py "$@" "${args[@]}"
