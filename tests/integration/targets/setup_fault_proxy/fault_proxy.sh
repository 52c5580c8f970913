# shellcheck shell=bash disable=SC2034  # fault_proxy_base and fault_proxy_control are for the scripts that source this
# Starts and stops testbed/fault_proxy.py in front of the test bed's Pebble, for the runme.sh of
# the targets that need it (faults, hostile_ca: their aliases say needs/target/setup_fault_proxy).
# Sourced, not run. The caller has set config_var (reads ../../integration_config.yml) and calls
# stop_fault_proxy from its EXIT trap.
#
#   start_fault_proxy PORT CONTROL_PORT   sets fault_proxy_base (https://IP:PORT, the directory is
#                                         $fault_proxy_base/dir) and fault_proxy_control (http://IP:CONTROL_PORT)
#   stop_fault_proxy
#
# The proxy serves TLS with the bed's listener certificate, valid for Pebble's IP, so it listens
# there too, on ports no service of the bed uses. Its log goes beside the bed's logs, which
# integration.sh prints when a target fails.

fault_proxy_pid=

start_fault_proxy() {
    local port=$1 control_port=$2 directory pebble_ip tls_dir log_dir proxy_log
    directory=$(config_var acme_directory)
    pebble_ip=${directory#https://}
    pebble_ip=${pebble_ip%%[:/]*}
    tls_dir=$(dirname "$(config_var acme_ca_path)")
    log_dir=$(config_var fleet_log_dir)
    proxy_log=$log_dir/fault-proxy-$port.log
    fault_proxy_base=https://$pebble_ip:$port
    fault_proxy_control=http://$pebble_ip:$control_port
    python "$(dirname "$(config_var testbed_script)")/fault_proxy.py" --listen "$pebble_ip:$port" --control "$pebble_ip:$control_port" \
        --upstream "$directory" --cert "$tls_dir/cert.pem" --key "$tls_dir/key.pem" --ca "$tls_dir/ca.pem" \
        --log "$log_dir/fault-proxy-$port.jsonl" >"$proxy_log" 2>&1 &
    fault_proxy_pid=$!
    for _ in $(seq 50); do
        if curl --noproxy '*' --silent --max-time 1 "$fault_proxy_control/health" >/dev/null; then
            return 0
        fi
        kill -0 "$fault_proxy_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "fault_proxy.sh: the fault proxy did not start; its log ($proxy_log):" >&2
    cat "$proxy_log" >&2
    return 1
}

stop_fault_proxy() {
    [[ -n $fault_proxy_pid ]] || return 0
    kill -TERM "$fault_proxy_pid" 2>/dev/null || true
    wait "$fault_proxy_pid" 2>/dev/null || true
    fault_proxy_pid=
}
