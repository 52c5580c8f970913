#!/usr/bin/env bash
# shellcheck disable=SC2154  # config, inventory, work, run and role_runs_cleanup come from ../setup_role_runs/role_runs.sh
# docs/scheduling.md, run as written against the test bed: the cron file, the systemd service and
# timer, the nightly playbook with its inventory, and the play that runs the certificate role on a
# web node. Every file comes from the page (scheduling.py extract); only the paths and the bed's CA,
# names and nodes are put in. Three certificates are issued: by the cron job's command, by the
# service's ExecStart= (in a state directory of its own) and by the on-node play.
set -eux -o pipefail

source ../setup_role_runs/role_runs.sh

helper() { python "$PWD/scheduling.py" "$@"; }
config_value() { python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' "$config" "$1"; }

# The page, in the collection ansible-test runs (its copy of this target sits somewhere below it).
doc=
dir=$PWD
while [[ $dir != / ]]; do
    if [[ -f $dir/docs/scheduling.md && -f $dir/galaxy.yml ]]; then doc=$dir/docs/scheduling.md; break; fi
    dir=$(dirname "$dir")
done
[[ -n $doc ]] || { echo "runme.sh: docs/scheduling.md not found above $PWD" >&2; exit 1; }
export CERTFLEET_COLLECTION=${doc%/docs/scheduling.md}
collections_root=${CERTFLEET_COLLECTION%/ansible_collections/*}
venv=$(python -c 'import sys; print(sys.prefix)')
[[ -x $venv/bin/ansible-playbook ]] || { echo "runme.sh: no ansible-playbook in $venv/bin" >&2; exit 1; }

fleet_hosts=$(python -c 'import sys, yaml; print(" ".join(h["name"] for h in yaml.safe_load(open(sys.argv[1]))["fleet_hosts"]))' "$config")
# The folder of the simulated hosts (<fleet>/<host>/tls is each one's TLS folder).
fleet_dir=$(python -c 'import os, sys, yaml; print(os.path.dirname(os.path.dirname(yaml.safe_load(open(sys.argv[1]))["fleet_hosts"][0]["tls_dir"])))' "$config")
reload_command=$(config_value nginx_reload_command)

# The runs below deploy to the bed's nodes: put their TLS folders back as they were when done.
mkdir "$work/backup"
for host in $fleet_hosts; do
    cp -a "$fleet_dir/$host/tls" "$work/backup/$host"
    find "$fleet_dir/$host" -mindepth 1 -maxdepth 1 -printf '%f\n' >"$work/backup/$host.entries"
done
restore_fleet() {
    local host entry
    for host in $fleet_hosts; do
        [[ -d $work/backup/$host ]] || continue
        rm -rf "${fleet_dir:?}/$host/tls"
        cp -a "$work/backup/$host" "$fleet_dir/$host/tls"
        while IFS= read -r entry; do
            grep -qxF "$entry" "$work/backup/$host.entries" || rm -rf "${fleet_dir:?}/$host/$entry"
        done < <(find "$fleet_dir/$host" -mindepth 1 -maxdepth 1 -printf '%f\n')
    done
    # shellcheck disable=SC2086  # a command line
    $reload_command || true
}
trap 'restore_fleet; role_runs_cleanup' EXIT

# The page's paths, each replaced by a folder of this run (state, logs and config per schedule).
paths() {  # paths <schedule>: the JSON map for scheduling.py extract
    jq -cn --arg root "$work/$1" --arg venv "$venv" --arg collections "$collections_root" \
        '{"/etc/certfleet": "\($root)/etc", "/var/lib/certfleet": "\($root)/lib",
          "/var/log/certfleet": "\($root)/log", "/opt/certfleet/venv": $venv,
          "/opt/certfleet/collections": $collections}'
}
setup_schedule() {  # setup_schedule <schedule>: its folders, the page's playbook and the bed's inventory
    local root=$work/$1
    mkdir -p "$root/etc" "$root/log"
    mkdir -m 0700 "$root/lib"
    helper extract "$doc" /etc/certfleet/renew.yml "$(paths "$1")" "$root/etc/renew.yml"
    helper extract "$doc" /etc/certfleet/inventory.yml "$(paths "$1")" "$root/etc/page-inventory.yml"
    helper inventory "$root/etc/page-inventory.yml" "$config" "$inventory" "$root/etc/inventory.yml" "$CERTFLEET_COLLECTION"
}
check_served() {  # check_served <cert file>: every node serves it on the bed's TLS port
    local serial host address
    serial=$(helper serial "$1")
    for host in $fleet_hosts; do
        address=$(python -c 'import sys, yaml; print(next(h["address"] for h in yaml.safe_load(open(sys.argv[1]))["fleet_hosts"] if h["name"] == sys.argv[2]))' "$config" "$host")
        [[ $(helper served "$address" "$(config_value fleet_tls_port)") == "$serial" ]] ||
            { echo "runme.sh: $host does not serve $1" >&2; return 1; }
    done
}

# 1. The systemd units: systemd-analyze verify and calendar, with the bed's paths in ExecStart=.
mkdir -p "$work/units"
helper extract "$doc" /etc/systemd/system/certfleet-renew.service "$(paths systemd)" "$work/units/certfleet-renew.service"
helper extract "$doc" /etc/systemd/system/certfleet-renew.timer "$(paths systemd)" "$work/units/certfleet-renew.timer"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify --man=no "$work/units/certfleet-renew.timer" "$work/units/certfleet-renew.service" >"$work/verify.log" 2>&1 ||
        { cat "$work/verify.log"; exit 1; }
    # verify exits 0 on unknown keys and ignored values, with a message: any message is a failure.
    cat "$work/verify.log"
    [[ ! -s $work/verify.log ]]
    systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$work/units/certfleet-renew.timer")"
else
    echo "runme.sh: no systemd-analyze here; the units are only parsed" >&2
fi
for setting in OnCalendar=daily RandomizedDelaySec= Persistent=true; do
    grep -q "^$setting" "$work/units/certfleet-renew.timer"
done

# 2. The cron file parses (and runs as the service's user); its command runs twice, as cron would.
setup_schedule cron
helper extract "$doc" /etc/cron.d/certfleet "$(paths cron)" "$work/cron/etc/cron.d-certfleet"
# The random sleep of up to an hour becomes none; the line must still have it.
grep -c 'shuf -i 0-3600 -n 1' "$work/cron/etc/cron.d-certfleet"
sed -i 's/shuf -i 0-3600 -n 1/shuf -i 0-0 -n 1/' "$work/cron/etc/cron.d-certfleet"
helper cron "$work/cron/etc/cron.d-certfleet" "$work/units/certfleet-renew.service"
cron_log=$work/cron/log/renew.log
cron_run() {  # cron_run <label>: the job once; what it printed (cron's mail) goes to $work/cron-<label>.mail
    # (stdout only: the job's stdout and stderr both arrive there, and stderr has this script's trace)
    helper run-cron "$work/cron/etc/cron.d-certfleet" "$work/cron/lib" >"$work/cron-$1.mail" ||
        { cat "$work/cron-$1.mail" "$cron_log"; return 1; }
    cat "$cron_log"
    # A good run prints nothing: cron would mail nothing.
    [[ ! -s $work/cron-$1.mail ]] || { cat "$work/cron-$1.mail"; echo "runme.sh: the cron job printed something" >&2; return 1; }
}
last_run() {  # last_run <log> <out>: the log from the last run's start line on
    awk '/^=== certfleet renewal, /{text=""} {text = text $0 "\n"} END {printf "%s", text}' "$1" >"$2"
}
cron_run first
last_run "$cron_log" "$work/cron-first.log"
grep -c '^=== certfleet renewal, ' "$cron_log"
# shellcheck disable=SC2086  # the host list
helper recap "$work/cron-first.log" changed localhost $fleet_hosts
cron_cert=$work/cron/lib/certs/www.example.com/cert.pem
[[ $(stat -c %a "$work/cron/lib/certs/www.example.com/privkey.pem") == 600 ]]
# The role's credentials file: one per CA, <dir>/accounts/<CA>.json, and only this CA's.
cron_accounts=("$work"/cron/lib/certs/accounts/*.json)
[[ ${#cron_accounts[@]} == 1 ]]
[[ $(stat -c %a "${cron_accounts[0]}") == 600 ]]
check_served "$cron_cert"

cron_run second
last_run "$cron_log" "$work/cron-second.log"
[[ $(grep -c '^=== certfleet renewal, ' "$cron_log") == 2 ]]
# shellcheck disable=SC2086
helper recap "$work/cron-second.log" unchanged localhost $fleet_hosts
check_served "$cron_cert"

# A run that finds the lock taken ends at once with 75 and says so (what cron mails).
python ../setup_role_runs/hold_lock.py "$work/cron/lib/renew.lock" "$work/release-lock" &
started+=("$!")
for _ in $(seq 100); do [[ -e $work/release-lock.held ]] && break; sleep 0.1; done
[[ -e $work/release-lock.held ]]
helper run-cron "$work/cron/etc/cron.d-certfleet" "$work/cron/lib" >"$work/cron-locked.mail"
touch "$work/release-lock"
cat "$work/cron-locked.mail"
grep -q "^certfleet renewal failed with exit code 75; the end of $cron_log:" "$work/cron-locked.mail"
last_run "$cron_log" "$work/cron-locked.log"
if grep -q 'PLAY' "$work/cron-locked.log"; then echo "runme.sh: a run started beside the locked one" >&2; exit 1; fi

# 3. The service's ExecStart=, twice, in a state directory of its own: a new certificate, then nothing.
setup_schedule systemd
helper run-service "$work/units/certfleet-renew.service" "$work/systemd/lib" >"$work/service-first.log" 2>&1 ||
    { cat "$work/service-first.log"; exit 1; }
cat "$work/service-first.log"
# shellcheck disable=SC2086
helper recap "$work/service-first.log" changed localhost $fleet_hosts
service_cert=$work/systemd/lib/certs/www.example.com/cert.pem
[[ $(helper serial "$service_cert") != $(helper serial "$cron_cert") ]]
check_served "$service_cert"
helper run-service "$work/units/certfleet-renew.service" "$work/systemd/lib" >"$work/service-second.log" 2>&1 ||
    { cat "$work/service-second.log"; exit 1; }
cat "$work/service-second.log"
# shellcheck disable=SC2086
helper recap "$work/service-second.log" unchanged localhost $fleet_hosts

# 4. The on-node play against web1: the role runs on the node, its state and certificate stay in the
#    node's folders, and the node's nginx serves it after the play's test and reload.
node=$(awk '{print $1}' <<<"$fleet_hosts")
helper extract "$doc" /etc/certfleet/own-certificate.yml '{}' "$work/own-certificate.page.yml"
grep -c '^  hosts: web1.example.com$' "$work/own-certificate.page.yml"
python - "$work/own-certificate.page.yml" "$work/own-certificate.yml" "$node" "$(config_value nginx_test_command)" "$reload_command" <<'EOF'
import sys
page, out, node, test, reload = sys.argv[1:]
text = open(page, encoding="utf-8").read()
for old, new in (("hosts: web1.example.com", f"hosts: {node}"),
                 ("ansible.builtin.command: nginx -t\n", f"ansible.builtin.command: {test}\n"),
                 ("ansible.builtin.command: nginx -s reload\n", f"ansible.builtin.command: {reload}\n")):
    if text.count(old) != 1:
        sys.exit(f"the on-node play has {old!r} {text.count(old)} times, not once")
    text = text.replace(old, new)
open(out, "w", encoding="utf-8").write(text)
EOF
helper onnode-vars "$config" "$work/own-certificate.yml" "$node" "$work/own-certificate.vars.yml"
node_tls=$fleet_dir/$node/tls
ansible-playbook -i "$inventory" -e "@$config" -e "@$work/own-certificate.vars.yml" "$work/own-certificate.yml" "$@" | tee "$work/onnode-first.log"
helper recap "$work/onnode-first.log" changed "$node"
grep -q "Reload nginx so that it serves the new certificate" "$work/onnode-first.log"
# The node's own files: account and key 0600 in the node's state folder, the certificate for its name.
node_accounts=("$fleet_dir/$node"/accounts/*.json)
[[ ${#node_accounts[@]} == 1 ]]
[[ $(stat -c %a "${node_accounts[0]}") == 600 ]]
[[ $(stat -c %a "$node_tls/privkey.pem") == 600 ]]
python - "$node_tls/cert.pem" "$node.$(config_value fleet_zone)" <<'EOF'
import sys
from cryptography import x509
cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
assert names == [sys.argv[2]], names
EOF
node_address=$(python -c 'import sys, yaml; print(next(h["address"] for h in yaml.safe_load(open(sys.argv[1]))["fleet_hosts"] if h["name"] == sys.argv[2]))' "$config" "$node")
[[ $(helper served "$node_address" "$(config_value fleet_tls_port)") == $(helper serial "$node_tls/cert.pem") ]]
# No token left in the node's web root.
[[ -z $(find "$fleet_dir/$node/webroot/.well-known/acme-challenge" -type f -print -quit 2>/dev/null) ]]
ansible-playbook -i "$inventory" -e "@$config" -e "@$work/own-certificate.vars.yml" "$work/own-certificate.yml" "$@" | tee "$work/onnode-second.log"
helper recap "$work/onnode-second.log" unchanged "$node"
