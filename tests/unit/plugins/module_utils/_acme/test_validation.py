# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Tests of validate_run.py: what acme_challenge_proof does with an order (RFC 8555 section 7.5.1)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme import validate_run
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import dns01_value, key_authorization
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError, format_problem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_requests import Poller
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import OrderState, save_order_state
from ansible_collections.certfleet.acme.plugins.module_utils._acme.selftest import SelfTestResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.validate_run import ValidationRun
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import ScriptedAccount

CA = "https://ca.test"
ACCOUNT_URI = f"{CA}/acct/1"
ORDER_URI = f"{CA}/order/1"
UNAUTHORIZED = {"type": "urn:ietf:params:acme:error:unauthorized", "detail": "no TXT record", "status": 403}


def account_with(routes: dict[str, list[Any]]) -> ScriptedAccount:
    return ScriptedAccount(routes, ACCOUNT_URI)


def order_json(names: list[str], authzs: list[str], status: str = "pending") -> dict[str, Any]:
    return {
        "status": status,
        "identifiers": [{"type": "dns", "value": name} for name in names],
        "authorizations": authzs,
        "finalize": f"{ORDER_URI}/finalize",
    }


def authz_json(name: str, status: str, challenges: list[dict[str, Any]], wildcard: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"identifier": {"type": "dns", "value": name}, "status": status, "challenges": challenges}
    if wildcard:
        data["wildcard"] = True
    return data


def tok(name: str) -> str:
    """A token of the RFC 8555 alphabet and length (22 or more characters), told apart by ``name``."""
    return f"tok-{name}-0123456789abcdefghij"


def challenge(kind: str, url: str, token: str, status: str = "pending", error: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "url": url, "token": token, "status": status}
    if error:
        data["error"] = error
    return data


def params(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "order_uri": ORDER_URI,
        "state_path": None,
        "challenge": "dns-01",
        "self_test": False,
        "self_test_attempts": 3,
        "self_test_delay": 0,
        "http_nodes": None,
        "dns_resolvers": None,
        "validate": True,
        "wait_timeout": 60,
        "request_timeout": 5,
    }
    values.update(overrides)
    return values


def make_run(account: ScriptedAccount, clock: Any, warnings: list[str] | None = None, **kwargs: Any) -> ValidationRun:
    run = ValidationRun(
        kwargs.pop("params", None) or params(),
        connect=lambda: account,
        warn=(warnings if warnings is not None else []).append,
        **kwargs,
    )
    run.poller = lambda timeout, what: Poller(timeout, what, clock=clock.time, sleep=clock.sleep)  # type: ignore[method-assign]
    return run


def ok_result(name: str, values: list[str]) -> SelfTestResult:
    return SelfTestResult("dns-01", name, True, 1, 3, values, [], f"{name} has {values}")


# -- self-tests ---------------------------------------------------------------------


def test_apex_and_wildcard_share_one_dns_lookup(monkeypatch: pytest.MonkeyPatch, clock: Any) -> None:
    account = account_with(
        {
            ORDER_URI: [order_json(["example.test", "*.example.test"], [f"{CA}/authz/w", f"{CA}/authz/a"])],
            f"{CA}/authz/w": [authz_json("example.test", "pending", [challenge("dns-01", f"{CA}/chall/w", tok("w"))], wildcard=True)],
            f"{CA}/authz/a": [authz_json("example.test", "pending", [challenge("dns-01", f"{CA}/chall/a", tok("a"))])],
        }
    )
    lookups: list[tuple[str, list[str]]] = []

    def fake_check(name: str, values: list[str], **kwargs: Any) -> SelfTestResult:
        lookups.append((name, values))
        return ok_result(name, values)

    monkeypatch.setattr(validate_run, "check_dns_txt", fake_check)
    result = make_run(account, clock, params=params(self_test=True, validate=False))().to_result()

    thumbprint = account.key.thumbprint()
    assert lookups == [("_acme-challenge.example.test", [dns01_value(tok("a"), thumbprint), dns01_value(tok("w"), thumbprint)])]
    # Reported in the order the names were asked for, not the CA's order.
    assert [a["identifier"] for a in result["authorizations"]] == ["example.test", "*.example.test"]
    assert [a["proof"]["value"] for a in result["authorizations"]] == [dns01_value(tok("a"), thumbprint), dns01_value(tok("w"), thumbprint)]
    assert result["authorizations"][0]["self_test"] == result["authorizations"][1]["self_test"]
    assert result["changed"] is False
    assert [url for url, payload in account.posts if payload is not None] == []


