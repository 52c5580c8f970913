#!/usr/bin/env bash
# ansible-test integration on the build tree against a freshly started local test bed.
# The test bed is stopped afterwards in every case; on failure the service logs are printed.
# Extra arguments go to ansible-test, e.g. scripts/integration.sh acme_account
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection

rc=1
# shellcheck disable=SC2317,SC2329  # run by the EXIT trap (SC2317 on shellcheck < 0.10)
finish() {
    if ((rc != 0)); then
        "$TESTBED" logs 30 || true
    fi
    "$TESTBED" stop || true
}
trap finish EXIT

"$TESTBED" start
# ansible-test passes this file to every target as extra vars; it does not pass our environment.
mkdir -p "$COLLECTION/tests/integration"
"$TESTBED" vars >"$COLLECTION/tests/integration/integration_config.yml"
chmod 600 "$COLLECTION/tests/integration/integration_config.yml"

cd "$COLLECTION"
rc=0
# ansible-test sets ANSIBLE_COLLECTIONS_PATH to build/ itself; community.general and
# community.crypto are still found because the collection loader also scans sys.path, where
# the `ansible` package installed them (site-packages/ansible_collections).
ansible-test integration --local --python "$PYTHON_VERSION" -v "$@" || rc=$?
exit "$rc"
