#!/usr/bin/env bash
# Unit tests (no network) against the build tree, importable as ansible_collections.certfleet.acme.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection
cd "$COLLECTION"
[[ -d tests/unit ]] || die "no tests/unit in the collection"

rc=0
PYTHONPATH=$BUILD${PYTHONPATH:+:$PYTHONPATH} "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/unit "$@" || rc=$?
# pytest exits 5 when it collected nothing: a test stage that tests nothing must not pass.
if ((rc == 5)); then
    die "pytest collected no tests under tests/unit"
fi
exit "$rc"
