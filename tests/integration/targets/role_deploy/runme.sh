#!/usr/bin/env bash
# Integration test of the certfleet.acme.deploy role against the test bed's nginx fleet
# (web1..web3, ansible_connection: local), plus haproxy and apache configuration tests on
# minimal configurations. The test bed's variables (written by `testbed.sh vars` into
# tests/integration/integration_config.yml) name the fleet's inventory, which replaces
# ansible-test's own, and go to every playbook with the arguments of this script.
set -eux -o pipefail

# ansible-test copies integration_config.yml next to the targets it runs (../../ from here) but
# hands it (-e @file) only to role targets; a `-e @file` argument, when given, wins.
config=../../integration_config.yml
for arg in "$@"; do
    case $arg in
        @*) config=${arg#@} ;;
    esac
done
[[ -f $config ]] || { echo "runme.sh: no $config; run through scripts/integration.sh" >&2; exit 2; }
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")

config_value() {
    python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$config" "$1"
}
fleet_inventory=$(config_value fleet_inventory)
broken_conf=$(config_value nginx_conf_dir)/zz-certfleet-role-deploy-broken.conf
hosts=$(python -c 'import sys, yaml; print(" ".join(h["name"] for h in yaml.safe_load(open(sys.argv[1]))["fleet_hosts"]))' "$config")

# The controller side: the test CA and the certificate generations the role deploys from.
workdir=$(mktemp -d "${OUTPUT_DIR:-/tmp}/role_deploy.XXXXXX")
cleanup() {
    # A broken nginx configuration must not outlive an interrupted run.
    rm -f "$broken_conf"
    rm -rf "$workdir"
}
trap cleanup EXIT

playbook() {
    ansible-playbook -i "$fleet_inventory" -e "@$config" \
        -e "certfleet_test_workdir=$workdir" -e "certfleet_test_broken_conf=$broken_conf" "$@"
}

playbook setup.yml "$@"

# 1. Check mode: reports changes, writes nothing, no reload.
playbook check_mode.yml "$@"

# 2. v1 on all three hosts: files, modes, reload, served serial.
playbook deploy.yml -e generation=v1 "$@"

# 3. v1 again: nothing changes. The play asserts it, and every host's recap says changed=0.
playbook deploy.yml -e generation=v1 -e expect_change=false "$@" | tee "$workdir/rerun.log"
for host in $hosts; do
    grep -E "^$host +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0 " "$workdir/rerun.log"
done

# 4. v2: a new key and certificate, served after the reload. chain.pem (the same CA) keeps its
#    content but lost its mode, which the role sets back.
playbook deploy.yml -e generation=v2 -e drift_file=chain.pem "$@"

# 5. A broken nginx configuration: v3 fails, v2 stays on disk and served, nginx healthy after.
playbook broken_nginx.yml "$@"

# 6. haproxy (combined file, a failing test restores the files) and apache.
playbook other_servers.yml "$@"

# 7. v1 swapped in with a reload that fails (the playbook must fail, in the handler): the next run,
#    with nothing to install, still reloads.
if playbook reload_owed_fail.yml "$@" >"$workdir/reload_owed_fail.log" 2>&1; then
    cat "$workdir/reload_owed_fail.log"
    echo "runme.sh: the deployment with a failing reload command did not fail" >&2
    exit 1
fi
cat "$workdir/reload_owed_fail.log"
grep -q 'RUNNING HANDLER \[certfleet.acme.deploy : Reload the servers whose certificates changed\]' "$workdir/reload_owed_fail.log"
playbook reload_owed.yml "$@"
