#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_account
short_description: Create, look up, update, roll over or deactivate an ACME account
version_added: 0.1.0
description:
  - Makes sure an account exists at an ACME (RFC 8555) CA for a key, with the wanted contacts.
  - With O(credentials_path) naming a file that does not exist yet, generates the account key,
    writes it to the credentials file (mode V(0600)) before registering, so that a failed
    registration never loses a key the CA may already know, registers the account and completes
    the file with the account URL. Every other module of the collection reads that file; a rerun
    after a failed registration reuses the saved key and finds or creates its account.
  - With O(credentials_path) naming a file that does not exist yet and an existing account key in
    O(account_key_src) or O(account_key_content), imports that key instead of generating one. It looks up
    the key's account (registering it when there is none, unless O(allow_creation=false)) and writes the
    credentials file (mode V(0600)) with that key, unencrypted, and the account URL, as it would for a
    generated key. For example a key community.crypto's modules used, so the account stays the same.
    A rerun with the same key changes nothing; a credentials file that holds another key is an error
    and is never rewritten with the given one.
  - Also fetches an existing account only (O(allow_creation=false)), binds a new account to an
    account at the CA (external account binding), rolls the account over to a new key, and
    deactivates it (O(state=absent)).
  - A rerun with nothing to change sends no write request and reports C(changed=false).
extends_documentation_fragment:
  - certfleet.acme.acme.server
  - certfleet.acme.acme.account
  - certfleet.acme.acme.attributes
attributes:
  check_mode:
    support: full
    details:
      - Looks the account up at the CA but registers, updates, rolls over and deactivates nothing,
        and writes no file. A key that would be generated is generated in memory only.
  diff_mode:
    support: full
    details:
      - Shows the account URL, status, contacts and key thumbprint before and after.
  idempotent:
    support: full
    details:
      - A rerun with the same options makes no change at the CA or on disk.
