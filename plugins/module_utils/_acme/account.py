# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""ACME accounts (RFC 8555 section 7.3) and the credentials file that persists one.

The credentials file is JSON with ``privateKeyPem``, ``publicKeyPem``,
``acceptTerms``, ``contacts``, ``accountUri`` and ``directory``, always 0600.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeClient
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError, AcmeProblem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.jws import external_account_binding, key_change_inner
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import PrivateKey, load_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Status
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import PRIVATE_MODE, atomic_write, open_to_others_warning, read_state


@dataclass
class AccountState:
    """What the CA says about an account."""

    uri: str
    status: str
    contacts: list[str] = field(default_factory=list)
    orders: str | None = None

    @classmethod
    def from_response(cls, uri: str, body: Any) -> AccountState:
        body = body if isinstance(body, dict) else {}
        contacts = body.get("contact")
        return cls(
            uri=uri,
            status=str(body.get("status") or Status.VALID),
            contacts=[str(c) for c in contacts] if isinstance(contacts, list) else [],
            orders=body.get("orders") if isinstance(body.get("orders"), str) else None,
        )


def validate_contacts(contacts: list[str]) -> list[str]:
    """RFC 8555 section 7.3: contact URLs; CAs (Let's Encrypt, Pebble) take only ``mailto:``."""
    cleaned = []
    for contact in contacts:
        contact = str(contact).strip()
        if not contact.startswith("mailto:") or "@" not in contact:
            raise AcmeOptionError(
                "contacts",
                f"contacts entry {contact!r} is not a mailto: URI; write it as 'mailto:ops@example.com'",
            )
        cleaned.append(contact)
    return cleaned


def same_contacts(a: list[str], b: list[str]) -> bool:
    return sorted(a) == sorted(b)


# -- the account as a signer ---------------------------------------------------


class Account:
    """An account key plus (once known) its URL: signs every request after registration with ``kid``."""

    def __init__(self, client: AcmeClient, key: PrivateKey, uri: str | None = None) -> None:
        self.client = client
        self.key = key
        self.uri = uri

    def require_uri(self) -> str:
        if self.uri is None:
            raise RuntimeError("account URL unknown; call find() or create() first")
        return self.uri

    def post(self, url: str, payload: dict[str, Any] | None, *, context: str) -> Any:
        return self.client.post(url, payload, key=self.key, kid=self.require_uri(), context=context)

    def find(self) -> AccountState | None:
        """Look the key up without creating anything (``onlyReturnExisting``, section 7.3.1)."""
        try:
            response = self.client.post(
                self.client.endpoint("newAccount"),
                {"onlyReturnExisting": True},
                key=self.key,
                kid=None,
                context="Looking up the account of this key",
            )
        except AcmeProblem as problem:
            if problem.has_type("accountDoesNotExist"):
                return None
            if problem.has_type("unauthorized") and "deactivated" in (problem.detail or "").lower():
                # Boulder and Pebble refuse the key of a deactivated account with 403 and no Location.
                return AccountState(uri=self.uri or "", status=Status.DEACTIVATED)
            raise
        if not response.location:
            raise AcmeProblem(url=response.url, status=response.status, detail="the server returned no account URL (Location header)")
        self.uri = response.location
        return AccountState.from_response(response.location, response.json())

    def create(
        self,
        contacts: list[str],
        terms_agreed: bool,
        eab: dict[str, Any] | None = None,
    ) -> tuple[AccountState, bool]:
        """Register (section 7.3); returns the account and whether it is new (201) or existed (200)."""
        new_account = self.client.endpoint("newAccount")
        payload: dict[str, Any] = {"contact": contacts}
        if terms_agreed:
            payload["termsOfServiceAgreed"] = True
        if eab:
            payload["externalAccountBinding"] = external_account_binding(self.key, new_account, eab["kid"], eab["hmac_key"], eab.get("alg") or "HS256")
        response = self.client.post(new_account, payload, key=self.key, kid=None, context="Registering the account")
        if not response.location:
            raise AcmeProblem(url=response.url, status=response.status, detail="the server returned no account URL (Location header)")
        self.uri = response.location
        return AccountState.from_response(response.location, response.json()), response.status == 201

    def update_contacts(self, contacts: list[str]) -> AccountState:
        """Section 7.3.2: replace the contact list."""
        uri = self.require_uri()
        response = self.post(uri, {"contact": contacts}, context="Updating the account's contacts")
        return AccountState.from_response(uri, response.json())

    def deactivate(self) -> AccountState:
        """Section 7.3.6: permanent; the CA refuses the key afterwards."""
        uri = self.require_uri()
        response = self.post(uri, {"status": Status.DEACTIVATED}, context="Deactivating the account")
        return AccountState.from_response(uri, response.json())

    def list_orders(self, orders_url: str, max_pages: int = 100) -> list[str]:
        """Section 7.1.2.1: the account's order URLs, following ``Link: rel="next"`` pages."""
        orders: list[str] = []
        url: str | None = orders_url
        seen: set[str] = set()
        while url and url not in seen and len(seen) < max_pages:
            seen.add(url)
            response = self.post(url, None, context="Listing the account's orders")
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("orders"), list):
                orders.extend(str(order) for order in body["orders"])
            next_pages = response.links("next")
            url = next_pages[0] if next_pages else None
        return orders

    def change_key(self, new_key: PrivateKey) -> None:
        """Section 7.3.5 key rollover: outer JWS by the old key wraps an inner JWS by the new key."""
        url = self.client.endpoint("keyChange")
        inner = key_change_inner(new_key, url, self.require_uri(), self.key)
        self.post(url, inner, context="Rolling the account over to the new key")
        self.key = new_key