def test_failed_self_test_submits_nothing(monkeypatch: pytest.MonkeyPatch, clock: Any) -> None:
    account = account_with(
        {
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"])],
            f"{CA}/authz/a": [authz_json("a.example.test", "pending", [challenge("dns-01", f"{CA}/chall/a", tok("a"))])],
        }
    )

    def fake_check(name: str, values: list[str], **kwargs: Any) -> SelfTestResult:
        return SelfTestResult("dns-01", name, False, 3, 3, values, [], "expected abc, saw nothing")

    monkeypatch.setattr(validate_run, "check_dns_txt", fake_check)
    with pytest.raises(AcmeError) as caught:
        make_run(account, clock, params=params(self_test=True))()
    assert caught.value.msg == "Self-test failed, nothing was submitted to the CA: a.example.test: expected abc, saw nothing"
    assert caught.value.fields["changed"] is False
    assert caught.value.fields["authorizations"][0]["self_test"]["ok"] is False
    assert account.answers_to(f"{CA}/chall/a") == []


def test_http01_proof_is_rebuilt_for_each_name(monkeypatch: pytest.MonkeyPatch, clock: Any) -> None:
    account = account_with(
        {
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"])],
            f"{CA}/authz/a": [authz_json("a.example.test", "pending", [challenge("http-01", f"{CA}/chall/a", tok("a"))])],
        }
    )
    seen: list[dict[str, Any]] = []

    def fake_http(proof: dict[str, Any], **kwargs: Any) -> SelfTestResult:
        seen.append(proof)
        return SelfTestResult("http-01", "a.example.test", True, 1, 3, proof["content"], [], "ok")

    monkeypatch.setattr(validate_run, "check_http01", fake_http)
    make_run(account, clock, params=params(challenge="http-01", self_test=True, validate=False))()
    assert len(seen) == 1
    assert seen[0]["content"] == key_authorization(tok("a"), account.key.thumbprint())


# -- unusable authorizations ---------------------------------------------------------


def test_invalid_authorization_is_refused_without_any_post(clock: Any) -> None:
    account = account_with(
        {
            ORDER_URI: [order_json(["a.example.test", "b.example.test"], [f"{CA}/authz/a", f"{CA}/authz/b"])],
            f"{CA}/authz/a": [authz_json("a.example.test", "pending", [challenge("dns-01", f"{CA}/chall/a", tok("a"))])],
            f"{CA}/authz/b": [authz_json("b.example.test", "invalid", [challenge("dns-01", f"{CA}/chall/b", tok("b"), "invalid", UNAUTHORIZED)])],
        }
    )
    with pytest.raises(AcmeError) as caught:
        make_run(account, clock)()
    assert caught.value.msg == (
        "Nothing was submitted: b.example.test is already invalid (urn:ietf:params:acme:error:unauthorized: no TXT record); " + validate_run.NEW_ORDER_ADVICE
    )
    assert caught.value.fields["changed"] is False
    assert [a["status"] for a in caught.value.fields["authorizations"]] == ["pending", "invalid"]
    assert caught.value.fields["authorizations"][1]["error"] == UNAUTHORIZED
    # Only POST-as-GET: the order and the two authorizations.
    assert account.posts == [(ORDER_URI, None), (f"{CA}/authz/a", None), (f"{CA}/authz/b", None)]


