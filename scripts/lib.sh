# Shared settings for the scripts in this directory; sourced, not run.
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts sourcing this

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
VENV=$ROOT/.venv
BUILD=$ROOT/build
# ansible-test only recognises a collection under ansible_collections/<namespace>/<name>.
COLLECTION=$BUILD/ansible_collections/certfleet/acme
TESTBED=$ROOT/testbed/testbed.sh
PYTHON_VERSION=3.11

# build/ lies inside this git checkout, where .gitignore hides it: left to itself ansible-test
# would find the parent .git, list no files and skip every test. A fixed content root makes it
# treat the build tree as unversioned and test all of it.
export ANSIBLE_TEST_CONTENT_ROOT=$COLLECTION

# The venv first, so ansible-test finds its own python3.11 and ansible-* tools.
export PATH=$VENV/bin:$PATH

log() { printf '%s: %s\n' "${0##*/}" "$*"; }
die() { printf '%s: ERROR: %s\n' "${0##*/}" "$*" >&2; exit 1; }

require_collection() {
    [[ -d $COLLECTION ]] || die "no build tree at ${COLLECTION#"$ROOT"/}; run scripts/build-collection.sh (make collection)"
}
