#!/usr/bin/env bash
# Static checks: ruff (Python), ansible-lint (production profile), role argument specs against
# role defaults, and ansible-doc rendering of every module and role. All run even when one fails,
# so one run shows every problem.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_collection
cd "$ROOT"

failed=()

log "ruff check"
ruff check . || failed+=(ruff)

log "ansible-lint (profile from .ansible-lint)"
# The playbooks use certfleet.acme.*: resolve it from the build tree (the repo itself does not
# sit in an ansible_collections/ path). Colour codes only clutter CI logs.
NO_COLOR=1 ANSIBLE_COLLECTIONS_PATH=$BUILD ansible-lint || failed+=(ansible-lint)

log "role argument specs against role defaults"
python "$ROOT/scripts/check-role-specs.py" "$ROOT/roles" || failed+=(role-specs)

# ansible-doc must render every module and role of the build tree: a broken DOCUMENTATION block
# or argument spec shows up here rather than for a user.
render_doc() {
    local kind=$1 name=$2 out
    if out=$(ANSIBLE_COLLECTIONS_PATH=$BUILD ansible-doc -t "$kind" "certfleet.acme.$name" 2>&1) && [[ -n $out ]]; then
        printf '  ok   %s certfleet.acme.%s (%s lines)\n' "$kind" "$name" "$(wc -l <<<"$out")"
    else
        printf '  FAIL %s certfleet.acme.%s\n%s\n' "$kind" "$name" "$out" | sed 's/^/    /'
        failed+=("ansible-doc:$name")
    fi
}

log "ansible-doc for every module and role"
shopt -s nullglob
count=0
for path in "$COLLECTION"/plugins/modules/*.py; do
    name=$(basename "$path" .py)
    [[ $name == __init__ ]] && continue
    count=$((count + 1))
    render_doc module "$name"
done
((count > 0)) || log "no modules under plugins/modules yet"
for path in "$COLLECTION"/roles/*/; do
    render_doc role "$(basename "$path")"
done

if ((${#failed[@]})); then
    die "failed: ${failed[*]}"
fi
log "all lint checks passed"
