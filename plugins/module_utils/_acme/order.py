# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Orders, authorizations and challenges (RFC 8555 sections 7.1.3-7.1.6, 7.4, 7.5).

Objects are matched by identifier and type, never by position: CAs (Pebble on
purpose) shuffle authorizations and challenges. Every wait has a deadline and says
what it waited for when it runs out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeResponse
from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import b64url_encode
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeProblem, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier
from ansible_collections.certfleet.acme.plugins.module_utils._acme.retry_after import POLLING

# Without Retry-After, polls start quickly and back off to this many seconds.
FIRST_POLL_DELAY = 0.5
MAX_POLL_DELAY = 5.0


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
            status=str(data.get("status") or "pending"),
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
            status=str(data.get("status") or "pending"),
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
        return next((c for c in self.challenges if c.status == "invalid" or c.error), None)


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
            status=str(data.get("status") or "pending"),
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
        return self.status in ("pending", "ready", "processing", "valid")


def json_object(response: AcmeResponse, what: str) -> dict[str, Any]:
    """The body of an answer that must be a JSON object (RFC 8555 section 7.1), refused when it is anything else."""
    data = response.json()
    if not isinstance(data, dict):
        raise AcmeServerError(
            f"The CA's answer from {response.url} ({what}) is not a JSON object "
            f"({response.content_type or 'no content type'}, {len(response.body)} bytes); nothing was published or written",
            url=response.url,
        )
    return data


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


# What a CA answers when it cannot resolve the certificate named in ``replaces`` (RFC 9773
# section 5 leaves the error open; Pebble 2.10 says serverInternal for some valid identifiers),
# or when this account did not order that certificate (unauthorized, from Boulder and Pebble:
# the credentials file was replaced since the last issuance, say).
# alreadyReplaced is not among them: another order already replaces that certificate.
REPLACES_REFUSALS = ("malformed", "serverInternal", "unauthorized")


def new_order(
    account: Account,
    identifiers: list[Identifier],
    *,
    profile: str | None = None,
    replaces: str | None = None,
    on_replaces_refused: Callable[[AcmeProblem], None] | None = None,
) -> Order:
    """Section 7.4 newOrder; ``profile`` (draft-aaron-acme-profiles) and ``replaces`` (RFC 9773 section 5).

    When the CA refuses an order because of ``replaces`` (a problem of REPLACES_REFUSALS or a
    404), the order is asked for once more without it and ``on_replaces_refused`` hears why: a
    renewal that loses the ARI exemption beats no renewal at all.
    """
    try:
        return _post_new_order(account, identifiers, profile, replaces)
    except AcmeProblem as problem:
        refused = problem.status == 404 or any(problem.has_type(kind) for kind in REPLACES_REFUSALS)
        if not replaces or not refused:
            raise
        order = _post_new_order(account, identifiers, profile, None)
        if on_replaces_refused is not None:
            on_replaces_refused(problem)
        return order


def _post_new_order(account: Account, identifiers: list[Identifier], profile: str | None, replaces: str | None) -> Order:
    payload: dict[str, Any] = {"identifiers": [i.to_acme() for i in identifiers]}
    if profile:
        payload["profile"] = profile
    if replaces:
        payload["replaces"] = replaces
    response = account.post(account.client.endpoint("newOrder"), payload, context="Creating the order")
    if not response.location:
        raise AcmeProblem(url=response.url, status=response.status, detail="the server returned no order URL (Location header)")
    return Order.from_response(response.location, json_object(response, "the new order"), response.retry_after)


def get_order(account: Account, uri: str) -> Order:
    response = account.post(uri, None, context="Fetching the order")
    return Order.from_response(uri, json_object(response, "the order"), response.retry_after)


def get_authorization(account: Account, uri: str) -> Authorization:
    response = account.post(uri, None, context="Fetching the authorization")
    return Authorization.from_response(uri, json_object(response, "the authorization"), response.retry_after)


def get_authorizations(account: Account, order: Order) -> list[Authorization]:
    return [get_authorization(account, uri) for uri in order.authorizations]


def respond(account: Account, challenge: Challenge) -> Challenge:
    """Section 7.5.1: tell the CA the proof is in place (an empty JSON object)."""
    response = account.post(challenge.url, {}, context=f"Answering the {challenge.type} challenge")
    data = response.json()
    return Challenge.from_json(data) if isinstance(data, dict) else challenge


class Poller:
    """Bounded waiting: honours ``Retry-After`` (capped), backs off without it, never past the deadline."""

    def __init__(
        self,
        timeout: float,
        what: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.deadline = clock() + timeout
        self.timeout = timeout
        self.what = what
        self._clock = clock
        self._sleep = sleep
        self._delay = FIRST_POLL_DELAY

    def wait(self, retry_after: float | None, state: str) -> None:
        """Sleep before the next poll, or raise when the deadline would pass."""
        delay = POLLING.wait(retry_after, self._delay)
        self._delay = min(self._delay * 2, MAX_POLL_DELAY)
        remaining = self.deadline - self._clock()
        if remaining <= 0:
            raise AcmeError(
                f"Timed out after wait_timeout ({self.timeout:g} s) waiting for {self.what}; last state: {state}. Run again to resume, or raise wait_timeout"
            )
        self._sleep(min(delay, remaining))


def finalize(account: Account, order: Order, csr_der: bytes) -> Order:
    """Section 7.4: send the CSR (base64url DER)."""
    response = account.post(order.finalize, {"csr": b64url_encode(csr_der)}, context="Finalizing the order")
    return Order.from_response(order.uri, json_object(response, "the finalized order"), response.retry_after)


def poll_order(account: Account, order: Order, poller: Poller, *, while_status: str = "processing") -> Order:
    """Poll the order while its status is ``while_status``.

    ``processing``: after finalize (some CAs answer ``valid`` at once). ``pending``: after
    the challenges were answered, one request a round however many names the order has:
    section 7.1.6 turns the order ``ready`` once every authorization is valid and
    ``invalid`` once one of them is invalid.
    """
    while order.status == while_status:
        poller.wait(order.retry_after, order.status)
        order = get_order(account, order.uri)
    return order


def download_certificate(account: Account, url: str) -> tuple[str, list[str]]:
    """Section 7.4.2: the PEM chain and the URLs of alternate chains (``Link: rel="alternate"``)."""
    response = account.post(url, None, context="Downloading the certificate")
    try:
        # RFC 8555 section 7.4.2: application/pem-certificate-chain, which is ASCII (RFC 7468).
        text = response.body.decode("ascii")
    except UnicodeDecodeError:
        raise AcmeServerError(
            f"The certificate the CA sent from {url} is not PEM text (it holds bytes outside ASCII); nothing was written",
            url=url,
        ) from None
    return text, response.links("alternate")
