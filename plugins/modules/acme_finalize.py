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
  - Missing folders on the paths of the files it writes are created with mode V(0700) (they hold the key), owned by the
    user running the module, before anything is sent; an existing folder is left as it is. Check mode creates none.
  - Checks what the CA sent before writing anything (its public key is the one of the CSR, its names are
    the order's and those asked for, it is valid now within 5 minutes of clock skew, and each certificate
    of the chain is signed by the next), then installs O(private_key_path), O(chain_path), O(fullchain_path)
    and O(cert_path) as one set. Every file is first written to a temporary file in its directory, then
    each is renamed over the old one; if one of them fails, the files already replaced are put back, so
    either all files change or none does. Every destination is checked before the CSR is sent, so a wrong
    path fails before the order is used up and leaves every existing file as it was.
  - After all files are written, removes O(state_path), since the order is done; the next run of
    M(certfleet.acme.acme_order) with the same O(state_path) starts a new order (a renewal).
  - When O(state_path) does not exist (the usual state between renewals) and the certificate does (at O(cert_path), or
    at O(fullchain_path) without O(cert_path)), the module makes no request to the CA, changes nothing and returns the
    information of that certificate.
  - No private key is ever returned.
extends_documentation_fragment:
  - certfleet.acme.acme.server
  - certfleet.acme.acme.account
  - certfleet.acme.acme.attributes
  - certfleet.acme.acme.state_lock
  - certfleet.acme.acme.order_uri
  - certfleet.acme.acme.certificate_files
  - certfleet.acme.acme.wait
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
      - Shows the serial number and expiry of the certificate (O(cert_path), or O(fullchain_path) without it) before and after.
  idempotent:
    support: full
    details:
      - A rerun with a V(valid) order downloads the same certificate and changes no file.
      - A rerun after the order completed (O(state_path) removed, the certificate present) changes nothing
        and sends no request to the CA.
