#!/usr/bin/env bash
# Installs everything the build and the test bed need: a few Debian packages, the Python venv
# (.venv) and Pebble (.cache/pebble). Safe to run again; when nothing is missing it only checks.
#
# Environment:
#   PYTHON          interpreter used to create .venv (default: python3)
#   DEBIAN_MIRROR   Debian archive URI for the Pebble download (default: the machine's own source)
#   PEBBLE_REFRESH  1 = ignore the cached Pebble and resolve/download again
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# System packages the scripts and tests use: tools, the fleet's DNS server (BIND: named,
# tsig-keygen, named-checkconf, dig) and web servers (nginx serves the fleet; haproxy and apache2
# are there for the deploy role's config-test commands). Their services are not started by us:
# the test bed runs its own instances with its own configs and ports.
APT_PACKAGES=(
    ca-certificates curl jq rsync debian-archive-keyring shellcheck
    bind9 bind9-utils bind9-dnsutils nginx haproxy apache2
)

# Pebble 2.10 is the first release with dns-persist-01; bookworm only ships 2.4, so we take the
# binary from unstable. The tested version wins; a newer one is accepted with a warning because
# unstable only ever keeps its newest build.
PEBBLE_TESTED_VERSION=2.10.0+ds1-2
PEBBLE_MIN_VERSION=2.10

PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv
CACHE=$ROOT/.cache
PEBBLE_CACHE=$CACHE/pebble
REQUIREMENTS=$ROOT/requirements-dev.txt
REQ_STAMP=$VENV/.requirements-dev.sha256