# -- the credentials file --------------------------------------------------------


@dataclass
class Credentials:
    """Contents of a credentials JSON file; the private key is never put in a result."""

    key: PrivateKey
    account_uri: str | None = None
    directory: str | None = None
    contacts: list[str] = field(default_factory=list)
    accept_terms: bool = False

    def to_json(self) -> bytes:
        data = {
            "privateKeyPem": self.key.private_pem().decode("ascii"),
            "publicKeyPem": self.key.public_pem().decode("ascii"),
            "acceptTerms": self.accept_terms,
            "contacts": list(self.contacts),
            "accountUri": self.account_uri,
            "directory": self.directory,
        }
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


_CREDENTIALS_FIX = "point credentials_path at the file certfleet.acme.acme_account wrote, or at a path that does not exist yet for a new account"


def load_credentials(path: str, option: str = "credentials_path") -> tuple[Credentials | None, list[str]]:
    """Read a credentials file; returns (None, []) when it does not exist, and warnings."""
    state = read_state(path, option)
    if not state.exists or state.content is None:
        return None, []
    warnings = open_to_others_warning(option, path, state.mode, "the next run of certfleet.acme.acme_account does")
    try:
        data = json.loads(state.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise AcmeOptionError(option, f"{option} {path} is not a JSON credentials file; {_CREDENTIALS_FIX}") from None
    if not isinstance(data, dict) or not isinstance(data.get("privateKeyPem"), str):
        raise AcmeOptionError(option, f"{option} {path} has no privateKeyPem; it is not a certfleet credentials file: {_CREDENTIALS_FIX}")
    key = load_private_key(data["privateKeyPem"], option, path=path)
    contacts = data.get("contacts")
    return (
        Credentials(
            key=key,
            account_uri=data.get("accountUri") if isinstance(data.get("accountUri"), str) else None,
            directory=data.get("directory") if isinstance(data.get("directory"), str) else None,
            contacts=[str(c) for c in contacts] if isinstance(contacts, list) else [],
            accept_terms=bool(data.get("acceptTerms")),
        ),
        warnings,
    )


def save_credentials(path: str, credentials: Credentials, option: str = "credentials_path") -> bool:
    """Write the file atomically with mode 0600; False when nothing changed."""
    return atomic_write(os.path.expanduser(path), credentials.to_json(), option=option, mode=PRIVATE_MODE)


def register(
    account: Account,
    contacts: list[str],
    terms_agreed: bool,
    eab: dict[str, Any] | None = None,
    *,
    save_key_to: str | None = None,
) -> tuple[AccountState, bool]:
    """Register the account's key (RFC 8555 section 7.3), saving a newly generated key first.

    With ``save_key_to`` (the credentials file of a key generated this run), the key is
    written there (0600, atomically, ``accountUri`` null) before ``newAccount`` is sent: a
    failure after that point (the network, a CA that created the account and then failed,
    a refused external account binding, section 7.3.4) never loses a key the CA may already
    know, nor the one-time EAB credentials it consumed. A rerun reads the key back, and its
    lookup (``onlyReturnExisting``, section 7.3.1) or ``newAccount`` with the same key finds
    that account. Once registered, the file is completed with ``accountUri`` and contacts.
    """
    directory = account.client.directory_url
    if save_key_to:
        save_credentials(save_key_to, Credentials(key=account.key, directory=directory, contacts=list(contacts), accept_terms=terms_agreed))
    state, created = account.create(contacts, terms_agreed, eab)
    if save_key_to:
        completed = Credentials(key=account.key, account_uri=state.uri, directory=directory, contacts=state.contacts, accept_terms=terms_agreed)
        save_credentials(save_key_to, completed)
    return state, created
