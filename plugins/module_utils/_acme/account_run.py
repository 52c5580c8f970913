# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The ``acme_account`` run: look the account up, register, update, roll over or deactivate it (RFC 8555 section 7.3)."""

from __future__ import annotations

from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import (
    Account,
    AccountState,
    Credentials,
    load_credentials,
    register,
    same_contacts,
    save_credentials,
    validate_contacts,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import load_account_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeClient
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import PrivateKey, generate_private_key, load_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Status
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import AccountResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.runs import CoreRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import PRIVATE_MODE, check_writable_directory, needs_write, read_bytes


def _snapshot(state: AccountState | None, key: PrivateKey | None) -> dict[str, Any]:
    return {
        "account_uri": (state.uri or None) if state else None,
        "status": state.status if state else "absent",
        "contacts": sorted(state.contacts) if state else [],
        "key_thumbprint": key.thumbprint() if key else None,
    }


class AccountRun(CoreRun[AcmeClient]):
    """One run of the module: look up, decide, act (unless check mode), report.

    Unlike the order runs it connects to the client, not to an account: the account key
    may still have to be generated, or looked up under a new key after a rollover.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changed = False
        self.created = False
        self.rolled_over = False
        self.key_generated = False
        self.key_imported = False

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

    def account_key(self) -> tuple[PrivateKey | None, Credentials | None]:
        """The run's key and credentials file; the key is None for a credentials file still to be created.

        With ``credentials_path`` and ``account_key_src`` or ``account_key_content`` together, the given key
        is imported: a credentials file that does not exist yet is written with it once its account is
        found or registered (RFC 8555 section 7.3), a file that holds the same key is used as it is, and
        one that holds another key is an error, since the file is never silently given another account.
        """
        params = self.params
        given = "account_key_content" if params["account_key_content"] else "account_key_src" if params["account_key_src"] else None
        key, credentials, warnings = load_account_key(params)  # a given key comes before credentials_path there
        if given and params["credentials_path"]:
            path = params["credentials_path"]
            credentials, more = load_credentials(path)
            warnings = warnings + more
            if credentials is not None and key is not None and not credentials.key.same_key_as(key):
                raise AcmeOptionError(
                    "credentials_path",
                    f"credentials_path {path} holds another account key than {given}; the key of an existing credentials file is "
                    f"not replaced. Leave out {given} to use the file's account, or point credentials_path at a new file to import the key",
                )
            self.key_imported = credentials is None
        for warning in warnings:
            self.warn(warning)
        return key, credentials

    def __call__(self) -> AccountResult:
        params = self.params
        contacts = validate_contacts(params["contacts"]) if params["contacts"] is not None else None
        new_key = self.new_key()
        client = self.connect()
        key, credentials = self.account_key()
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
            check_writable_directory(params["credentials_path"], "credentials_path", create=not self.check_mode)
            key = generate_private_key(params["key_type"])
            self.key_generated = True

        if self.key_imported or (new_key is not None and credentials is not None):
            # The file is written after the CA answered: find out before that it can be.
            # A rollover whose new key could not be saved would leave a credentials file the CA no longer knows.
            check_writable_directory(params["credentials_path"], "credentials_path", create=not self.check_mode)
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
                    self.warn("the account already uses the new key; point account_key_src/account_key_content at it")
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
            result.orders = account.list_orders(state.orders)
        return result

    def ensure_absent(self, account: Account, state: AccountState | None) -> AccountState | None:
        if state is None or state.status == Status.DEACTIVATED:
            return state
        self.changed = True
        if self.check_mode:
            return AccountState(uri=state.uri, status=Status.DEACTIVATED, contacts=state.contacts, orders=state.orders)
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
                return AccountState(uri="", status=Status.VALID, contacts=contacts or [])
            # A key generated this run is saved before the CA hears of it (register's docstring says why).
            save_key_to = params["credentials_path"] if self.key_generated else None
            state, self.created = register(account, contacts or [], params["terms_agreed"], eab, save_key_to=save_key_to)
            if not self.created and contacts is not None and not same_contacts(state.contacts, contacts):
                state = account.update_contacts(contacts)
        if state.status == Status.DEACTIVATED:
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
        if old is not None and (state is None or state.status == Status.DEACTIVATED):
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

    def result(self, account: Account | None, state: AccountState | None, before: dict[str, Any]) -> AccountResult:
        after = _snapshot(state, account.key if account and not (self.check_mode and self.key_generated) else None)
        if self.check_mode and self.created:
            after["account_uri"] = None
        return AccountResult(
            changed=self.changed,
            account_uri=after["account_uri"],
            status=after["status"],
            contacts=after["contacts"],
            created=self.created,
            rolled_over=self.rolled_over,
            key_thumbprint=after["key_thumbprint"],
            credentials_path=self.params["credentials_path"] or None,
            diff={"before": before, "after": after} if self.diff else None,
        )
