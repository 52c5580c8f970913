#!/usr/bin/env bash
# The local ACME test bed, all on 127.0.0.1:
#   challtestsrv  pebble-challtestsrv: DNS on :8053 (Pebble's resolver), management on :8055,
#                 http-01 responder on :5002, tls-alpn-01 responder on :5001
#   pebble        ACME directory https://127.0.0.1:14000/dir, management https://127.0.0.1:15000
#   pebble-eab    ACME directory https://127.0.0.1:14001/dir requiring External Account Binding,
#                 management https://127.0.0.1:15001
#
# Usage (from anywhere; paths are relative to the repository root):
#   testbed/testbed.sh start     start everything and wait until it answers. When all three
#                                services already run and answer, this is a no-op (so several
#                                make targets can share one test bed); anything half-running is
#                                stopped and started fresh.
#   testbed/testbed.sh restart   stop + start, e.g. to apply changed PEBBLE_* variables
#   testbed/testbed.sh stop      stop everything; logs stay in .testbed/logs/
#   testbed/testbed.sh status    what runs; exit 0 only when all three services answer
#   testbed/testbed.sh env       print .testbed/env (shell `export` lines for tests)
#   testbed/testbed.sh vars      print the same values as Ansible vars (YAML)
#   testbed/testbed.sh logs [N]  print the last N (default 30) lines of every log
#
# State lives in .testbed/: tls/ (throwaway CA + listener cert), the effective Pebble configs,
# env (0600, holds the EAB HMAC keys), run/*.pid, and logs/*.log (kept after stop).
#
# Environment:
#   PEBBLE_VA_NOSLEEP, PEBBLE_WFE_NONCEREJECT, PEBBLE_AUTHZREUSE, PEBBLE_VA_ALWAYS_VALID, ...
#       passed to both Pebbles untouched. None is set here: Pebble's defaults (5% rejected
#       nonces, random sleeps before validation) are part of what the tests must survive.
#   TESTBED_PEBBLE_STRICT   value for pebble -strict (default true)
#   TESTBED_DNS_SERVER      resolver Pebble validates against (default 127.0.0.1:8053)
#   TESTBED_START_TIMEOUT   seconds to wait for the services to answer (default 30)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

STATE=$ROOT/.testbed
TLS=$STATE/tls
RUN=$STATE/run
LOGS=$STATE/logs
ENV_FILE=$STATE/env
PEBBLE_CACHE=$ROOT/.cache/pebble
PEBBLE_BIN=$PEBBLE_CACHE/current/usr/bin

SERVICES=(challtestsrv pebble pebble-eab)
DIRECTORY_URL=https://127.0.0.1:14000/dir
EAB_DIRECTORY_URL=https://127.0.0.1:14001/dir
PEBBLE_MGMT_URL=https://127.0.0.1:15000
CHALLTESTSRV_URL=http://127.0.0.1:8055
CHALLTESTSRV_DNS=127.0.0.1:8053
# Pebble's httpPort: where it fetches http-01 tokens, served by challtestsrv.
CHALLTESTSRV_HTTP01=127.0.0.1:5002
DNS_SERVER=${TESTBED_DNS_SERVER:-$CHALLTESTSRV_DNS}
START_TIMEOUT=${TESTBED_START_TIMEOUT:-30}

log() { printf 'testbed: %s\n' "$*"; }
err() { printf 'testbed: ERROR: %s\n' "$*" >&2; }

# The venv's Python has `cryptography`; bootstrap creates it.
PY=$ROOT/.venv/bin/python

# Talks only to our own loopback listeners, so a proxy from the environment must not interfere.
lcurl() { curl --noproxy '*' --silent --show-error --max-time 3 "$@"; }

pid_of() {
    local pidfile=$RUN/$1.pid pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    # A stale PID file may name a recycled PID: only trust it while it still runs one of our
    # Pebble binaries.
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$PEBBLE_CACHE"/*/usr/bin/pebble* ]] || return 1
    printf '%s\n' "$pid"
}

