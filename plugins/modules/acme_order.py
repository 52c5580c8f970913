#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_order
short_description: Create or resume an ACME order and return the proofs to publish
version_added: 0.1.0
description:
  - Creates an order (RFC 8555 section 7.4) for DNS names, C(*.) wildcards and IP addresses, or resumes
    the order recorded in O(state_path) (or named by O(order_uri)) while it can still lead to a certificate.
  - Fetches every authorization and returns, for each pending one, the proof to publish for the chosen
    O(challenge) type, plus loop-ready lists (RV(http_proofs), RV(dns_records)) and zone-file lines (RV(bind)).
  - Reports the challenge types the CA offers for each identifier (RV(authorizations[].available_challenges)),
    so a playbook can discover them before choosing.
  - Names are checked before anything is sent to the CA.
  - Publish the proofs, then give the registered result to the C(order) option of
    M(certfleet.acme.acme_challenge_proof) and M(certfleet.acme.acme_finalize), which take the order's state file (or
    URL) and the certificate's path from it; or give them the same O(state_path) or the returned RV(order_uri).
  - With O(certificate), the registered result of M(certfleet.acme.acme_certificate_info), the names, the certificate
    file, its serial, its ARI certificate ID and a state file beside it are taken from that result, so each is written
    once in a playbook.
extends_documentation_fragment:
  - certfleet.acme.acme.server
  - certfleet.acme.acme.account
  - certfleet.acme.acme.attributes
  - certfleet.acme.acme.state_lock
  - certfleet.acme.acme.order_choices
attributes:
  check_mode:
    support: partial
    details:
      - Resumes and shows an existing order; reports that a new one would be created without creating it.
        No proofs can be shown for an order that does not exist yet.
  diff_mode:
    support: full
    details:
      - Shows the order URL and status before and after.
  idempotent:
    support: full
    details:
      - With O(state_path) or O(order_uri), a rerun resumes the same order instead of creating a duplicate,
        as long as the order is not invalid or expired and its names are unchanged.
