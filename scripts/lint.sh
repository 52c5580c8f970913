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

log "ansible-doc for every module"
shopt -s nullglob
modules=("$COLLECTION"/plugins/modules/*.py)
count=0
for path in "${modules[@]}"; do
    name=$(basename "$path" .py)
    [[ $name == __init__ ]] && continue
    count=$((count + 1))
    if out=$(ANSIBLE_COLLECTIONS_PATH=$BUILD ansible-doc -t module "certfleet.acme.$name" 2>&1) && [[ -n $out ]]; then
        printf '  ok   certfleet.acme.%s (%s lines)\n' "$name" "$(wc -l <<<"$out")"
    else
        printf '  FAIL certfleet.acme.%s\n%s\n' "$name" "$out" | sed 's/^/    /'
        failed+=("ansible-doc:$name")
    fi
done
((count > 0)) || log "no modules under plugins/modules yet"

log "ansible-doc for every role"
for path in "$COLLECTION"/roles/*/; do
    name=$(basename "$path")
    if out=$(ANSIBLE_COLLECTIONS_PATH=$BUILD ansible-doc -t role "certfleet.acme.$name" 2>&1) && [[ -n $out ]]; then
        printf '  ok   certfleet.acme.%s (%s lines)\n' "$name" "$(wc -l <<<"$out")"
    else
        printf '  FAIL certfleet.acme.%s\n%s\n' "$name" "$out" | sed 's/^/    /'
        failed+=("ansible-doc:$name")
    fi
done

if ((${#failed[@]})); then
    die "failed: ${failed[*]}"
fi
log "all lint checks passed"
