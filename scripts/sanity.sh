#!/usr/bin/env bash
# ansible-test sanity on the build tree. Extra arguments go to ansible-test, e.g.
#   scripts/sanity.sh --test pep8
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection
cd "$COLLECTION"

start=$SECONDS
rc=0
ansible-test sanity --local --python "$PYTHON_VERSION" --requirements -v "$@" || rc=$?
log "ansible-test sanity took $((SECONDS - start))s (exit $rc)"
exit "$rc"
