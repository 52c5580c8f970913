#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_certificate_info
short_description: Decide whether a certificate is due for renewal, with the CA's renewal window (ARI)
version_added: 0.1.0
description:
  - Reads a certificate file and says whether it should be renewed now, why, and when to check again.
  - Needs no ACME account. With O(ari=true) (the default) it asks the CA's C(renewalInfo) resource
    (RFC 9773, ACME Renewal Information) for the renewal window the CA suggests; that is one GET of the
    directory and one GET of C(renewalInfo), and nothing is signed or sent on the certificate's behalf.
  - "The reasons are checked in this order, and RV(reason) is the first that applies:
    V(missing) (O(cert_path) does not exist),
    V(names_changed) (the certificate's subjectAltName is not exactly O(identifiers)),
    V(key_changed) (the certificate is not for the key in O(private_key_path)),
    V(ca_changed) (the certificate was issued through another ACME directory than O(directory), as the record
    M(certfleet.acme.acme_finalize) writes beside it says; see RV(issuing_directory)),
    V(ari_window) (the CA's suggested renewal window has begun),
    V(expiring) (fewer than O(renew_before_days) days, or less than O(renew_before_fraction) of the
    lifetime, are left; an expired certificate is V(expiring) too).
    RV(reasons) lists every one that applies. When none applies, RV(reason) is V(none)."
  - RFC 9773 asks clients to renew at a random time inside the suggested window. This module renews at
    the window's start, so that every run and every host reaches the same answer for the same certificate;
    the CA already spreads the windows it hands out.
  - The CA failing to answer never fails the task. A C(renewalInfo) answer of 404 or 400 (a certificate the
    CA does not know, for example a self-signed or private-CA one), an unreachable CA, a TLS error or an
    unusable answer give a warning and RV(ari=null), and the decision is made by the other rules.
    A directory without C(renewalInfo) (a CA without ARI) gives RV(ari=null) without a warning.
extends_documentation_fragment:
  - certfleet.acme.acme.server
  - certfleet.acme.acme.account_unused
  - certfleet.acme.acme.attributes
  - certfleet.acme.acme.renewal
attributes:
  check_mode:
    support: full
    details:
      - The module only reads files and asks the CA; check mode returns the same answer as a normal run.
  diff_mode:
    support: none
    details:
      - Nothing is changed, so there is nothing to show.
  idempotent:
    support: full
    details:
      - Never changes anything and always reports C(changed=false). Its answer moves with time and with the CA's
        renewal window.
options:
  cert_path:
    description:
      - The certificate to check, as written by M(certfleet.acme.acme_finalize), either the leaf certificate or the
        full chain in PEM (the first certificate of the file is the one checked). DER is accepted too.
      - When the file does not exist, renewal is due with reason V(missing).
      - A file that cannot be read or holds no certificate fails the task.
    type: path
    aliases: [certificate_path]
    required: true
  identifiers:
    description:
      - The names the certificate should have (DNS names, C(*.) wildcards, IP addresses), in any order and case.
      - When the certificate's subjectAltName holds other names, or misses one, renewal is due with reason V(names_changed).
      - When omitted, the names are not checked.
    type: list
    elements: str
  private_key_path:
    description:
      - The private key the certificate should be for (PEM), for example after a key rotation.
      - When the certificate's public key is another one, renewal is due with reason V(key_changed).
        When the file does not exist yet, renewal is due with reason V(key_changed) too, and a warning says so.
      - The key is read only to compare public keys; it never appears in the output.
      - When omitted, the key is not checked.
    type: path
  private_key_passphrase:
    description:
      - Passphrase of an encrypted O(private_key_path).
    type: str
notes:
  - Set O(directory) to the CA that issued the certificate; another CA does not know it and answers 404.
  - The RV(cert_id) is what M(certfleet.acme.acme_order) takes as its C(replaces) option to renew
    this certificate; Let's Encrypt exempts such ARI renewals from rate limits.
  - Schedule the next run for RV(next_check_at), or run nightly and let the answer say whether anything is due.
seealso:
  - name: RFC 9773
    description: ACME Renewal Information (ARI) Extension.
    link: https://www.rfc-editor.org/rfc/rfc9773
  - module: certfleet.acme.acme_account
author:
  - certfleet.acme developers (@certfleet)
"""

EXAMPLES = r"""
- name: Decide whether www.example.com needs a new certificate
  certfleet.acme.acme_certificate_info:
    directory: letsencrypt
    cert_path: /etc/certfleet/www.example.com/fullchain.pem
    identifiers:
      - www.example.com
      - example.com
    private_key_path: /etc/certfleet/www.example.com/privkey.pem
  register: cert_info

- name: Say why
  ansible.builtin.debug:
    msg: >-
      {{ cert_info.reason if cert_info.renewal_due else 'Nothing to do' }};
      next check at {{ cert_info.next_check_at }}

- name: Short-lived certificates (6 days) - renew in the last third of the lifetime
  certfleet.acme.acme_certificate_info:
    directory: letsencrypt
    cert_path: /etc/certfleet/api.example.com/fullchain.pem
    renew_before_days: 0
    renew_before_fraction: 0.33
  register: short_lived

- name: A certificate from a private CA, decided by expiry only
  certfleet.acme.acme_certificate_info:
    cert_path: /etc/pki/internal/host.pem
    ari: false
    renew_before_days: 14
  register: internal_cert

- name: Set the CA once for the module and the account modules (the acme action group)
  module_defaults:
    group/certfleet.acme.acme:
      directory: letsencrypt
      credentials_path: /etc/certfleet/letsencrypt.json   # accepted and ignored by this module
  block:
    - name: Check every certificate of the host
      certfleet.acme.acme_certificate_info:
        cert_path: "/etc/certfleet/{{ item }}/fullchain.pem"
        identifiers: ["{{ item }}"]
      loop: [www.example.com, api.example.com]
      register: checks
"""

RETURN = r"""
cert_path:
  description:
    - O(cert_path), the file checked. The C(certificate) option of M(certfleet.acme.acme_order) takes it (with the
      names, RV(serial) and RV(cert_id)) from this result, and derives its order state file from it.
  returned: always
  type: str
  sample: /etc/ssl/www.example.com/cert.pem
wanted_identifiers:
  description:
    - O(identifiers) as given, in their ASCII form; C(null) when O(identifiers) is not given.
    - The names the C(certificate) option of M(certfleet.acme.acme_order) orders.
  returned: always
  type: list
  elements: str
  sample: [www.example.com, example.com]
exists:
  description: Whether O(cert_path) exists.
  returned: always
  type: bool
  sample: true
renewal_due:
  description: Whether the certificate should be renewed now.
  returned: always
  type: bool
  sample: false
reason:
  description:
    - The first reason that applies, in the order V(missing), V(names_changed), V(key_changed), V(ca_changed),
      V(ari_window), V(expiring); V(none) when renewal is not due.
  returned: always
  type: str
  sample: none
reasons:
  description: Every reason that applies, in the same order; empty when renewal is not due.
  returned: always
  type: list
  elements: str
  sample: [names_changed, expiring]
serial:
  description: Serial number of the certificate in lowercase hexadecimal; C(null) when it does not exist.
  returned: always
  type: str
  sample: 4e0ac2b1f7d06bf7
not_before:
  description: Start of the certificate's validity, ISO 8601 in UTC; C(null) when it does not exist.
  returned: always
  type: str
  sample: "2026-03-01T12:00:00Z"
not_after:
  description: End of the certificate's validity, ISO 8601 in UTC; C(null) when it does not exist.
  returned: always
  type: str
  sample: "2026-05-30T12:00:00Z"
days_left:
  description:
    - Days until RV(not_after), with two decimals; negative once expired. C(null) when the certificate does not exist.
  returned: always
  type: float
  sample: 57.31
identifiers:
  description: DNS names and IP addresses of the certificate's subjectAltName; empty when it does not exist.
  returned: always
  type: list
  elements: str
  sample: [www.example.com, example.com]
issuer:
  description: Issuer distinguished name of the certificate (RFC 4514); C(null) when it does not exist.
  returned: always
  type: str
  sample: CN=Pebble Intermediate CA 3a0f2b
replaces:
  description:
    - What a renewal order names as the certificate it replaces (RFC 9773 section 5), the value
      M(certfleet.acme.acme_order) takes as its C(replaces) option, and takes by itself from this result given as
      its C(certificate) option; the batch and the roles send the same.
    - RV(cert_id) while O(ari) is on and the certificate came from the CA of O(directory); C(null) for a missing
      certificate, with O(ari=false), and for a certificate of another CA (reason V(ca_changed)), which the new CA
      does not know. A CA that refuses it gets the order again without it.
  returned: always
  type: str
  sample: aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE
  version_added: 0.2.0
issuing_directory:
  description:
    - The ACME directory that issued the certificate, from the record M(certfleet.acme.acme_finalize) writes beside
      it (O(cert_path) with C(.acme.json) added).
    - When it is not O(directory) (a preset is compared as its URL), renewal is due with reason V(ca_changed), and the
      CA of O(directory) is not asked for a renewal window (it does not know the certificate).
    - C(null) when there is no record to trust, for example for a certificate written by another tool or by a
      release before 0.2.0; then no change of CA can be seen. A record is used only when it is a regular file of the
      user who runs the module that nobody else may write, and when it is for the certificate's serial.
  returned: always
  type: str
  sample: https://acme-staging-v02.api.letsencrypt.org/directory
cert_id:
  description:
    - The certificate's ARI certificate ID (RFC 9773 section 4.1), base64url(Authority Key Identifier) C(.)
      base64url(serial number).
    - Give it to M(certfleet.acme.acme_order) as its C(replaces) option when renewing.
    - C(null) when the certificate does not exist or has no Authority Key Identifier.
  returned: always
  type: str
  sample: aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE
ari:
  description:
    - The CA's renewal information for the certificate.
    - C(null) when O(ari=false), when the certificate does not exist, has expired or has no Authority Key Identifier,
      when the CA has no C(renewalInfo), and when the CA could not be asked or gave no usable answer (a warning says why).
  returned: always
  type: dict
  contains:
    suggested_window:
      description:
        - The window in which the CA suggests renewing, ISO 8601 in UTC, with the fraction of a second the CA sent, if any.
        - Renewal is due with reason V(ari_window) from its start on.
      type: dict
      returned: success
      contains:
        start:
          description: Start of the window.
          type: str
          returned: success
          sample: "2026-04-29T12:00:00Z"
        end:
          description: End of the window.
          type: str
          returned: success
          sample: "2026-05-01T12:00:00Z"
    explanation_url:
      description: A page of the CA explaining the window (for example an incident that requires early renewal); C(null) when the CA gives none.
      type: str
      returned: success
      sample: https://community.letsencrypt.org/t/revocation-incident
    retry_after_seconds:
      description: The C(Retry-After) the CA sent with the answer, in seconds; C(null) when it sent none.
      type: int
      returned: success
      sample: 21600
  sample:
    suggested_window:
      start: "2026-04-29T12:00:00Z"
      end: "2026-05-01T12:00:00Z"
    explanation_url: null
    retry_after_seconds: 21600
next_check_at:
  description:
    - When to run the check again, ISO 8601 in UTC.
    - The time of this run when renewal is due (or the certificate is missing). Otherwise this run's time plus the
      C(Retry-After) of the ARI answer (kept between one minute and one day) or, without one, plus 6 hours; but never
      later than the moment the certificate becomes due by O(renew_before_days) / O(renew_before_fraction), or the
      start of the ARI window.
  returned: always
  type: str
  sample: "2026-03-01T18:00:00Z"
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_argument_spec,
    renewal_decision_argument_spec,
    server_argument_spec,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module_glue import ModuleGlue
from ansible_collections.certfleet.acme.plugins.module_utils._acme.renewal import check_certificate


def argument_spec() -> dict[str, Any]:
    spec = server_argument_spec()
    # Accepted and ignored: the acme action group's module_defaults set them for every member.
    spec.update(account_argument_spec())
    spec.update(
        cert_path={"type": "path", "required": True, "aliases": ["certificate_path"]},
        identifiers={"type": "list", "elements": "str"},
        private_key_path={"type": "path"},
        private_key_passphrase={"type": "str", "no_log": True},
        **renewal_decision_argument_spec(),
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    glue = ModuleGlue(module)
    glue.run(lambda: check_certificate(module.params, client_factory=glue.client, warn=module.warn))


if __name__ == "__main__":
    main()