def test_challenge_type_not_offered_names_the_option(clock: Any) -> None:
    account = account_with(
        {
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"])],
            f"{CA}/authz/a": [authz_json("a.example.test", "pending", [challenge("http-01", f"{CA}/chall/a", tok("a"))])],
        }
    )
    with pytest.raises(AcmeOptionError) as caught:
        make_run(account, clock)()
    assert caught.value.option == "challenge"
    assert "does not offer dns-01 for a.example.test; it offers http-01" in caught.value.msg


# -- answering and polling ------------------------------------------------------------


def test_answers_each_pending_challenge_once_and_polls_together(clock: Any) -> None:
    names = ["a.example.test", "b.example.test", "c.example.test"]
    account = account_with(
        {
            ORDER_URI: [
                order_json(names, [f"{CA}/authz/a", f"{CA}/authz/b", f"{CA}/authz/c"]),
                order_json(names, [f"{CA}/authz/a", f"{CA}/authz/b", f"{CA}/authz/c"]),
                order_json(names, [f"{CA}/authz/a", f"{CA}/authz/b", f"{CA}/authz/c"], status="ready"),
            ],
            f"{CA}/authz/a": [authz_json("a.example.test", "pending", [challenge("dns-01", f"{CA}/chall/a", tok("a"))])],
            # Already answered by an earlier run: waited for, never answered again.
            f"{CA}/authz/b": [authz_json("b.example.test", "pending", [challenge("dns-01", f"{CA}/chall/b", tok("b"), "processing")])],
            f"{CA}/authz/c": [authz_json("c.example.test", "valid", [challenge("dns-01", f"{CA}/chall/c", tok("c"), "valid")])],
            f"{CA}/chall/a": [challenge("dns-01", f"{CA}/chall/a", tok("a"), "processing")],
        }
    )
    result = make_run(account, clock, diff=True)().to_result()

    assert account.answers_to(f"{CA}/chall/a") == [{}]
    assert account.answers_to(f"{CA}/chall/b") == []
    assert account.answers_to(f"{CA}/chall/c") == []
    # Each authorization fetched once; then the order alone is polled (pending, ready) for all of them.
    assert len(account.answers_to(f"{CA}/authz/a")) == 1
    assert len(account.answers_to(f"{CA}/authz/b")) == 1
    assert len(account.answers_to(f"{CA}/authz/c")) == 1
    assert len(account.answers_to(ORDER_URI)) == 3
    assert result["changed"] is True
    assert result["order_status"] == "ready"
    assert [(a["identifier"], a["status"], a["answered"]) for a in result["authorizations"]] == [
        ("a.example.test", "valid", True),
        ("b.example.test", "valid", False),
        ("c.example.test", "valid", False),
    ]
    assert result["authorizations"][1]["proof"] is None
    assert result["diff"] == {
        "before": {"authorizations": {"a.example.test": "pending", "b.example.test": "pending", "c.example.test": "valid"}},
        "after": {"authorizations": {"a.example.test": "valid", "b.example.test": "valid", "c.example.test": "valid"}},
    }
    assert result["authorizations"][0]["error"] is None
    assert len(clock.waits) == 2  # two polling rounds, on the fake clock


