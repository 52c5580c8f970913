#!/usr/bin/env bash
# The README's promise about `make demo`, checked: on a fresh test bed the first run issues and
# deploys every certificate and every node passes the TLS check, with no private key or secret in
# its -vvv output; the second run reports changed=0 on every host. Stops the test bed afterwards
# (make demo itself leaves it running).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection

# shellcheck disable=SC2317,SC2329  # run by the EXIT trap (SC2317 on shellcheck < 0.10)
finish() { "$TESTBED" stop >/dev/null || true; }
trap finish EXIT

"$TESTBED" restart >/dev/null
out=$(mktemp)

# The demo's last table has a row per web node and certificate. No MISMATCH is not enough: a run
# whose table lost its rows (nothing deployed, or a changed format) shows none either. Every
# host of the fleet inventory must have a 'serves it' row for every demo certificate.
check_table() {
    local run=$1 hosts certs host cert
    grep -q 'MISMATCH' "$out" && die "the $run run's table shows a node that does not serve its certificate"
    hosts=$("$VENV/bin/python" -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["all"]["children"]["web"]["hosts"]))' "$ROOT/.testbed/inventory.yml")
    certs=$("$VENV/bin/python" -c 'import sys, yaml; print(" ".join(c["name"] for c in yaml.safe_load(open(sys.argv[1]))["demo_certificates"]))' "$ROOT/examples/demo_vars.yml")
    [[ -n $hosts && -n $certs ]] || die "no web hosts in .testbed/inventory.yml or no certificates in examples/demo_vars.yml: the table check would prove nothing"
    for host in $hosts; do
        for cert in $certs; do
            grep -Eq "^ *\"$host +$cert +.* serves it\",?\$" "$out" ||
                die "the $run run's table has no 'serves it' row for $host and certificate $cert"
        done
    done
}

log "first run: issue and deploy, at -vvv"
# At -vvv Ansible prints every module's arguments and results: neither a private key nor the TSIG
# secret (or any other secret of the test bed) may be among them.
if ! "$ROOT/scripts/demo.sh" -vvv >"$out" 2>&1; then
    tail -n 80 "$out"
    die "the first run failed (above)"
fi
grep -E '^ *"web[0-9]+ |^[a-z0-9]+ +: ok=' "$out"
check_table "first"
grep -Eq '^localhost +: .*changed=[1-9]' "$out" || die "the first run changed nothing on localhost; it should have issued certificates"
grep -q 'PRIVATE KEY' "$out" && die "a private key appears in the -vvv output of the first run"
searched=0
while read -r secret; do
    [[ ${#secret} -ge 16 ]] || die "a secret of the test bed read from .testbed/vars.yml is shorter than 16 characters; the search would mean nothing"
    grep -qF -- "$secret" "$out" && die "a secret of the test bed appears in the -vvv output of the first run"
    searched=$((searched + 1))
done < <(sed -n 's/^\(tsig_key_secret\|eab_hmac_key\|eab_hmac_key2\): "\(.*\)"$/\2/p' "$ROOT/.testbed/vars.yml")
# Three secrets or the search proved nothing (vars.yml moved, or its format changed).
((searched == 3)) || die "found $searched of the 3 test bed secrets to search for in .testbed/vars.yml; the secret search proved nothing"
log "first run: $(wc -c <"$out") bytes of -vvv output, no private key and none of the $searched test bed secrets in them"

log "second run: nothing may change"
"$ROOT/scripts/demo.sh" | tee "$out"
# A test bed that restarted in between is a fresh CA and fleet: the second run would issue
# everything again, which says nothing about idempotence.
grep -q '^testbed: already running' "$out" ||
    die "the second run did not find the first run's test bed running; $(grep -m1 '^testbed: not reusing' "$out" || echo 'see above')"
check_table "second"
recap=$(sed -n '/^PLAY RECAP/,$p' "$out" | grep -E '^[a-z0-9]+ +: ok=')
printf '%s\n' "$recap"
[[ -n $recap ]] || die "no PLAY RECAP in the second run's output"
if grep -Ev ' changed=0 .* failed=0 ' <<<"$recap"; then
    die "the second run of the demo changed something (above)"
fi
log "second run: changed=0 on every host"
rm -f "$out"
