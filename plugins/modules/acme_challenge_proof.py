#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_challenge_proof
short_description: Self-test the published ACME proofs of an order, then have the CA validate them
version_added: 0.1.0
description:
  - Finds the order that M(certfleet.acme.acme_order) created or resumed, by O(order_uri) or by the same O(state_path).
  - Rebuilds, for each pending authorization, the proof M(certfleet.acme.acme_order) returned, and checks that it
    is published before anything is sent to the CA (O(self_test)), because a failed validation costs a
    rate-limit slot and makes the order unusable.
    V(http-01) proofs are fetched from every web node of O(http_nodes) (or from the name itself);
    V(dns-01) and V(dns-persist-01) TXT records are looked up on O(dns_resolvers) (or on the zone's
    authoritative servers). An apex name and its wildcard share C(_acme-challenge.<name>), so both values
    are checked together.
  - When any self-test fails, nothing is submitted and the task fails saying, for each identifier, what was
    expected and what was seen.
  - With O(validate=true), answers every pending challenge at once (RFC 8555 section 7.5.1), then polls the order,
    honouring C(Retry-After), until it is ready (every authorization valid) or invalid or O(wait_timeout) passes,
    with one request per round however many names the order has (RFC 8555 section 7.1.6). When the order turns invalid,
    each authorization is fetched to tell which name failed and why.
  - With O(state_path), starts from the order and authorizations M(certfleet.acme.acme_order) recorded there instead
    of fetching them again; when the CA refuses an answer made from that record, it fetches the order and starts
    again. It then records the order as it left it, so M(certfleet.acme.acme_finalize) can finalize a ready order
    without fetching it, and the next run of this module asks the CA.
  - Never answers a challenge that is already being validated or valid, and never answers again for an invalid
    authorization; the CA does not give a second chance, so the task fails with the CA's problem and says to
    create a new order.
requirements:
  - dnspython >= 2.1 (for the DNS self-test of V(dns-01) and V(dns-persist-01) proofs; not needed for V(http-01))
extends_documentation_fragment:
  - certfleet.acme.acme.server
  - certfleet.acme.acme.account
  - certfleet.acme.acme.attributes
  - certfleet.acme.acme.state_lock
  - certfleet.acme.acme.order_uri
  - certfleet.acme.acme.self_test
  - certfleet.acme.acme.wait
attributes:
  check_mode:
    support: full
    details:
      - Runs the self-tests, which only read DNS and HTTP, but answers no challenge.
        Reports C(changed) when a challenge would be answered.
  diff_mode:
    support: full
    details:
      - Shows the status of each authorization before and after. In check mode, the statuses after are those
        a successful validation would give.
  idempotent:
    support: full
    details:
      - Once every authorization is valid, a rerun sends nothing to the CA and reports no change.
options:
  state_path:
    description:
      - The order state file that M(certfleet.acme.acme_order) wrote with the same O(state_path).
      - It also records the challenge type and, for V(dns-persist-01), the issuer and policy choices, so the proofs
        checked here are exactly the ones M(certfleet.acme.acme_order) returned.
      - The module holds the lock C(<state_path>.lock) for its whole run (see O(lock_timeout)), so two runs on the
        same order take turns, and the second finds the authorizations the first validated and answers nothing again.
    type: path
  challenge:
    description:
      - The challenge type to answer.
      - Defaults to the type recorded in O(state_path); required with O(order_uri) alone.
    type: str
    choices: [http-01, dns-01, dns-persist-01]
  validate:
    description:
      - Answer the pending challenges and wait for the CA's verdict.
      - With V(false), only the self-tests run.
    type: bool
    default: true
notes:
  - For V(dns-persist-01), the record depends on the CA's issuer name, the policy and C(persistUntil); the
    choices made by M(certfleet.acme.acme_order) are read from O(state_path). With O(order_uri) alone the
    defaults are used (the CA's first issuer name, C(policy=wildcard) only for names ordered as wildcards,
    no C(persistUntil)).
  - Pebble and Let's Encrypt reuse recent valid authorizations of an account, so a new order may need no validation at all.
seealso:
  - module: certfleet.acme.acme_order
  - module: certfleet.acme.acme_finalize
  - module: certfleet.acme.acme_account
author:
  - certfleet.acme developers (@certfleet)
"""

EXAMPLES = r"""
- name: Issue a certificate over http-01 on a web fleet
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

    - name: Check every node serves the tokens, then have the CA validate them (the order from cert_order)
      certfleet.acme.acme_challenge_proof:
        order: "{{ cert_order }}"
        http_nodes: "{{ groups['web'] | map('extract', hostvars, 'ansible_host') | list }}"
      register: proof

    - name: Finalize and download the certificate
      certfleet.acme.acme_finalize:
        order: "{{ cert_order }}"
        private_key_path: /etc/ssl/private/www.example.com.key
        fullchain_path: /etc/ssl/certs/www.example.com.pem

