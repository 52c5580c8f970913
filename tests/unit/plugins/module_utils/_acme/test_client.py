# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""client.py: Retry-After, Link headers, problem documents, the directory, transport errors, nonces.

The multi-request behaviour on recorded Pebble exchanges is in test_replay.py.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import (
    MAX_CONNECTIONS,
    AcmeClient,
    AcmeResponse,
    parse_link_header,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeNetworkError, AcmeProblem, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.version import COLLECTION_VERSION
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import FakeHTTPResponse, b64url_decode

DIR = "https://ca.example/dir"
DIRECTORY = {
    "newNonce": "https://ca.example/new-nonce",
    "newAccount": "https://ca.example/new-acct",
    "newOrder": "https://ca.example/new-order",
}
ORDER = "https://ca.example/order/1"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def make_client(session, clock=None, **kwargs) -> AcmeClient:
    if clock is not None:
        kwargs.update(clock=clock.time, sleep=clock.sleep)
    return AcmeClient(DIR, session=session, **kwargs)


def response(status: int, body: bytes | str, content_type: str | None, url: str = ORDER, **headers: str) -> AcmeResponse:
    header_map = CaseInsensitiveDict(headers)
    if content_type:
        header_map["Content-Type"] = content_type
    data = body.encode("utf-8") if isinstance(body, str) else body
    return AcmeResponse(url, status, header_map, data, {})


# -- Link (RFC 8288) --------------------------------------------------------------


def test_parse_link_header_repeated_and_joined():
    links = parse_link_header(
        [
            '<https://ca.example/cert/1/1>;rel="alternate", <https://ca.example/cert/1/2>; rel=alternate',
            '<https://ca.example/dir>;rel="index"',
            "<https://ca.example/up>;title=x;rel=up",
        ]
    )
    assert links == [
        ("https://ca.example/cert/1/1", {"rel": "alternate"}),
        ("https://ca.example/cert/1/2", {"rel": "alternate"}),
        ("https://ca.example/dir", {"rel": "index"}),
        ("https://ca.example/up", {"title": "x", "rel": "up"}),
    ]


def test_response_links_from_repeated_headers(session):
    session.add("GET", DIR, 200, [("Content-Type", "application/json")], DIRECTORY)
    session.add(
        "GET",
        "https://ca.example/cert/1",
        200,
        [
            ("Content-Type", "application/pem-certificate-chain"),
            ("Link", '<https://ca.example/cert/1/1>;rel="alternate"'),
            ("Link", '<https://ca.example/dir>;rel="index"'),
            ("Link", '<https://ca.example/cert/1/2>;rel="alternate"'),
        ],
        b"-----BEGIN CERTIFICATE-----\n",
    )
    acme = make_client(session)
    assert acme.directory == DIRECTORY
    got = acme.get("https://ca.example/cert/1")
    assert got.links("alternate") == ["https://ca.example/cert/1/1", "https://ca.example/cert/1/2"]
    assert got.links("index") == ["https://ca.example/dir"]
    assert got.links("up") == []
    assert got.content_type == "application/pem-certificate-chain"


# -- problem documents (RFC 7807, RFC 8555 section 6.7) ---------------------------------


def test_problem_with_subproblems(session):
    body = {
        "type": "urn:ietf:params:acme:error:rejectedIdentifier",
        "detail": "Some of the identifiers requested were rejected",
        "status": 400,
        "subproblems": [
            {
                "type": "urn:ietf:params:acme:error:malformed",
                "detail": 'Invalid underscore in DNS name "_example.org"',
                "identifier": {"type": "dns", "value": "_example.org"},
            },
            {
                "type": "urn:ietf:params:acme:error:rejectedIdentifier",
                "detail": 'This CA will not issue for "example.net"',
                "identifier": {"type": "dns", "value": "example.net"},
            },
        ],
    }
    problem = make_client(session)._problem(
        response(400, json.dumps(body), "application/problem+json; charset=utf-8", **{"Replay-Nonce": "n"}), "Creating the order"
    )
    assert isinstance(problem, AcmeProblem)
    assert problem.problem_type == "urn:ietf:params:acme:error:rejectedIdentifier"
    assert problem.short_type == "rejectedIdentifier"
    assert problem.has_type("rejectedIdentifier") and not problem.has_type("malformed")
    assert problem.detail == "Some of the identifiers requested were rejected"
    assert problem.status == 400 and problem.url == ORDER
    assert [sub["identifier"]["value"] for sub in problem.subproblems] == ["_example.org", "example.net"]
    assert problem.retry_after is None
    msg = problem.msg
    assert msg.startswith("Creating the order")
    for text in (
        ORDER,
        "HTTP 400",
        "rejectedIdentifier",
        "Some of the identifiers requested were rejected",
        "_example.org",
        "urn:ietf:params:acme:error:malformed",
        "Invalid underscore",
        "example.net",
        "will not issue",
    ):
        assert text in msg, text
    assert str(problem) == msg
    result = problem.to_result()
    assert result["msg"] == msg
    assert result["problem"] == {
        "type": body["type"],
        "detail": body["detail"],
        "status": 400,
        "subproblems": body["subproblems"],
        "url": ORDER,
    }


def test_problem_without_detail(session):
    problem = make_client(session)._problem(
        response(403, '{"type": "urn:ietf:params:acme:error:unauthorized", "status": 403}', "application/problem+json"),
        "Fetching the order",
    )
    assert problem.short_type == "unauthorized"
    assert problem.detail is None
    assert problem.subproblems == []
    assert "HTTP 403" in problem.msg and "urn:ietf:params:acme:error:unauthorized" in problem.msg
    assert "(the server gave no detail)" in problem.msg


def test_problem_typed_json_without_problem_content_type(session):
    # Liberal in what we accept: a problem served as application/json still has its type.
    problem = make_client(session)._problem(
        response(429, '{"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many"}', "application/json", **{"Retry-After": "30"}),
        "Ordering",
    )
    assert problem.short_type == "rateLimited"
    assert problem.detail == "too many"
    assert problem.retry_after == 30.0


def test_problem_from_html_500(session):
    html = "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"
    problem = make_client(session)._problem(response(500, html, "text/html"), "Finalizing the order")
    assert problem.status == 500
    assert problem.problem_type is None and problem.short_type is None
    assert not problem.has_type("serverInternal")
    assert problem.subproblems == []
    assert "Internal Server Error" in problem.detail
    assert problem.msg.startswith("Finalizing the order to " + ORDER + ": HTTP 500")


def test_problem_from_long_body_is_cut(session):
    problem = make_client(session)._problem(response(502, "x" * 5000, "text/plain"), "Ordering")
    assert problem.detail == "x" * 300


def test_problem_from_empty_body(session):
    problem = make_client(session)._problem(response(504, b"", None), "Ordering")
    assert problem.detail is None
    assert "HTTP 504" in problem.msg and "(the server gave no detail)" in problem.msg


def test_problem_with_non_acme_type_keeps_it(session):
    problem = make_client(session)._problem(response(400, '{"type": "https://ca.example/probs/odd", "detail": "odd"}', "application/problem+json"), "Ordering")
    assert problem.short_type == "https://ca.example/probs/odd"


def test_problem_with_malformed_subproblems_does_not_crash(session):
    """Liberal in what we accept: odd subproblems must still give one AcmeProblem, not a traceback."""
    body = {
        "type": "urn:ietf:params:acme:error:rejectedIdentifier",
        "detail": "rejected",
        "subproblems": ["example.org is blocked", {"type": "urn:ietf:params:acme:error:caa", "identifier": "example.net"}],
    }
    problem = make_client(session)._problem(response(400, json.dumps(body), "application/problem+json"), "Ordering")
    assert isinstance(problem, AcmeProblem)
    assert problem.short_type == "rejectedIdentifier"
    assert "rejected" in problem.msg


# -- the directory ------------------------------------------------------------------


def test_directory_fetched_once(session):
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, dict(DIRECTORY, meta={"termsOfService": "https://ca.example/tos"}))
    acme = make_client(session)
    assert acme.endpoint("newOrder") == DIRECTORY["newOrder"]
    assert acme.meta == {"termsOfService": "https://ca.example/tos"}
    assert acme.directory["newAccount"] == DIRECTORY["newAccount"]
    assert len(session.sent) == 1


