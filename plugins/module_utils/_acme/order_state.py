# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The order state file: lets a rerun resume an order instead of creating a duplicate.

JSON with ``orderUri``, ``identifiers``, ``challenge``, ``directory``, ``accountUri``
and the dns-persist-01 choices; written atomically (0600, it names the account).

``seen`` keeps what the last module run saw of the order, so the next module can start
from it instead of asking the CA again: acme_order records the new order and its
authorizations (acme_challenge_proof answers their challenges straight away), and
acme_challenge_proof records the order it left ``ready`` (acme_finalize finalizes it
straight away). A record is only a starting point: when the CA refuses the request made
from it, the module fetches the order and starts again from what the CA says.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError, AcmeProblem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Authorization, Order
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_requests import get_order
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import PRIVATE_MODE, atomic_write, read_state

STATE_VERSION = 1


@dataclass
class OrderState:
    orderUri: str
    identifiers: list[str]
    challenge: str
    directory: str
    accountUri: str
    profile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)
    version: int = STATE_VERSION

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode("utf-8")

    def with_seen(self, by: str, order: Order, authorizations: list[Authorization] | None = None) -> OrderState:
        """This state with ``order`` (and its ``authorizations``) recorded as module ``by`` saw them."""
        seen: dict[str, Any] = {"by": by, "order": order.raw}
        if authorizations is not None:
            seen["authorizations"] = {authz.uri: authz.raw for authz in authorizations}
        return replace(self, seen=seen)

    def seen_order(self, by: str, status: str) -> Order | None:
        """The order as module ``by`` last saw it, if that is what the file records and it was ``status`` then."""
        order = self.seen.get("order")
        if self.seen.get("by") != by or not isinstance(order, dict) or order.get("status") != status:
            return None
        return Order.from_response(self.orderUri, order, recorded=True)

    def seen_authorizations(self, order: Order) -> list[Authorization] | None:
        """Every authorization of ``order`` as recorded, or None when one is missing."""
        recorded = self.seen.get("authorizations")
        if not isinstance(recorded, dict) or any(not isinstance(recorded.get(uri), dict) for uri in order.authorizations):
            return None
        return [Authorization.from_response(uri, recorded[uri]) for uri in order.authorizations]


class StaleRecord(Exception):
    """The CA refused a request made from the ``seen`` record: the record is out of date."""


@contextmanager
def sent_from_record(from_record: bool) -> Iterator[None]:
    """Turns the CA's refusal of a request made from the ``seen`` record into ``StaleRecord``.

    Only refusals that may mean the record is out of date: rate limits and server errors
    say nothing about the order, and asking again would only be a second request the CA
    told us not to send yet.
    """
    try:
        yield
    except AcmeProblem as problem:
        if from_record and problem.status != 429 and problem.status < 500 and not problem.has_type("rateLimited"):
            raise StaleRecord() from None
        raise


def load_order_state(path: str, option: str = "state_path") -> OrderState | None:
    state = read_state(os.path.expanduser(path), option)
    if not state.exists or not state.content:
        return None
    try:
        data = json.loads(state.content.decode("utf-8"))
        return OrderState(
            orderUri=str(data["orderUri"]),
            identifiers=[str(i) for i in data["identifiers"]],
            challenge=str(data["challenge"]),
            directory=str(data["directory"]),
            accountUri=str(data["accountUri"]),
            profile=data.get("profile"),
            extra=dict(data.get("extra") or {}),
            seen=data["seen"] if isinstance(data.get("seen"), dict) else {},
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise AcmeOptionError(option, f"{option} {path} is not an order state file written by this collection; remove it or choose another path") from None


def save_order_state(path: str, order_state: OrderState, option: str = "state_path") -> bool:
    return atomic_write(os.path.expanduser(path), order_state.to_json(), option=option, mode=PRIVATE_MODE)


def forget_order(path: str, after: str) -> bool:
    """Remove the state file, so that the next run does not resume its order; False when it was gone already.

    ``after`` says why, for the message when the file cannot be removed.
    """
    try:
        os.unlink(os.path.expanduser(path))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AcmeOptionError("state_path", f"{after}, but state_path {path} could not be removed: {exc.strerror}; remove it") from None
    return True


def order_recorded(order_uri: str | None, state_path: str | None) -> bool:
    """Whether the options name an order: an ``order_uri``, or a ``state_path`` that exists.

    False right after ``acme_order`` ran in check mode (no order, null ``order_uri``, no
    file): the later modules then report what they would do instead of failing.
    """
    if order_uri:
        return True
    return bool(state_path) and os.path.exists(os.path.expanduser(state_path))


def find_order(account: Any, order_uri: str | None, state_path: str | None, *, seen: tuple[str, str] | None = None) -> tuple[Order, OrderState | None]:
    """The order named by ``order_uri`` or recorded in ``state_path`` (for the modules after acme_order).

    ``order_uri`` wins over a state file that records another order; one that records this
    order is used as with ``state_path`` alone.

    With ``seen=(module, status)``, an order that module recorded in ``state_path`` with that
    status is returned as recorded (``Order.recorded``), without asking the CA. Fails naming
    the option when neither leads to an order of this account.
    """
    if not order_uri and not state_path:
        raise AcmeOptionError("order_uri", "give order_uri (returned by acme_order) or the state_path acme_order used")
    order_state = load_order_state(state_path) if state_path else None
    if order_state is not None and order_uri == order_state.orderUri:
        # The order the state file records, named by its URL as well: start from the record as
        # with state_path alone. The URL still finds the order once the file is gone, when
        # another run on the same state_path finished the order and removed the file.
        order_uri = None
    if not order_uri:
        if order_state is None:
            raise AcmeOptionError("state_path", f"state_path {state_path} does not exist; run certfleet.acme.acme_order with it first")
        if order_state.accountUri != account.uri:
            raise AcmeOptionError("state_path", f"state_path {state_path} records an order of the account {order_state.accountUri}, not {account.uri}")
        order_uri = order_state.orderUri
        recorded = order_state.seen_order(*seen) if seen else None
        if recorded is not None:
            return recorded, order_state
    return get_order(account, order_uri), order_state
