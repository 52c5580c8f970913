#!/usr/bin/env bash
# Every playbook example of README.md, docs/, the roles' READMEs and the modules' EXAMPLES, run
# against the test bed with the substitutions examples.py tables (the bed's CA, zone, nodes and a
# scratch root for /etc and /var paths); an example marked "rerun unchanged" must then report
# changed=0. Examples that cannot run alone are marked skip with their reason, and listed here.
# ansible-test runs it from the target's folder; the bed's variables are two levels up.
set -eux

config=$(realpath ../../integration_config.yml)
root=$(realpath ../../../..)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python examples.py list "$root"
python examples.py run "$root" "$config" "$work"