def test_directory_without_meta(session):
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    assert make_client(session).meta == {}


def test_directory_missing_fields(session):
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, {"newNonce": DIRECTORY["newNonce"]})
    with pytest.raises(AcmeNetworkError) as info:
        make_client(session).endpoint("newNonce")
    assert "newAccount" in info.value.msg and "newOrder" in info.value.msg
    assert info.value.url == DIR


def test_directory_that_is_a_web_page(session):
    session.add("GET", DIR, 200, {"Content-Type": "text/html"}, "<html>hello</html>")
    with pytest.raises(AcmeNetworkError) as info:
        make_client(session).endpoint("newNonce")
    assert "did not return an ACME directory" in info.value.msg and "text/html" in info.value.msg


def test_directory_not_found_is_no_directory(session):
    session.add("GET", DIR, 404, {"Content-Type": "text/html"}, "<html>not here</html>")
    with pytest.raises(AcmeNetworkError) as info:
        make_client(session).endpoint("newNonce")
    assert "did not return an ACME directory (HTTP 404" in info.value.msg and "check the directory option" in info.value.msg


def test_directory_503_is_retried_after_retry_after(session, clock):
    session.add_problem("GET", DIR, 503, "urn:ietf:params:acme:error:serverInternal", "maintenance", retry_after="2")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    acme = make_client(session, clock)
    assert acme.endpoint("newOrder") == DIRECTORY["newOrder"]
    assert clock.waits == [2.0] and len(session.sent) == 2


