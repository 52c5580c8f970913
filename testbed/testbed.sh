#!/usr/bin/env bash
# The local test bed: an ACME CA and a simulated fleet, all on loopback addresses ($NET.x,
# default 127.0.0.x):
#   challtestsrv  pebble-challtestsrv: mock DNS on $NET.1:8053, management on :8055, http-01
#                 responder on :5002, tls-alpn-01 responder on :5001
#   named         BIND 9, authoritative for the fleet zone (fleet.test) on $NET.1:8054 (or on
#                 127.0.0.1 and a port of its own, see BIND_IP below), accepting
#                 TSIG-signed dynamic updates; every other name is forwarded to challtestsrv's DNS.
#                 Pebble resolves through it, so both the fleet's real records and challtestsrv's
#                 mock records validate.
#   pebble        ACME directory https://$NET.1:14000/dir, management https://$NET.1:15000
#   pebble-eab    ACME directory https://$NET.1:14001/dir requiring External Account Binding,
#                 management https://$NET.1:15001
#   nginx         the fleet hosts web1..web3 on $NET.2..$NET.4, each with an http-01 webroot on
#                 Pebble's httpPort (:5002) and on :80, and a TLS server on :8443 for its deployed certificate.
#                 www.fleet.test and fleet.test resolve to all three (load-balanced names);
#                 webN.fleet.test to one.
#
# Usage (from anywhere; paths are relative to the repository root):
#   testbed/testbed.sh start     start everything and wait until it answers. When all services
#                                already run and answer, this is a no-op (so several make targets
#                                and a second `make demo` share one test bed); anything
#                                half-running is stopped (a service that runs but does not
#                                answer gets its state printed), and a fresh start begins a fresh world:
#                                new CA, new zone, placeholder certificates on the fleet hosts.
#   testbed/testbed.sh restart   stop + start, e.g. to apply changed PEBBLE_* variables
#   testbed/testbed.sh stop      stop everything; logs stay in .testbed/logs/
#   testbed/testbed.sh status    what runs; exit 0 only when all services answer
#   testbed/testbed.sh env       print .testbed/env (shell `export` lines for tests)
#   testbed/testbed.sh vars      print the same values as Ansible vars (YAML), plus testbed_script
#                                and testbed_net, with which a target can restart this test bed
#   testbed/testbed.sh logs [N]  print the last N (default 30) lines of every log
#
# State lives in .testbed/: tls/ (throwaway CA + listener cert), the effective Pebble configs,
# bind/ (named.conf, zone, journal, TSIG key), nginx/ (config, conf.d/ with one file per host),
# fleet/webN/{webroot,tls}/ (what each simulated host serves), inventory.yml (the fleet as an
# Ansible inventory), env (0600, holds the EAB and TSIG secrets), run/*.pid, and logs/*.log
# (kept after stop).
#
# Environment:
#   PEBBLE_VA_NOSLEEP, PEBBLE_WFE_NONCEREJECT, PEBBLE_AUTHZREUSE, PEBBLE_VA_ALWAYS_VALID, ...
#       passed to both Pebbles untouched. None is set here: Pebble's defaults (5% rejected
#       nonces, random sleeps before validation) are part of what the tests must survive.
#   TESTBED_NET             first three octets of the loopback addresses (default 127.0.0); a
#                           second checkout can run its own test bed beside this one on 127.0.1
#   TESTBED_PEBBLE_STRICT   value for pebble -strict (default true)
#   TESTBED_DNS_SERVER      resolver Pebble validates against (default: named, $NET.1:8054)
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

BIND_DIR=$STATE/bind
NGINX_DIR=$STATE/nginx
FLEET=$STATE/fleet
INVENTORY=$STATE/inventory.yml

