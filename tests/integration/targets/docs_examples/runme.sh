#!/usr/bin/env bash
# Every playbook example of README.md, docs/, the roles' READMEs and the modules' EXAMPLES, run
# against the test bed with the substitutions examples.py tables (the bed's CA, zone, nodes and a
# scratch root for /etc and /var paths); an example marked "rerun unchanged" must then report
# changed=0. Examples that cannot run alone are marked skip with their reason, and listed here.
# ansible-test runs it from the target's folder; the bed's variables are two levels up.
set -eux

config=$(realpath ../../integration_config.yml)
# The collection whose documentation is run: ansible-test runs a copy of this target somewhere below
# it (tests/output/.tmp/integration/...), so look upwards for the folder with galaxy.yml and README.md.
root=
dir=$PWD
while [[ $dir != / ]]; do
    if [[ -f $dir/galaxy.yml && -f $dir/README.md && -d $dir/docs ]]; then root=$dir; break; fi
    dir=$(dirname "$dir")
done
[[ -n $root ]] || { echo "runme.sh: no collection with galaxy.yml, README.md and docs/ above $PWD" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python examples.py list "$root"
python examples.py run "$root" "$config" "$work"
