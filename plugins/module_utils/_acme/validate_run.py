# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Validating the authorizations of an order (RFC 8555 sections 7.5 and 7.5.1), for acme_challenge_proof.

One run finds the order, rebuilds for each pending authorization the very proof
acme_order returned (``challenges.build_proof`` with the choices of the state file),
self-tests them (one DNS lookup per record name: an apex and its wildcard share it),
refuses authorizations that can never become valid, answers each pending challenge
once with ``{}`` and polls the order, whose status answers for every authorization. A failure carries the order
and every authorization in its task result.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import check_wait_timeout
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import build_proof, challenge_type
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError, format_problem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import parse_identifiers
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import (
    Authorization,
    Challenge,
    Order,
    Status,
    check_authorization_identifiers,
    check_order_identifiers,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_requests import (
    get_authorization,
    get_authorizations,
    get_order,
    poll_order,
    respond,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import (
    OrderState,
    find_order,
    order_recorded,
    save_order_state,
    sent_from_record,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import ValidationResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.runs import RecordedOrderRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.selftest import (
    DEFAULT_TIMEOUT,
    SelfTestResult,
    check_dns_txt,
    check_http01,
    check_self_test_bounds,
    parse_dns_resolver,
    parse_http_node,
)

NEW_ORDER_ADVICE = (
    "the CA never validates an invalid authorization again: fix the proof and create a new order with "
    "certfleet.acme.acme_order (with state_path it replaces an invalid order by itself)"
)


def check_options(params: dict[str, Any]) -> None:
    """Bounds and malformed nodes or servers fail before anything is sent to the CA."""
    check_self_test_bounds(params["self_test_attempts"], params["self_test_delay"])
    check_wait_timeout(params)
    for raw in params["http_nodes"] or []:
        parse_http_node(raw)
    for raw in params["dns_resolvers"] or []:
        parse_dns_resolver(raw)


class Entry:
    """What this run knows and did about one authorization (RFC 8555 section 7.1.4)."""

    def __init__(self, authz: Authorization, challenge: Challenge | None) -> None:
        self.authz = authz
        self.challenge = challenge
        self.proof: dict[str, Any] | None = None
        self.self_test: SelfTestResult | None = None
        self.answered = False

    @property
    def identifier(self) -> str:
        return self.authz.identifier.value

    @property
    def to_answer(self) -> bool:
        """Pending, and its challenge was never answered (RFC 8555 section 7.5.1: answer once)."""
        return self.authz.status == Status.PENDING and self.challenge is not None and self.challenge.status == Status.PENDING

    @property
    def error(self) -> dict[str, Any] | None:
        """The CA's problem for an authorization that is not valid (RFC 8555 section 8, ``error``)."""
        if self.authz.status == Status.VALID:
            return None
        if self.challenge is not None and self.challenge.error:
            return self.challenge.error
        failed = self.authz.failed_challenge
        return failed.error if failed else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "wildcard": self.authz.identifier.wildcard,
            "status": self.authz.status,
            "authorization_uri": self.authz.uri,
            "challenge_uri": self.challenge.url if self.challenge else None,
            "answered": self.answered,
            "proof": self.proof,
            "self_test": self.self_test.to_dict() if self.self_test else None,
            "error": self.error,
        }


def describe_unusable(entries: list[Entry], verb: str) -> str:
    """``<name> <verb> <status> (<problem>)`` for each entry: the text of both validation failures."""
    return "; ".join(f"{entry.identifier} {verb} {entry.authz.status} ({format_problem(entry.error)})" for entry in entries)


class ValidationRun(RecordedOrderRun):
    """One run: find the order, self-test the proofs, answer, poll, report; an ``AcmeError`` it raises carries the same result."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.challenge_type = ""
        self.order: Order | None = None
        self.entries: list[Entry] = []
        self.before: dict[str, str] = {}

    def __call__(self) -> ValidationResult:
        params = self.params
        check_options(params)
        if self.check_mode and not order_recorded(params["order_uri"], params["state_path"]):
            result = self.result(changed=bool(params["validate"]))
            result.msg = "No order yet (acme_order ran in check mode): the real run would self-test and validate its proofs"
            return result
        account = self.connect()
        return self.from_record_or_ca(lambda trust_record: self.run(account, trust_record=trust_record))

    def run(self, account: Account, *, trust_record: bool) -> ValidationResult:
        params = self.params
        order, order_state = find_order(account, params["order_uri"], params["state_path"], seen=("acme_order", Status.PENDING) if trust_record else None)
        recorded = order_state.seen_authorizations(order) if order.recorded and order_state else None
        if order.recorded and recorded is None:
            order = get_order(account, order.uri)
        self.order = order
        if order_state is not None and order_state.orderUri != order.uri:
            self.warn(f"state_path {params['state_path']} records another order ({order_state.orderUri}); its choices are ignored for {order.uri}")
            order_state = None
        self.challenge_type = params["challenge"] or (order_state.challenge if order_state else "")
        if not self.challenge_type:
            raise AcmeOptionError("challenge", "give challenge (http-01, dns-01 or dns-persist-01) with order_uri; no state_path records it")

        # CAs shuffle authorizations (Pebble on purpose): report them in the order the names were asked for.
        names = order_state.identifiers if order_state else [identifier.value for identifier in order.identifiers]
        position = {name: index for index, name in enumerate(names)}
        fetched = recorded if recorded is not None else get_authorizations(account, order)
        if order_state is not None:
            # What acme_order asked for; with order_uri alone the order's own names are all there is.
            asked = parse_identifiers(order_state.identifiers, "state_path")
            check_order_identifiers(order, asked)
            check_authorization_identifiers(order, fetched, asked)
        authorizations = sorted(fetched, key=lambda a: position.get(a.identifier.value, len(position)))
        self.entries = [Entry(authz, authz.challenge(self.challenge_type)) for authz in authorizations]
        self.before = self.statuses()
        self.refuse_unusable()
        self.build_proofs(account, order_state)

        to_answer = [entry for entry in self.entries if entry.to_answer]
        if params["self_test"]:
            self.run_self_tests(to_answer)
        if not params["validate"]:
            return self.result(changed=False)
        if self.check_mode:
            for entry in to_answer:
                entry.answered = True
            return self.result(changed=bool(to_answer))

        try:
            self.validate(account, to_answer)
        finally:
            self.record_order(order_state)
        failed = self.unusable()
        if failed:
            raise self.failure(
                f"Validation failed: {describe_unusable(failed, 'is')}. {NEW_ORDER_ADVICE[0].upper()}{NEW_ORDER_ADVICE[1:]}",
                changed=bool(to_answer),
            )
        return self.result(changed=bool(to_answer))

    def statuses(self) -> dict[str, str]:
        return {entry.identifier: entry.authz.status for entry in self.entries}

    def unusable(self) -> list[Entry]:
        """Entries whose authorization is invalid (or expired, deactivated, revoked): it can never become valid (section 7.1.6)."""
        return [entry for entry in self.entries if entry.authz.status not in (Status.PENDING, Status.VALID)]

    def refuse_unusable(self) -> None:
        dead = self.unusable()
        if dead:
            raise self.failure(
                f"Nothing was submitted: {describe_unusable(dead, 'is already')}; {NEW_ORDER_ADVICE}",
                changed=False,
            )
        for entry in self.entries:
            if entry.authz.status == Status.PENDING and entry.challenge is None:
                raise AcmeOptionError(
                    "challenge",
                    f"the CA does not offer {self.challenge_type} for {entry.identifier}; it offers "
                    f"{', '.join(entry.authz.available_challenges) or 'nothing'}: choose one of them with challenge",
                )

    def build_proofs(self, account: Account, order_state: OrderState | None) -> None:
        """The very proofs acme_order returned (RFC 8555 section 8.1), including its dns-persist-01 choices."""
        extra = order_state.extra if order_state else {}
        wildcard_bases = {i.base for i in self.order.identifiers if i.wildcard} if self.order else set()
        thumbprint = account.key.thumbprint()
        for entry in self.entries:
            if not entry.to_answer or entry.challenge is None:
                continue
            entry.proof = build_proof(
                self.challenge_type,
                entry.authz.identifier,
                entry.challenge.raw,
                thumbprint,
                account.require_uri(),
                issuer_domain_name=extra.get("issuer_domain_name"),
                policy_wildcard=bool(extra.get("persist_policy_wildcard")) or entry.authz.identifier.base in wildcard_bases,
                persist_until=extra.get("persist_until"),
            )

    def run_self_tests(self, to_answer: list[Entry]) -> None:
        """Check every proof is published (RFC 8555 sections 8.3 and 8.4) before anything is answered."""
        params = self.params
        bounds = {
            "attempts": params["self_test_attempts"],
            "delay": float(params["self_test_delay"]),
            # The self-test waits on the user's servers as long as on the CA.
            "timeout": float(params["request_timeout"] or DEFAULT_TIMEOUT),
        }
        if challenge_type(self.challenge_type).publishes == "http":
            for entry in to_answer:
                entry.self_test = check_http01(entry.proof or {}, nodes=params["http_nodes"], **bounds)
        else:
            # One lookup per record name with every value at once: an apex and its wildcard share it.
            by_name: dict[str, list[Entry]] = {}
            for entry in to_answer:
                by_name.setdefault((entry.proof or {})["name"], []).append(entry)
            for name, group in by_name.items():
                values = list(dict.fromkeys(entry.proof["value"] for entry in group if entry.proof))
                result = check_dns_txt(name, values, resolvers=params["dns_resolvers"], challenge=self.challenge_type, **bounds)
                for entry in group:
                    entry.self_test = result
        failed = [entry for entry in to_answer if entry.self_test is not None and not entry.self_test.ok]
        if failed:
            shown: dict[str, list[str]] = {}
            for entry in failed:
                message = entry.self_test.message if entry.self_test else "not tested"
                shown.setdefault(message, []).append(entry.identifier)
            raise self.failure(
                "Self-test failed, nothing was submitted to the CA: " + " | ".join(f"{', '.join(names)}: {message}" for message, names in shown.items()),
                changed=False,
            )

    def validate(self, account: Account, to_answer: list[Entry]) -> None:
        """Answer every pending challenge once (RFC 8555 section 7.5.1), then poll every authorization still pending together."""
        try:
            for entry in to_answer:
                if entry.challenge is not None:
                    # Only the first answer can show acme_order's record to be out of date.
                    from_record = self.order is not None and self.order.recorded and not any(e.answered for e in self.entries)
                    with sent_from_record(from_record):
                        entry.challenge = respond(account, entry.challenge)
                    entry.answered = True
            waiting = [entry for entry in self.entries if entry.authz.status == Status.PENDING]
            if waiting and self.order is not None:
                names = ", ".join(entry.identifier for entry in waiting)
                poller = self.poller(float(self.params["wait_timeout"]), f"the CA to validate {names}")
                self.order = poll_order(account, self.order, poller, while_status=Status.PENDING)
                if self.order.status in (Status.READY, Status.PROCESSING, Status.VALID):
                    # Section 7.1.6: an order leaves pending for ready only when every authorization is valid.
                    for entry in waiting:
                        entry.authz.status = Status.VALID
                        if entry.challenge is not None and entry.answered:
                            entry.challenge.status = Status.VALID
                else:
                    # Which name failed, and why, only the authorizations tell.
                    for entry in waiting:
                        entry.authz = get_authorization(account, entry.authz.uri)
                        entry.challenge = entry.authz.challenge(self.challenge_type) or entry.challenge
        except AcmeError as error:
            if isinstance(error, AcmeOptionError):
                raise
            raise self.failure(error.msg, changed=any(entry.answered for entry in self.entries), **error.fields) from None

    def record_order(self, order_state: OrderState | None) -> None:
        """Record the order as this run left it in ``state_path``, in place of acme_order's record.

        acme_finalize finalizes an order recorded ``ready`` without fetching it again. And
        acme_order's record of pending challenges is never used twice: the next run of this
        module asks the CA, so it never answers an authorization a failed run left invalid.
        """
        path = self.params["state_path"]
        if self.check_mode or not path or order_state is None or self.order is None or self.order.uri != order_state.orderUri:
            return
        save_order_state(path, order_state.with_seen("acme_challenge_proof", self.order))

    def diff_after(self) -> dict[str, str]:
        if self.check_mode:
            return {entry.identifier: Status.VALID if entry.answered else entry.authz.status for entry in self.entries}
        return self.statuses()

    def result(self, *, changed: bool) -> ValidationResult:
        """The run's result: the order and every authorization (with the diff when asked)."""
        return ValidationResult(
            changed=changed,
            order_uri=self.order.uri if self.order else None,
            status=self.order.status if self.order else None,
            order_status=self.order.status if self.order else None,
            challenge=self.challenge_type,
            authorizations=[entry.to_dict() for entry in self.entries],
            diff={"before": {"authorizations": self.before}, "after": {"authorizations": self.diff_after()}} if self.diff else None,
        )

    def failure(self, msg: str, *, changed: bool, **fields: Any) -> AcmeError:
        """An error whose task result still carries the order and every authorization."""
        fields.update(self.result(changed=changed).to_result())
        return AcmeError(msg, **fields)
