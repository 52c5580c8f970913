#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_finalize
short_description: Finalize a validated ACME order and write the certificate, its chain and its key
version_added: 0.1.0
description:
  - Finds the order by O(order_uri) or by the O(state_path) that M(certfleet.acme.acme_order) wrote.
    The order must be V(ready) (all its names validated, see M(certfleet.acme.acme_challenge_proof)),
    V(processing) (waited for) or V(valid) (the certificate is downloaded again).
  - Sends a CSR for the order's names (RFC 8555 section 7.4), signed with the certificate key
    O(private_key_path), or the user's own O(csr_path), waits while the CA issues, downloads the
    certificate and, when O(preferred_chain) asks for it, picks one of the alternate chains.
  - The certificate key is never the account key; the module refuses it.
  - Checks the certificate before writing anything (its public key is the one of the CSR, its names are
    the order's, the chain signs it), then writes O(private_key_path), O(chain_path), O(fullchain_path)
    and O(cert_path), in that order, each atomically (a temporary file in the same directory renamed
    over the old one). Every destination is checked before the CSR is sent, so a wrong path fails
    before the order is used up and leaves every existing file as it was.
  - After all files are written, removes O(state_path), since the order is done; the next run of
    M(certfleet.acme.acme_order) with the same O(state_path) starts a new order (a renewal).
  - When O(state_path) does not exist (the usual state between renewals) and O(cert_path) does, the module
    makes no request to the CA, changes nothing and returns the information of the certificate at O(cert_path).
  - No private key is ever returned.
extends_documentation_fragment:
  - certfleet.acme.acme.server
  - certfleet.acme.acme.account
  - certfleet.acme.acme.attributes
attributes:
  check_mode:
    support: full
    details:
      - Finalizes nothing and writes, generates into a file or removes no file.
      - For a V(ready) order it reports C(changed=true) without a certificate to show. For a V(valid) order
        it downloads the certificate (a read-only request) and reports whether a file would change.
  diff_mode:
    support: full
    details:
      - Shows the serial number and expiry of the certificate at O(cert_path) before and after.
  idempotent:
    support: full
    details:
      - A rerun with a V(valid) order downloads the same certificate and changes no file.
      - A rerun after the order completed (O(state_path) removed, O(cert_path) present) changes nothing
        and sends no request to the CA.
options:
  order_uri:
    description:
      - URL of the order, as returned by M(certfleet.acme.acme_order) in RV(certfleet.acme.acme_order#module:order_uri).
      - One of O(order_uri) and O(state_path) is required.
    type: str
  state_path:
    description:
      - The order state file M(certfleet.acme.acme_order) wrote.
      - Removed once every file is written, so the next M(certfleet.acme.acme_order) run creates a new order.
      - When it does not exist and O(cert_path) does, nothing is done (see the description).
    type: path
  private_key_path:
    description:
      - PEM file with the private key of the certificate.
      - Generated (type O(key_type), mode V(0600)) when the file does not exist. An existing key is reused
        on renewal, unless O(rotate_key=true).
      - It is always (re)written with mode V(0600) and O(owner)/O(group).
      - It must not be the account key; the module refuses it.
      - Exactly one of O(private_key_path) and O(csr_path) is required.
    type: path
  key_type:
    description:
      - Type of the key generated for O(private_key_path) (when it is missing or O(rotate_key=true)).
      - Ignored for an existing key. Let's Encrypt does not accept P-521 certificate keys, so it is not offered.
    type: str
    choices: [ec256, ec384, rsa2048, rsa3072, rsa4096]
    default: ec256
  rotate_key:
    description:
      - Generate a new key for this certificate instead of reusing O(private_key_path).
      - The old key stays at O(private_key_path) until the new certificate is downloaded and checked; until then
        the new key waits in C(<private_key_path>.next) (mode V(0600)), so an interrupted run can be resumed.
      - Applies to a V(ready) order only; for an order that was already finalized, the key the certificate
        was issued for is used.
    type: bool
    default: false
  csr_path:
    description:
      - A certificate signing request (PEM or DER) to send instead of one built from O(private_key_path).
      - Its names (subjectAltName, or the common name when it has none) must be exactly the order's names;
        the module checks this before finalizing.
      - The module writes no key then; the key of the CSR stays the user's business.
    type: path
  cert_path:
    description:
      - Where to write the certificate (PEM, the leaf certificate only).
    type: path
    required: true
  chain_path:
    description:
      - Where to write the intermediate certificates (PEM), the chain without the leaf.
    type: path
  fullchain_path:
    description:
      - Where to write the certificate followed by its chain (PEM), what most web servers want.
    type: path
  mode:
    description:
      - Permissions of O(cert_path), O(chain_path) and O(fullchain_path), as an octal string such as V('0644').
      - The key is always V(0600).
    type: raw
    default: '0644'
  owner:
    description:
      - User (name or id) that owns every file written, the key included.
    type: str
  group:
    description:
      - Group (name or id) of every file written, the key included.
    type: str
  preferred_chain:
    description:
      - Common name of the root (or top intermediate) to prefer when the CA offers alternate chains
        (C(Link) headers with C(rel=alternate)).
      - A chain matches when its topmost certificate's issuer, or one of its CA certificates, has this common name.
      - When no chain matches, the default chain is used with a warning.
    type: str
  wait_timeout:
    description:
      - Seconds to wait for the CA to issue the certificate (order V(processing)).
    type: int
    default: 120
notes:
  - Files are written in the order key, chain, full chain, certificate. When a write fails halfway (a full disk),
    O(state_path) stays in place and a rerun downloads the same certificate and completes the set.
  - O(state_path) and the certificate files must be on a persistent path in AWX, whose job file system is thrown away.
seealso:
  - module: certfleet.acme.acme_order
  - module: certfleet.acme.acme_challenge_proof
  - module: certfleet.acme.acme_account
author:
  - certfleet.acme developers (@certfleet)
"""

EXAMPLES = r"""
- name: Issue or renew www.example.com over http-01
  module_defaults:
    group/certfleet.acme.acme:
      directory: letsencrypt
      credentials_path: /etc/certfleet/letsencrypt.json
  block:
    - name: Order the certificate (a rerun resumes the same order)
      certfleet.acme.acme_order:
        identifiers: [www.example.com, example.com]
        challenge: http-01
        state_path: /var/lib/certfleet/www.example.com.order.json
      register: order

    - name: Publish each token on every web node
      ansible.builtin.copy:
        dest: "/var/www/html{{ item.path }}"
        content: "{{ item.content }}"
        mode: "0644"
      loop: "{{ order.http_proofs }}"

    - name: Validate
      certfleet.acme.acme_challenge_proof:
        state_path: /var/lib/certfleet/www.example.com.order.json
        validate: true

    - name: Finalize and write key, certificate and chains
      certfleet.acme.acme_finalize:
        state_path: /var/lib/certfleet/www.example.com.order.json
        private_key_path: /etc/ssl/private/www.example.com.key
        cert_path: /etc/ssl/certs/www.example.com.crt
        chain_path: /etc/ssl/certs/www.example.com.chain.pem
        fullchain_path: /etc/ssl/certs/www.example.com.fullchain.pem
        group: ssl-cert
      register: cert
      notify: Reload nginx

    - name: Show what was issued
      ansible.builtin.debug:
        msg: "{{ cert.identifiers | join(', ') }}: serial {{ cert.serial }}, valid until {{ cert.not_after }}"

- name: Renew with a new key and the ISRG Root X1 chain
  certfleet.acme.acme_finalize:
    directory: letsencrypt
    credentials_path: /etc/certfleet/letsencrypt.json
    state_path: /var/lib/certfleet/www.example.com.order.json
    private_key_path: /etc/ssl/private/www.example.com.key
    rotate_key: true
    key_type: ec384
    cert_path: /etc/ssl/certs/www.example.com.crt
    fullchain_path: /etc/ssl/certs/www.example.com.fullchain.pem
    preferred_chain: ISRG Root X1

- name: Finalize with a CSR made elsewhere (an HSM, community.crypto.openssl_csr)
  certfleet.acme.acme_finalize:
    directory: letsencrypt
    credentials_path: /etc/certfleet/letsencrypt.json
    order_uri: "{{ order.order_uri }}"
    csr_path: /etc/ssl/csr/www.example.com.csr
    cert_path: /etc/ssl/certs/www.example.com.crt
"""

RETURN = r"""
order_uri:
  description: URL of the order; C(null) when no order was in flight.
  returned: always
  type: str
  sample: https://127.0.0.1:14000/my-order/Q2x6rg
status:
  description: Status of the order after the run; C(null) when no order was in flight.
  returned: always
  type: str
  sample: valid
finalized:
  description: Whether this run sent the CSR (or would, in check mode).
  returned: always
  type: bool
serial:
  description: Serial number of the certificate, lower-case hexadecimal; C(null) in check mode before finalizing.
  returned: always
  type: str
  sample: 4f2c1e0b8a7d6c55
not_before:
  description: Start of the certificate's validity (RFC 3339, UTC).
  returned: when a certificate is known
  type: str
  sample: '2026-11-28T19:20:00Z'
not_after:
  description: End of the certificate's validity (RFC 3339, UTC).
  returned: when a certificate is known
  type: str
  sample: '2027-02-26T19:19:59Z'
identifiers:
  description: The names of the certificate (of the order, before the certificate exists).
  returned: always
  type: list
  elements: str
  sample: [www.example.com, example.com]
issuer:
  description: Issuer of the certificate (RFC 4514 string).
  returned: when a certificate is known
  type: str
  sample: CN=Pebble Intermediate CA 645fc5
chain_issuer:
  description: Issuer common name of the chain's topmost certificate, the name O(preferred_chain) compares with.
  returned: when a certificate is known
  type: str
  sample: Pebble Root CA 0cc6f0
cert_pem:
  description: The certificate (PEM).
  returned: when a certificate is known
  type: str
chain_pem:
  description: The chain without the certificate (PEM); empty when the CA sent none.
  returned: when a certificate is known
  type: str
fullchain_pem:
  description: The certificate followed by the chain (PEM).
  returned: when a certificate is known
  type: str
alternates:
  description: Number of alternate chains the CA offered.
  returned: always
  type: int
  sample: 1
preferred_chain_found:
  description: Whether a chain matching O(preferred_chain) was found; C(null) without O(preferred_chain).
  returned: always
  type: bool
key_generated:
  description: Whether a key was generated because O(private_key_path) did not exist (in check mode, would be).
  returned: always
  type: bool
key_rotated:
  description: Whether O(rotate_key) replaced the key at O(private_key_path) (in check mode, would).
  returned: always
  type: bool
state_removed:
  description: Whether O(state_path) was removed because the order is done.
  returned: always
  type: bool
files:
  description:
    - One entry per file option given (C(private_key_path), C(cert_path), C(chain_path), C(fullchain_path)),
      with C(path) and C(changed) (whether the file was, or in check mode would be, written).
  returned: always
  type: dict
  sample: {cert_path: {path: /etc/ssl/certs/www.example.com.crt, changed: true}}
msg:
  description:
    - Why nothing was sent to the CA, when no order is in flight (O(state_path) absent, certificate present),
      or, in check mode, when M(certfleet.acme.acme_order) ran in check mode too and created no order.
  returned: in those two cases
  type: str
"""

import os
from datetime import datetime
from typing import Any

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_argument_spec,
    account_from_params,
    account_module_kwargs,
    client_from_params,
    server_argument_spec,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.certs import (
    CertificateInfo,
    build_csr,
    certificate_info,
    chain_matches,
    chain_top_issuer,
    directly_issued_by,
    key_public_der,
    load_csr,
    split_pem_chain,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier, same_names
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import (
    DEFAULT_KEY_TYPE,
    PrivateKey,
    generate_private_key,
    load_private_key,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module import run_module
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order import (
    Order,
    Poller,
    download_certificate,
    finalize,
    poll_order,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.state import OrderState, find_order, load_order_state, order_recorded
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import (
    PRIVATE_MODE,
    atomic_write,
    needs_write,
    read_state,
    resolve_group,
    resolve_owner,
)

CERT_KEY_TYPES = ["ec256", "ec384", "rsa2048", "rsa3072", "rsa4096"]
DEFAULT_MODE = "0644"
# File options in the order they are written: the certificate last, so that a certificate on disk
# always has its key and chain beside it.
WRITE_ORDER = ("private_key_path", "chain_path", "fullchain_path", "cert_path")
PENDING_KEY_SUFFIX = ".next"


def argument_spec() -> dict[str, Any]:
    spec = server_argument_spec()
    spec.update(account_argument_spec())
    spec.update(
        order_uri={"type": "str"},
        state_path={"type": "path"},
        private_key_path={"type": "path"},
        key_type={"type": "str", "choices": CERT_KEY_TYPES, "default": DEFAULT_KEY_TYPE},
        rotate_key={"type": "bool", "default": False},
        csr_path={"type": "path"},
        cert_path={"type": "path", "required": True},
        chain_path={"type": "path"},
        fullchain_path={"type": "path"},
        mode={"type": "raw", "default": DEFAULT_MODE},
        owner={"type": "str"},
        group={"type": "str"},
        preferred_chain={"type": "str"},
        wait_timeout={"type": "int", "default": 120},
    )
    return spec


def module_kwargs() -> dict[str, Any]:
    kwargs = account_module_kwargs()
    kwargs["mutually_exclusive"] = kwargs["mutually_exclusive"] + [["private_key_path", "csr_path"]]
    # order_uri or state_path is checked by state.find_order, not here: in check mode a chain
    # passes the null order_uri of an order acme_order did not create.
    kwargs["required_one_of"] = kwargs["required_one_of"] + [["private_key_path", "csr_path"]]
    return kwargs


def parse_mode(value: Any, option: str = "mode") -> int:
    """An octal permission string (``'0644'``, ``'644'``, ``'0o644'``) or an integer (YAML ``0644`` is 420)."""
    if isinstance(value, bool):
        raise AcmeOptionError(option, f"{option} must be an octal string such as '0644', not {value!r}")
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip().lower()
        digits = text[2:] if text.startswith("0o") else text
        if not digits or len(digits) > 4 or any(c not in "01234567" for c in digits):
            raise AcmeOptionError(option, f"{option} {value!r} is not an octal mode; write it as a quoted string such as '0644'")
        mode = int(digits, 8)
    if not 0 <= mode <= 0o7777:
        raise AcmeOptionError(option, f"{option} {value!r} is not a file mode (0000 to 7777 in octal)")
    return mode


def _timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _snapshot(info: CertificateInfo | None) -> dict[str, Any]:
    if info is None:
        return {"serial": None, "not_after": None}
    return {"serial": info.serial, "not_after": _timestamp(info.not_after)}


class FinalizeRun:
    """One run: find the order, finalize it if needed, download, check, write."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.key_generated = False
        self.key_rotated = False
        self.finalized = False
        self.alternates = 0
        self.preferred_found: bool | None = None
        self.csr_identifiers: list[Identifier] = []

    # -- options and destinations ----------------------------------------------

    def destinations(self) -> dict[str, str]:
        """File options given, by option name, in write order."""
        return {option: self.params[option] for option in WRITE_ORDER if self.params.get(option)}

    def check_options(self) -> None:
        params = self.params
        if params["rotate_key"] and not params["private_key_path"]:
            raise AcmeOptionError("rotate_key", "rotate_key needs private_key_path; a CSR from csr_path brings its own key")
        if params["wait_timeout"] <= 0:
            raise AcmeOptionError("wait_timeout", "wait_timeout must be more than zero seconds")
        seen: dict[str, str] = {}
        paths = dict(self.destinations())
        if params["csr_path"]:
            paths["csr_path"] = params["csr_path"]
        if params["state_path"]:
            paths["state_path"] = params["state_path"]
        for option, path in paths.items():
            real = os.path.realpath(path)
            if real in seen:
                raise AcmeOptionError(option, f"{option} {path} is the same file as {seen[real]}; give each file its own path")
            seen[real] = option

    def check_destinations(self, paths: dict[str, str]) -> None:
        """Fail naming the option before anything is sent or written when a file could not be written."""
        for option, path in paths.items():
            if os.path.isdir(path):
                raise AcmeOptionError(option, f"{option} {path} is a directory; give a file path")
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.exists(directory):
                raise AcmeOptionError(option, f"{option} {path}: the directory {directory} does not exist; create it first")
            if not os.path.isdir(directory):
                raise AcmeOptionError(option, f"{option} {path}: {directory} is not a directory")
            if not os.access(directory, os.W_OK | os.X_OK):
                raise AcmeOptionError(option, f"{option} {path}: cannot write in {directory}; fix its permissions or choose another path")
            read_state(path, option)  # an existing file must be readable to compare with

    # -- the certificate currently on disk ---------------------------------------

    def current_certificate(self) -> CertificateInfo | None:
        state = read_state(self.params["cert_path"], "cert_path")
        if not state.exists or not state.content:
            return None
        try:
            return certificate_info(state.content)
        except ValueError:
            return None  # not a certificate (yet): it will be replaced

    def nothing_in_flight(self, current: CertificateInfo, cert_text: str) -> dict[str, Any]:
        """No order recorded and a certificate present: the state between two renewals."""
        chain_pem = ""
        if self.params["chain_path"]:
            chain_state = read_state(self.params["chain_path"], "chain_path")
            chain_pem = chain_state.content.decode("ascii", "replace") if chain_state.content else ""
        for option, path in self.destinations().items():
            if not os.path.exists(path):
                self.module.warn(f"{option} {path} does not exist; it is written with the next certificate")
        leaf = (split_pem_chain(cert_text) or [cert_text])[0]
        chain = split_pem_chain(chain_pem)
        result = self.result(
            order=None,
            identifiers=current.identifiers,
            info=current,
            chain=[leaf] + chain,
            files={option: False for option in self.destinations()},
            state_removed=False,
            before=_snapshot(current),
        )
        result["msg"] = f"No order in flight (state_path {self.params['state_path']} does not exist); the certificate at cert_path is left as is"
        return result

    # -- keys ---------------------------------------------------------------------

    def read_key(self, path: str, option: str, account: Account) -> tuple[PrivateKey, bytes] | None:
        state = read_state(path, option)
        if not state.exists or state.content is None:
            return None
        key = load_private_key(state.content, option)
        if key.same_key_as(account.key):
            raise AcmeOptionError(
                option,
                f"{option} {path} holds the account key; a certificate needs a key of its own. "
                "Point private_key_path at another file (it is generated when missing)",
            )
        if state.mode is not None and state.mode & 0o077 and option == "private_key_path":
            self.module.warn(f"private_key_path {path} is readable by group or others (mode {state.mode:04o}); the module rewrites it with mode 0600")
        return key, state.content

    def pending_key_path(self) -> str:
        return self.params["private_key_path"] + PENDING_KEY_SUFFIX

    # -- chains -------------------------------------------------------------------

    def pick_chain(self, account: Account, pem: str, alternates: list[str]) -> list[str]:
        chain = split_pem_chain(pem)
        if not chain:
            raise AcmeError("The CA's certificate download holds no PEM certificate")
        self.alternates = len(alternates)
        preferred = self.params["preferred_chain"]
        if not preferred:
            return chain
        if chain_matches(chain, preferred):
            self.preferred_found = True
            return chain
        for url in alternates:
            alternate_pem = download_certificate(account, url)[0]
            alternate = split_pem_chain(alternate_pem)
            if alternate and alternate[0] == chain[0] and chain_matches(alternate, preferred):
                self.preferred_found = True
                return alternate
        self.preferred_found = False
        offered = [chain_top_issuer(chain) or "?"]
        self.module.warn(
            f"preferred_chain {preferred!r} matches none of the {1 + len(alternates)} chain(s) the CA offers "
            f"(default chain issued by {offered[0]!r}); using the default chain"
        )
        return chain

    # -- the run ---------------------------------------------------------------------

    def __call__(self) -> dict[str, Any]:
        params = self.params
        self.check_options()
        self.mode = parse_mode(params["mode"])
        self.uid = resolve_owner(params["owner"])
        self.gid = resolve_group(params["group"])
        destinations = self.destinations()
        checked = dict(destinations)
        if params["rotate_key"]:
            checked["private_key_path"] = self.pending_key_path()  # same directory, written first
        self.check_destinations(checked)
        current = self.current_certificate()
        before = _snapshot(current)

        if params["state_path"] and not params["order_uri"] and load_order_state(params["state_path"]) is None and current:
            cert_state = read_state(params["cert_path"], "cert_path")
            return self.nothing_in_flight(current, (cert_state.content or b"").decode("ascii", "replace"))

        csr_der: bytes | None = None
        csr_public: bytes | None = None
        if params["csr_path"]:
            csr_der, csr_public = self.read_csr()

        if self.check_mode and not order_recorded(params["order_uri"], params["state_path"]):
            return self.would_finalize(None, None, destinations, before)

        client = client_from_params(params, ANSIBLE_VERSION)
        account = account_from_params(params, client, self.module.warn)
        order, order_state = find_order(account, params["order_uri"], params["state_path"])
        if csr_public is not None:
            self.check_csr(order, csr_der, csr_public, account)

        if order.status == "pending":
            raise AcmeError(
                f"The order {order.uri} is pending: not every name is validated yet; validate first with certfleet.acme.acme_challenge_proof (validate: true)",
                order_uri=order.uri,
                status=order.status,
            )
        if order.status == "invalid" or not order.usable:
            problem = order.error or {}
            detail = problem.get("detail") or problem.get("type") or "the CA gave no reason"
            raise AcmeError(
                f"The order {order.uri} is {order.status}: {detail}; start a new order with certfleet.acme.acme_order",
                order_uri=order.uri,
                status=order.status,
                problem=order.error,
            )

        # The key the CSR is (or was) made with; candidates when the order was finalized earlier.
        key: PrivateKey | None = None
        key_pem: bytes | None = None
        candidates: list[tuple[PrivateKey, bytes, bool]] = []  # (key, pem, rotated)
        if params["private_key_path"]:
            existing = self.read_key(params["private_key_path"], "private_key_path", account)
            if order.status == "ready":
                if existing is None or params["rotate_key"]:
                    key = generate_private_key(params["key_type"])
                    key_pem = key.private_pem()
                    self.key_generated = existing is None
                    self.key_rotated = existing is not None
                else:
                    key, key_pem = existing
            else:
                if existing is not None:
                    candidates.append((existing[0], existing[1], False))
                pending = self.read_key(self.pending_key_path(), "private_key_path", account)
                if pending is not None:
                    candidates.append((pending[0], pending[1], True))

        if order.status == "ready":
            if self.check_mode:
                return self.would_finalize(order, order_state, destinations, before)
            if key is not None and key_pem is not None:
                self.save_new_key_early(key_pem)
                csr_der = build_csr(key, order.identifiers)
            order = finalize(account, order, csr_der or b"")
            self.finalized = True
        if order.status == "processing":
            order = poll_order(account, order, Poller(float(params["wait_timeout"]), f"the CA to issue the certificate of {order.uri}"))
        if order.status != "valid" or not order.certificate:
            problem = order.error or {}
            raise AcmeError(
                f"The order {order.uri} ended {order.status} instead of valid: {problem.get('detail') or problem.get('type') or 'the CA gave no reason'}",
                order_uri=order.uri,
                status=order.status,
                problem=order.error,
            )

        pem, alternates = download_certificate(account, order.certificate)
        chain = self.pick_chain(account, pem, alternates)
        info = certificate_info(chain[0])

        # Which key is the certificate for?
        if key is None and candidates:
            match = next((c for c in candidates if key_public_der(c[0]) == info.public_key_der), None)
            if match is None:
                raise AcmeError(
                    f"The certificate of the order {order.uri} is for a key that is neither private_key_path "
                    f"{params['private_key_path']} nor a pending rotated key; start a new order with certfleet.acme.acme_order",
                    order_uri=order.uri,
                )
            key, key_pem, self.key_rotated = match
        elif key is None and params["private_key_path"]:
            raise AcmeError(
                f"The order {order.uri} was finalized with a key this run does not have (private_key_path "
                f"{params['private_key_path']} does not exist); start a new order with certfleet.acme.acme_order",
                order_uri=order.uri,
            )
        expected_public = key_public_der(key) if key is not None else csr_public
        self.verify(order, chain, info, expected_public)

        files = self.write_files(destinations, chain, key_pem)
        state_removed = self.remove_state(order, order_state)
        return self.result(
            order=order,
            identifiers=order.identifiers,
            info=info,
            chain=chain,
            files=files,
            state_removed=state_removed,
            before=before,
        )

    def read_csr(self) -> tuple[bytes, bytes]:
        path = self.params["csr_path"]
        state = read_state(path, "csr_path")
        if not state.exists or not state.content:
            raise AcmeOptionError("csr_path", f"csr_path {path} does not exist or is empty")
        csr_der, self.csr_identifiers, public = load_csr(state.content, "csr_path")
        return csr_der, public

    def check_csr(self, order: Order, csr_der: bytes | None, csr_public: bytes, account: Account) -> None:
        path = self.params["csr_path"]
        if csr_public == key_public_der(account.key):
            raise AcmeOptionError("csr_path", f"csr_path {path} is signed with the account key; a certificate needs a key of its own")
        if not same_names(self.csr_identifiers, order.identifiers):
            raise AcmeOptionError(
                "csr_path",
                f"csr_path {path} names {', '.join(sorted(i.value for i in self.csr_identifiers)) or 'nothing'}, but the order "
                f"{order.uri} is for {', '.join(sorted(i.value for i in order.identifiers))}; the names must be the same",
            )

    def save_new_key_early(self, key_pem: bytes) -> None:
        """Keep a new key on disk before its CSR goes out, so an interrupted run can finish.

        A missing key goes straight to private_key_path (no old key to protect); a rotated key
        waits beside it in ``.next`` until its certificate is downloaded and checked.
        """
        if self.key_generated:
            atomic_write(self.params["private_key_path"], key_pem, option="private_key_path", mode=PRIVATE_MODE, uid=self.uid, gid=self.gid)
        elif self.key_rotated:
            atomic_write(self.pending_key_path(), key_pem, option="private_key_path", mode=PRIVATE_MODE, uid=self.uid, gid=self.gid)

    def verify(self, order: Order, chain: list[str], info: CertificateInfo, expected_public: bytes | None) -> None:
        """Check the certificate before any file is touched."""
        if expected_public is not None and info.public_key_der != expected_public:
            raise AcmeError(
                f"The certificate of the order {order.uri} is not for the key of this run's CSR; nothing was written",
                order_uri=order.uri,
            )
        if not same_names(info.identifiers, order.identifiers):
            raise AcmeError(
                f"The certificate names {', '.join(sorted(i.value for i in info.identifiers))}, but the order is for "
                f"{', '.join(sorted(i.value for i in order.identifiers))}; nothing was written",
                order_uri=order.uri,
            )
        if len(chain) > 1 and directly_issued_by(chain[0], chain[1]) is False:
            raise AcmeError(
                f"The chain the CA sent for the order {order.uri} does not sign the certificate; nothing was written",
                order_uri=order.uri,
            )
        if len(chain) == 1 and self.params["chain_path"]:
            self.module.warn("The CA sent the certificate without a chain; chain_path is written empty")

    def file_contents(self, chain: list[str], key_pem: bytes | None) -> dict[str, tuple[bytes, int]]:
        leaf = chain[0]
        rest = "".join(chain[1:])
        contents: dict[str, tuple[bytes, int]] = {
            "chain_path": (rest.encode("ascii"), self.mode),
            "fullchain_path": ((leaf + rest).encode("ascii"), self.mode),
            "cert_path": (leaf.encode("ascii"), self.mode),
        }
        if key_pem is not None:
            contents["private_key_path"] = (key_pem, PRIVATE_MODE)
        return contents

    def write_files(self, destinations: dict[str, str], chain: list[str], key_pem: bytes | None) -> dict[str, bool]:
        contents = self.file_contents(chain, key_pem)
        files: dict[str, bool] = {}
        written: list[str] = []
        for option, path in destinations.items():
            if option not in contents:
                continue
            content, mode = contents[option]
            if self.check_mode:
                files[option] = needs_write(path, content, mode, self.uid, self.gid, option)
                continue
            try:
                files[option] = atomic_write(path, content, option=option, mode=mode, uid=self.uid, gid=self.gid)
            except AcmeError as error:
                if written:
                    error.msg += f" (already written: {', '.join(written)}; run again to finish, the order stays recorded)"
                    error.args = (error.msg,)
                raise
            if files[option]:
                written.append(option)
        if "private_key_path" in files and (self.key_generated or self.key_rotated):
            files["private_key_path"] = True  # generated this run (possibly written before finalizing)
        if self.params["private_key_path"] and not self.check_mode:
            self.remove_pending_key()
        return files

    def remove_pending_key(self) -> None:
        try:
            os.unlink(self.pending_key_path())
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.module.warn(f"could not remove the used rotated key {self.pending_key_path()}: {exc.strerror}")

    def remove_state(self, order: Order, order_state: OrderState | None) -> bool:
        path = self.params["state_path"]
        if not path or order_state is None or order_state.orderUri != order.uri:
            return False
        if self.check_mode:
            return True
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise AcmeOptionError("state_path", f"every file is written, but state_path {path} could not be removed: {exc.strerror}; remove it") from None
        return True

    def would_finalize(
        self, order: Order | None, order_state: OrderState | None, destinations: dict[str, str], before: dict[str, Any]
    ) -> dict[str, Any]:
        """Check mode: what the real run would do (order None: acme_order ran in check mode too)."""
        self.finalized = True
        key_path = self.params["private_key_path"]
        if key_path and not os.path.exists(key_path):
            self.key_generated = True
        result = self.result(
            order=order,
            identifiers=order.identifiers if order else [],
            info=None,
            chain=[],
            files={option: True for option in destinations},
            state_removed=order is not None and order_state is not None and order_state.orderUri == order.uri,
            before=before,
        )
        if order is None:
            result["msg"] = "No order yet (acme_order ran in check mode): the real run would finalize it and write the files"
        return result

    def result(
        self,
        *,
        order: Order | None,
        identifiers: list[Identifier],
        info: CertificateInfo | None,
        chain: list[str],
        files: dict[str, bool],
        state_removed: bool,
        before: dict[str, Any],
    ) -> dict[str, Any]:
        changed = any(files.values()) or state_removed or self.finalized
        result: dict[str, Any] = {
            "changed": changed,
            "order_uri": order.uri if order else None,
            "status": order.status if order else None,
            "finalized": self.finalized,
            "identifiers": [i.value for i in identifiers],
            "serial": info.serial if info else None,
            "alternates": self.alternates,
            "preferred_chain_found": self.preferred_found,
            "key_generated": self.key_generated,
            "key_rotated": self.key_rotated,
            "state_removed": state_removed,
            "files": {option: {"path": self.params[option], "changed": changed_file} for option, changed_file in files.items()},
        }
        if info is not None:
            leaf = chain[0] if chain else ""
            rest = "".join(chain[1:])
            result.update(
                not_before=_timestamp(info.not_before),
                not_after=_timestamp(info.not_after),
                issuer=info.issuer,
                chain_issuer=chain_top_issuer(chain) if chain else None,
                cert_pem=leaf,
                chain_pem=rest,
                fullchain_pem=leaf + rest,
            )
        if self.module._diff:
            after = _snapshot(info) if info is not None else {"serial": "(new certificate)", "not_after": None}
            result["diff"] = {"before": before, "after": after}
        return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **module_kwargs())
    run_module(module, FinalizeRun(module))


if __name__ == "__main__":
    main()
