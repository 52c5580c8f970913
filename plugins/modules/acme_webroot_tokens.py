#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_webroot_tokens
short_description: Put many http-01 tokens into a web server's document root, or take them out, in one task
version_added: 0.2.0
description:
  - Writes the file C(<webroot>/.well-known/acme-challenge/<token>) of every proof in O(proofs) with its key
    authorization, so the web server answers the CA's http-01 requests (RFC 8555 section 8.3). With O(state=absent),
    removes those files again.
  - Runs on the web node, once per node for a whole batch (for example the RV(certfleet.acme.acme_certificates#module:http_proofs)
    of M(certfleet.acme.acme_certificates)), instead of one M(ansible.builtin.copy) per token.
  - Needs only Python's standard library on the web node.
  - Each file is written atomically (a temporary file in the same directory, then a rename), so the web server never
    serves half a token. Files that already hold their content are left alone.
  - Refuses a token that is not base64url (so no file can land outside the challenge directory) and a content that is
    not that token's key authorization, before anything is written.
extends_documentation_fragment:
  - certfleet.acme.acme.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports which tokens would be written or removed and writes or removes nothing.
  diff_mode:
    support: full
    details:
      - Shows which of the given tokens are in the webroot before and after.
  idempotent:
    support: full
    details:
      - A rerun with the same proofs writes nothing and reports no change.
options:
  webroot:
    description:
      - The document root that serves C(http://<name>/) for the names of the proofs.
      - It must exist. The C(.well-known/acme-challenge) directory in it is created (mode V(0755)) when missing.
    type: path
    required: true
  proofs:
    description:
      - The proofs, each a dictionary with C(token) and C(content) (other keys are ignored), as
        RV(certfleet.acme.acme_order#module:http_proofs) and RV(certfleet.acme.acme_certificates#module:http_proofs) return them.
    type: list
    elements: dict
    required: true
  state:
    description:
      - V(present) writes the tokens; V(absent) removes them. Other files in the directory are never touched.
    type: str
    choices: [present, absent]
    default: present
  mode:
    description:
      - Mode of the token files. The web server's user must be able to read them.
      - Unlike the O(certfleet.acme.acme_finalize#module:mode) of certificate files, it applies to the token files only;
        the challenge directory is created with mode V(0755).
    type: raw
    default: '0644'
  owner:
    description:
      - Owner (name or id) of the token files, not of the challenge directory.
    type: str
  group:
    description:
      - Group (name or id) of the token files, not of the challenge directory.
    type: str
author:
  - certfleet.acme developers (@certfleet)
seealso:
  - module: certfleet.acme.acme_certificates
  - module: certfleet.acme.acme_order
"""

EXAMPLES = r"""
# example: hosts web
# In a play on the web nodes; the ACME steps run once, on the controller.
- name: Make sure the account exists
  certfleet.acme.acme_account:
    directory: letsencrypt_staging
    credentials_path: /var/lib/certfleet/letsencrypt-staging.json
    contacts: [mailto:ops@example.com]
    terms_agreed: true
  delegate_to: localhost
  run_once: true

- name: The batch, with its tokens on every web node
  module_defaults:
    certfleet.acme.acme_certificates:
      directory: letsencrypt_staging
      credentials_path: /var/lib/certfleet/letsencrypt-staging.json
      state_dir: /var/lib/certfleet/orders
      certificates:
        - name: www
          identifiers: [www.example.com]
          cert_path: /var/lib/certfleet/www/cert.pem
          fullchain_path: /var/lib/certfleet/www/fullchain.pem
          private_key_path: /var/lib/certfleet/www/privkey.pem
  block:
    - name: Order every certificate that is due
      certfleet.acme.acme_certificates:
        steps: [order]
      register: ordered
      delegate_to: localhost
      run_once: true

    - name: Put the batch's tokens on this web node (one task per node, whatever the batch's size)
      certfleet.acme.acme_webroot_tokens:
        webroot: /var/www/html
        proofs: "{{ ordered.http_proofs }}"

    - name: Validate and finalize the batch
      certfleet.acme.acme_certificates:
        steps: [validate, finalize]
      delegate_to: localhost
      run_once: true

  always:
    - name: Take the tokens down again
      certfleet.acme.acme_webroot_tokens:
        webroot: /var/www/html
        proofs: "{{ ordered.http_proofs | default([]) }}"
        state: absent
"""

RETURN = r"""
path:
  description: The directory the token files are in.
  returned: always
  type: str
  sample: /var/www/html/.well-known/acme-challenge
written:
  description: The tokens whose files were written (or would be, in check mode); empty with O(state=absent).
  returned: always
  type: list
  elements: str
removed:
  description: The tokens whose files were removed (or would be, in check mode); empty with O(state=present).
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import WebrootResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import parse_mode, resolve_group, resolve_owner
from ansible_collections.certfleet.acme.plugins.module_utils._acme.task_exit import exit_with
from ansible_collections.certfleet.acme.plugins.module_utils._acme.webroot import challenge_dir, parse_proofs, publish, withdraw


def argument_spec() -> dict[str, Any]:
    return {
        "webroot": {"type": "path", "required": True},
        "proofs": {"type": "list", "elements": "dict", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "mode": {"type": "raw", "default": "0644"},
        "owner": {"type": "str"},
        "group": {"type": "str"},
    }


def run(module: AnsibleModule) -> WebrootResult:
    params = module.params
    tokens = parse_proofs(params["proofs"])
    webroot = params["webroot"]
    written: list[str] = []
    removed: list[str] = []
    if params["state"] == "present":
        mode = parse_mode(params["mode"])
        uid, gid = resolve_owner(params["owner"]), resolve_group(params["group"])
        written = publish(webroot, tokens, mode=mode, uid=uid, gid=gid, check_mode=module.check_mode)
    else:
        removed = withdraw(webroot, tokens, check_mode=module.check_mode)
    result = WebrootResult(changed=bool(written or removed), path=challenge_dir(webroot), written=written, removed=removed)
    if module._diff:
        all_tokens = [t.token for t in tokens]
        after = sorted(all_tokens) if params["state"] == "present" else []
        before = sorted(set(all_tokens) - set(written)) if params["state"] == "present" else sorted(removed)
        result.diff = {"before": {"tokens": before}, "after": {"tokens": after}}
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    exit_with(module, lambda: run(module))


if __name__ == "__main__":
    main()