options:
  identifiers:
    description:
      - The names of the certificate, DNS names (V(www.example.com)), wildcards (V(*.example.com)) or
        IP addresses (V(192.0.2.1), V(2001:db8::1)).
      - Internationalised names are converted to their ASCII form.
      - One of O(identifiers) and O(certificate) is required. With both, they must be the same names (in any order).
    type: list
    elements: str
  certificate:
    description:
      - The registered result of M(certfleet.acme.acme_certificate_info) for the certificate this order is for. It
        gives, for each option left out,
        O(identifiers) (the names acme_certificate_info was told to want, RV(certfleet.acme.acme_certificate_info#module:wanted_identifiers),
        or without them the names of the certificate in place),
        O(cert_path) (RV(certfleet.acme.acme_certificate_info#module:cert_path)),
        O(cert_serial) (RV(certfleet.acme.acme_certificate_info#module:serial), when the certificate exists),
        O(replaces) (RV(certfleet.acme.acme_certificate_info#module:cert_id), unless the certificate is due because another CA
        issued it, reason V(ca_changed), which this CA would not know) and
        O(state_path) (C(<cert_path>.order.json), beside the certificate).
      - An option given as well must agree with the value from O(certificate) (the same names, file or serial), or the
        task fails naming both; O(state_path) given explicitly simply wins.
      - The result is checked before anything else; a skipped or failed task's result, or something that is not the result
        of M(certfleet.acme.acme_certificate_info), fails naming O(certificate).
      - The order result (RV(state_path), RV(cert_path)) is what the C(order) option of the later steps takes.
    type: dict
  challenge:
    description:
      - The challenge type whose proofs to return.
      - V(http-01) cannot prove wildcards; V(dns-01) and V(dns-persist-01) cannot prove IP addresses.
    type: str
    choices: [http-01, dns-01, dns-persist-01]
    default: http-01
  replaces:
    description:
      - ARI certificate identifier (RFC 9773) of the certificate this order renews, as returned by
        M(certfleet.acme.acme_certificate_info) in C(cert_id). Let's Encrypt exempts such renewals from rate limits.
      - Taken from O(certificate) when left out (see there).
      - Sent only when the CA offers ARI (C(renewalInfo) in its directory); otherwise left out with a warning.
      - When the CA refuses the order because it cannot resolve this certificate (C(malformed), C(serverInternal) or
        HTTP 404), the order is created once more without O(replaces) and a warning says so. C(alreadyReplaced)
        (another order already replaces it) is an error.
    type: str
    aliases: [replaces_cert_id]
  order_uri:
    description:
      - URL of an existing order to resume instead of creating one, while it can still lead to a certificate; the
        O(certfleet.acme.acme_challenge_proof#module:order_uri) of the later steps is the order they work on.
    type: str
  state_path:
    description:
      - File that records the order (mode V(0600)), so a rerun resumes it rather than creating a duplicate.
      - Defaults to C(<cert_path>.order.json) when O(certificate) is given (with RV(certfleet.acme.acme_certificate_info#module:cert_path)).
      - M(certfleet.acme.acme_finalize) removes it once the certificate is written, so the next order starts afresh.
      - It also records the order and its authorizations as this module saw them, so
        M(certfleet.acme.acme_challenge_proof) answers the challenges without fetching them again.
      - Keep it on a persistent path in AWX.
      - Missing folders on its path are created with mode V(0700), owned by the user running the module (not in check mode);
        an existing folder is left as it is.
      - The module holds the lock C(<state_path>.lock) for its whole run (see O(lock_timeout)) and reads O(state_path)
        once it has it, so a concurrent run on the same certificate resumes the order this one records instead of
        creating a second one.
    type: path
  cert_path:
    description:
      - The certificate file this order renews (the O(certfleet.acme.acme_finalize#module:cert_path) of the same
        certificate), given together with O(cert_serial) to close the gap between a renewal decision and the order.
      - Taken from O(certificate) when left out, together with O(cert_serial).
      - When the file holds another certificate than the one with serial O(cert_serial), or holds one while
        O(cert_serial) is not given (the certificate was missing when the renewal was decided), another run renewed it
        meanwhile and the module creates no order, returns RV(superseded=true) and warns. A file that is gone stops
        nothing, since a certificate is still needed.
      - Checked while holding the lock of O(state_path) and before anything is sent to the CA. A run that finishes
        the certificate writes its files and removes O(state_path) under that lock, so two jobs that both decided to
        renew the same certificate end up with one order between them.
    type: path
  cert_serial:
    description:
      - Serial number of the certificate in O(cert_path) when the renewal was decided, in hexadecimal as
        M(certfleet.acme.acme_certificate_info) returns it (RV(certfleet.acme.acme_certificate_info#module:serial));
        colons, a V(0x) prefix, leading zeros and upper case are accepted.
      - Leave it out when the certificate did not exist. Needs O(cert_path).
    type: str
notes:
  - A dns-persist-01 record depends only on the CA, the account and the name, so it is the same on every
    renewal with the same account; publish it once and leave it in place.
seealso:
  - module: certfleet.acme.acme_challenge_proof
  - module: certfleet.acme.acme_finalize
  - module: certfleet.acme.acme_account
author:
  - certfleet.acme developers (@certfleet)
"""

EXAMPLES = r"""
- name: Issue a certificate over http-01
  module_defaults:
    group/certfleet.acme.acme:
      directory: letsencrypt_staging
      credentials_path: /etc/certfleet/letsencrypt-staging.json
  block:
    - name: Make sure the account exists (registered on the first run)
      certfleet.acme.acme_account:
        contacts: [mailto:ops@example.com]
        terms_agreed: true

    - name: Order the certificate (a rerun resumes the same order)
      certfleet.acme.acme_order:
        identifiers: [www.example.com, example.com]
        challenge: http-01
        state_path: /var/lib/certfleet/www.example.com.order.json
      register: cert_order

    - name: Publish the tokens on every web node (one task per node; folders created)
      certfleet.acme.acme_webroot_tokens:
        webroot: /var/www/html
        proofs: "{{ cert_order.http_proofs }}"
      delegate_to: "{{ item }}"
      loop: "{{ groups['web'] }}"

    - name: Validate (the order and its state file from cert_order)
      certfleet.acme.acme_challenge_proof:
        order: "{{ cert_order }}"

- name: Order a wildcard over dns-01 and publish both values of its record
  module_defaults:
    group/certfleet.acme.acme:
      directory: letsencrypt_staging
      credentials_path: /etc/certfleet/letsencrypt-staging.json
  block:
    - name: Order
      certfleet.acme.acme_order:
        identifiers: [example.com, "*.example.com"]
        challenge: dns-01
        state_path: /var/lib/certfleet/example.com.order.json
      register: cert_order

    - name: One record per name, apex and wildcard values together, added beside any other value
      certfleet.acme.acme_nsupdate:
        server: ns1.example.com
        key_name: acme-update
        key_secret: "{{ vault_tsig_secret }}"
        records: "{{ cert_order.dns_records }}"

- name: Renew only when due, and only once when two jobs decide to at the same time
  module_defaults:
    group/certfleet.acme.acme:
      directory: letsencrypt_staging
      credentials_path: /etc/certfleet/letsencrypt-staging.json
  block:
    - name: Decide
      certfleet.acme.acme_certificate_info:
        cert_path: /etc/ssl/www/cert.pem
        identifiers: [www.example.com]
      register: due

    - name: Order, unless another job renewed the certificate since the decision
      certfleet.acme.acme_order:
        # identifiers, cert_path, cert_serial, replaces and state_path (/etc/ssl/www/cert.pem.order.json) from due
        certificate: "{{ due }}"
      register: cert_order
      when: due.renewal_due

    - name: The rest of the chain only when this job ordered
      ansible.builtin.debug:
        msg: "publish, validate and finalize {{ cert_order.order_uri }}"
      when: due.renewal_due and not cert_order.superseded
"""

RETURN = r"""
state_path:
  description:
    - The order state file used, O(state_path) or the one derived from O(certificate); C(null) without one.
    - The C(order) option of M(certfleet.acme.acme_challenge_proof) and M(certfleet.acme.acme_finalize) takes it from
      this result.
  returned: always
  type: str
  sample: /etc/ssl/www.example.com/cert.pem.order.json
cert_path:
  description:
    - The certificate file this order renews, O(cert_path) or the one from O(certificate); C(null) without one.
    - M(certfleet.acme.acme_finalize) writes the certificate there when given this result as its C(order).
  returned: always
  type: str
  sample: /etc/ssl/www.example.com/cert.pem
order_uri:
  description: URL of the order; C(null) in check mode when it would be created.
  returned: always
  type: str
  sample: https://127.0.0.1:14000/my-order/Q2x6rg
status:
  description:
    - Status of the order, V(pending), V(ready), V(processing), V(valid) or V(invalid).
    - C(null) when RV(superseded) (there is no order).
  returned: always
  type: str
  sample: pending
superseded:
  description:
    - Whether the module created no order because O(cert_path) no longer holds the certificate of O(cert_serial),
      as another run renewed it after this one decided to. RV(order_uri) is then C(null) and every list is empty.
  returned: always
  type: bool
  sample: false
created:
  description: Whether this run created the order (or would, in check mode).
  returned: always
  type: bool
resumed:
  description: Whether an existing order was resumed.
  returned: always
  type: bool
identifiers:
  description: The names of the order, normalised.
  returned: always
  type: list
  elements: str
  sample: [www.example.com, example.com]
challenge:
  description: The challenge type of the proofs.
  returned: always
  type: str
  sample: http-01
expires:
  description: When the order expires (RFC 3339), if the CA says.
  returned: when known
  type: str
profile:
  description: Profile the CA applied, if it says.
  returned: when known
  type: str
authorizations:
  description: One entry per authorization of the order.
  returned: always
  type: list
  elements: dict
  contains:
    identifier:
      description: The name, with C(*.) for a wildcard authorization.
      type: str
    wildcard:
      description: Whether the authorization is for a wildcard.
      type: bool
    status:
      description: V(pending), V(valid), V(invalid), V(deactivated), V(expired) or V(revoked).
      type: str
    authorization_uri:
      description: URL of the authorization.
      type: str
    available_challenges:
      description: Challenge types the CA offers for this identifier.
      type: list
      elements: str
    challenge_uri:
      description: URL of the chosen challenge; C(null) when the CA does not offer it.
      type: str
    proof:
      description:
        - What to publish for a pending authorization; C(null) when it is already valid.
        - http-01 has C(token), C(path), C(url), C(content); DNS types have C(name), C(type), C(value).
      type: dict
    error:
      description: The CA's problem for an invalid authorization.
      type: dict
http_proofs:
  description: Loop-ready list of the http-01 files to serve (empty for other types).
  returned: always
  type: list
  elements: dict
  contains:
    identifier:
      description: The name the file proves.
      type: str
    token:
      description: The challenge token, also the file name.
      type: str
    path:
      description: The URL path, C(/.well-known/acme-challenge/<token>).
      type: str
    url:
      description: The URL the CA fetches.
      type: str
    content:
      description: The file's content, the key authorization.
      type: str
dns_records:
  description:
    - Loop-ready list of TXT records for dns-01 and dns-persist-01, one entry per record name with every value
      (an apex and its wildcard share C(_acme-challenge.<name>)). Empty for http-01.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Record name without trailing dot.
      type: str
    type:
      description: Always V(TXT).
      type: str
    values:
      description: Every value the record must hold at once.
      type: list
      elements: str
    rdata:
      description:
        - The same values in DNS presentation format, quoted, escaped and cut into 255-byte strings, ready for
          the O(community.general.nsupdate#module:value) option of M(community.general.nsupdate) or a zone file.
      type: list
      elements: str
      sample: ['"pebble.letsencrypt.org; accounturi=https://127.0.0.1:14000/my-account/1"']
    ttl:
      description: O(dns_ttl).
      type: int
    identifiers:
      description: The names these values prove.
      type: list
      elements: str
bind:
  description: The records of RV(dns_records) as zone-file lines.
  returned: always
  type: list
  elements: str
  sample: ['_validation-persist.example.com. 60 IN TXT "pebble.letsencrypt.org; accounturi=https://127.0.0.1:14000/my-account/1"']
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_module_argument_spec,
    account_module_kwargs,
    order_choices_argument_spec,
    state_lock_argument_spec,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.chain_options import derive_order_options
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import CHALLENGE_TYPES
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module_glue import run_order_step
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_run import OrderRun


def argument_spec() -> dict[str, Any]:
    return account_module_argument_spec(
        **state_lock_argument_spec(),
        identifiers={"type": "list", "elements": "str"},
        certificate={"type": "dict"},
        challenge={"type": "str", "choices": list(CHALLENGE_TYPES), "default": "http-01"},
        replaces={"type": "str", "aliases": ["replaces_cert_id"]},
        order_uri={"type": "str"},
        state_path={"type": "path"},
        **order_choices_argument_spec(),
        cert_path={"type": "path"},
        cert_serial={"type": "str"},
    )


def module_kwargs() -> dict[str, Any]:
    kwargs = account_module_kwargs()
    kwargs["required_one_of"] = kwargs["required_one_of"] + [["identifiers", "certificate"]]
    return kwargs


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **module_kwargs())
    # The whole run holds the lock of state_path: it reads the state file only once it has it, so a
    # concurrent run on the same certificate resumes the order recorded here instead of creating another.
    run_order_step(module, OrderRun, derive_order_options)


if __name__ == "__main__":
    main()
