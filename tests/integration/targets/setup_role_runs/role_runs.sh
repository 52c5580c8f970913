# shellcheck shell=bash
# Sourced by the runme.sh of the role targets (role_certificate, role_certificates: their aliases
# say needs/target/setup_role_runs), from their own folder, after `set -eux`. It gives them:
#   config, inventory   the test bed's variables (../../integration_config.yml) and its fleet
#   work, started       a scratch folder and the background processes to stop, both cleaned up on exit
#   run ARGS            ansible-playbook on the fleet with the bed's variables and work_dir
#   run_unchanged ARGS  the same, failing unless localhost's recap says changed=0 and failed=0
#   lock_race ...       two runs on one certificate made to meet at its lock (below)
# ansible-test passes role script targets no extra vars, so the variables come from the config file.

config=$(realpath ../../integration_config.yml)
inventory=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["fleet_inventory"])' "$config")

work=$(mktemp -d)
started=()  # background processes of the script, stopped if it ends early
role_runs_cleanup() {
    local pid
    for pid in "${started[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap role_runs_cleanup EXIT
export ANSIBLE_ROLES_PATH=
run() { ansible-playbook -i "$inventory" -e "@$config" -e "work_dir=$work" "$@"; }

run_unchanged() {
    local out
    out=$(run "$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
    printf '%s\n' "$out"
    grep -Eq '^localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' <<<"$out" ||
        { echo "runme.sh: expected changed=0 on the rerun of $*" >&2; return 1; }
}

# lock_race LOCK WORK PLAYBOOK VAR LABEL_A BANNER_A LABEL_B BANNER_B [ARGS...]
#   Holds LOCK (the certificate's order.json.lock, with the flock the modules take) and starts
#   PLAYBOOK twice through run(), with -e VAR=LABEL_A and -e VAR=LABEL_B (and ARGS). Once each run
#   has printed its BANNER (Ansible prints a task's banner before it runs it, so both are then
#   about to take the lock, each having found no certificate), the lock is let go and both runs
#   finish. Their output is printed; lock_race fails when either run failed. Logs are
#   WORK/race-LABEL.log.

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