options:
  state:
    description:
      - V(present) makes sure the account exists (creating it unless O(allow_creation=false)).
      - V(absent) deactivates the account. Deactivation is permanent; the CA refuses the key afterwards.
    type: str
    choices: [present, absent]
    default: present
  allow_creation:
    description:
      - Register a new account when none exists for the key.
      - With V(false) the module only fetches the account, and fails when there is none.
    type: bool
    default: true
  contacts:
    description:
      - Contact URLs of the account, each C(mailto:address).
      - When given, the account's contacts are set to exactly this list (order does not matter);
        V([]) removes all contacts. When omitted, existing contacts are left alone.
    type: list
    aliases: [contact]
    elements: str
  terms_agreed:
    description:
      - Agree to the CA's terms of service (the directory's C(meta.termsOfService)) when registering.
      - Registration fails before anything is sent when the CA has terms and this is not V(true).
    type: bool
    default: false
  key_type:
    description:
      - Type of the account key generated when O(credentials_path) does not exist yet.
      - Unlike the O(certfleet.acme.acme_finalize#module:key_type) of certificate keys, it offers V(ec521), which
        CAs such as Let's Encrypt accept for account keys and refuse for certificates.
    type: str
    choices: [ec256, ec384, ec521, rsa2048, rsa3072, rsa4096]
    default: ec256
  external_account_binding:
    description:
      - Binds a new account to an account the user holds at the CA (RFC 8555 section 7.3.4).
      - Required by CAs whose directory says C(meta.externalAccountRequired).
      - Used only when the account is created.
    type: dict
    suboptions:
      kid:
        description:
          - Key identifier the CA issued.
        type: str
        required: true
      hmac_key:
        description:
          - MAC key the CA issued, base64url (padding and the standard alphabet are accepted too).
          - Never shown in the task output.
        type: str
        aliases: [key]
        required: true
      alg:
        description:
          - MAC algorithm.
        type: str
        choices: [HS256, HS384, HS512]
        default: HS256
  retrieve_orders:
    description:
      - Also return the URLs of the account's orders (RV(orders)), following every page of the CA's list
        (RFC 8555 section 7.1.2.1). Costs one request per page.
      - CAs may leave out old or invalid orders (Pebble lists all but invalid ones).
    type: bool
    default: false
  new_account_key_src:
    description:
      - PEM file with a new private key to roll the account over to (RFC 8555 section 7.3.5).
      - With O(credentials_path) the file is updated to hold the new key. With O(account_key_src)
        the old key file is left alone; point O(account_key_src) at the new key afterwards.
      - A rerun after a finished rollover reports no change.
    type: path
  new_account_key_content:
    description:
      - The new private key as PEM text; see O(new_account_key_src).
    type: str
  new_account_key_passphrase:
    description:
      - Passphrase of an encrypted new key.
    type: str
notes:
  - Let's Encrypt no longer stores e-mail contacts; other CAs (and Pebble) do.
  - The credentials file holds the private key; keep it out of version control or encrypt it with Ansible Vault
    after creation and give its content through O(account_key_content).
seealso:
  - name: RFC 8555, section 7.3
    description: Account management in ACME.
    link: https://www.rfc-editor.org/rfc/rfc8555#section-7.3
author:
  - certfleet.acme developers (@certfleet)
"""

EXAMPLES = r"""
- name: Register an account once, keeping its key in a credentials file
  certfleet.acme.acme_account:
    directory: letsencrypt
    credentials_path: /etc/certfleet/letsencrypt.json
    contacts:
      - mailto:ops@example.com
    terms_agreed: true
  register: account

- name: Use the account for every ACME task of the play
  module_defaults:
    group/certfleet.acme.acme:
      directory: letsencrypt
      credentials_path: /etc/certfleet/letsencrypt.json
  block:
    - name: Show the account
      ansible.builtin.debug:
        msg: "Account {{ account.account_uri }} is {{ account.status }}"

- name: Register at a CA that requires external account binding
  certfleet.acme.acme_account:
    directory: https://acme.example.com/directory
    credentials_path: /etc/certfleet/example-ca.json
    terms_agreed: true
    external_account_binding:
      kid: "{{ eab_kid }}"
      hmac_key: "{{ eab_hmac_key }}"

# example: skip (needs an account another tool registered; the migration target imports one)
- name: Import the account key community.crypto's modules used into a credentials file
  certfleet.acme.acme_account:
    directory: letsencrypt
    account_key_src: /etc/ssl/private/acme-account.key
    credentials_path: /etc/certfleet/letsencrypt.json
    allow_creation: false

# example: skip (needs the key of an existing account from a vault; the acme_account target looks keys up this way)
- name: Only check that an account exists for a key kept in a vault
  certfleet.acme.acme_account:
    directory: letsencrypt
    account_key_content: "{{ vault_acme_account_key }}"
    allow_creation: false

- name: Create the account's next key
  community.crypto.openssl_privatekey:
    path: /etc/certfleet/new-account-key.pem
    type: ECC
    curve: secp256r1
    mode: "0600"

- name: Roll the account over to the new key (the credentials file is rewritten with it)
  certfleet.acme.acme_account:
    directory: letsencrypt
    credentials_path: /etc/certfleet/letsencrypt.json
    new_account_key_src: /etc/certfleet/new-account-key.pem

- name: Deactivate the account for good
  certfleet.acme.acme_account:
    directory: letsencrypt
    credentials_path: /etc/certfleet/letsencrypt.json
    state: absent
"""

RETURN = r"""
account_uri:
  description: URL of the account; C(null) when there is none (or, in check mode, it would be created).
  returned: always
  type: str
  sample: https://127.0.0.1:14000/my-account/1
status:
  description:
    - Status of the account at the CA, V(valid) or V(deactivated).
    - V(absent) when no account exists for the key (check mode of a creation, or O(state=absent) with no account).
  returned: always
  type: str
  sample: valid
contacts:
  description: Contact URLs of the account after the run.
  returned: always
  type: list
  elements: str
  sample: [mailto:ops@example.com]
created:
  description: Whether the account was registered by this run (or would be, in check mode).
  returned: always
  type: bool
  sample: true
rolled_over:
  description: Whether the account was moved to the new key by this run (or would be, in check mode).
  returned: always
  type: bool
  sample: false
key_thumbprint:
  description:
    - RFC 7638 SHA-256 thumbprint of the account's public key after the run (not secret).
    - Part of every http-01 and dns-01 key authorization.
    - C(null) in check mode when the key would be generated by the real run.
  returned: always
  type: str
  sample: 7MvWfCk5L6P2vQf2m5Gsuz0LrbC_ddrJZ3VwZ2GxdyU
orders:
  description: URLs of the account's orders.
  returned: when O(retrieve_orders=true) and the account exists
  type: list
  elements: str
  sample: [https://127.0.0.1:14000/my-order/Q2x6rg]
credentials_path:
  description: Path of the credentials file, when O(credentials_path) is used.
  returned: when O(credentials_path) is set
  type: str
  sample: /etc/certfleet/letsencrypt.json
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account_run import AccountRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_import_module_kwargs,
    account_module_argument_spec,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import (
    DEFAULT_KEY_TYPE,
    KEY_TYPES,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module_glue import ModuleGlue


def argument_spec() -> dict[str, Any]:
    return account_module_argument_spec(
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        allow_creation={"type": "bool", "default": True},
        contacts={"type": "list", "elements": "str", "aliases": ["contact"]},
        terms_agreed={"type": "bool", "default": False},
        key_type={"type": "str", "choices": list(KEY_TYPES), "default": DEFAULT_KEY_TYPE},
        external_account_binding={
            "type": "dict",
            "options": {
                "kid": {"type": "str", "required": True},
                "hmac_key": {"type": "str", "required": True, "no_log": True, "aliases": ["key"]},
                "alg": {"type": "str", "choices": ["HS256", "HS384", "HS512"], "default": "HS256"},
            },
        },
        retrieve_orders={"type": "bool", "default": False},
        new_account_key_src={"type": "path"},
        new_account_key_content={"type": "str", "no_log": True},
        new_account_key_passphrase={"type": "str", "no_log": True},
    )


def main() -> None:
    kwargs = account_import_module_kwargs()
    kwargs["mutually_exclusive"].append(["new_account_key_src", "new_account_key_content"])
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **kwargs)
    glue = ModuleGlue(module)
    glue.run(AccountRun(module.params, connect=glue.client, warn=module.warn, check_mode=module.check_mode, diff=module._diff))


if __name__ == "__main__":
    main()
