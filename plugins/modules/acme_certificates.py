#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_certificates
short_description: Decide, order, validate and finalize many certificates in one task
version_added: 0.2.0
description:
  - The batch path for fleets with many certificates. One task takes a list of O(certificates) and runs, for each,
    what M(certfleet.acme.acme_certificate_info), M(certfleet.acme.acme_order), M(certfleet.acme.acme_challenge_proof)
    and M(certfleet.acme.acme_finalize) would run for it, with the same renewal decision, the same resumable state
    file, the same lock and the same atomic writes.
  - All certificates share one account, one keep-alive connection pool and one nonce pool, and up to O(workers)
    of them are in flight at once, so their waits for the CA overlap.
  - A certificate that fails is reported in RV(certificates) and RV(failed_certificates) with the CA's or the
    self-test's message; it never stops or fails the others, and its existing files stay as they are.
    The task itself fails only for errors that concern the whole batch (options, the account, the CA's directory).
  - Missing folders for a certificate's files are created (mode V(0700), as they hold its key) before its files are written.
  - Run it in two tasks when proofs must be published in between (V(http-01), V(dns-01)). O(steps=[order]) returns
    every proof of the batch in RV(http_proofs) and RV(dns_records); publish them, then run
    O(steps=[validate, finalize]). When the proofs are in place already (V(dns-persist-01) records, published once),
    one task with the default O(steps) does everything.
requirements:
  - dnspython >= 2.1 (for the DNS self-test of V(dns-01) and V(dns-persist-01) proofs; not needed for V(http-01))
extends_documentation_fragment:
  - certfleet.acme.acme.server
  - certfleet.acme.acme.account
  - certfleet.acme.acme.attributes
  - certfleet.acme.acme.state_lock
  - certfleet.acme.acme.order_choices
  - certfleet.acme.acme.renewal
  - certfleet.acme.acme.self_test
  - certfleet.acme.acme.wait
  - certfleet.acme.acme.certificate_files
attributes:
  check_mode:
    support: full
    details:
      - Decides and reports, for each certificate, whether an order would be created (status V(would_order));
        creates no order, answers no challenge and writes no file.
  diff_mode:
    support: none
    details:
      - RV(certificates) shows, per certificate, what changed; there is no before/after diff.
  idempotent:
    support: full
    details:
      - A rerun after a complete run finds every certificate not due and makes no order.
      - A rerun after a run with failures orders only the certificates that are still due.
options:
  certificates:
    description:
      - The certificates of the batch, each a dictionary.
      - The options marked as falling back take the module option of the same name when left out.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - A name for the certificate, unique in the batch. Its order state file is C(<state_dir>/<name>.order.json)
            unless O(certificates[].state_path) says otherwise.
          - Letters, digits, C(.), C(_) and C(-).
        type: str
        required: true
      identifiers:
        description:
          - The names the certificate is for (DNS names, C(*.) wildcards, IP addresses), as in M(certfleet.acme.acme_order).
        type: list
        elements: str
        required: true
      cert_path:
        description:
          - Where the certificate is read from for the renewal decision, and written to (leaf only).
        type: path
        required: true
      private_key_path:
        description:
          - The certificate's private key, generated with mode V(0600) (type O(key_type)) when missing,
            as in M(certfleet.acme.acme_finalize).
        type: path
        required: true
      chain_path:
        description:
          - Where to write the chain without the leaf.
        type: path
      state_path:
        description:
          - The certificate's order state file, instead of C(<state_dir>/<name>.order.json); its folder is created
            (mode V(0700)) when missing.
          - Give the O(certfleet.acme.acme_order#module:state_path) that the step modules (or the
            C(certfleet.acme.certificate) role, which uses C(<dir>/<name>/order.json)) use for the same certificate, and
            a batch and a single-certificate run share one order and one lock, and take turns.
        type: path
      fullchain_path:
        description:
          - Where to write the certificate followed by its chain.
        type: path
      challenge:
        description:
          - Falls back to O(challenge), then to V(http-01).
        type: str
        choices: [http-01, dns-01, dns-persist-01]
      profile:
        description:
          - Falls back to O(profile).
        type: str
      issuer_domain_name:
        description:
          - Falls back to O(issuer_domain_name).
        type: str
      persist_policy_wildcard:
        description:
          - Falls back to O(persist_policy_wildcard).
        type: bool
      persist_until:
        description:
          - Falls back to O(persist_until).
        type: int
  state_dir:
    description:
      - Directory for the order state files, one per certificate (C(<name>.order.json)) that gives no
        O(certificates[].state_path), created (mode V(0700)) when missing.
      - Keep it on a persistent path; an AWX job's container is thrown away after each job.
    type: path
    required: true
  steps:
    description:
      - Which steps to run, consecutive and in this order.
      - V(order) decides for each certificate whether it is due (expiry, ARI window, changed names or key) and creates
        or resumes its order when it is; certificates not due get status V(not_due) and no request beyond the ARI lookup.
      - V(validate) self-tests and answers the challenges of every certificate with an order in flight.
      - V(finalize) finalizes, downloads and writes the certificate files, and removes the state file.
      - A run without V(order) works on the certificates whose state file records an order; the others get
        status V(no_order).
    type: list
    elements: str
    choices: [order, validate, finalize]
    default: [order, validate, finalize]
  workers:
    description:
      - How many certificates are worked on at once. Most of a certificate's time is spent waiting as the CA's
        C(Retry-After) asks, so more workers overlap more waits. With 200 workers, 1,000 certificates took 39–44 seconds
        against a local Pebble (bench/run.sh, docs/performance.md).
      - However many workers there are, at most 20 connections to the CA are open at once; a worker that needs one waits.
      - Mind the CA's rate limits on requests per second before raising it against a public CA.
    type: int
    default: 10
  challenge:
    description:
      - The challenge type for the new orders of certificates that do not name one; V(http-01) when left out.
      - The V(validate) step answers the type recorded with each order, so a run without V(order) needs no O(challenge).
    type: str
    choices: [http-01, dns-01, dns-persist-01]
notes:
  - Retry time (O(retry_timeout)) is shared by the whole batch.
  - Certificates of one batch must not share a name or a file; the module refuses such a list before anything is read.
seealso:
  - module: certfleet.acme.acme_certificate_info
  - module: certfleet.acme.acme_order
  - module: certfleet.acme.acme_challenge_proof
  - module: certfleet.acme.acme_finalize
author:
  - certfleet.acme developers (@certfleet)
"""

EXAMPLES = r"""
- name: Make sure the account exists (the batch uses it, and never creates one)
  certfleet.acme.acme_account:
    directory: letsencrypt_staging
    credentials_path: /var/lib/certfleet/letsencrypt-staging.json
    contacts: [mailto:ops@example.com]
    terms_agreed: true

- name: The web certificates over http-01, the whole batch in three ACME tasks
  module_defaults:
    certfleet.acme.acme_certificates:
      directory: letsencrypt_staging
      credentials_path: /var/lib/certfleet/letsencrypt-staging.json
      state_dir: /var/lib/certfleet/orders
      certificates:
        - name: www
          identifiers: [www.example.com, example.com]
          cert_path: /etc/ssl/certfleet/www.crt
          fullchain_path: /etc/ssl/certfleet/www.fullchain.crt
          private_key_path: /etc/ssl/certfleet/www.key
        - name: web1
          identifiers: [web1.example.com]
          cert_path: /etc/ssl/certfleet/web1.crt
          fullchain_path: /etc/ssl/certfleet/web1.fullchain.crt
          private_key_path: /etc/ssl/certfleet/web1.key
  block:
    - name: Order what is due
      certfleet.acme.acme_certificates:
        steps: [order]
      register: ordered

    - name: Publish the batch's tokens on every web node (one task per node)
      certfleet.acme.acme_webroot_tokens:
        webroot: /var/www/html
        proofs: "{{ ordered.http_proofs }}"
      delegate_to: "{{ item }}"
      loop: "{{ groups['web'] }}"

    - name: Validate and finalize the batch (one certificate that fails never stops the others)
      certfleet.acme.acme_certificates:
        steps: [validate, finalize]
      register: finished

  always:
    - name: Take the tokens down
      certfleet.acme.acme_webroot_tokens:
        webroot: /var/www/html
        proofs: "{{ ordered.http_proofs | default([]) }}"
        state: absent
      delegate_to: "{{ item }}"
      loop: "{{ groups['web'] }}"

- name: Fail the job at the end when a certificate failed
  ansible.builtin.fail:
    msg: "{{ finished.failed_certificates }}"
  when: finished.failed_certificates | length > 0
"""

RETURN = r"""
certificates:
  description: One entry per certificate, in the order of O(certificates).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: O(certificates[].name).
      type: str
    status:
      description:
        - V(not_due) (no order needed), V(would_order) (check mode), V(pending) or V(ready) (ordered; the next
          steps remain), V(valid) (validated; finalization remains), V(issued) (files written or already
          up to date), V(superseded) (another run renewed it meanwhile), V(no_order) (no order in flight for a run
          without the order step), V(failed), or V(not_attempted) (the CA stopped answering before this certificate
          was started; nothing was sent for it, and its files and order state are as they were).
      type: str
    changed:
      description: Whether anything changed for this certificate (an order created, a challenge answered, a file written).
      type: bool
    failed:
      description: Whether this certificate failed; RV(certificates[].msg) says why.
      type: bool
    msg:
      description: Why the certificate failed, with the CA's or the self-test's message; V(null) otherwise.
      type: str
    error:
      description: The structured fields of the failure (problem type, detail, status, URL, per-identifier results); only when it failed.
      type: dict
      returned: when failed
    reason:
      description: Why renewal is due or not, as RV(certfleet.acme.acme_certificate_info#module:reason); with the order step.
      type: str
    order_uri:
      description: The certificate's order.
      type: str
    serial:
      description: Serial number of the certificate now in O(certificates[].cert_path) (the new one once issued).
      type: str
    not_after:
      description: Expiry of that certificate (RFC 3339).
      type: str
failed_certificates:
  description: The certificates that failed, each with RV(certificates[].name) and RV(certificates[].msg).
  returned: always
  type: list
  elements: dict
counts:
  description: How many certificates ended in each RV(certificates[].status).
  returned: always
  type: dict
  sample: {issued: 19, failed: 1}
http_proofs:
  description:
    - Every V(http-01) proof to publish, of the whole batch, each as in RV(certfleet.acme.acme_order#module:http_proofs)
      plus C(certificate), the name of its certificate.
  returned: always
  type: list
  elements: dict
dns_records:
  description:
    - Every TXT record to publish, of the whole batch, merged by name (an apex and its wildcard share one, even in
      two certificates), each as in RV(certfleet.acme.acme_order#module:dns_records).
  returned: always
  type: list
  elements: dict
bind:
  description: The records of RV(dns_records) as zone-file lines.
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_module_argument_spec,
    account_module_kwargs,
    certificate_files_argument_spec,
    order_choices_argument_spec,
    renewal_decision_argument_spec,
    state_lock_argument_spec,
    validation_argument_spec,
    wait_argument_spec,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.batch_run import OVERRIDABLE, STEPS, run_batch
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module_glue import ModuleGlue


def argument_spec() -> dict[str, Any]:
    return account_module_argument_spec(
        **state_lock_argument_spec(),
        certificates={
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {
                "name": {"type": "str", "required": True},
                "identifiers": {"type": "list", "elements": "str", "required": True},
                "cert_path": {"type": "path", "required": True},
                "private_key_path": {"type": "path", "required": True},
                "chain_path": {"type": "path"},
                "fullchain_path": {"type": "path"},
                "state_path": {"type": "path"},
                **OVERRIDABLE,
            },
        },
        state_dir={"type": "path", "required": True},
        steps={"type": "list", "elements": "str", "choices": list(STEPS), "default": list(STEPS)},
        workers={"type": "int", "default": 10},
        # Unset, each certificate's order takes http-01 and its later steps the type recorded with the order.
        challenge=dict(OVERRIDABLE["challenge"]),
        **order_choices_argument_spec(),
        **renewal_decision_argument_spec(),
        **validation_argument_spec(),
        **certificate_files_argument_spec(),
        **wait_argument_spec(),
    )


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **account_module_kwargs())
    glue = ModuleGlue(module)
    glue.run(lambda: run_batch(module.params, connect=glue.account, warn=module.warn, check_mode=module.check_mode))


if __name__ == "__main__":
    main()