def test_polling_stops_at_invalid_and_fails_with_the_problem(clock: Any) -> None:
    account = account_with(
        {
            ORDER_URI: [
                order_json(["a.example.test", "b.example.test"], [f"{CA}/authz/a", f"{CA}/authz/b"]),
                order_json(["a.example.test", "b.example.test"], [], status="invalid"),
            ],
            f"{CA}/authz/a": [
                authz_json("a.example.test", "pending", [challenge("dns-01", f"{CA}/chall/a", tok("a"))]),
                authz_json("a.example.test", "valid", [challenge("dns-01", f"{CA}/chall/a", tok("a"), "valid")]),
            ],
            f"{CA}/authz/b": [
                authz_json("b.example.test", "pending", [challenge("dns-01", f"{CA}/chall/b", tok("b"))]),
                authz_json("b.example.test", "invalid", [challenge("dns-01", f"{CA}/chall/b", tok("b"), "invalid", UNAUTHORIZED)]),
            ],
            f"{CA}/chall/a": [challenge("dns-01", f"{CA}/chall/a", tok("a"), "processing")],
            f"{CA}/chall/b": [challenge("dns-01", f"{CA}/chall/b", tok("b"), "processing")],
        }
    )
    with pytest.raises(AcmeError) as caught:
        make_run(account, clock)()
    assert caught.value.msg.startswith(
        "Validation failed: b.example.test is invalid (urn:ietf:params:acme:error:unauthorized: no TXT record). The CA never validates"
    )
    assert caught.value.fields["changed"] is True
    assert caught.value.fields["order_status"] == "invalid"
    # One polling round of the order; it turned invalid, so each authorization is fetched again to tell which failed.
    assert len(account.answers_to(ORDER_URI)) == 2
    assert len(account.answers_to(f"{CA}/authz/a")) == 2
    assert len(account.answers_to(f"{CA}/authz/b")) == 2
    assert len(clock.waits) == 1


def test_polling_timeout_keeps_the_result(clock: Any) -> None:
    account = account_with(
        {
            # Read once, then polled with a growing pause (no Retry-After) until the 10 s are up.
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"])] * 6,
            f"{CA}/authz/a": [authz_json("a.example.test", "pending", [challenge("dns-01", f"{CA}/chall/a", tok("a"))])],
            f"{CA}/chall/a": [challenge("dns-01", f"{CA}/chall/a", tok("a"), "processing")],
        }
    )
    with pytest.raises(AcmeError) as caught:
        make_run(account, clock, params=params(wait_timeout=10))()
    assert caught.value.msg.startswith("Timed out after wait_timeout (10 s) waiting for the CA to validate a.example.test")
    assert len(clock.waits) == 5 and sum(clock.waits) == pytest.approx(10.0)
    assert caught.value.fields["changed"] is True
    assert caught.value.fields["authorizations"][0]["answered"] is True
    assert sum(clock.waits) <= 10


def test_check_mode_answers_nothing(clock: Any) -> None:
    account = account_with(
        {
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"])],
            f"{CA}/authz/a": [authz_json("a.example.test", "pending", [challenge("dns-01", f"{CA}/chall/a", tok("a"))])],
        }
    )
    result = make_run(account, clock, check_mode=True, diff=True)().to_result()
    assert result["changed"] is True
    assert result["authorizations"][0]["answered"] is True
    assert result["diff"]["after"] == {"authorizations": {"a.example.test": "valid"}}
    assert account.answers_to(f"{CA}/chall/a") == []


def test_check_mode_without_order_does_not_connect(tmp_path: Any, clock: Any) -> None:
    def connect() -> Any:
        raise AssertionError("connected")

    run = ValidationRun(params(order_uri=None, state_path=str(tmp_path / "missing.json")), connect=connect, warn=lambda msg: None, check_mode=True)
    result = run().to_result()
    assert result["changed"] is True
    assert result["order_uri"] is None
    assert result["msg"].startswith("No order yet (acme_order ran in check mode)")


def test_state_file_of_another_order_is_ignored_with_a_warning(tmp_path: Any, clock: Any) -> None:
    state_path = str(tmp_path / "order.json")
    save_order_state(state_path, OrderState(f"{CA}/order/other", ["a.example.test"], "http-01", CA, ACCOUNT_URI))
    account = account_with(
        {
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"], status="ready")],
            f"{CA}/authz/a": [authz_json("a.example.test", "valid", [challenge("dns-01", f"{CA}/chall/a", tok("a"), "valid")])],
        }
    )
    warnings: list[str] = []
    result = make_run(account, clock, warnings, params=params(state_path=state_path))().to_result()
    assert warnings == [f"state_path {state_path} records another order ({CA}/order/other); its choices are ignored for {ORDER_URI}"]
    assert result["challenge"] == "dns-01"
    assert result["changed"] is False
    assert result["order_status"] == "ready"
    assert [payload for url, payload in account.posts if payload is not None] == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("self_test_attempts", 0, "self_test_attempts must be at least 1"),
        ("self_test_delay", -1, "self_test_delay must be zero or more seconds"),
        ("wait_timeout", -1, "wait_timeout must be zero or more seconds"),
    ],
)
def test_bounds_fail_before_connecting(option: str, value: int, message: str) -> None:
    def connect() -> Any:
        raise AssertionError("connected")

    with pytest.raises(AcmeOptionError) as caught:
        ValidationRun(params(**{option: value}), connect=connect, warn=lambda msg: None)()
    assert (caught.value.option, caught.value.msg) == (option, message)