def test_directory_429_beyond_retry_timeout_fails_fast_with_the_time(session, clock, frozen_now):
    when = frozen_now + timedelta(hours=1)
    session.add_problem("GET", DIR, 429, "urn:ietf:params:acme:error:rateLimited", "slow down", retry_after=format_datetime(when, usegmt=True))
    with pytest.raises(AcmeProblem) as info:
        make_client(session, clock).endpoint("newOrder")
    assert clock.waits == [] and len(session.sent) == 1
    assert info.value.msg.startswith(f"Fetching the ACME directory to {DIR}: HTTP 429 urn:ietf:params:acme:error:rateLimited: slow down")
    assert info.value.fields["retry_at"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert info.value.fields["retry_at"] in info.value.msg


@pytest.mark.parametrize("value", ["9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT", "99999999999999999999"])
def test_an_absurd_retry_after_fails_fast_with_a_date_not_a_traceback(session, clock, value):
    """A Retry-After of 400 digits (inf as a float) or year 9999 once raised OverflowError in a nightly job."""
    session.add_problem("GET", DIR, 503, "urn:ietf:params:acme:error:serverInternal", "down", retry_after=value)
    with pytest.raises(AcmeProblem) as info:
        make_client(session, clock).endpoint("newOrder")
    assert clock.waits == [] and len(session.sent) == 1
    assert info.value.fields["retry_at"] in info.value.msg
    assert "run again after that time" in info.value.msg


@pytest.mark.parametrize("value", ["0", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_a_zero_or_past_retry_after_still_pauses_before_the_retry(session, clock, value):
    session.add_problem("GET", DIR, 503, "urn:ietf:params:acme:error:serverInternal", "down", retry_after=value)
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    make_client(session, clock).endpoint("newOrder")
    assert clock.waits == [1.0]


def test_new_nonce_503_is_retried_with_backoff(session, clock):
    key = generate_private_key("ec256")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 503, {})
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "n1"})
    session.add("POST", ORDER, 200, {"Replay-Nonce": "n2", "Content-Type": "application/json"}, {"status": "pending"})
    got = make_client(session, clock).post(ORDER, None, key=key, kid="https://ca.example/acct/1", context="Polling")
    assert got.status == 200 and clock.waits == [1.0]
    assert session.sent_to("POST")[0].nonce == "n1"


def test_endpoint_not_offered(session):
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    with pytest.raises(AcmeNetworkError) as info:
        make_client(session).endpoint("renewalInfo")
    assert "renewalInfo" in info.value.msg


# -- transport errors ----------------------------------------------------------------


