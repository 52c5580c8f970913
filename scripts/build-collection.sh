#!/usr/bin/env bash
# Copies the working tree (tracked and untracked-but-not-ignored files, edits included) into
# build/ansible_collections/certfleet/acme, the layout ansible-test and ansible-doc need.
# The copy has no .git, so ansible-test treats it as unversioned and tests every file.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# Rebuilt from scratch so files deleted in the repo do not linger in the build tree.
rm -rf "$COLLECTION"
mkdir -p "$COLLECTION"

# The explicit filter keeps the venv and caches out even if .gitignore lost their entries.
skip='^(\.git|\.venv|\.cache|\.testbed|build)(/|$)'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard |
        { grep -zEv "$skip" || true; } |
        rsync -a --from0 --files-from=- --ignore-missing-args ./ "$COLLECTION/"
else
    # Not a git checkout (e.g. an unpacked tarball): copy everything but our own state.
    rsync -a --exclude=/.git --exclude=/.venv --exclude=/.cache --exclude=/.testbed --exclude=/build ./ "$COLLECTION/"
fi
log "built ${COLLECTION#"$ROOT"/} ($(find "$COLLECTION" -type f | wc -l) files)"