# A daemon started by this very script that died is our unreaped child for a while, and
# `kill -0` still succeeds on it: a zombie counts as dead.
pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# Only for the start-up wait: right after spawn the PID may still be bash or setsid on its way
# to exec'ing Pebble, which pid_of would not recognise yet.
alive() { pid_alive "$(<"$RUN/$1.pid")"; }

probe() {
    case $1 in
        challtestsrv) lcurl -o /dev/null "$CHALLTESTSRV_URL/" 2>/dev/null ;;
        pebble) lcurl --cacert "$TLS/ca.pem" "$DIRECTORY_URL" 2>/dev/null | jq -e '.newNonce' >/dev/null 2>&1 ;;
        pebble-eab)
            lcurl --cacert "$TLS/ca.pem" "$EAB_DIRECTORY_URL" 2>/dev/null |
                jq -e '.newNonce and .meta.externalAccountRequired == true' >/dev/null 2>&1
            ;;
    esac
}

all_healthy() {
    local s
    for s in "${SERVICES[@]}"; do
        pid_of "$s" >/dev/null && probe "$s" || return 1
    done
}

show_logs() {
    local lines=${1:-30} f
    for f in "$LOGS"/*.log; do
        [[ -f $f ]] || continue
        printf '===== last %s lines of %s =====\n' "$lines" "${f#"$ROOT"/}"
        tail -n "$lines" "$f"
    done
}

cmd_stop() {
    local s pid i n names=() pids=()
    for s in "${SERVICES[@]}"; do
        if pid=$(pid_of "$s"); then
            kill -TERM "$pid" 2>/dev/null || true
            names+=("$s")
            pids+=("$pid")
        fi
        rm -f "$RUN/$s.pid"
    done
    # All at once, because Pebble takes about 2 s to shut down. They are not our children, so
    # `wait` cannot be used: poll for up to 10 s, then insist.
    for i in "${!pids[@]}"; do
        for ((n = 0; n < 50; n++)); do
            pid_alive "${pids[$i]}" || break
            sleep 0.2
        done
        if pid_alive "${pids[$i]}"; then
            log "${names[$i]} (pid ${pids[$i]}) ignored SIGTERM; sending SIGKILL"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
        log "stopped ${names[$i]} (pid ${pids[$i]})"
    done
    # The EAB keys and URLs are meaningless once the servers are gone; do not let tests use them.
    rm -f "$ENV_FILE"
}

# Starts a daemon in its own session so it outlives the calling shell or make and is not hit
# by a Ctrl-C aimed at a later command in the same terminal.
spawn() {
    local name=$1
    shift
    # fd 9 is our lock: the daemon must not inherit it, or it would hold the lock forever.
    setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
    printf '%s\n' "$!" >"$RUN/$name.pid"
}

b64url_secret() { head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }

fail_start() {
    local name=$1 why=$2
    err "$name $why"
    if [[ -f $LOGS/$name.log ]]; then
        printf '===== last 30 lines of %s =====\n' ".testbed/logs/$name.log" >&2
        tail -n 30 "$LOGS/$name.log" >&2
    fi
    cmd_stop >&2
    exit 1
}

cmd_start() {
    if all_healthy; then
        log "already running (use restart to start afresh)"
        return
    fi
    cmd_stop >/dev/null

    [[ -x $PEBBLE_BIN/pebble && -x $PEBBLE_BIN/pebble-challtestsrv ]] ||
        { err "no Pebble in $PEBBLE_CACHE/current; run scripts/bootstrap.sh"; exit 1; }
    [[ -x $PY ]] || { err "no $PY; run scripts/bootstrap.sh"; exit 1; }

    mkdir -p "$TLS" "$RUN" "$LOGS"
    "$PY" "$ROOT/testbed/gen_tls.py" "$TLS"

    # Fresh keys on every start: they are only valid for this run of the EAB Pebble.
    local kid1=certfleet-eab-1 kid2=certfleet-eab-2 hmac1 hmac2
    hmac1=$(b64url_secret)
    hmac2=$(b64url_secret)

    (
        umask 077
        jq --arg cert "$TLS/cert.pem" --arg key "$TLS/key.pem" \
            '.pebble.certificate = $cert | .pebble.privateKey = $key' \
            "$ROOT/testbed/pebble-config.json" >"$STATE/pebble-config.json"
        jq --arg cert "$TLS/cert.pem" --arg key "$TLS/key.pem" \
            --arg kid1 "$kid1" --arg hmac1 "$hmac1" --arg kid2 "$kid2" --arg hmac2 "$hmac2" \
            '.pebble.certificate = $cert | .pebble.privateKey = $key
             | .pebble.externalAccountMACKeys = {($kid1): $hmac1, ($kid2): $hmac2}' \
            "$ROOT/testbed/pebble-eab-config.json" >"$STATE/pebble-eab-config.json"
    )

    local passed
    passed=$(env | grep -o '^PEBBLE_[A-Z0-9_]*=.*' | tr '\n' ' ' || true)
    passed=${passed% }
    log "pebble $(readlink "$PEBBLE_CACHE/current"); environment passed to Pebble: ${passed:-(none, Pebble defaults)}"

    # Only loopback listeners: the test bed must not be reachable from the network. DoH and
    # HTTPS http-01 are off because nothing uses them (DoH would also need its own certificate).
    spawn challtestsrv "$PEBBLE_BIN/pebble-challtestsrv" \
        -dnsserver "$CHALLTESTSRV_DNS" \
        -management 127.0.0.1:8055 \
        -http01 "$CHALLTESTSRV_HTTP01" \
        -tlsalpn01 127.0.0.1:5001 \
        -https01 "" \
        -doh "" \
        -defaultIPv4 127.0.0.1 \
        -defaultIPv6 ""
    spawn pebble "$PEBBLE_BIN/pebble" -config "$STATE/pebble-config.json" \
        -dnsserver "$DNS_SERVER" -strict="${TESTBED_PEBBLE_STRICT:-true}"
    spawn pebble-eab "$PEBBLE_BIN/pebble" -config "$STATE/pebble-eab-config.json" \
        -dnsserver "$DNS_SERVER" -strict="${TESTBED_PEBBLE_STRICT:-true}"

    local deadline=$((SECONDS + START_TIMEOUT)) pending=("${SERVICES[@]}") still s
    while ((${#pending[@]} > 0)); do
        still=()
        for s in "${pending[@]}"; do
            alive "$s" || fail_start "$s" "exited during start-up"
            probe "$s" || still+=("$s")
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]} == 0)) && break
        ((SECONDS < deadline)) || fail_start "${pending[0]}" "did not answer within ${START_TIMEOUT}s (waiting for: ${pending[*]})"
        sleep 0.2
    done

    # Also set at run time (not only by flag) so the defaults are right even if a future
    # challtestsrv changes its flag defaults: http-01 must reach 127.0.0.1, and no AAAA answer,
    # or Pebble would try ::1 first.
    lcurl -f -X POST -d '{"ip":"127.0.0.1"}' "$CHALLTESTSRV_URL/set-default-ipv4" >/dev/null ||
        fail_start challtestsrv "rejected set-default-ipv4"
    lcurl -f -X POST -d '{"ip":""}' "$CHALLTESTSRV_URL/set-default-ipv6" >/dev/null ||
        fail_start challtestsrv "rejected set-default-ipv6"

    (
        umask 077
        {
            printf '# Written by testbed/testbed.sh start at %s; removed by stop.\n' "$(date -Iseconds)"
            printf 'export CERTFLEET_PEBBLE_DIRECTORY=%q\n' "$DIRECTORY_URL"
            printf 'export CERTFLEET_PEBBLE_EAB_DIRECTORY=%q\n' "$EAB_DIRECTORY_URL"
            printf 'export CERTFLEET_PEBBLE_CA=%q\n' "$TLS/ca.pem"
            printf 'export CERTFLEET_PEBBLE_MGMT=%q\n' "$PEBBLE_MGMT_URL"
            printf 'export CERTFLEET_CHALLTESTSRV=%q\n' "$CHALLTESTSRV_URL"
            printf 'export CERTFLEET_DNS_RESOLVER=%q\n' "$CHALLTESTSRV_DNS"
            printf 'export CERTFLEET_HTTP01_NODE=%q\n' "$CHALLTESTSRV_HTTP01"
            printf 'export CERTFLEET_EAB_KID=%q\n' "$kid1"
            printf 'export CERTFLEET_EAB_HMAC_KEY=%q\n' "$hmac1"
            printf 'export CERTFLEET_EAB_KID2=%q\n' "$kid2"
            printf 'export CERTFLEET_EAB_HMAC_KEY2=%q\n' "$hmac2"
        } >"$ENV_FILE.tmp"
        mv "$ENV_FILE.tmp" "$ENV_FILE"
    )
    log "running: ACME $DIRECTORY_URL, EAB $EAB_DIRECTORY_URL, challtestsrv $CHALLTESTSRV_URL (DNS $CHALLTESTSRV_DNS)"
    log "environment for tests: source .testbed/env"
}

cmd_status() {
    local s pid ok=0 state
    for s in "${SERVICES[@]}"; do
        if pid=$(pid_of "$s"); then
            if probe "$s"; then state="running (pid $pid), answering"; else state="running (pid $pid), NOT answering"; ok=1; fi
        else
            state=stopped
            ok=1
        fi
        printf '%-13s %s\n' "$s" "$state"
    done
    if [[ -L $PEBBLE_CACHE/current ]]; then
        printf '%-13s %s\n' version "$(readlink "$PEBBLE_CACHE/current")"
    fi
    return "$ok"
}

cmd_env() {
    [[ -f $ENV_FILE ]] || { err "no $ENV_FILE: the test bed is not running (testbed/testbed.sh start)"; exit 1; }
    cat "$ENV_FILE"
}

# YAML for `ansible-test integration` (integration_config.yml) and `ansible-playbook -e @file`.
cmd_vars() {
    [[ -f $ENV_FILE ]] || { err "no $ENV_FILE: the test bed is not running (testbed/testbed.sh start)"; exit 1; }
    # shellcheck source=/dev/null
    source "$ENV_FILE"
    local pair key var
    for pair in \
        acme_directory=CERTFLEET_PEBBLE_DIRECTORY \
        acme_eab_directory=CERTFLEET_PEBBLE_EAB_DIRECTORY \
        acme_ca_path=CERTFLEET_PEBBLE_CA \
        pebble_mgmt=CERTFLEET_PEBBLE_MGMT \
        challtestsrv=CERTFLEET_CHALLTESTSRV \
        dns_resolver=CERTFLEET_DNS_RESOLVER \
        http01_node=CERTFLEET_HTTP01_NODE \
        eab_kid=CERTFLEET_EAB_KID \
        eab_hmac_key=CERTFLEET_EAB_HMAC_KEY \
        eab_kid2=CERTFLEET_EAB_KID2 \
        eab_hmac_key2=CERTFLEET_EAB_HMAC_KEY2; do
        key=${pair%%=*}
        var=${pair#*=}
        # JSON strings are valid YAML scalars, and jq quotes anything safely.
        printf '%s: %s\n' "$key" "$(jq -n --arg v "${!var}" '$v')"
    done
}

main() {
    local cmd=${1:-}
    case $cmd in
        start | stop | restart | status)
            mkdir -p "$STATE"
            # Serialise start/stop so two make targets cannot interleave them.
            exec 9>"$STATE/.lock"
            flock -w 60 9 || { err "another testbed.sh holds $STATE/.lock"; exit 1; }
            case $cmd in
                start) cmd_start ;;
                stop) cmd_stop ;;
                restart) cmd_stop && cmd_start ;;
                status) cmd_status ;;
            esac
            ;;
        env) cmd_env ;;
        vars) cmd_vars ;;
        logs) show_logs "${2:-30}" ;;
        *)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
            exit 2
            ;;
    esac
}

main "$@"
