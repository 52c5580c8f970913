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

- name: Only check that an account exists for a key kept in a vault
  certfleet.acme.acme_account:
    directory: letsencrypt
    account_key_content: "{{ vault_acme_account_key }}"
    allow_creation: false

- name: Roll the account over to a new key
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

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import (
    Account,
    AccountState,
    Credentials,
    register,
    same_contacts,
    save_credentials,
    validate_contacts,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import (
    account_module_argument_spec,
    account_module_kwargs,
    client_from_params,
    load_account_key,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import (
    DEFAULT_KEY_TYPE,
    KEY_TYPES,
    PrivateKey,
    generate_private_key,
    load_private_key,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module import run_module
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import PRIVATE_MODE, check_writable_directory, needs_write, read_bytes


def argument_spec() -> dict[str, Any]:
    return account_module_argument_spec(
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        allow_creation={"type": "bool", "default": True},
        contacts={"type": "list", "elements": "str"},
        terms_agreed={"type": "bool", "default": False},
        key_type={"type": "str", "choices": list(KEY_TYPES), "default": DEFAULT_KEY_TYPE},
        external_account_binding={
            "type": "dict",
            "options": {
                "kid": {"type": "str", "required": True},
                "hmac_key": {"type": "str", "required": True, "no_log": True},
                "alg": {"type": "str", "choices": ["HS256", "HS384", "HS512"], "default": "HS256"},
            },
        },
        retrieve_orders={"type": "bool", "default": False},
        new_account_key_src={"type": "path"},
        new_account_key_content={"type": "str", "no_log": True},
        new_account_key_passphrase={"type": "str", "no_log": True},
    )


def _snapshot(state: AccountState | None, key: PrivateKey | None) -> dict[str, Any]:
    return {
        "account_uri": (state.uri or None) if state else None,
        "status": state.status if state else "absent",
        "contacts": sorted(state.contacts) if state else [],
        "key_thumbprint": key.thumbprint() if key else None,
    }


class AccountRun:
    """One run of the module: look up, decide, act (unless check mode), report."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.changed = False
        self.created = False
        self.rolled_over = False
        self.key_generated = False

    def new_key(self) -> PrivateKey | None:
        passphrase = self.params["new_account_key_passphrase"]
        if self.params["new_account_key_content"]:
            return load_private_key(
                self.params["new_account_key_content"], "new_account_key_content", passphrase, passphrase_option="new_account_key_passphrase"
            )
        path = self.params["new_account_key_src"]
        if not path:
            return None
        pem = read_bytes(path, "new_account_key_src")
        if pem is None:
            raise AcmeOptionError("new_account_key_src", f"new_account_key_src {path} does not exist; give the new key's PEM file")
        return load_private_key(pem, "new_account_key_src", passphrase, path=path, passphrase_option="new_account_key_passphrase")

    def __call__(self) -> dict[str, Any]:
        params = self.params
        contacts = validate_contacts(params["contacts"]) if params["contacts"] is not None else None
        new_key = self.new_key()
        client = client_from_params(params, ANSIBLE_VERSION, self.module.warn)
        key, credentials, warnings = load_account_key(params)
        for warning in warnings:
            self.module.warn(warning)
        if credentials and credentials.directory and credentials.directory != client.directory_url:
            raise AcmeOptionError(
                "credentials_path",
                f"credentials_path {params['credentials_path']} belongs to {credentials.directory}, not "
                f"{client.directory_url}; use one credentials file per CA",
            )
        if key is None:  # a credentials file that does not exist yet
            if params["state"] == "absent":
                return self.result(None, None, {"account_uri": None, "status": "absent", "contacts": [], "key_thumbprint": None})
            if not params["allow_creation"]:
                raise AcmeOptionError(
                    "credentials_path",
                    f"credentials_path {params['credentials_path']} does not exist and allow_creation is false; "
                    "create the account first or point credentials_path at an existing file",
                )
            # Checked before registering: the new key must not be lost with the account it opened.
            check_writable_directory(params["credentials_path"], "credentials_path")
            key = generate_private_key(params["key_type"])
            self.key_generated = True

        if new_key is not None and credentials is not None:
            # A rollover whose new key could not be saved would leave a credentials file the CA no longer knows.
            check_writable_directory(params["credentials_path"], "credentials_path")
        account = Account(client, key, params["account_uri"] or (credentials.account_uri if credentials else None))
        state = account.find()
        if state is not None and params["account_uri"] and state.uri and state.uri != params["account_uri"]:
            raise AcmeOptionError("account_uri", f"account_uri {params['account_uri']} is not the account of this key ({state.uri}); fix or drop account_uri")
        if new_key is not None and state is None:
            # A finished rollover leaves the old key unknown to the CA; the new key then finds the account.
            moved = Account(client, new_key)
            moved_state = moved.find()
            if moved_state is not None:
                account, state, key = moved, moved_state, new_key
                if not params["credentials_path"]:
                    self.module.warn("the account already uses the new key; point account_key_src/account_key_content at it")
        # A key generated in check mode exists only in memory: its thumbprint would mislead.
        before = _snapshot(state, None if self.key_generated else key)

        if params["state"] == "absent":
            state = self.ensure_absent(account, state)
        else:
            state = self.ensure_present(account, state, contacts, new_key, client.meta)
        if params["credentials_path"]:
            self.write_credentials(account, state, credentials, client.directory_url)
        result = self.result(account, state, before)
        if params["retrieve_orders"] and state is not None and state.orders and account.uri:
            result["orders"] = account.list_orders(state.orders)
        return result

    def ensure_absent(self, account: Account, state: AccountState | None) -> AccountState | None:
        if state is None or state.status == "deactivated":
            return state
        self.changed = True
        if self.check_mode:
            return AccountState(uri=state.uri, status="deactivated", contacts=state.contacts, orders=state.orders)
        return account.deactivate()

    def ensure_present(
        self,
        account: Account,
        state: AccountState | None,
        contacts: list[str] | None,
        new_key: PrivateKey | None,
        meta: dict[str, Any],
    ) -> AccountState | None:
        params = self.params
        if state is None:
            if not params["allow_creation"]:
                raise AcmeOptionError(
                    "allow_creation",
                    f"no account exists for this key at {account.client.directory_url}; "
                    "set allow_creation: true to register one, or use the key of an existing account",
                )
            terms = meta.get("termsOfService")
            if terms and not params["terms_agreed"]:
                raise AcmeOptionError(
                    "terms_agreed",
                    f"the CA requires agreement to its terms of service ({terms}); read them and set terms_agreed: true",
                )
            eab = params["external_account_binding"]
            if meta.get("externalAccountRequired") and not eab:
                raise AcmeOptionError(
                    "external_account_binding",
                    "the CA requires external account binding; set external_account_binding with the kid and hmac_key from your account at the CA",
                )
            self.changed = self.created = True
            if self.check_mode:
                return AccountState(uri="", status="valid", contacts=contacts or [])
            # A key generated this run is saved before the CA hears of it (register's docstring says why).
            save_key_to = params["credentials_path"] if self.key_generated else None
            state, self.created = register(account, contacts or [], params["terms_agreed"], eab, save_key_to=save_key_to)
            if not self.created and contacts is not None and not same_contacts(state.contacts, contacts):
                state = account.update_contacts(contacts)
        if state.status == "deactivated":
            raise AcmeOptionError(
                "state",
                f"the account {state.uri or 'of this key'} is deactivated, which is permanent; register a new one with another key",
            )
        if contacts is not None and not same_contacts(state.contacts, contacts):
            self.changed = True
            if self.check_mode:
                state = AccountState(uri=state.uri, status=state.status, contacts=contacts, orders=state.orders)
            else:
                state = account.update_contacts(contacts)
        if new_key is not None and not new_key.same_key_as(account.key):
            # Pebble answers 200 to a rollover onto another account's key and changes nothing.
            other = Account(account.client, new_key).find()
            if other is not None:
                option = "new_account_key_content" if params["new_account_key_content"] else "new_account_key_src"
                raise AcmeOptionError(option, f"the new key already belongs to the account {other.uri}; roll over to an unused key")
            self.changed = self.rolled_over = True
            if self.check_mode:
                account.key = new_key
            else:
                account.change_key(new_key)
        return state

    def write_credentials(self, account: Account, state: AccountState | None, old: Credentials | None, directory_url: str) -> None:
        if state is None or (self.check_mode and self.created):
            account_uri = None
        else:
            account_uri = state.uri or None
        if old is not None and (state is None or state.status == "deactivated"):
            contacts = old.contacts  # the CA does not show a deactivated account's contacts again
        else:
            contacts = state.contacts if state else []
        accept_terms = bool(self.params["terms_agreed"] or (old.accept_terms if old else False))
        credentials = Credentials(key=account.key, account_uri=account_uri, directory=directory_url, contacts=contacts, accept_terms=accept_terms)
        path = self.params["credentials_path"]
        if self.check_mode:
            if needs_write(path, credentials.to_json(), PRIVATE_MODE, None, None, "credentials_path"):
                self.changed = True
            return
        if save_credentials(path, credentials):
            self.changed = True

    def result(self, account: Account | None, state: AccountState | None, before: dict[str, Any]) -> dict[str, Any]:
        after = _snapshot(state, account.key if account and not (self.check_mode and self.key_generated) else None)
        if self.check_mode and self.created:
            after["account_uri"] = None
        result: dict[str, Any] = {
            "changed": self.changed,
            "account_uri": after["account_uri"],
            "status": after["status"],
            "contacts": after["contacts"],
            "created": self.created,
            "rolled_over": self.rolled_over,
            "key_thumbprint": after["key_thumbprint"],
        }
        if self.params["credentials_path"]:
            result["credentials_path"] = self.params["credentials_path"]
        if self.module._diff:
            result["diff"] = {"before": before, "after": after}
        return result


def main() -> None:
    kwargs = account_module_kwargs()
    kwargs["mutually_exclusive"].append(["new_account_key_src", "new_account_key_content"])
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **kwargs)
    run_module(module, AccountRun(module))


if __name__ == "__main__":
    main()
