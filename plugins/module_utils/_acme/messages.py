# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The ACME wire objects: orders, authorizations, challenges and their statuses (RFC 8555 section 7.1).

Parsed leniently from what the CA sends (a missing or odd field becomes a safe default),
and checked where it matters: an order and its authorizations must be for exactly the
names asked. Objects are matched by identifier and type, never by position: CAs (Pebble
on purpose) shuffle authorizations and challenges. Nothing here talks to the CA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier


class Status:
    """The statuses of RFC 8555 section 7.1.6 that orders, authorizations and challenges take."""

    PENDING = "pending"
    READY = "ready"
    PROCESSING = "processing"
    VALID = "valid"
    INVALID = "invalid"
    DEACTIVATED = "deactivated"
    EXPIRED = "expired"
    REVOKED = "revoked"

    # An order that can still lead to a certificate (not invalid, not expired).
    USABLE_ORDER = (PENDING, READY, PROCESSING, VALID)


@dataclass
class Challenge:
    """RFC 8555 section 8: one way to prove control of an identifier."""

    type: str
    url: str
    status: str
    token: str | None = None
    error: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Challenge:
        return cls(
            type=str(data.get("type") or ""),
            url=str(data.get("url") or ""),
            status=str(data.get("status") or Status.PENDING),
            token=data.get("token") if isinstance(data.get("token"), str) else None,
            error=data.get("error") if isinstance(data.get("error"), dict) else None,
            raw=data,
        )


@dataclass
class Authorization:
    """RFC 8555 section 7.1.4: the CA's record of proving one identifier."""

    uri: str
    identifier: Identifier
    status: str
    challenges: list[Challenge]
    expires: str | None = None
    retry_after: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_response(cls, uri: str, data: Any, retry_after: float | None = None) -> Authorization:
        data = data if isinstance(data, dict) else {}
        challenges = [Challenge.from_json(c) for c in data.get("challenges") or [] if isinstance(c, dict)]
        return cls(
            uri=uri,
            identifier=Identifier.from_acme(data.get("identifier"), wildcard=bool(data.get("wildcard"))),
            status=str(data.get("status") or Status.PENDING),
            challenges=challenges,
            expires=data.get("expires") if isinstance(data.get("expires"), str) else None,
            retry_after=retry_after,
            raw=data,
        )

    def challenge(self, challenge_type: str) -> Challenge | None:
        return next((c for c in self.challenges if c.type == challenge_type), None)

    @property
    def available_challenges(self) -> list[str]:
        return sorted(c.type for c in self.challenges)

    @property
    def failed_challenge(self) -> Challenge | None:
        return next((c for c in self.challenges if c.status == Status.INVALID or c.error), None)


@dataclass
class Order:
    """RFC 8555 section 7.1.3."""

    uri: str
    status: str
    identifiers: list[Identifier]
    authorizations: list[str]
    finalize: str
    certificate: str | None = None
    expires: str | None = None
    error: dict[str, Any] | None = None
    profile: str | None = None
    retry_after: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # Read from the state file (what an earlier module run saw), not fetched by this run.
    recorded: bool = False

    @classmethod
    def from_response(cls, uri: str, data: Any, retry_after: float | None = None, *, recorded: bool = False) -> Order:
        data = data if isinstance(data, dict) else {}
        return cls(
            uri=uri,
            status=str(data.get("status") or Status.PENDING),
            identifiers=[Identifier.from_acme(i) for i in data.get("identifiers") or []],
            authorizations=[str(a) for a in data.get("authorizations") or []],
            finalize=str(data.get("finalize") or ""),
            certificate=data.get("certificate") if isinstance(data.get("certificate"), str) else None,
            expires=data.get("expires") if isinstance(data.get("expires"), str) else None,
            error=data.get("error") if isinstance(data.get("error"), dict) else None,
            profile=data.get("profile") if isinstance(data.get("profile"), str) else None,
            retry_after=retry_after,
            raw=data,
            recorded=recorded,
        )

    @property
    def usable(self) -> bool:
        """Still able to lead to a certificate (section 7.1.6): not invalid and not expired."""
        return self.status in Status.USABLE_ORDER


def _names(identifiers: list[Identifier]) -> set[tuple[str, str]]:
    return {(i.type, i.value) for i in identifiers}


def _describe(names: set[tuple[str, str]]) -> str:
    return ", ".join(value if kind == "dns" else f"{value} ({kind})" for kind, value in sorted(names, key=lambda n: (n[1], n[0])))


def _difference(got: set[tuple[str, str]], asked: set[tuple[str, str]]) -> str:
    parts = []
    if got - asked:
        parts.append(f"not asked for: {_describe(got - asked)}")
    if asked - got:
        parts.append(f"missing: {_describe(asked - got)}")
    return "; ".join(parts)


def check_order_identifiers(order: Order, asked: list[Identifier]) -> None:
    """The order is for exactly the names asked for (RFC 8555 section 7.4), compared as sent: type and value.

    A CA that adds, drops or changes a name (another case or type included) would otherwise get
    proofs published and a certificate built for names nobody asked for.
    """
    got, wanted = _names(order.identifiers), _names(asked)
    if got != wanted:
        raise AcmeServerError(
            f"The CA's order {order.uri} is for {_describe(got) or 'no names'}, not for the names asked for, {_describe(wanted)} "
            f"({_difference(got, wanted)}); nothing was published or written. Check that the directory option names the CA you trust",
            url=order.uri,
        )


def check_authorization_identifiers(order: Order, authorizations: list[Authorization], asked: list[Identifier]) -> None:
    """One authorization per name asked for and none for another (RFC 8555 section 7.1.3), before any proof is built."""
    got, wanted = _names([authz.identifier for authz in authorizations]), _names(asked)
    if got != wanted or len(authorizations) != len(got):
        extra = f"; {len(authorizations) - len(got)} name(s) twice" if len(authorizations) != len(got) else ""
        raise AcmeServerError(
            f"The authorizations of the CA's order {order.uri} are for {_describe(got) or 'no names'}, not for the names asked for, "
            f"{_describe(wanted)} ({_difference(got, wanted) or 'the same names'}{extra}); nothing was published. "
            "Check that the directory option names the CA you trust",
            url=order.uri,
        )
