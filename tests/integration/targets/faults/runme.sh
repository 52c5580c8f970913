#!/usr/bin/env bash
# Issuance survives faults of a real Pebble:
#   nonces.yml         Pebble restarted with PEBBLE_WFE_NONCEREJECT=50: three certificates are
#                      still issued, and Pebble's log shows the rejected requests
#   killed_*.yml       Pebble killed (SIGKILL) between a validated order and its finalization:
#                      the files of the certificate stay as they were, and the same tasks then
#                      issue the renewal at the new CA, keeping the certificate key
#   retry_after.yml    Pebble behind testbed/fault_proxy.py, which answers chosen requests with
#                      429/503 and Retry-After (seconds or HTTP-date) or none: within
#                      retry_timeout each is retried no earlier than asked (the proxy's log
#                      shows when) and the certificate is issued; beyond it (an hour) the
#                      module fails at once, says when to retry, sends nothing more and leaves
#                      the files byte-identical.
#   ca_stops.yml       the same proxy holds every newOrder without an answer: a batch gives up
#                      after a bounded number of certificates, reports the rest not attempted
#                      and orders them all once the CA answers. This script starts the proxy on Pebble's IP,
#                      port 14100 (control: plain HTTP on 14101; ../setup_fault_proxy), and
#                      always stops it on exit.
# This target restarts the test bed. It rewrites ../../integration_config.yml after every
# restart (the secrets change) and, whatever happens, leaves a bed with default settings
# behind, so the targets after it find a normal bed that matches the file.
# ansible-test runs it from the target's folder and passes only verbosity flags; it passes on
# no environment either, so TESTBED_NET comes from the config file too.
set -eux

config=$(realpath ../../integration_config.yml)
config_var() { python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$config" "$1"; }
testbed=$(config_var testbed_script)
# Never restart another bed: the one we run on is the one the config file names.
TESTBED_NET=$(config_var testbed_net)
export TESTBED_NET
pebble_pidfile=$(dirname "$(config_var fleet_log_dir)")/run/pebble.pid

work=$(mktemp -d)
run_id=$$-$RANDOM
run() {
    ansible-playbook -i localhost, -c local -e 'ansible_python_interpreter={{ ansible_playbook_python }}' \
        -e "@$config" -e "work_dir=$work" -e "run_id=$run_id" "$@"
}

# ansible-test gives every target its own copy of tests/integration/integration_config.yml
# (ours is the ../../integration_config.yml above): the targets after this one read the
# original, in the content root, which is where ansible-test's results go (tests/output/junit).
configs=("$config")
if [[ -n ${JUNIT_OUTPUT_DIR:-} ]]; then
    source_config=$(dirname "$(dirname "$JUNIT_OUTPUT_DIR")")/integration/integration_config.yml
    [[ -f $source_config ]]
    configs+=("$source_config")
fi

write_config() {
    local file
    for file in "${configs[@]}"; do
        (umask 077 && "$testbed" vars >"$file.new")
        mv "$file.new" "$file"
    done
}

# A bed with Pebble's default settings (whatever PEBBLE_* this script was given).
restart_default() {
    (
        for var in $(compgen -e); do
            [[ $var != PEBBLE_* ]] || unset "$var"
        done
        "$testbed" restart
    )
    write_config
}

# The fault proxy of retry_after.yml, when it runs (started below).
source ../setup_fault_proxy/fault_proxy.sh

# shellcheck disable=SC2317,SC2329  # run by the EXIT trap (SC2317 on shellcheck < 0.10)
finish() {
    local rc=$?
    set +e
    stop_fault_proxy
    restart_default || rc=1
    rm -rf "$work"
    exit "$rc"
}
trap finish EXIT

# -- bad nonces -----------------------------------------------------------------
PEBBLE_WFE_NONCEREJECT=50 "$testbed" restart
write_config
run nonces.yml "$@"

# -- Pebble killed between order and finalize --------------------------------------
restart_default
run killed_before.yml "$@"

# A crash, not a shutdown: SIGKILL to Pebble alone, so it cannot finish anything in flight.
pid=$(<"$pebble_pidfile")
[[ $(readlink "/proc/$pid/exe") == */pebble ]]
kill -KILL "$pid"
for _ in $(seq 50); do
    [[ -e /proc/$pid && $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || break
    sleep 0.1
done
directory=$(config_var acme_directory)
if curl --noproxy '*' --silent --max-time 3 --cacert "$(config_var acme_ca_path)" "$directory" >/dev/null; then
    echo "runme.sh: Pebble still answers at $directory after SIGKILL" >&2
    exit 1
fi
# The rest of the bed still runs: restart it all, for a fresh Pebble (a new CA that knows no
# account and no order) with the zone and challtestsrv it expects.
restart_default
run killed_after.yml "$@"

# -- 429/503 with Retry-After, through the fault proxy ------------------------------------
# The bed killed_after.yml ran on is a default one.
start_fault_proxy 14100 14101
# shellcheck disable=SC2154  # fault_proxy_base and fault_proxy_control are set by start_fault_proxy
run retry_after.yml -e "proxy_directory=$fault_proxy_base/dir" -e "proxy_control=$fault_proxy_control" "$@"

# -- a CA that stops answering, through the same proxy ------------------------------------------
run ca_stops.yml -e "proxy_directory=$fault_proxy_base/dir" -e "proxy_control=$fault_proxy_control" "$@"
stop_fault_proxy