class RaisingSession:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def request(self, *args, **kwargs):
        raise self.exc


@pytest.mark.parametrize(
    "exc, words",
    [
        (requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), ["TLS verification", "ca_path"]),
        (requests.exceptions.ConnectTimeout("timed out"), ["did not answer within request_timeout (4 s)"]),
        (requests.exceptions.ConnectionError("Connection refused"), ["cannot reach", "Connection refused", "directory"]),
    ],
)
def test_transport_errors_become_network_errors(exc, words):
    # retry_timeout=0: a timeout of the directory request is not sent again.
    acme = AcmeClient(DIR, session=RaisingSession(exc), request_timeout=4, retry_timeout=0)
    with pytest.raises(AcmeNetworkError) as info:
        acme.endpoint("newNonce")
    assert info.value.url == DIR
    assert info.value.msg.startswith("Fetching the ACME directory")
    for word in words:
        assert word in info.value.msg


# -- requests on the wire ---------------------------------------------------------------


def test_user_agent(session):
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    assert make_client(session, user_agent_extra="ansible-core/2.19.0").directory == DIRECTORY
    assert session.sent[0].headers["User-Agent"] == f"certfleet.acme/{COLLECTION_VERSION} ansible-core/2.19.0"
    assert AcmeClient(DIR, session=session).user_agent == f"certfleet.acme/{COLLECTION_VERSION}"


def test_get_retries_503_after_retry_after(session, clock):
    url = "https://ca.example/renewalInfo/abc"
    session.add_problem("GET", url, 503, "urn:ietf:params:acme:error:serverInternal", "busy", retry_after="2")
    session.add("GET", url, 200, {"Content-Type": "application/json"}, {"suggestedWindow": {}})
    got = make_client(session, clock).get(url)
    assert got.status == 200 and got.json() == {"suggestedWindow": {}}
    assert clock.waits == [2.0]
    assert [s.body for s in session.sent] == [None, None]


def test_get_does_not_retry_bad_nonce(session, clock):
    url = "https://ca.example/renewalInfo/abc"
    session.add_problem("GET", url, 400, "urn:ietf:params:acme:error:badNonce", "?", nonce="n1")
    with pytest.raises(AcmeProblem) as info:
        make_client(session, clock).get(url, context="Asking for the renewal window")
    assert info.value.has_type("badNonce")
    assert len(session.sent) == 1


def test_post_outside_accept_statuses(session, clock):
    key = generate_private_key("ec256")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "n1"})
    session.add("POST", ORDER, 202, {"Replay-Nonce": "n2"}, b"")
    with pytest.raises(AcmeProblem) as info:
        make_client(session, clock).post(ORDER, None, key=key, kid="https://ca.example/acct/1", context="Polling")
    assert info.value.status == 202


def test_new_nonce_without_replay_nonce(session):
    key = generate_private_key("ec256")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {})
    with pytest.raises(AcmeNetworkError) as info:
        make_client(session).post(ORDER, None, key=key, kid="https://ca.example/acct/1", context="Polling")
    assert "Replay-Nonce" in info.value.msg


def test_an_unusable_newnonce_answer_leaves_no_request_counted(session):
    """Another thread of a batch would otherwise keep waiting for an answer that never comes."""
    key = generate_private_key("ec256")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {})
    acme = make_client(session)
    acme.allow_concurrency(5)
    with pytest.raises(AcmeNetworkError):
        acme.post(ORDER, None, key=key, kid="https://ca.example/acct/1", context="Polling")
    assert acme._requests_in_flight == 0
    assert not getattr(acme._thread, "counted_ahead", False)


