# shellcheck shell=bash
# Sourced by the role targets' runme.sh: two runs on one certificate made to meet at its lock.
#
# lock_race LOCK WORK PLAYBOOK VAR LABEL_A BANNER_A LABEL_B BANNER_B [ARGS...]
#   Holds LOCK (the certificate's order.json.lock, with the flock the modules take) and starts
#   PLAYBOOK twice through the caller's run(), with -e VAR=LABEL_A and -e VAR=LABEL_B (and ARGS).
#   Once each run has printed its BANNER (Ansible prints a task's banner before it runs it, so both
#   are then about to take the lock, each having found no certificate), the lock is let go and
#   both runs finish. Their output is printed; lock_race fails when either run failed. Logs are
#   WORK/race-LABEL.log. The caller's started array gets the background processes, for its cleanup.

lock_race_dir=$(dirname "${BASH_SOURCE[0]}")
declare -gA lock_race_runs=() lock_race_banners=()

lock_race_wait() {  # lock_race_wait <seconds> <what> <command...>: poll until the command succeeds
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@"; do
        ((SECONDS < deadline)) || { echo "lock_race: timed out waiting for $what" >&2; return 1; }
        sleep 0.2
    done
}

lock_race_at_lock() {  # lock_race_at_lock <work>: whether every run printed its banner; exits when one ended early
    local work=$1 label
    for label in "${!lock_race_runs[@]}"; do
        kill -0 "${lock_race_runs[$label]}" 2>/dev/null || { cat "$work"/race-*.log; echo "lock_race: run $label ended before its order" >&2; exit 1; }
        grep -q "${lock_race_banners[$label]}" "$work/race-$label.log" || return 1
    done
}

lock_race() {
    local lock=$1 work=$2 playbook=$3 var=$4 label_a=$5 banner_a=$6 label_b=$7 banner_b=$8
    shift 8
    python "$lock_race_dir/hold_lock.py" "$lock" "$work/release-lock" &
    local holder=$!
    started+=("$holder")
    lock_race_wait 30 "the helper to hold the lock" test -e "$work/release-lock.held"
    lock_race_runs=()
    lock_race_banners=(["$label_a"]=$banner_a ["$label_b"]=$banner_b)
    local label
    for label in "$label_a" "$label_b"; do
        PYTHONUNBUFFERED=1 run "$playbook" -e "$var=$label" "$@" >"$work/race-$label.log" 2>&1 &
        lock_race_runs[$label]=$!
        started+=("$!")
    done
    lock_race_wait 300 "both runs to reach their order step" lock_race_at_lock "$work" || { cat "$work"/race-*.log; return 1; }
    touch "$work/release-lock"
    wait "$holder"
    local rc_a=0 rc_b=0
    wait "${lock_race_runs[$label_a]}" || rc_a=$?
    wait "${lock_race_runs[$label_b]}" || rc_b=$?
    cat "$work/race-$label_a.log" "$work/race-$label_b.log"
    if ((rc_a != 0 || rc_b != 0)); then
        echo "lock_race: the runs on one certificate failed ($label_a: $rc_a, $label_b: $rc_b)" >&2
        return 1
    fi
}