- name: A wildcard over dns-01
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

    - name: Add both values of the record (apex and wildcard) in one signed update
      certfleet.acme.acme_nsupdate:
        server: ns1.example.com
        key_name: acme-update
        key_secret: "{{ vault_tsig_secret }}"
        records: "{{ cert_order.dns_records }}"

    - name: Only check that every authoritative server of the zone has both values (nothing is sent to the CA)
      certfleet.acme.acme_challenge_proof:
        order: "{{ cert_order }}"
        self_test_attempts: 30
        self_test_delay: 5
        validate: false

    - name: Then let the CA validate
      certfleet.acme.acme_challenge_proof:
        order: "{{ cert_order }}"
        wait_timeout: 300
      register: proof

    - name: Show the CA's verdict per name
      ansible.builtin.debug:
        msg: "{{ proof.authorizations | items2dict(key_name='identifier', value_name='status') }}"
"""

RETURN = r"""
msg:
  description: In check mode after M(certfleet.acme.acme_order) ran in check mode (no order exists yet), says so.
  returned: in that case
  type: str
order_uri:
  description: URL of the order; C(null) in check mode when no order exists yet.
  returned: always
  type: str
  sample: https://127.0.0.1:14000/my-order/Q2x6rg
status:
  description:
    - Status of the order at the end, V(pending), V(ready) (every authorization valid, ready for
      M(certfleet.acme.acme_finalize)), V(processing), V(valid) or V(invalid); RV(certfleet.acme.acme_order#module:status)
      and RV(certfleet.acme.acme_finalize#module:status) name the same thing.
  returned: always
  type: str
  sample: ready
  version_added: 0.2.0
order_status:
  description:
    - The same as RV(status), under the name version 0.1.0 gave it.
  returned: always
  type: str
  sample: ready
challenge:
  description: The challenge type answered.
  returned: always
  type: str
  sample: http-01
authorizations:
  description: One entry per authorization of the order, also in the result of a failed task.
  returned: always
  type: list
  elements: dict
  contains:
    identifier:
      description: The name, with C(*.) for a wildcard authorization.
      type: str
      sample: www.example.com
    wildcard:
      description: Whether the authorization is for a wildcard.
      type: bool
    status:
      description: V(pending), V(valid), V(invalid), V(deactivated), V(expired) or V(revoked).
      type: str
      sample: valid
    authorization_uri:
      description: URL of the authorization.
      type: str
    challenge_uri:
      description: URL of the challenge of type RV(challenge); C(null) when the CA does not offer it.
      type: str
    answered:
      description: Whether this run answered the challenge (or would, in check mode).
      type: bool
    proof:
      description:
        - The proof checked and answered for a pending authorization, as M(certfleet.acme.acme_order) returned it;
          C(null) when there was nothing to answer.
      type: dict
    self_test:
      description:
        - Result of the self-test; C(null) when none ran (already valid or being validated, or O(self_test=false)).
        - An apex name and its wildcard share the result of their common TXT record.
      type: dict
      contains:
        challenge:
          description: The kind of check, V(http-01) or V(dns-01) (a TXT lookup, also for V(dns-persist-01)).
          type: str
        target:
          description: The name checked (the identifier for http-01, the TXT record name for DNS).
          type: str
        ok:
          description: Whether the proof was found as expected.
          type: bool
        attempts:
          description: Attempts used.
          type: int
        max_attempts:
          description: O(self_test_attempts).
          type: int
        expected:
          description: The expected content (http-01) or the TXT values that must all be present.
          type: raw
        seen:
          description:
            - What each node or name server answered in the last attempt.
            - For http-01, each entry has C(node), C(host), C(url), C(status), C(redirects), C(error), C(ok), and what
              the answer was without repeating it (a web node may answer with a page nobody should see in a job log)
              C(length) (bytes read), C(truncated) (true when the answer was longer than the 8 KiB read) and
              C(looks_like) (V(expected), V(other), V(other_token) or V(other_account)).
            - For DNS, each entry has C(server), C(name), C(values), C(cname), C(rcode), C(ok), and C(ignored), the
              records of other names in the answer, which never count.
          type: list
          elements: dict
        message:
          description: A sentence saying what was expected and what was seen.
          type: str
    error:
      description:
        - The CA's problem for an invalid authorization (RFC 7807 C(type), C(detail), C(status), ...);
          C(null) otherwise.
      type: dict
      sample:
        type: urn:ietf:params:acme:error:unauthorized
        detail: The key authorization file from the server did not match this challenge
        status: 403
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_module_argument_spec,
    account_module_kwargs,
    order_uri_argument_spec,
    state_lock_argument_spec,
    validation_argument_spec,
    wait_argument_spec,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.chain_options import derive_step_options
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import CHALLENGE_TYPES
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module_glue import run_order_step
from ansible_collections.certfleet.acme.plugins.module_utils._acme.validate_run import ValidationRun


def argument_spec() -> dict[str, Any]:
    return account_module_argument_spec(
        **state_lock_argument_spec(),
        **order_uri_argument_spec(),
        state_path={"type": "path"},
        challenge={"type": "str", "choices": list(CHALLENGE_TYPES)},
        **validation_argument_spec(),
        **wait_argument_spec(),
        validate={"type": "bool", "default": True},
    )


def main() -> None:
    # order_uri or state_path is checked by order_state.find_order, not by required_one_of: in check
    # mode a chain passes the null order_uri of an order acme_order did not create.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **account_module_kwargs())
    run_order_step(module, ValidationRun, derive_step_options)


if __name__ == "__main__":
    main()