def test_bad_nonce_retry_uses_the_nonce_of_the_error_even_with_a_spare_nonce(session, clock):
    """RFC 8555 section 6.5: after badNonce, retry with the nonce the error carried.

    Here the client holds a spare nonce (any response may carry Replay-Nonce, e.g. a
    renewalInfo GET, and RFC 8555 does not forbid it); the retry must still use the
    fresh nonce from the badNonce answer, not an older one from the pool.
    """
    key = generate_private_key("ec256")
    kid = "https://ca.example/acct/1"
    info_url = "https://ca.example/renewalInfo/abc"
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "nonce-from-head"})
    session.add("POST", ORDER, 200, {"Replay-Nonce": "nonce-after-post"}, {"status": "pending"})
    session.add("GET", info_url, 200, {"Replay-Nonce": "nonce-from-get", "Content-Type": "application/json"}, {})
    session.add_problem("POST", ORDER, 400, "urn:ietf:params:acme:error:badNonce", "stale", nonce="nonce-from-bad-nonce")
    session.add("POST", ORDER, 200, {"Replay-Nonce": "nonce-last"}, {"status": "pending"})
    acme = make_client(session, clock)
    acme.post(ORDER, None, key=key, kid=kid, context="Polling")
    acme.get(info_url)
    acme.post(ORDER, None, key=key, kid=kid, context="Polling")
    posts = session.sent_to("POST")
    assert posts[0].nonce == "nonce-from-head"
    assert len(posts) == 3 and posts[1].nonce in ("nonce-after-post", "nonce-from-get")
    assert posts[2].nonce == "nonce-from-bad-nonce"


# -- read-only requests that time out are sent again ------------------------------------


def test_post_as_get_that_times_out_is_sent_again_with_a_fresh_nonce(session, clock):
    key = generate_private_key("ec256")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "n1"})
    session.add_error("POST", ORDER, requests.exceptions.ReadTimeout("read timed out"))
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "n2"})
    session.add("POST", ORDER, 200, {"Replay-Nonce": "n3", "Content-Type": "application/json"}, {"status": "pending"})
    acme = make_client(session, clock)
    got = acme.post(ORDER, None, key=key, kid="https://ca.example/acct/1", context="Fetching the order")
    assert got.json() == {"status": "pending"}
    posts = session.sent_to("POST")
    assert [post.nonce for post in posts] == ["n1", "n2"]
    assert [post.payload for post in posts] == ["", ""]
    assert clock.waits == [1.0]
    assert acme.retry_spent >= 1.0


def test_post_with_a_payload_that_times_out_is_not_sent_again(session, clock):
    key = generate_private_key("ec256")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "n1"})
    session.add_error("POST", DIRECTORY["newOrder"], requests.exceptions.ReadTimeout("read timed out"))
    acme = make_client(session, clock, request_timeout=4)
    with pytest.raises(AcmeNetworkError) as info:
        acme.post(DIRECTORY["newOrder"], {"identifiers": []}, key=key, kid="https://ca.example/acct/1", context="Creating the order")
    # The CA may have created the order: sending it again could create a second one.
    assert "did not answer within request_timeout (4 s)" in info.value.msg
    assert len(session.sent_to("POST")) == 1 and clock.waits == []


def test_get_that_keeps_timing_out_stops_within_retry_timeout(session, clock):
    url = "https://ca.example/renewalInfo/abc"
    for _attempt in range(3):
        session.add_error("GET", url, requests.exceptions.ConnectionError("Connection reset by peer"))
    acme = make_client(session, clock, retry_timeout=5)
    with pytest.raises(AcmeNetworkError) as info:
        acme.get(url, context="Asking ARI")
    assert "Connection reset by peer" in info.value.msg
    # 1 + 2 s of waiting fit in 5 s; the next wait (4 s) would not.
    assert clock.waits == [1.0, 2.0]
    assert len(session.sent) == 3


