#!/usr/bin/env bash
# Security checks of a whole issuance at -vvv against the test bed's Pebble with external account
# binding: an EAB account, an order, its validation and its finalization, then a key rollover, an
# account key with a passphrase, a TSIG-signed update and a batch, run by a nested
# ansible-playbook under umask 000 (security.yml asserts every file's mode), then the captured
# output is searched for private keys and the EAB HMAC key in every encoding (find_secrets.py).
# ansible-test runs it from the target's folder and passes only verbosity flags; the test bed's
# variables are in the integration_config.yml it copies two levels up.
set -eu

config=$(realpath ../../integration_config.yml)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANSIBLE_ROLES_PATH=

out="$work/run.log"
# The account key's passphrase, in a file (0600), never on a command line where ps would show it.
(umask 077 && printf 'account_passphrase: "%s"\n' "$(python -c 'import secrets; print(secrets.token_urlsafe(24))')" >"$work/secret-vars.yml")
# umask 000: a file created with the process's default mode would be world-readable and writable.
# The modules inherit it from ansible-playbook (local connection); security.yml checks that they do.
if ! (umask 000 && ansible-playbook -i localhost, -c local -e 'ansible_python_interpreter={{ ansible_playbook_python }}' -e "@$config" -e "@$work/secret-vars.yml" -e "work_dir=$work" --diff -vvv security.yml) >"$out" 2>&1; then
    # The tail of the output helps, unless it holds a secret.
    if python find_secrets.py --partial "$out" "$work" "$config"; then
        tail -n 60 "$out"
    fi
    echo "runme.sh: security.yml failed (above)" >&2
    exit 1
fi
grep -E '^localhost +: ok=' "$out"
python find_secrets.py "$out" "$work" "$config"
