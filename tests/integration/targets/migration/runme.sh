#!/usr/bin/env bash
# shellcheck disable=SC2154  # config, work, run and run_unchanged come from ../setup_role_runs/role_runs.sh
# docs/migrating.md's two plays against the test bed: before.yml issues a certificate with
# community.crypto's acme_certificate and an account key file, after.yml the same certificate with
# certfleet.acme.certificate, importing that key. The account must be the same, the certificate
# new, and a rerun of after.yml must change nothing. The plays are the documentation's (a unit test
# compares them); only their variables are pointed at the bed and the work folder here.
set -eux

source ../setup_role_runs/role_runs.sh

ca=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["acme_ca_path"])' "$config")
bed=(
    -e "ssl_dir=$work/ssl"
    -e "certfleet_certificate_dir=$work/certfleet"
    -e 'domain={{ fleet_lb_name }}'
    -e 'certfleet_certificate_acme_ca_path={{ acme_ca_path }}'
    # Pebble picks a random profile otherwise, and its six-day one would be due again at once.
    -e certfleet_certificate_profile=default
)

# community.crypto's modules have no option for the CA of Pebble's listener: the TLS library reads it here.
SSL_CERT_FILE=$ca run before.yml "${bed[@]}" "$@"
run check_before.yml "${bed[@]}" -e "account_key=$work/ssl/private/acme-account.key" "$@"
# Check mode before the first real run: the account key is looked up but not imported, nothing is written.
# (acme_account checks that the credentials file's folder exists, which only a real run of the role creates.)
mkdir -m 0700 "$work/certfleet"
run after.yml "${bed[@]}" --check "$@"
if [[ -n $(find "$work/certfleet" -mindepth 1 2>/dev/null) ]]; then
    find "$work/certfleet" >&2
    echo "runme.sh: check mode wrote into the certificate folder" >&2
    exit 1
fi
run after.yml "${bed[@]}" "$@"
run check_after.yml "${bed[@]}" -e "account_key=$work/ssl/private/acme-account.key" "$@"
run_unchanged after.yml "${bed[@]}" "$@"
