#!/usr/bin/env bash
# A hostile or broken CA: testbed/fault_proxy.py stands between the modules and the test bed's
# Pebble and tampers with Pebble's answers as rules say (tokens that climb out of a web root,
# orders and authorizations for other names, absurd Retry-After values, answers that are not JSON).
# The step modules, the certificate role, the certificates role (the batch) all run through it.
# Each case must end in a failed task (or a failed certificate of a batch) whose message says what
# the CA did, without a traceback, with nothing written or deleted outside certfleet's own files
# (a canary folder the tampered token points at), and no proof left published.
# The proxy listens on Pebble's IP, port 14200 (control: plain HTTP on 14201), and is stopped on exit.
# ansible-test runs it from the target's folder and passes only verbosity flags; the test bed's
# variables are in the integration_config.yml it copies two levels up.
set -eux

config=$(realpath ../../integration_config.yml)
config_var() { python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$config" "$1"; }
inventory=$(config_var fleet_inventory)
source ../setup_fault_proxy/fault_proxy.sh

work=$(mktemp -d)
# shellcheck disable=SC2317,SC2329  # run by the EXIT trap (SC2317 on shellcheck < 0.10)
finish() {
    stop_fault_proxy
    rm -rf "$work"
}
trap finish EXIT
export ANSIBLE_ROLES_PATH=

start_fault_proxy 14200 14201
# shellcheck disable=SC2154  # fault_proxy_base and fault_proxy_control are set by start_fault_proxy
run() {
    ansible-playbook -i "$inventory" -e "@$config" -e "work_dir=$work" -e "run_id=$$" \
        -e "proxy_directory=$fault_proxy_base/dir" -e "proxy_control=$fault_proxy_control" "$@"
}
run setup.yml "$@"
run step_modules.yml "$@"
run roles.yml "$@"
run certificates.yml "$@"
