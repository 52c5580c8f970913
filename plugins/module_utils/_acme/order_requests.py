# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The requests on orders (RFC 8555 sections 7.4, 7.5): create, fetch, answer, finalize, poll, download.

Every wait has a deadline and says what it waited for when it runs out.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeResponse
from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import b64url_encode
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeProblem, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Authorization, Challenge, Order, Status
from ansible_collections.certfleet.acme.plugins.module_utils._acme.retry_after import POLLING

# Without Retry-After, polls start quickly and back off to this many seconds.
FIRST_POLL_DELAY = 0.5
MAX_POLL_DELAY = 5.0


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


def poll_order(account: Account, order: Order, poller: Poller, *, while_status: str = Status.PROCESSING) -> Order:
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
