#!/usr/bin/env bash
# certfleet.acme.certificates against the test bed's fleet: a batch over http-01 through the
# webroot provider (one task per node) with one certificate the CA cannot validate, the failure at
# the role's end, a rerun with nothing due, dns-01 through the nsupdate provider (one update for the
# zone), and AWX job slicing as two runs limited to different hosts.
# ansible-test runs it from the target's folder and passes only verbosity flags; the test bed's
# variables are in the integration_config.yml it copies two levels up.
set -eux

config=$(realpath ../../integration_config.yml)
inventory=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["fleet_inventory"])' "$config")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANSIBLE_ROLES_PATH=
run() { ansible-playbook -i "$inventory" -e "@$config" -e "work_dir=$work" "$@"; }

run setup.yml "$@"
run http01.yml "$@"
out=$(run rerun.yml "$@" 2>&1) || { printf '%s\n' "$out"; exit 1; }
printf '%s\n' "$out"
grep -Eq '^localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' <<<"$out" ||
    { echo "runme.sh: expected changed=0 on the rerun" >&2; exit 1; }
run dns01.yml "$@"
# Two slices of one job: web1 first, then web2 and web3.
run slices.yml --limit web1 "$@"
run slices.yml --limit web2,web3 "$@"