options:
  state_path:
    description:
      - The order state file M(certfleet.acme.acme_order) wrote.
      - An order M(certfleet.acme.acme_challenge_proof) recorded there as ready is finalized without fetching it first;
        when the CA refuses that (the order moved on, for instance an earlier run finalized it), the module fetches the
        order and carries on from what the CA says.
      - Removed once every file is written, so the next M(certfleet.acme.acme_order) run creates a new order.
      - When it does not exist and the certificate does, nothing is done (see the description).
      - The module holds the lock C(<state_path>.lock) for its whole run (see O(lock_timeout)), so two runs on the
        same order never both finalize it nor interleave their writes; the second waits, then finds O(state_path)
        removed and leaves the certificate the first one wrote as it is.
    type: path
  private_key_path:
    description:
      - PEM file with the private key of the certificate.
      - Generated (type O(key_type), mode V(0600)) when the file does not exist. An existing key is reused
        on renewal, unless O(rotate_key=true).
      - It is always (re)written with mode V(0600) and O(owner)/O(group). An existing key that group or others may
        read is warned about and rewritten with mode V(0600), same content, when the certificate files are written.
      - It must not be the account key; the module refuses it.
      - An existing file that holds no usable key (not PEM, encrypted, or a type or size no ACME CA certifies) is
        never replaced; the module fails naming it. There is no passphrase option; decrypt the key, or use O(csr_path).
      - Exactly one of O(private_key_path) and O(csr_path) is required.
    type: path
  csr_path:
    description:
      - A certificate signing request (PEM or DER) to send instead of one built from O(private_key_path).
      - Its names (subjectAltName, or the common name when it has none) must be exactly the order's names;
        the module checks this before finalizing.
      - The module writes no key then; the key of the CSR stays the user's business.
      - Refused before finalizing, so the order stays ready, when it cannot be read, its signature does not verify,
        it is signed with the account key, or its key is one no ACME CA certifies (EC P-256, P-384, P-521 and RSA
        2048 to 8192 bits are accepted).
    type: path
    aliases: [csr]
  cert_path:
    description:
      - Where to write the certificate (PEM, the leaf certificate only).
      - Beside it, in the same set of files, the module writes C(<cert_path>.acme.json) (mode 0644, owned by the user
        who runs the module) with the directory, account and serial of the issuance. It holds no secret.
        M(certfleet.acme.acme_certificate_info) reads it to renew a certificate whose directory has changed
        (reason V(ca_changed)), for example after a switch from staging to production.
      - At least one of O(cert_path) and O(fullchain_path) is required. Without O(cert_path), the first certificate of
        O(fullchain_path) is the certificate, and the record is C(<fullchain_path>.acme.json); give
        M(certfleet.acme.acme_certificate_info) the full chain as its O(certfleet.acme.acme_certificate_info#module:cert_path).
    type: path
    aliases: [cert_dest, dest]
  chain_path:
    description:
      - Where to write the intermediate certificates (PEM), the chain without the leaf.
    type: path
    aliases: [chain_dest]
  fullchain_path:
    description:
      - Where to write the certificate followed by its chain (PEM), what most web servers want.
      - Enough on its own, without O(cert_path) (see there).
    type: path
    aliases: [fullchain_dest]
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
- name: Issue or renew www.example.com over http-01, each fact written once
  module_defaults:
    group/certfleet.acme.acme:
      directory: letsencrypt_staging
      credentials_path: /etc/certfleet/letsencrypt-staging.json
  block:
    - name: Decide (the certificate file and the names are named here only)
      certfleet.acme.acme_certificate_info:
        cert_path: /etc/ssl/certs/www.example.com.crt
        identifiers: [www.example.com, example.com]
      register: cert_info

    - name: Issue when due
      when: cert_info.renewal_due
      block:
        - name: Make sure the account exists (registered on the first run)
          certfleet.acme.acme_account:
            contacts: [mailto:ops@example.com]
            terms_agreed: true

        - name: Order the certificate (state file /etc/ssl/certs/www.example.com.crt.order.json; a rerun resumes it)
          certfleet.acme.acme_order:
            certificate: "{{ cert_info }}"
            challenge: http-01
          register: order

        - name: Publish the tokens on every web node (one task per node; folders created)
          certfleet.acme.acme_webroot_tokens:
            webroot: /var/www/html
            proofs: "{{ order.http_proofs }}"
          delegate_to: "{{ item }}"
          loop: "{{ groups['web'] }}"

        - name: Validate
          certfleet.acme.acme_challenge_proof:
            order: "{{ order }}"

        - name: Finalize and write key (always 0600), certificate (cert_path from the order) and chains
          certfleet.acme.acme_finalize:
            order: "{{ order }}"
            private_key_path: /etc/ssl/private/www.example.com.key
            chain_path: /etc/ssl/certs/www.example.com.chain.pem
            fullchain_path: /etc/ssl/certs/www.example.com.fullchain.pem
          register: cert

        - name: Show what was issued (the certfleet.acme.deploy role puts it on the web servers)
          ansible.builtin.debug:
            msg: "{{ cert.identifiers | join(', ') }}: serial {{ cert.serial }}, valid until {{ cert.not_after }}"

# example: skip (a variant of the finalize step above, for an order made the same way; the acme_finalize target rotates keys and picks chains)
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

# example: skip (a variant of the finalize step above; the acme_finalize target writes a full chain alone)
- name: Write only the key and the full chain, which is all nginx needs
  certfleet.acme.acme_finalize:
    directory: letsencrypt
    credentials_path: /etc/certfleet/letsencrypt.json
    state_path: /var/lib/certfleet/www.example.com.order.json
    private_key_path: /etc/ssl/private/www.example.com.key
    fullchain_path: /etc/ssl/certs/www.example.com.fullchain.pem

# example: skip (a variant of the finalize step above; the acme_finalize target finalizes with CSRs made elsewhere)
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

import functools
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_module_argument_spec,
    account_module_kwargs,
    certificate_files_argument_spec,
    order_uri_argument_spec,
    state_lock_argument_spec,
    wait_argument_spec,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.chain_options import derive_step_options
from ansible_collections.certfleet.acme.plugins.module_utils._acme.finalize_run import FinalizeRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module_glue import run_order_step


def argument_spec() -> dict[str, Any]:
    return account_module_argument_spec(
        **state_lock_argument_spec(),
        **order_uri_argument_spec(),
        state_path={"type": "path"},
        private_key_path={"type": "path"},
        # The aliases are community.crypto's names of the same files (docs/migrating.md).
        csr_path={"type": "path", "aliases": ["csr"]},
        cert_path={"type": "path", "aliases": ["cert_dest", "dest"]},
        chain_path={"type": "path", "aliases": ["chain_dest"]},
        fullchain_path={"type": "path", "aliases": ["fullchain_dest"]},
        **certificate_files_argument_spec(),
        **wait_argument_spec(),
    )


def module_kwargs() -> dict[str, Any]:
    kwargs = account_module_kwargs()
    kwargs["mutually_exclusive"] = kwargs["mutually_exclusive"] + [["private_key_path", "csr_path"]]
    # order_uri or state_path is checked by order_state.find_order, not here: in check mode a chain
    # passes the null order_uri of an order acme_order did not create.
    # One of cert_path and fullchain_path is checked by finalize_run.check_options: order may give cert_path.
    kwargs["required_one_of"] = kwargs["required_one_of"] + [["private_key_path", "csr_path"]]
    return kwargs


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **module_kwargs())
    run_order_step(module, FinalizeRun, functools.partial(derive_step_options, certificate_files=True))


if __name__ == "__main__":
    main()