def test_tls_verification_failure_is_not_sent_again(session, clock):
    session.add_error("GET", DIR, requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    with pytest.raises(AcmeNetworkError) as info:
        make_client(session, clock).endpoint("newNonce")
    assert "TLS verification" in info.value.msg
    assert clock.waits == [] and len(session.sent) == 1


# -- nonces for threads sending at once (the batch path) ----------------------------------


class CountingNonceSession:
    """Answers every HEAD newNonce with a new nonce and every signed POST with another, from many threads."""

    def __init__(self, answer_after: float = 0.001) -> None:
        self.answer_after = answer_after
        self.lock = threading.Lock()
        self.issued = 0
        self.spent: list[str] = []
        self.new_nonce_requests = 0

    def _next(self) -> str:
        with self.lock:
            self.issued += 1
            return f"nonce-{self.issued}"

    def request(self, method, url, data=None, **kwargs):
        if method == "GET":
            return FakeHTTPResponse(200, {"Content-Type": "application/json"}, json.dumps(DIRECTORY))
        if method == "POST":
            protected = json.loads(b64url_decode(json.loads(data)["protected"]))
            with self.lock:
                self.spent.append(protected["nonce"])
        if method == "HEAD":
            with self.lock:
                self.new_nonce_requests += 1
        time.sleep(self.answer_after)  # let the other threads run while this one waits for its answer
        return FakeHTTPResponse(200, {"Replay-Nonce": self._next(), "Content-Type": "application/json"}, "{}")


def post_from_threads(acme: AcmeClient, threads: int, requests_each: int) -> list[BaseException]:
    """``threads`` threads each sending ``requests_each`` signed POST-as-GET requests at once; their errors."""
    key = generate_private_key("ec256")
    errors: list[BaseException] = []
    # Released together once every thread runs: started one by one, the first threads' answers
    # could come back before the last threads exist, and there would be no crowd to test.
    together = threading.Barrier(threads)

    def fetch() -> None:
        try:
            together.wait(timeout=30)
            for _request in range(requests_each):
                acme.post(ORDER, None, key=key, kid="https://ca.example/acct/1", context="Fetching the order")
        except BaseException as exc:  # noqa: BLE001 - reported by the test, with the thread's failure
            errors.append(exc)

    started = [threading.Thread(target=fetch) for _thread in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return errors


def test_threads_sending_at_once_never_share_a_nonce():
    session = CountingNonceSession()
    assert post_from_threads(AcmeClient(DIR, session=session), 40, 5) == []
    assert len(session.spent) == 200
    assert len(set(session.spent)) == 200


def test_a_batch_asks_newnonce_about_as_often_as_it_keeps_requests_in_flight():
    """200 certificates starting at once need about as many newNonce requests as requests in flight, not one each."""
    # Slow answers: every thread starts while the first requests are still under way.
    session = CountingNonceSession(answer_after=0.02)
    acme = AcmeClient(DIR, session=session)
    acme.allow_concurrency(200)
    assert post_from_threads(acme, 200, 3) == []
    assert len(session.spent) == 600 and len(set(session.spent)) == 600
    # One per connection, and a few more when fewer were in flight for a moment (one answer
    # came back and its thread took the nonce itself); 200 without the waiting.
    assert MAX_CONNECTIONS <= session.new_nonce_requests <= 3 * MAX_CONNECTIONS


def test_the_nonce_asked_for_goes_to_the_thread_that_asked(session):
    """A newNonce answer goes straight to the request that asked for it, never through the pool
    other threads take from; the answers to signed requests do go to the pool."""
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "asked-for"})
    session.add("POST", ORDER, 200, {"Replay-Nonce": "from-the-order", "Content-Type": "application/json"}, {"status": "pending"})
    acme = make_client(session)
    pooled: list[str] = []
    remember = acme._remember_nonce

    def spy(response):
        if response.headers.get("Replay-Nonce"):
            pooled.append(response.headers["Replay-Nonce"])
        remember(response)

    acme._remember_nonce = spy
    acme.post(ORDER, None, key=generate_private_key("ec256"), kid="https://ca.example/acct/1", context="Fetching the order")
    assert [sent.nonce for sent in session.sent_to("POST")] == ["asked-for"]
    assert pooled == ["from-the-order"]  # the spy ran, and never saw the nonce that was asked for