log() { printf 'bootstrap: %s\n' "$*"; }
warn() { printf 'bootstrap: WARNING: %s\n' "$*" >&2; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

# Reads all output before cutting: `| head -n1` would close the pipe early and some tools
# (ansible) die with a BrokenPipe traceback.
first_line() {
    local out
    out=$("$@" 2>/dev/null) || true
    printf '%s\n' "${out%%$'\n'*}"
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

ensure_apt_packages() {
    local pkg missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return
    fi
    log "installing Debian packages: ${missing[*]}"
    # The package lists may be stale or absent in a fresh container, so refresh them once, and
    # only when something has to be installed.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_venv() {
    if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        # The interpreter the venv was made from is gone (e.g. pyenv upgrade): rebuild.
        warn "$VENV is broken; recreating it"
        rm -rf "$VENV"
    fi
    if [[ ! -x $VENV/bin/python ]]; then
        local pyver
        pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        [[ $pyver == 3.11 ]] || warn "$PYTHON is Python $pyver; the Makefile runs ansible-test with --python 3.11"
        log "creating $VENV with $PYTHON ($pyver)"
        "$PYTHON" -m venv "$VENV"
        rm -f "$REQ_STAMP"
    fi

    local want have=""
    want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    [[ -f $REQ_STAMP ]] && have=$(<"$REQ_STAMP")
    if [[ $want == "$have" ]]; then
        return
    fi
    log "installing requirements-dev.txt into $VENV"
    # This machine's pip configuration lists local indexes that lack most projects; pip warns
    # once per project about each. Those lines are noise, everything else on stderr is kept.
    "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS" \
        2> >(grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory.$" >&2)
    # Written only after pip succeeded, so a failed install is retried next time.
    printf '%s\n' "$want" >"$REQ_STAMP"
    log "installed: $(first_line "$VENV/bin/ansible" --version), $(NO_COLOR=1 first_line "$VENV/bin/ansible-lint" --version)"
}

# Prints the URI of the machine's main (non-security) Debian source.
debian_mirror() {
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then
        printf '%s\n' "$DEBIAN_MIRROR"
        return
    fi
    local uri=""
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        # deb822: one stanza per paragraph; skip the security stanza and disabled ones.
        uri=$(awk -v RS= '
            /(^|\n)Enabled:[ \t]*no/ { next }
            /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && !/(^|\n)Suites:[^\n]*-security/ {
                n = split($0, lines, "\n")
                for (i = 1; i <= n; i++)
                    if (lines[i] ~ /^URIs:/) { split(lines[i], f, /[ \t]+/); print f[2]; exit }
            }' /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z $uri && -r /etc/apt/sources.list ]]; then
        # One-line format: deb [options] URI suite components...
        uri=$(awk '
            $1 == "deb" && !/-security/ {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                print $i; exit
            }' /etc/apt/sources.list)
    fi
    [[ -n $uri ]] || die "no Debian source found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; set DEBIAN_MIRROR"
    printf '%s\n' "$uri"
}

# ansible-test builds its sanity-test virtualenvs with a pip bootstrap script it downloads from
# a host this network cannot reach; when the script is already in its cache it skips the
# download. scripts/ansible-test-pip-bootstrap.py stands in for it (ensurepip + pip install).
ensure_ansible_test_pip_bootstrap() {
    local src=$ROOT/scripts/ansible-test-pip-bootstrap.py pip_version target
    [[ -f $src ]] || die "missing $src"
    pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\{0,1\}$/\1/p" \
        "$VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)
    if [[ -z $pip_version ]]; then
        warn "cannot tell which pip version ansible-test bootstraps; sanity tests may try to download get-pip"
        return
    fi
    target=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
    # A real downloaded script, if one is there, is left alone.
    if [[ ! -s $target ]]; then
        mkdir -p "$(dirname "$target")"
        cp "$src" "$target"
        log "installed the pip bootstrap stand-in for ansible-test as $target"
    fi
}

pebble_ok() { [[ -x $PEBBLE_CACHE/$1/usr/bin/pebble && -x $PEBBLE_CACHE/$1/usr/bin/pebble-challtestsrv ]]; }

select_pebble() {
    ln -sfn "$1" "$PEBBLE_CACHE/current"
    log "pebble $1 ($(first_line "$PEBBLE_CACHE/current/usr/bin/pebble" -version)) in $PEBBLE_CACHE/$1"
}

ensure_pebble() {
    mkdir -p "$PEBBLE_CACHE"
    if [[ ${PEBBLE_REFRESH:-0} != 1 ]]; then
        if pebble_ok "$PEBBLE_TESTED_VERSION"; then
            select_pebble "$PEBBLE_TESTED_VERSION"
            return
        fi
        # A newer fallback picked earlier stays good until the tested version is bumped past it.
        local cur
        cur=$(readlink "$PEBBLE_CACHE/current" 2>/dev/null || true)
        if [[ -n $cur ]] && pebble_ok "$cur" && dpkg --compare-versions "$cur" gt "$PEBBLE_TESTED_VERSION"; then
            warn "using cached pebble $cur, newer than the tested $PEBBLE_TESTED_VERSION"
            select_pebble "$cur"
            return
        fi
    fi

    # A private apt configuration: its own source list, package lists and cache under .cache/apt,
    # and an empty dpkg status, so the system's apt sources and state are never touched.
    local apt_dir=$CACHE/apt mirror
    mirror=$(debian_mirror)
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    cat >"$apt_dir/sources.list.d/sid.sources" <<EOF
Types: deb
URIs: $mirror
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local apt_opts=(
        -o Dir::Etc::sourcelist=/dev/null
        -o Dir::Etc::sourceparts="$apt_dir/sources.list.d"
        -o Dir::State::Lists="$apt_dir/lists"
        -o Dir::Cache="$apt_dir/cache"
        -o Dir::State::status=/dev/null
        # apt drops to the _apt user for downloads, which cannot write into root-owned dirs.
        -o APT::Sandbox::User=root
    )
    log "resolving pebble from $mirror sid (private apt config in $apt_dir)"
    apt-get "${apt_opts[@]}" -qq update

    local version available
    available=$(apt-cache "${apt_opts[@]}" madison pebble | awk -F'|' '{gsub(/[ \t]/, "", $2); print $2}')
    [[ -n $available ]] || die "package pebble not found in $mirror sid"
    if grep -qxF "$PEBBLE_TESTED_VERSION" <<<"$available"; then
        version=$PEBBLE_TESTED_VERSION
    else
        version=$(apt-cache "${apt_opts[@]}" policy pebble | awk '$1 == "Candidate:" { print $2 }')
        warn "pebble $PEBBLE_TESTED_VERSION (tested) is no longer in sid; using $version (untested)"
    fi
    dpkg --compare-versions "$version" ge "$PEBBLE_MIN_VERSION" ||
        die "pebble $version in sid is older than $PEBBLE_MIN_VERSION (needed for dns-persist-01)"

    if ! pebble_ok "$version"; then
        local tmp
        tmp=$(mktemp -d "$PEBBLE_CACHE/.download.XXXXXX")
        # shellcheck disable=SC2064  # expand $tmp now: it is local
        trap "rm -rf '$tmp'" EXIT
        (cd "$tmp" && apt-get "${apt_opts[@]}" -qq download "pebble=$version")
        dpkg-deb -x "$tmp"/pebble_*.deb "$tmp/root"
        rm -rf "${PEBBLE_CACHE:?}/$version"
        # Renamed into place last so a half-extracted tree is never mistaken for a good one.
        mv "$tmp/root" "$PEBBLE_CACHE/$version"
        rm -rf "$tmp"
        trap - EXIT
        pebble_ok "$version" || die "pebble .deb $version has no usr/bin/pebble or usr/bin/pebble-challtestsrv"
    fi
    select_pebble "$version"
}

ensure_apt_packages
ensure_venv
ensure_ansible_test_pip_bootstrap
ensure_pebble
