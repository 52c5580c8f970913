# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""messages.py and order_requests.py: orders and authorizations read from Pebble's JSON, bounded polling with Retry-After.

The JSON below was captured from Pebble 2.10 (challenges come shuffled, the wildcard
authorization carries ``wildcard: true`` and the bare base name).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeResponse
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeProblem, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier, parse_identifiers
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import (
    Authorization,
    Order,
    check_authorization_identifiers,
    check_order_identifiers,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_requests import (
    Poller,
    download_certificate,
    get_authorization,
    get_authorizations,
    get_order,
    new_order,
    poll_order,
    respond,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.retry_after import POLLING
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import ScriptedAccount

BASE = "https://127.0.0.1:14000"
ORDER_URI = f"{BASE}/my-order/ecsnOQ4pUsTbOojDNf0Dbj-Fs56ZoEmHGO9tMkA8-nY"
AUTHZ_IP = f"{BASE}/authZ/rlSnU3zWrLmZ0UqMR8vMCh7-D8AasVPsj6t0OpEkz6k"
AUTHZ_APEX = f"{BASE}/authZ/Ness9u44d_539Y2N6qs9_TeNQVsJSkghIofOGpMO2Ws"
AUTHZ_WILD = f"{BASE}/authZ/QBQJFdJeDHPl-fCSxpzoC4u8MeTF3krjHjtgazG-2dc"


def chal(challenge_type: str, chal_id: str, token: str) -> dict[str, str]:
    """One challenge object as Pebble sends it."""
    return {"type": challenge_type, "url": f"{BASE}/chalZ/{chal_id}", "token": token, "status": "pending"}


PEBBLE_ORDER = {
    "status": "pending",
    "expires": "2026-11-29T19:12:54Z",
    "identifiers": [
        {"type": "dns", "value": "r1.example.test"},
        {"type": "dns", "value": "*.r1.example.test"},
        {"type": "ip", "value": "192.0.2.7"},
    ],
    "profile": "default",
    "finalize": f"{BASE}/finalize-order/ecsnOQ4pUsTbOojDNf0Dbj-Fs56ZoEmHGO9tMkA8-nY",
    # Not in the order of the identifiers: match by identifier, never by position.
    "authorizations": [AUTHZ_IP, AUTHZ_APEX, AUTHZ_WILD],
}

PEBBLE_AUTHZ_IP = {
    "status": "pending",
    "identifier": {"type": "ip", "value": "192.0.2.7"},
    "challenges": [
        chal("http-01", "bqmr8y4IPE5XK4UteBgx-L8lNHZVtUmTBRHNpswlv3o", "30qu8T7c9LmrZjmTDk4BoQat3c2HQalj-HNLdEoyh6Q"),
        chal("tls-alpn-01", "asCuPhqwdiQxts1RIfO7Zc44hC8MbBEp5vQfTK2tVWM", "5Ov6fs3RxRePiXjSunFCGe6vA170U6D1bBY3o_qBP1c"),
    ],
    "expires": "2026-11-28T20:12:54Z",
}

PEBBLE_AUTHZ_APEX = {
    "status": "pending",
    "identifier": {"type": "dns", "value": "r1.example.test"},
    "challenges": [
        {
            "type": "dns-persist-01",
            "url": f"{BASE}/chalZ/6Ak1OvCxzSSHjKV9smbC184ok6TTO4h4Ng62SoPpWKA",
            "status": "pending",
            "issuer-domain-names": ["pebble.letsencrypt.org"],
        },
        chal("http-01", "TF9zoodNdaTCWg9Me4jIm9LDxngE9p2fK7T_-HGrg4k", "Q7gI9UgSypLUCSd_hZ-3iAWug90Z86JSjRlgaUH47VA"),
        chal("dns-account-01", "RxyEwXAU5ZQxaIz1ycOwaJGEb0ULeiFrklnyFctwIQo", "C40-4484W7SsB9zkexXeTnkyeGUFMLOmRX9_WceQf2A"),
        chal("dns-01", "hYvJiJLEJoSL_T50aeSg8zNhKmQ83f-DaaBjg8hay8Q", "4ZhSC52RTF4DEz_5-C5poWOIJU2B9_PzQoDBqPa8C8A"),
        chal("tls-alpn-01", "M5d79ZlJCEv91acPtzpXkWn5Tt63t7XyhHtWShkjzpE", "Vj7I8c1pk1JAGJ7UI-nnybjIiq_jmajKWBGGq956F1Y"),
    ],
    "expires": "2026-11-28T20:12:54Z",
}

PEBBLE_AUTHZ_WILD = {
    "status": "pending",
    "identifier": {"type": "dns", "value": "r1.example.test"},
    "challenges": [
        chal("dns-01", "QnJhxSk7FVOPBSdpaqE3HhORzEJ7Ol5WehhnvPKCbu4", "H0R95nNP0K8MxKakjtq5h2IoAkg8GQM86AmMVbboQ-0"),
        chal("dns-account-01", "PhzmMEDoiCMOY1HnYB_L9MPr__D4c0PnTqxc2XzZf2o", "ZdchVBI6Q37z0gjqmvMV9H6Y3p_aQVM0z543CipZx30"),
        {
            "type": "dns-persist-01",
            "url": f"{BASE}/chalZ/ZPdG3By_TAKEvT1OyvLqDpK3JoiCWiwRH-tWbMTWy2c",
            "status": "pending",
            "issuer-domain-names": ["pebble.letsencrypt.org"],
        },
    ],
    "expires": "2026-11-28T20:12:54Z",
    "wildcard": True,
}

AUTHZ_JSON = {AUTHZ_IP: PEBBLE_AUTHZ_IP, AUTHZ_APEX: PEBBLE_AUTHZ_APEX, AUTHZ_WILD: PEBBLE_AUTHZ_WILD}


def response(url: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> AcmeResponse:
    return AcmeResponse(url, status, CaseInsensitiveDict(headers or {}), json.dumps(body).encode("utf-8"), {})


def order_account(routes: dict[str, list[Any]]) -> ScriptedAccount:
    """The shared scripted account, with Pebble's newOrder URL in its directory."""
    return ScriptedAccount(routes, f"{BASE}/my-account/1", endpoints={"newOrder": f"{BASE}/order-plz"})


# -- reading the CA's JSON --------------------------------------------------------------------


def test_order_from_pebble_json():
    order = Order.from_response(ORDER_URI, PEBBLE_ORDER, retry_after=5.0)
    assert order.uri == ORDER_URI
    assert order.status == "pending"
    assert order.identifiers == [Identifier("dns", "r1.example.test"), Identifier("dns", "*.r1.example.test"), Identifier("ip", "192.0.2.7")]
    assert order.authorizations == [AUTHZ_IP, AUTHZ_APEX, AUTHZ_WILD]
    assert order.finalize == PEBBLE_ORDER["finalize"]
    assert order.expires == "2026-11-29T19:12:54Z"
    assert order.profile == "default"
    assert order.certificate is None
    assert order.error is None
    assert order.retry_after == 5.0
    assert order.usable


@pytest.mark.parametrize("status, usable", [("pending", True), ("ready", True), ("processing", True), ("valid", True), ("invalid", False), ("expired", False)])
def test_order_usable(status, usable):
    assert Order.from_response(ORDER_URI, dict(PEBBLE_ORDER, status=status)).usable is usable


def test_order_from_odd_json_does_not_crash():
    order = Order.from_response(ORDER_URI, None)
    assert order.status == "pending"
    assert order.identifiers == []
    assert order.authorizations == []
    assert order.profile is None
    invalid = Order.from_response(ORDER_URI, {"status": "invalid", "error": {"type": "urn:ietf:params:acme:error:unauthorized"}, "profile": 3})
    assert invalid.error == {"type": "urn:ietf:params:acme:error:unauthorized"}
    assert invalid.profile is None


def test_wildcard_authorization_from_pebble_json():
    authz = Authorization.from_response(AUTHZ_WILD, PEBBLE_AUTHZ_WILD)
    assert authz.uri == AUTHZ_WILD
    # Pebble sends the base name with wildcard: true (RFC 8555 section 7.1.4).
    assert authz.identifier == Identifier("dns", "*.r1.example.test")
    assert authz.identifier.wildcard
    assert authz.identifier.base == "r1.example.test"
    assert authz.status == "pending"
    assert authz.expires == "2026-11-28T20:12:54Z"
    assert authz.available_challenges == ["dns-01", "dns-account-01", "dns-persist-01"]
    assert authz.challenge("http-01") is None
    assert authz.failed_challenge is None


def test_challenge_by_type_in_a_shuffled_list():
    authz = Authorization.from_response(AUTHZ_APEX, PEBBLE_AUTHZ_APEX)
    assert authz.identifier == Identifier("dns", "r1.example.test")
    assert not authz.identifier.wildcard
    assert authz.available_challenges == ["dns-01", "dns-account-01", "dns-persist-01", "http-01", "tls-alpn-01"]
    for challenge_type in ("http-01", "dns-01", "dns-persist-01", "tls-alpn-01"):
        challenge = authz.challenge(challenge_type)
        assert challenge is not None
        assert challenge.type == challenge_type
        raw = next(c for c in PEBBLE_AUTHZ_APEX["challenges"] if c["type"] == challenge_type)
        assert challenge.url == raw["url"]
        assert challenge.raw is raw
        assert challenge.status == "pending"
    assert authz.challenge("http-01").token == "Q7gI9UgSypLUCSd_hZ-3iAWug90Z86JSjRlgaUH47VA"
    assert authz.challenge("dns-01").token == "4ZhSC52RTF4DEz_5-C5poWOIJU2B9_PzQoDBqPa8C8A"
    # dns-persist-01 has no token but the CA's issuer names.
    persist = authz.challenge("dns-persist-01")
    assert persist.token is None
    assert persist.raw["issuer-domain-names"] == ["pebble.letsencrypt.org"]


def test_same_result_whatever_the_challenge_order():
    shuffled = copy.deepcopy(PEBBLE_AUTHZ_APEX)
    shuffled["challenges"].reverse()
    a = Authorization.from_response(AUTHZ_APEX, PEBBLE_AUTHZ_APEX)
    b = Authorization.from_response(AUTHZ_APEX, shuffled)
    assert a.available_challenges == b.available_challenges
    for challenge_type in a.available_challenges:
        assert a.challenge(challenge_type).url == b.challenge(challenge_type).url


def test_ip_authorization():
    authz = Authorization.from_response(AUTHZ_IP, PEBBLE_AUTHZ_IP)
    assert authz.identifier == Identifier("ip", "192.0.2.7")
    assert not authz.identifier.wildcard
    assert authz.available_challenges == ["http-01", "tls-alpn-01"]
    assert authz.challenge("dns-01") is None


def test_invalid_authorization_exposes_the_failed_challenge():
    data = copy.deepcopy(PEBBLE_AUTHZ_IP)
    data["status"] = "invalid"
    error = {"type": "urn:ietf:params:acme:error:connection", "detail": "Connection refused", "status": 400}
    data["challenges"][0].update(status="invalid", error=error)
    authz = Authorization.from_response(AUTHZ_IP, data)
    assert authz.status == "invalid"
    assert authz.failed_challenge is not None
    assert authz.failed_challenge.type == "http-01"
    assert authz.failed_challenge.error == error


def test_authorization_from_odd_json_does_not_crash():
    authz = Authorization.from_response(AUTHZ_IP, {"challenges": [None, "x", {"type": "http-01"}]})
    assert authz.status == "pending"
    assert authz.identifier == Identifier("dns", "")
    assert [c.type for c in authz.challenges] == ["http-01"]
    assert authz.challenges[0].status == "pending"


# -- requests through the account ---------------------------------------------------------------


def test_new_order_sends_identifiers_profile_and_replaces():
    account = order_account({f"{BASE}/order-plz": [response(f"{BASE}/order-plz", PEBBLE_ORDER, 201, {"Location": ORDER_URI, "Retry-After": "5"})]})
    identifiers = parse_identifiers(["r1.example.test", "*.r1.example.test", "192.0.2.7"])
    order = new_order(account, identifiers, profile="shortlived", replaces="aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    assert account.posts[0].url == f"{BASE}/order-plz"
    assert account.posts[0].payload == {
        "identifiers": [{"type": "dns", "value": "r1.example.test"}, {"type": "dns", "value": "*.r1.example.test"}, {"type": "ip", "value": "192.0.2.7"}],
        "profile": "shortlived",
        "replaces": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
    }
    assert order.uri == ORDER_URI
    assert order.retry_after == 5.0


def test_new_order_without_optional_members():
    account = order_account({f"{BASE}/order-plz": [response(f"{BASE}/order-plz", PEBBLE_ORDER, 201, {"Location": ORDER_URI})]})
    new_order(account, parse_identifiers(["r1.example.test"]))
    assert account.posts[0].payload == {"identifiers": [{"type": "dns", "value": "r1.example.test"}]}


REPLACES_ID = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


def order_problem(status: int, short_type: str, detail: str) -> AcmeProblem:
    return AcmeProblem(
        url=f"{BASE}/order-plz", status=status, problem_type=f"urn:ietf:params:acme:error:{short_type}", detail=detail, context="Creating the order"
    )


@pytest.mark.parametrize(
    "refusal",
    [
        order_problem(500, "serverInternal", "could not find an order for the given certificate"),
        order_problem(400, "malformed", "unable to find the certificate named in replaces"),
        order_problem(403, "unauthorized", "requester account did not request the certificate being replaced by this order"),
        AcmeProblem(url=f"{BASE}/order-plz", status=404, detail="no such certificate"),
    ],
)
def test_new_order_retries_without_replaces_the_ca_cannot_resolve(refusal):
    created = response(f"{BASE}/order-plz", PEBBLE_ORDER, 201, {"Location": ORDER_URI})
    account = order_account({f"{BASE}/order-plz": [refusal, created]})
    heard = []
    order = new_order(account, parse_identifiers(["r1.example.test"]), replaces=REPLACES_ID, on_replaces_refused=heard.append)
    assert [post.payload.get("replaces") for post in account.posts] == [REPLACES_ID, None]
    assert "replaces" not in account.posts[1].payload
    assert order.uri == ORDER_URI
    assert heard == [refusal]


@pytest.mark.parametrize(
    "refusal",
    [
        order_problem(409, "alreadyReplaced", "certificate with serial 0550 already has a replacement order"),
        order_problem(429, "rateLimited", "too many new orders"),
        order_problem(400, "rejectedIdentifier", "r1.example.test is blocked"),
    ],
)
def test_new_order_keeps_other_refusals(refusal):
    account = order_account({f"{BASE}/order-plz": [refusal]})
    with pytest.raises(AcmeProblem) as info:
        new_order(account, parse_identifiers(["r1.example.test"]), replaces=REPLACES_ID, on_replaces_refused=pytest.fail)
    assert info.value is refusal
    assert len(account.posts) == 1


def test_new_order_without_replaces_does_not_retry():
    refusal = order_problem(500, "serverInternal", "something broke")
    account = order_account({f"{BASE}/order-plz": [refusal]})
    with pytest.raises(AcmeProblem):
        new_order(account, parse_identifiers(["r1.example.test"]))
    assert len(account.posts) == 1


def test_new_order_retry_failure_is_the_error():
    first = order_problem(400, "malformed", "identifier r1..example.test is malformed")
    second = order_problem(400, "malformed", "identifier r1..example.test is malformed")
    account = order_account({f"{BASE}/order-plz": [first, second]})
    with pytest.raises(AcmeProblem) as info:
        new_order(account, parse_identifiers(["r1.example.test"]), replaces=REPLACES_ID, on_replaces_refused=pytest.fail)
    assert info.value is second
    assert len(account.posts) == 2


def test_new_order_without_location_fails():
    account = order_account({f"{BASE}/order-plz": [response(f"{BASE}/order-plz", PEBBLE_ORDER, 201)]})
    with pytest.raises(AcmeProblem) as info:
        new_order(account, parse_identifiers(["r1.example.test"]))
    assert "Location" in info.value.msg


def test_get_order_and_authorizations_use_post_as_get():
    account = order_account(
        {
            ORDER_URI: [response(ORDER_URI, PEBBLE_ORDER)],
            **{uri: [response(uri, data)] for uri, data in AUTHZ_JSON.items()},
        }
    )
    order = get_order(account, ORDER_URI)
    authorizations = get_authorizations(account, order)
    assert [a.uri for a in authorizations] == [AUTHZ_IP, AUTHZ_APEX, AUTHZ_WILD]
    assert {a.identifier.value for a in authorizations} == {"192.0.2.7", "r1.example.test", "*.r1.example.test"}
    assert all(sent.payload is None for sent in account.posts)


def test_respond_sends_an_empty_object():
    challenge = Authorization.from_response(AUTHZ_IP, PEBBLE_AUTHZ_IP).challenge("http-01")
    answered = dict(PEBBLE_AUTHZ_IP["challenges"][0], status="processing")
    account = order_account({challenge.url: [response(challenge.url, answered)]})
    result = respond(account, challenge)
    assert account.posts[0].payload == {}
    assert result.status == "processing"
    assert result.type == "http-01"


# -- Poller ---------------------------------------------------------------------------------


def test_poller_honours_retry_after(clock):
    poller = Poller(60, "the authorizations", clock=clock.time, sleep=clock.sleep)
    poller.wait(3.0, "pending")
    poller.wait(7.0, "pending")
    assert clock.waits == [3.0, 7.0]


def test_poller_caps_long_retry_after(clock):
    poller = Poller(600, "the order", clock=clock.time, sleep=clock.sleep)
    poller.wait(3600.0, "processing")
    assert clock.waits == [POLLING.longest]


def test_poller_never_polls_without_a_pause_on_a_zero_retry_after(clock):
    poller = Poller(600, "the order", clock=clock.time, sleep=clock.sleep)
    for _request in range(3):
        poller.wait(0.0, "processing")
    assert clock.waits == [POLLING.shortest] * 3
    assert POLLING.shortest > 0


def test_poller_backs_off_without_retry_after(clock):
    poller = Poller(600, "the order", clock=clock.time, sleep=clock.sleep)
    for attempt in range(6):
        poller.wait(None, f"processing (poll {attempt})")
    assert clock.waits == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_poller_never_sleeps_past_the_deadline_then_fails(clock):
    poller = Poller(5, "the authorizations of r1.example.test", clock=clock.time, sleep=clock.sleep)
    poller.wait(3.0, "r1.example.test: pending")
    poller.wait(3.0, "r1.example.test: pending")  # only 2 s are left
    assert clock.waits == [3.0, 2.0]
    with pytest.raises(AcmeError) as info:
        poller.wait(3.0, "r1.example.test: pending")
    assert clock.waits == [3.0, 2.0]
    msg = info.value.msg
    assert "wait_timeout (5 s)" in msg
    assert "waiting for the authorizations of r1.example.test" in msg
    assert "last state: r1.example.test: pending" in msg
    assert "raise wait_timeout" in msg


def test_poller_with_zero_timeout_fails_at_once(clock):
    poller = Poller(0, "the order", clock=clock.time, sleep=clock.sleep)
    with pytest.raises(AcmeError) as info:
        poller.wait(1.0, "processing")
    assert clock.waits == []
    assert "wait_timeout (0 s)" in info.value.msg


# -- polling --------------------------------------------------------------------------------


def test_poll_order_while_pending_until_ready(clock):
    pending = Order.from_response(ORDER_URI, PEBBLE_ORDER)
    account = order_account(
        {
            ORDER_URI: [
                response(ORDER_URI, dict(PEBBLE_ORDER, status="pending"), headers={"Retry-After": "3"}),
                response(ORDER_URI, dict(PEBBLE_ORDER, status="ready")),
            ]
        }
    )
    order = poll_order(account, pending, Poller(60, "the CA to validate", clock=clock.time, sleep=clock.sleep), while_status="pending")
    assert order.status == "ready"
    # First wait: no Retry-After known yet (backoff); second: the CA's Retry-After: 3.
    assert clock.waits == [0.5, 3.0]
    # One request a round for the whole order, however many authorizations it has.
    assert len(PEBBLE_ORDER["authorizations"]) > 1
    assert [sent.url for sent in account.posts] == [ORDER_URI, ORDER_URI]
    assert all(sent.payload is None for sent in account.posts)


def test_poll_order_while_pending_stops_at_invalid(clock):
    account = order_account({ORDER_URI: [response(ORDER_URI, dict(PEBBLE_ORDER, status="invalid"))]})
    order = poll_order(account, Order.from_response(ORDER_URI, PEBBLE_ORDER), Poller(60, "x", clock=clock.time, sleep=clock.sleep), while_status="pending")
    assert order.status == "invalid"
    assert len(account.posts) == 1


def test_poll_order_while_pending_times_out_naming_the_wait(clock):
    # Asked at 0, 4 and 8 s as Retry-After says, and a last time when the 10 s are up.
    account = order_account({ORDER_URI: [response(ORDER_URI, PEBBLE_ORDER, headers={"Retry-After": "4"})] * 4})
    poller = Poller(10, "the CA to validate 192.0.2.7", clock=clock.time, sleep=clock.sleep)
    with pytest.raises(AcmeError) as info:
        poll_order(account, Order.from_response(ORDER_URI, PEBBLE_ORDER), poller, while_status="pending")
    assert sum(clock.waits) == pytest.approx(10.0)
    assert len(account.posts) == 4
    assert "wait_timeout (10 s)" in info.value.msg
    assert "the CA to validate 192.0.2.7" in info.value.msg
    assert "pending" in info.value.msg


def test_poll_order_waits_while_processing(clock):
    processing = Order.from_response(ORDER_URI, dict(PEBBLE_ORDER, status="processing"), retry_after=2.0)
    account = order_account(
        {
            ORDER_URI: [
                response(ORDER_URI, dict(PEBBLE_ORDER, status="processing"), headers={"Retry-After": "1"}),
                response(ORDER_URI, dict(PEBBLE_ORDER, status="valid", certificate=f"{BASE}/certZ/1")),
            ]
        }
    )
    order = poll_order(account, processing, Poller(60, "the order", clock=clock.time, sleep=clock.sleep))
    assert order.status == "valid"
    assert order.certificate == f"{BASE}/certZ/1"
    assert clock.waits == [2.0, 1.0]


def test_poll_order_valid_at_once_sends_nothing(clock):
    account = order_account({})
    valid = Order.from_response(ORDER_URI, dict(PEBBLE_ORDER, status="valid"))
    assert poll_order(account, valid, Poller(60, "the order", clock=clock.time, sleep=clock.sleep)) is valid
    assert account.posts == []


# -- the order and its authorizations are for the names asked (RFC 8555 sections 7.1.3 and 7.4) --

ASKED = ["r1.example.test", "*.r1.example.test", "192.0.2.7"]


def pebble_order_with(identifiers: list[dict[str, str]]) -> Order:
    return Order.from_response(ORDER_URI, dict(PEBBLE_ORDER, identifiers=identifiers))


def test_an_order_for_the_names_asked_in_any_sequence_passes():
    check_order_identifiers(pebble_order_with(list(reversed(PEBBLE_ORDER["identifiers"]))), parse_identifiers(ASKED))


@pytest.mark.parametrize(
    "identifiers, words",
    [
        (PEBBLE_ORDER["identifiers"] + [{"type": "dns", "value": "evil.example"}], "not asked for: evil.example"),
        (PEBBLE_ORDER["identifiers"][:2], "missing: 192.0.2.7 (ip)"),
        ([{"type": "dns", "value": "R1.example.test"}] + PEBBLE_ORDER["identifiers"][1:], "not asked for: R1.example.test; missing: r1.example.test"),
        (PEBBLE_ORDER["identifiers"][:2] + [{"type": "dns", "value": "192.0.2.7"}], "not asked for: 192.0.2.7; missing: 192.0.2.7 (ip)"),
        ([], "is for no names"),
    ],
)
def test_an_order_for_other_names_is_refused(identifiers, words):
    with pytest.raises(AcmeServerError) as caught:
        check_order_identifiers(pebble_order_with(identifiers), parse_identifiers(ASKED))
    assert caught.value.msg.startswith(f"The CA's order {ORDER_URI} is for ")
    assert words in caught.value.msg
    assert "nothing was published or written" in caught.value.msg


def authz(identifier: dict[str, str], wildcard: bool = False) -> Authorization:
    data = dict(PEBBLE_AUTHZ_APEX, identifier=identifier)
    if wildcard:
        data["wildcard"] = True
    return Authorization.from_response(AUTHZ_APEX, data)


AUTHZS = [
    authz({"type": "ip", "value": "192.0.2.7"}),
    authz({"type": "dns", "value": "r1.example.test"}),
    authz({"type": "dns", "value": "r1.example.test"}, True),
]


def test_authorizations_for_the_names_asked_pass():
    check_authorization_identifiers(pebble_order_with(PEBBLE_ORDER["identifiers"]), AUTHZS, parse_identifiers(ASKED))


@pytest.mark.parametrize(
    "authorizations, words",
    [
        (AUTHZS + [authz({"type": "dns", "value": "evil.example"})], "not asked for: evil.example"),
        (AUTHZS[:2], "missing: *.r1.example.test"),
        (AUTHZS[:2] + [authz({"type": "dns", "value": "r1.example.test"})], "missing: *.r1.example.test; 1 name(s) twice"),
    ],
)
def test_authorizations_for_other_names_are_refused_before_any_proof(authorizations, words):
    order = pebble_order_with(PEBBLE_ORDER["identifiers"])
    with pytest.raises(AcmeServerError) as caught:
        check_authorization_identifiers(order, authorizations, parse_identifiers(ASKED))
    assert words in caught.value.msg
    assert "nothing was published" in caught.value.msg


def test_a_certificate_download_that_is_not_ascii_is_refused_not_a_traceback():
    url = f"{BASE}/certZ/1"
    account = order_account({url: [response(url, None, 200)]})
    account.routes[url][0].body = b"-----BEGIN CERTIFICATE-----\n\xff\xfe\n"
    with pytest.raises(AcmeServerError) as caught:
        download_certificate(account, url)
    assert caught.value.msg == f"The certificate the CA sent from {url} is not PEM text (it holds bytes outside ASCII); nothing was written"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"a string"', b"\xff\xfe"])
def test_an_order_or_authorization_that_is_not_a_json_object_is_refused(body):
    account = order_account({ORDER_URI: [response(ORDER_URI, None)], AUTHZ_APEX: [response(AUTHZ_APEX, None)]})
    account.routes[ORDER_URI][0].body = body
    account.routes[AUTHZ_APEX][0].body = body
    with pytest.raises(AcmeServerError) as caught:
        get_order(account, ORDER_URI)
    assert caught.value.msg.startswith(f"The CA's answer from {ORDER_URI} (the order) is not a JSON object")
    with pytest.raises(AcmeServerError) as caught:
        get_authorization(account, AUTHZ_APEX)
    assert f"{AUTHZ_APEX} (the authorization) is not a JSON object" in caught.value.msg