def test_threads_asking_for_the_directory_at_once_fetch_it_once():
    session = CountingNonceSession()
    gets: list[str] = []
    answer = session.request

    def counting(method, url, data=None, **kwargs):
        if method == "GET":
            gets.append(url)
            time.sleep(0.01)  # the other threads ask while this fetch is under way
        return answer(method, url, data, **kwargs)

    session.request = counting
    acme = AcmeClient(DIR, session=session)
    seen: list[dict] = []
    together = threading.Barrier(20)

    def ask() -> None:
        together.wait(timeout=30)
        seen.append(acme.directory)

    threads = [threading.Thread(target=ask) for _thread in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gets == [DIR]
    assert seen == [DIRECTORY] * 20


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/acme/order/1",  # another host
        "https://ca.example:8443/acme/order/1",  # another port
        "http://ca.example/acme/order/1",  # another scheme
        "https://ca.example.evil.example/order/1",  # a host that only begins like the CA's
    ],
)
def test_a_url_on_another_origin_than_the_directory_is_refused_and_nothing_sent(session, url):
    """A CA answer (or a state file) that names a URL elsewhere gets no signed request and no GET."""
    key = generate_private_key("ec256")
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    acme = make_client(session)
    acme.endpoint("newOrder")
    with pytest.raises(AcmeServerError) as caught:
        acme.post(url, None, key=key, kid="https://ca.example/acct/1", context="Fetching the order")
    assert caught.value.msg.startswith(f"Fetching the order: the URL {url} is not on the ACME server's origin (https://ca.example:443")
    with pytest.raises(AcmeServerError):
        acme.get(url)
    assert [sent.url for sent in session.sent] == [DIR]


def test_a_directory_whose_endpoints_point_elsewhere_gets_no_request(session):
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, dict(DIRECTORY, newNonce="https://evil.example/nonce"))
    acme = make_client(session)
    with pytest.raises(AcmeServerError) as caught:
        acme.post(DIRECTORY["newOrder"], {}, key=generate_private_key("ec256"), kid=None, context="Creating the order")
    assert "https://evil.example/nonce is not on the ACME server's origin" in caught.value.msg
    assert len(session.sent) == 1


def test_the_retry_budget_shared_by_a_batchs_threads_loses_no_second():
    """Threads add their waits to one retry_spent; each thread still tells its own nested waits from the others'."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: an unlocked += loses updates
    acme = AcmeClient(DIR, session=requests.Session())
    own: list[float] = []

    def spend() -> None:
        for _round in range(2000):
            acme._spend(0.5)
        own.append(acme._spent_by_this_thread())

    try:
        threads = [threading.Thread(target=spend) for _thread in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert acme.retry_spent == 8 * 2000 * 0.5
    assert own == [1000.0] * 8


# -- answers of any size and pace, from a real HTTP server on loopback ----------------------------


class Answers(http.server.BaseHTTPRequestHandler):
    """GET /small: a directory; /huge: 2 MiB; /drip: a byte every 0.2 s for ever. Counts connections."""

    protocol_version = "HTTP/1.1"
    connections: set[tuple[str, int]] = set()

    def do_GET(self) -> None:
        Answers.connections.add(self.client_address)
        if self.path == "/small":
            body = json.dumps(DIRECTORY).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(4 << 20))
        self.end_headers()
        try:
            if self.path == "/huge":
                self.wfile.write(b"x" * (2 << 20))
            else:
                for _byte in range(200):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
        except OSError:
            pass  # the client hung up, as it should

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def answers():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Answers.connections = set()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_answers_read_to_the_end_keep_one_connection(answers):
    acme = AcmeClient(f"{answers}/small", session=requests.Session())
    for _request in range(3):
        assert acme.get(f"{answers}/small").json() == DIRECTORY
    assert len(Answers.connections) == 1


def test_an_answer_larger_than_any_acme_answer_is_refused(answers):
    acme = AcmeClient(f"{answers}/small", session=requests.Session())
    with pytest.raises(AcmeServerError) as caught:
        acme.get(f"{answers}/huge", context="Fetching the order")
    assert caught.value.msg == f"Fetching the order: {answers}/huge answered with more than 1 MiB, far more than any ACME answer holds; nothing of it was used"


def test_an_answer_dripped_slowly_ends_within_request_timeout(answers):
    acme = AcmeClient(f"{answers}/small", session=requests.Session(), request_timeout=1.0, retry_timeout=0)
    started = time.monotonic()
    with pytest.raises(AcmeNetworkError) as caught:
        acme.get(f"{answers}/drip", context="Fetching the order")
    # One request_timeout for the body and at most one read after it; each read waits 0.2 s here.
    assert time.monotonic() - started < 3.0
    assert caught.value.msg.startswith(f"Fetching the order: {answers}/drip did not finish its answer within request_timeout (1 s) after ")
    assert caught.value.transient