def test_format_problem_lists_subproblems() -> None:
    problem = {
        "type": "urn:ietf:params:acme:error:rejectedIdentifier",
        "detail": "two names refused",
        "subproblems": [
            {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids", "identifier": {"type": "dns", "value": "a.test"}},
            {"detail": "no type"},
        ],
    }
    assert format_problem(problem) == (
        "urn:ietf:params:acme:error:rejectedIdentifier: two names refused; a.test urn:ietf:params:acme:error:caa: CAA forbids; ? ?: no type"
    )
    assert format_problem(None) == "the CA gave no problem document"
    assert format_problem({}) == "the CA gave no problem document"
    assert format_problem({"detail": "x"}) == "(no type): x"


# -- starting from what acme_order recorded ----------------------------------------------


def record_from_acme_order(tmp_path: Any, authz_status: str = "pending") -> str:
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Authorization, Order

    path = str(tmp_path / "order.json")
    order = Order.from_response(ORDER_URI, order_json(["a.example.test"], [f"{CA}/authz/a"]))
    authz = Authorization.from_response(f"{CA}/authz/a", authz_json("a.example.test", authz_status, [challenge("dns-01", f"{CA}/chall/a", tok("a"))]))
    state = OrderState(ORDER_URI, ["a.example.test"], "dns-01", CA, ACCOUNT_URI)
    save_order_state(path, state.with_seen("acme_order", order, [authz]))
    return path


@pytest.mark.parametrize("order_uri", [None, ORDER_URI], ids=["state_path alone", "with the URL of the recorded order"])
def test_answers_from_acme_orders_record_without_fetching(tmp_path: Any, clock: Any, order_uri: str | None) -> None:
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import load_order_state

    state_path = record_from_acme_order(tmp_path)
    account = account_with(
        {
            f"{CA}/chall/a": [challenge("dns-01", f"{CA}/chall/a", tok("a"), "processing")],
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"], status="ready")],
        }
    )
    result = make_run(account, clock, params=params(order_uri=order_uri, state_path=state_path, challenge=None))().to_result()
    # Answer, one poll of the order: nothing fetched that acme_order had just seen; the order's URL
    # as well changes nothing when it is the order the state file records.
    assert [posted[0] for posted in account.posts] == [f"{CA}/chall/a", ORDER_URI]
    assert result["changed"] is True and result["order_status"] == "ready" and result["challenge"] == "dns-01"
    assert [(a["status"], a["answered"]) for a in result["authorizations"]] == [("valid", True)]
    recorded = load_order_state(state_path)
    assert recorded is not None and recorded.seen["by"] == "acme_challenge_proof"
    assert recorded.seen_order("acme_challenge_proof", "ready") is not None


def test_an_order_another_run_finished_is_found_by_its_url_once_the_state_file_is_gone(tmp_path: Any, clock: Any) -> None:
    # Another run on the same state_path (a batch, a second job) validated and finalized the order
    # between this run's acme_order and this module, and removed the state file.
    state_path = str(tmp_path / "order.json")
    account = account_with(
        {
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"], status="valid")],
            f"{CA}/authz/a": [authz_json("a.example.test", "valid", [challenge("dns-01", f"{CA}/chall/a", tok("a"), "valid")])],
        }
    )
    result = make_run(account, clock, params=params(order_uri=ORDER_URI, state_path=state_path))().to_result()
    assert result["changed"] is False
    assert result["order_status"] == "valid"
    assert [(a["status"], a["answered"]) for a in result["authorizations"]] == [("valid", False)]
    assert account.answers_to(f"{CA}/chall/a") == []
    assert not os.path.exists(state_path)


def test_without_its_url_a_gone_state_file_still_fails_naming_acme_order(tmp_path: Any, clock: Any) -> None:
    state_path = str(tmp_path / "order.json")
    with pytest.raises(AcmeOptionError) as caught:
        make_run(account_with({}), clock, params=params(order_uri=None, state_path=state_path))()
    assert caught.value.option == "state_path"
    assert caught.value.msg == f"state_path {state_path} does not exist; run certfleet.acme.acme_order with it first"


def test_refused_answer_from_a_record_starts_again_from_the_ca(tmp_path: Any, clock: Any) -> None:
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeProblem

    state_path = record_from_acme_order(tmp_path)

    def not_pending(payload: Any) -> Any:
        raise AcmeProblem(url=f"{CA}/chall/a", status=400, problem_type="urn:ietf:params:acme:error:malformed", detail="authorization is not pending")

    invalid = challenge("dns-01", f"{CA}/chall/a", tok("a"), "invalid", UNAUTHORIZED)
    account = account_with(
        {
            f"{CA}/chall/a": [not_pending],
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"], status="invalid")],
            f"{CA}/authz/a": [authz_json("a.example.test", "invalid", [invalid])],
        }
    )
    with pytest.raises(AcmeError) as caught:
        make_run(account, clock, params=params(order_uri=None, state_path=state_path, challenge=None))()
    assert [posted[0] for posted in account.posts] == [f"{CA}/chall/a", ORDER_URI, f"{CA}/authz/a"]
    assert caught.value.msg.startswith("Nothing was submitted: a.example.test is already invalid")


def test_after_a_failed_validation_the_next_run_asks_the_ca(tmp_path: Any, clock: Any) -> None:
    state_path = record_from_acme_order(tmp_path)
    invalid = challenge("dns-01", f"{CA}/chall/a", tok("a"), "invalid", UNAUTHORIZED)
    account = account_with(
        {
            f"{CA}/chall/a": [challenge("dns-01", f"{CA}/chall/a", tok("a"), "processing")],
            ORDER_URI: [order_json(["a.example.test"], [f"{CA}/authz/a"], status="invalid")] * 2,
            f"{CA}/authz/a": [authz_json("a.example.test", "invalid", [invalid])] * 2,
        }
    )
    run_params = params(order_uri=None, state_path=state_path, challenge=None)
    with pytest.raises(AcmeError) as first:
        make_run(account, clock, params=run_params)()
    assert first.value.msg.startswith("Validation failed: a.example.test is invalid")
    with pytest.raises(AcmeError) as second:
        make_run(account, clock, params=run_params)()
    assert second.value.msg.startswith("Nothing was submitted: a.example.test is already invalid")
    # The challenge was answered once, by the first run only.
    assert account.answers_to(f"{CA}/chall/a") == [{}]


def test_server_error_on_an_answer_from_a_record_is_not_sent_twice(tmp_path: Any, clock: Any) -> None:
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeProblem

    state_path = record_from_acme_order(tmp_path)

    def unavailable(payload: Any) -> Any:
        raise AcmeProblem(url=f"{CA}/chall/a", status=503, problem_type="urn:ietf:params:acme:error:serverInternal", detail="down for maintenance")

    account = account_with({f"{CA}/chall/a": [unavailable]})
    with pytest.raises(AcmeError) as caught:
        make_run(account, clock, params=params(order_uri=None, state_path=state_path, challenge=None))()
    assert [posted[0] for posted in account.posts] == [f"{CA}/chall/a"]
    assert "down for maintenance" in caught.value.msg