NET=${TESTBED_NET:-127.0.0}
[[ $NET =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { printf 'testbed: ERROR: TESTBED_NET=%s is not 127.X.Y\n' "$NET" >&2; exit 2; }
IP=$NET.1

SERVICES=(challtestsrv named pebble pebble-eab nginx)
DIRECTORY_URL=https://$IP:14000/dir
EAB_DIRECTORY_URL=https://$IP:14001/dir
PEBBLE_MGMT_URL=https://$IP:15000
CHALLTESTSRV_URL=http://$IP:8055
CHALLTESTSRV_DNS=$IP:8053
# Pebble's httpPort: where it fetches http-01 tokens. challtestsrv answers on $NET.1, the fleet
# hosts' nginx on their own addresses.
HTTP01_PORT=5002
CHALLTESTSRV_HTTP01=$IP:$HTTP01_PORT
# named (BIND 9) listens only on addresses an interface carries; the other services bind any
# 127.x address. Usually only 127.0.0.1 is on an interface, so for another $NET named listens on
# 127.0.0.1 instead, on a port of that $NET's own (127.X.Y: 20000 + (256X + Y) mod 40000).
# The addresses are read first and matched after: in a pipe under pipefail, `grep -q` stops
# reading at its match, `ip` may then die of SIGPIPE, and the pipe would count as no match. That
# once made a second `testbed.sh start` look for named on another port than the first had used.
interface_addresses=$(ip -4 -o addr show 2>/dev/null || true)
if grep -q " inet ${IP//./\\.}/" <<<"$interface_addresses"; then
    BIND_IP=$IP
    BIND_PORT=8054
else
    BIND_IP=127.0.0.1
    IFS=. read -r _ net_x net_y <<<"$NET"
    BIND_PORT=$((20000 + (10#$net_x * 256 + 10#$net_y) % 40000))
fi
BIND_DNS=$BIND_IP:$BIND_PORT
DNS_SERVER=${TESTBED_DNS_SERVER:-$BIND_DNS}
START_TIMEOUT=${TESTBED_START_TIMEOUT:-30}

FLEET_ZONE=fleet.test
FLEET_LB_NAME=www.$FLEET_ZONE
FLEET_HOSTS=(web1 web2 web3)
FLEET_TLS_PORT=8443
# Besides its default TLS server (www.fleet.test, certificate in fleet/webN/tls), every host serves
# these names by SNI, each with the certificate in fleet/webN/sites/<site>.
FLEET_SITES=(apps api)
declare -A FLEET_SITE_NAMES=([apps]="apps.fleet.test *.apps.fleet.test" [api]="api.fleet.test *.api.fleet.test")
TSIG_KEY_NAME=certfleet-tsig
TSIG_ALGORITHM=hmac-sha256
NGINX_CONF=$NGINX_DIR/nginx.conf
# What a deploy runs on these hosts instead of `nginx -t` / `systemctl reload nginx`.
NGINX_TEST_COMMAND="nginx -q -t -p $NGINX_DIR/ -c $NGINX_CONF -e $LOGS/nginx-error.log"
NGINX_RELOAD_COMMAND="nginx -p $NGINX_DIR/ -c $NGINX_CONF -e $LOGS/nginx-error.log -s reload"

host_address() {
    local i
    for i in "${!FLEET_HOSTS[@]}"; do
        [[ ${FLEET_HOSTS[$i]} == "$1" ]] && { printf '%s.%d\n' "$NET" $((i + 2)); return; }
    done
    return 1
}

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
    # A stale PID file may name a recycled PID: only trust it while it still runs the binary
    # this service was started with.
    local exe
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    case $1 in
        named) [[ $exe == "$(command -v named)" ]] ;;
        nginx) [[ $exe == "$(command -v nginx)" ]] ;;
        *) [[ $exe == "$PEBBLE_CACHE"/*/usr/bin/pebble* ]] ;;
    esac || return 1
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
        # dig prints "connection refused" on stdout too: only its exit status tells an answer.
        named)
            local soa
            soa=$(dig +time=1 +tries=1 +short -p "$BIND_PORT" "@$BIND_IP" SOA "$FLEET_ZONE" 2>/dev/null) && [[ -n $soa ]]
            ;;
        nginx)
            local h
            for h in "${FLEET_HOSTS[@]}"; do
                lcurl -o /dev/null "http://$(host_address "$h"):$HTTP01_PORT/" 2>/dev/null || return 1
            done
            ;;
        pebble) lcurl --cacert "$TLS/ca.pem" "$DIRECTORY_URL" 2>/dev/null | jq -e '.newNonce' >/dev/null 2>&1 ;;
        pebble-eab)
            lcurl --cacert "$TLS/ca.pem" "$EAB_DIRECTORY_URL" 2>/dev/null |
                jq -e '.newNonce and .meta.externalAccountRequired == true' >/dev/null 2>&1
            ;;
    esac
}

# Prints why the test bed cannot be reused, or nothing when every service's own process runs and
# answers. A running service gets up to 20 s to answer: on a loaded machine, or while nginx
# reloads, one probe may time out, and counting the bed as down would wipe its CA and fleet.
why_not_reusable() {
    local s n
    for s in "${SERVICES[@]}"; do
        pid_of "$s" >/dev/null || { printf '%s is not running\n' "$s"; return; }
    done
    for s in "${SERVICES[@]}"; do
        for ((n = 1; ; n++)); do
            probe "$s" && break
            if ((n >= 20)); then
                printf '%s runs but has not answered for %d s\n' "$s" "$n"
                return
            fi
            sleep 1
        done
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

# A fresh world on every real start: the CA is new, so the zone, the fleet's certificates and
# whatever a demo kept about them would only describe a CA that no longer exists.
reset_world() {
    rm -rf "$BIND_DIR" "$NGINX_DIR" "$FLEET" "$INVENTORY" "$STATE/demo"
    mkdir -p "$BIND_DIR" "$NGINX_DIR/conf.d" "$FLEET"
}

setup_bind() {
    (umask 077 && tsig-keygen -a "$TSIG_ALGORITHM" "$TSIG_KEY_NAME" >"$BIND_DIR/tsig.key")
    TSIG_SECRET=$(sed -n 's/^[[:space:]]*secret "\(.*\)";$/\1/p' "$BIND_DIR/tsig.key")
    [[ -n $TSIG_SECRET ]] || fail_start named "tsig-keygen wrote no secret"

    local h records=""
    for h in "${FLEET_HOSTS[@]}"; do
        records+=$(printf '@        IN A   %s\nwww      IN A   %s\n%-8s IN A   %s' \
            "$(host_address "$h")" "$(host_address "$h")" "$h" "$(host_address "$h")")$'\n'
    done
    cat >"$BIND_DIR/$FLEET_ZONE.zone" <<ZONE
\$TTL 60
@        IN SOA ns.$FLEET_ZONE. hostmaster.$FLEET_ZONE. 1 60 60 600 1
@        IN NS  ns.$FLEET_ZONE.
ns       IN A   $IP
$records
ZONE
    # Forwarded answers are not cached (max-cache-ttl 0): tests change challtestsrv's mock
    # records between validations and Pebble must see each change at once.
    cat >"$BIND_DIR/named.conf" <<CONF
include "$BIND_DIR/tsig.key";
options {
    directory "$BIND_DIR";
    pid-file none;
    session-keyfile "$BIND_DIR/session.key";
    listen-on port $BIND_PORT { $BIND_IP; };
    listen-on-v6 { none; };
    recursion yes;
    allow-query { 127.0.0.0/8; };
    allow-recursion { 127.0.0.0/8; };
    forward only;
    forwarders { $IP port 8053; };
    dnssec-validation no;
    max-cache-ttl 0;
    max-ncache-ttl 0;
    notify no;
};
controls { };
zone "$FLEET_ZONE" {
    type primary;
    file "$FLEET_ZONE.zone";
    update-policy { grant $TSIG_KEY_NAME zonesub ANY; };
};
CONF
    named-checkconf "$BIND_DIR/named.conf" >"$LOGS/named-checkconf.log" 2>&1 ||
        fail_start named-checkconf "rejected $BIND_DIR/named.conf"
}

setup_fleet() {
    local h addr user site
    user=$(id -un)
    for h in "${FLEET_HOSTS[@]}"; do
        addr=$(host_address "$h")
        mkdir -p "$FLEET/$h/webroot/.well-known/acme-challenge"
        # The certificates a host serves before the first deployment.
        "$PY" "$ROOT/testbed/gen_tls.py" --placeholder "$FLEET/$h/tls" "$h.$FLEET_ZONE"
        for site in "${FLEET_SITES[@]}"; do
            "$PY" "$ROOT/testbed/gen_tls.py" --placeholder "$FLEET/$h/sites/$site" "$site.$FLEET_ZONE"
        done
        cat >"$NGINX_DIR/conf.d/$h.conf" <<SITE
# $h: http-01 webroot on Pebble's httpPort and on port 80 (where a real node serves it, so
# self-tests of examples that name only the node's address find it), and the TLS server the
# deploy role installs into.
server {
    listen $addr:$HTTP01_PORT;
    listen $addr:80;
    server_name _;
    root $FLEET/$h/webroot;
    location / { try_files \$uri =404; }
}
server {
    listen $addr:$FLEET_TLS_PORT ssl;
    server_name _;
    ssl_certificate $FLEET/$h/tls/fullchain.pem;
    ssl_certificate_key $FLEET/$h/tls/privkey.pem;
    default_type text/plain;
    return 200 "$h\n";
}
SITE
        for site in "${FLEET_SITES[@]}"; do
            cat >>"$NGINX_DIR/conf.d/$h.conf" <<SITE
server {
    listen $addr:$FLEET_TLS_PORT ssl;
    server_name ${FLEET_SITE_NAMES[$site]};
    ssl_certificate $FLEET/$h/sites/$site/fullchain.pem;
    ssl_certificate_key $FLEET/$h/sites/$site/privkey.pem;
    default_type text/plain;
    return 200 "$h $site\n";
}
SITE
        done
    done
    cat >"$NGINX_CONF" <<CONF
# Written by testbed/testbed.sh; the hosts are in conf.d/.
user $user;
worker_processes 1;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $LOGS/nginx-error.log notice;
events { worker_connections 128; }
http {
    # Which host (server address) answered what: tests read this to see every node was asked.
    log_format fleet '\$server_addr:\$server_port \$remote_addr [\$time_local] "\$request" \$status '
                     '\$body_bytes_sent "\$http_host" "\$http_user_agent"';
    access_log $LOGS/nginx-access.log fleet;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    include $NGINX_DIR/conf.d/*.conf;
}
CONF
    # Word splitting of the command is wanted: it is a command line, as a deploy would run it.
    # shellcheck disable=SC2086
    $NGINX_TEST_COMMAND >"$LOGS/nginx-configtest.log" 2>&1 || fail_start nginx-configtest "rejected $NGINX_CONF"

    {
        printf '# The simulated fleet of the test bed (testbed/testbed.sh); every host is local.\n'
        printf 'all:\n  children:\n    web:\n      hosts:\n'
        for h in "${FLEET_HOSTS[@]}"; do
            printf '        %s:\n' "$h"
            printf '          fleet_address: %s\n' "$(host_address "$h")"
            printf '          fleet_webroot: %s\n' "$FLEET/$h/webroot"
            printf '          fleet_tls_dir: %s\n' "$FLEET/$h/tls"
            printf '          fleet_site_dirs:\n'
            for site in "${FLEET_SITES[@]}"; do
                printf '            %s: %s\n' "$site" "$FLEET/$h/sites/$site"
            done
        done
        printf '      vars:\n'
        printf '        ansible_connection: local\n'
        printf '        ansible_python_interpreter: %s\n' "$PY"
        printf '        fleet_tls_port: %s\n' "$FLEET_TLS_PORT"
        printf '        fleet_http_port: %s\n' "$HTTP01_PORT"
        printf '        fleet_nginx_test_command: %s\n' "$(jq -n --arg v "$NGINX_TEST_COMMAND" '$v')"
        printf '        fleet_nginx_reload_command: %s\n' "$(jq -n --arg v "$NGINX_RELOAD_COMMAND" '$v')"
    } >"$INVENTORY"
}

# What a service that runs but does not answer is doing, for the log of the run that found it so.
diagnose() {
    local s=$1 pid stat
    pid=$(pid_of "$s") || return 0
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || stat=
    printf '===== %s (pid %s): state %s, waiting in %s =====\n' "$s" "$pid" \
        "$(awk '{print $1}' <<<"${stat##*) }" 2>/dev/null)" "$(cat "/proc/$pid/wchan" 2>/dev/null || echo '?')"
    if [[ $s == named ]]; then
        dig +time=2 +tries=1 -p "$BIND_PORT" "@$BIND_IP" SOA "$FLEET_ZONE" 2>&1 | grep -v '^$' | head -n 20 || true
        dig +tcp +time=2 +tries=1 +short -p "$BIND_PORT" "@$BIND_IP" SOA "$FLEET_ZONE" 2>&1 | sed 's/^/over TCP: /' || true
    fi
    printf '===== last 15 lines of %s =====\n' ".testbed/logs/$s.log"
    tail -n 15 "$LOGS/$s.log" 2>/dev/null || true
}

cmd_start() {
    local why
    why=$(why_not_reusable)
    if [[ $why == *" runs but has not answered "* ]]; then
        diagnose "${why%% *}" >&2
    fi
    if [[ -z $why ]]; then
        log "already running (use restart to start afresh)"
        return
    fi
    # A fresh start is a fresh world: say why, since it throws away every certificate issued so far.
    if [[ -f $ENV_FILE ]]; then
        log "not reusing the running test bed ($why): starting afresh"
    fi
    cmd_stop >/dev/null

    [[ -x $PEBBLE_BIN/pebble && -x $PEBBLE_BIN/pebble-challtestsrv ]] ||
        { err "no Pebble in $PEBBLE_CACHE/current; run scripts/bootstrap.sh"; exit 1; }
    [[ -x $PY ]] || { err "no $PY; run scripts/bootstrap.sh"; exit 1; }

    local tool
    for tool in named named-checkconf tsig-keygen dig nginx; do
        command -v "$tool" >/dev/null || { err "no $tool; run scripts/bootstrap.sh"; exit 1; }
    done

    mkdir -p "$TLS" "$RUN" "$LOGS"
    "$PY" "$ROOT/testbed/gen_tls.py" "$TLS" "$IP"
    reset_world
    setup_bind
    setup_fleet

    # Fresh keys on every start: they are only valid for this run of the EAB Pebble.
    local kid1=certfleet-eab-1 kid2=certfleet-eab-2 hmac1 hmac2
    hmac1=$(b64url_secret)
    hmac2=$(b64url_secret)

    (
        umask 077
        jq --arg cert "$TLS/cert.pem" --arg key "$TLS/key.pem" --arg ip "$IP" \
            '.pebble.certificate = $cert | .pebble.privateKey = $key
             | .pebble.listenAddress = "\($ip):14000" | .pebble.managementListenAddress = "\($ip):15000"' \
            "$ROOT/testbed/pebble-config.json" >"$STATE/pebble-config.json"
        jq --arg cert "$TLS/cert.pem" --arg key "$TLS/key.pem" --arg ip "$IP" \
            --arg kid1 "$kid1" --arg hmac1 "$hmac1" --arg kid2 "$kid2" --arg hmac2 "$hmac2" \
            '.pebble.certificate = $cert | .pebble.privateKey = $key
             | .pebble.listenAddress = "\($ip):14001" | .pebble.managementListenAddress = "\($ip):15001"
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
        -management "$IP:8055" \
        -http01 "$CHALLTESTSRV_HTTP01" \
        -tlsalpn01 "$IP:5001" \
        -https01 "" \
        -doh "" \
        -defaultIPv4 "$IP" \
        -defaultIPv6 ""
    spawn named "$(command -v named)" -g -c "$BIND_DIR/named.conf"
    spawn pebble "$PEBBLE_BIN/pebble" -config "$STATE/pebble-config.json" \
        -dnsserver "$DNS_SERVER" -strict="${TESTBED_PEBBLE_STRICT:-true}"
    spawn pebble-eab "$PEBBLE_BIN/pebble" -config "$STATE/pebble-eab-config.json" \
        -dnsserver "$DNS_SERVER" -strict="${TESTBED_PEBBLE_STRICT:-true}"
    spawn nginx "$(command -v nginx)" -p "$NGINX_DIR/" -c "$NGINX_CONF" -e "$LOGS/nginx-error.log"

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
    # challtestsrv changes its flag defaults: http-01 must reach challtestsrv, and no AAAA answer,
    # or Pebble would try ::1 first.
    lcurl -f -X POST -d "{\"ip\":\"$IP\"}" "$CHALLTESTSRV_URL/set-default-ipv4" >/dev/null ||
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
            printf 'export CERTFLEET_FLEET_ZONE=%q\n' "$FLEET_ZONE"
            printf 'export CERTFLEET_FLEET_LB_NAME=%q\n' "$FLEET_LB_NAME"
            printf 'export CERTFLEET_FLEET_DNS=%q\n' "$BIND_DNS"
            printf 'export CERTFLEET_BIND_SERVER=%q\n' "$BIND_IP"
            printf 'export CERTFLEET_BIND_PORT=%q\n' "$BIND_PORT"
            printf 'export CERTFLEET_TSIG_KEY_NAME=%q\n' "$TSIG_KEY_NAME"
            printf 'export CERTFLEET_TSIG_KEY_ALGORITHM=%q\n' "$TSIG_ALGORITHM"
            printf 'export CERTFLEET_TSIG_KEY_SECRET=%q\n' "$TSIG_SECRET"
            printf 'export CERTFLEET_FLEET_INVENTORY=%q\n' "$INVENTORY"
            printf 'export CERTFLEET_NGINX_CONF_DIR=%q\n' "$NGINX_DIR/conf.d"
            printf 'export CERTFLEET_NGINX_TEST_COMMAND=%q\n' "$NGINX_TEST_COMMAND"
            printf 'export CERTFLEET_NGINX_RELOAD_COMMAND=%q\n' "$NGINX_RELOAD_COMMAND"
        } >"$ENV_FILE.tmp"
        mv "$ENV_FILE.tmp" "$ENV_FILE"
    )
    log "running: ACME $DIRECTORY_URL, EAB $EAB_DIRECTORY_URL, challtestsrv $CHALLTESTSRV_URL (DNS $CHALLTESTSRV_DNS)"
    log "fleet: BIND for $FLEET_ZONE on $BIND_DNS (Pebble resolves via $DNS_SERVER), nginx hosts ${FLEET_HOSTS[*]} on $NET.2-$NET.$((${#FLEET_HOSTS[@]} + 1)), inventory ${INVENTORY#"$ROOT"/}"
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
        eab_hmac_key2=CERTFLEET_EAB_HMAC_KEY2 \
        fleet_zone=CERTFLEET_FLEET_ZONE \
        fleet_lb_name=CERTFLEET_FLEET_LB_NAME \
        fleet_dns=CERTFLEET_FLEET_DNS \
        bind_server=CERTFLEET_BIND_SERVER \
        bind_port=CERTFLEET_BIND_PORT \
        tsig_key_name=CERTFLEET_TSIG_KEY_NAME \
        tsig_key_algorithm=CERTFLEET_TSIG_KEY_ALGORITHM \
        tsig_key_secret=CERTFLEET_TSIG_KEY_SECRET \
        fleet_inventory=CERTFLEET_FLEET_INVENTORY \
        nginx_conf_dir=CERTFLEET_NGINX_CONF_DIR \
        nginx_test_command=CERTFLEET_NGINX_TEST_COMMAND \
        nginx_reload_command=CERTFLEET_NGINX_RELOAD_COMMAND; do
        key=${pair%%=*}
        var=${pair#*=}
        # JSON strings are valid YAML scalars, and jq quotes anything safely.
        printf '%s: %s\n' "$key" "$(jq -n --arg v "${!var}" '$v')"
    done
    # The fleet hosts, for targets that add them to their inventory with add_host.
    local h hosts=()
    for h in "${FLEET_HOSTS[@]}"; do
        hosts+=("$(jq -cn --arg name "$h" --arg address "$(host_address "$h")" --arg webroot "$FLEET/$h/webroot" \
            --arg tls_dir "$FLEET/$h/tls" '{name: $name, address: $address, webroot: $webroot, tls_dir: $tls_dir}')")
    done
    printf 'fleet_hosts: %s\n' "$(printf '%s\n' "${hosts[@]}" | jq -cs .)"
    printf 'fleet_tls_port: %s\n' "$FLEET_TLS_PORT"
    printf 'fleet_http_port: %s\n' "$HTTP01_PORT"
    printf 'fleet_log_dir: %s\n' "$(jq -n --arg v "$LOGS" '$v')"
    # For targets that restart the bed (e.g. with other PEBBLE_* settings): this very script, by
    # absolute path (a copy elsewhere, as in the build tree, would keep its state in another
    # .testbed/), and the TESTBED_NET it runs on (ansible-test does not pass the environment on).
    printf 'testbed_script: %s\n' "$(jq -n --arg v "$ROOT/testbed/testbed.sh" '$v')"
    printf 'testbed_net: %s\n' "$(jq -n --arg v "$NET" '$v')"
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
