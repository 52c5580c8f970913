# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Recorded Pebble exchanges replayed through AcmeClient and account.Account.

The fixtures under tests/unit/fixtures/ were recorded from a real Pebble 2.10 by
tests/unit/fixtures/record_pebble.py, which runs the same scenarios as below. The
replay answers the client's requests with the recorded responses, in order, and
checks what the client sends: one newNonce per run, each nonce taken from the
previous response, a User-Agent, JWS signatures, jwk/kid, ``verify`` on every
request. Synthetic errors (badNonce, 503, 429) are spliced into the recording to
check retries; the clock is fake, so nothing sleeps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict

from ansible_collections.certfleet.acme.plugins.module_utils._acme import argspec
from ansible_collections.certfleet.acme.plugins.module_utils._acme import client as client_module
from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import MAX_BAD_NONCE_RETRIES, AcmeClient
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeProblem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import b64url_encode, load_recorded

BAD_NONCE = "urn:ietf:params:acme:error:badNonce"
CONTACTS_AFTER_UPDATE = ["mailto:second@example.com", "mailto:third@example.com"]
# The replayed answers do not check the binding, so any HMAC key does; the tests compute the expected MAC themselves.
EAB_MAC_KEY = b"0123456789abcdef0123456789abcdef"


# -- the scenarios, as record_pebble.py ran them -------------------------------------


def account_scenario(acme: AcmeClient, key) -> SimpleNamespace:
    account = Account(acme, key)
    absent = account.find()
    created_state, created = account.create(["mailto:first@example.com"], terms_agreed=True)
    updated = account.update_contacts(list(CONTACTS_AFTER_UPDATE))
    found = Account(acme, key).find()
    fetched = account.post(account.uri, None, context="Fetching the account")
    return SimpleNamespace(account=account, absent=absent, created_state=created_state, created=created, updated=updated, found=found, fetched=fetched)


def rollover_scenario(acme: AcmeClient, old_key, new_key) -> SimpleNamespace:
    account = Account(acme, old_key)
    state, created = account.create(["mailto:rollover@example.com"], terms_agreed=True)
    account.change_key(new_key)
    fetched = account.post(account.uri, None, context="Fetching the account")
    deactivated = account.deactivate()
    return SimpleNamespace(account=account, state=state, created=created, fetched=fetched, deactivated=deactivated)


def replay_client(session, clock, fixture, **kwargs) -> AcmeClient:
    return AcmeClient(fixture["recorded"]["directory"], session=session, clock=clock.time, sleep=clock.sleep, **kwargs)


def urls(fixture) -> SimpleNamespace:
    """The recorded directory: its URL plus newNonce, newAccount, keyChange, meta, ..."""
    first = fixture["exchanges"][0]
    assert first["request"]["method"] == "GET" and first["request"]["url"] == fixture["recorded"]["directory"]
    return SimpleNamespace(directory=fixture["recorded"]["directory"], **json.loads(first["response"]["body"]))


def recorded_account_uri(fixture) -> str:
    """The Location of the recorded registration (the 201 answer)."""
    created = next(e["response"] for e in fixture["exchanges"] if e["response"]["status"] == 201)
    return next(h.split(": ", 1)[1] for h in created["headers"] if h.lower().startswith("location: "))


def replay_nonce(sent) -> str | None:
    return sent.response.headers.get("Replay-Nonce")


def assert_nonce_chain(sent_requests, new_nonce_url: str) -> None:
    """(a) one HEAD newNonce for the run; every POST uses the nonce of the response just before it."""
    heads = [s for s in sent_requests if s.method == "HEAD"]
    assert [s.url for s in heads] == [new_nonce_url]
    assert all(s.url != new_nonce_url or s.method == "HEAD" for s in sent_requests)
    posts = 0
    for previous, current in zip(sent_requests, sent_requests[1:]):
        if current.method == "POST":
            posts += 1
            assert replay_nonce(previous), f"{previous.method} {previous.url} gave no nonce before a POST"
            assert current.nonce == replay_nonce(previous), f"POST {current.url} reused no fresh nonce"
    assert posts >= 4
    nonces = [s.nonce for s in sent_requests if s.method == "POST"]
    assert len(set(nonces)) == len(nonces), "a nonce was used twice"


def assert_user_agent(sent_requests) -> None:
    """(b) every request, signed or not, names the collection."""
    for sent in sent_requests:
        assert sent.headers.get("User-Agent", "").startswith("certfleet.acme/"), (sent.method, sent.url, sent.headers)


def assert_signed_by(sent_requests, jws_verify, key, account_uri: str, new_account_url: str) -> None:
    """(c) every POST verifies against the account key; newAccount carries jwk, all later ones kid."""
    posts = [s for s in sent_requests if s.method == "POST"]
    for sent in posts:
        assert sent.headers["Content-Type"] == "application/jose+json"
        protected = jws_verify(sent.jws, key.public_jwk())[0]
        assert protected["url"] == sent.url
        assert protected["alg"] == key.alg
        if sent.url == new_account_url:
            assert protected.get("jwk") == key.public_jwk() and "kid" not in protected
        else:
            assert protected.get("kid") == account_uri and "jwk" not in protected


# -- the recording itself ------------------------------------------------------------


@pytest.mark.parametrize("name", ["pebble_account", "pebble_rollover", "pebble_eab"])
def test_fixture_holds_no_private_key(name):
    fixture = load_recorded(name)
    text = json.dumps(fixture)
    assert "PRIVATE KEY" not in text
    for jwk in fixture["public_jwks"].values():
        assert set(jwk) <= {"kty", "crv", "x", "y", "n", "e"}


def eab_scenario(acme: AcmeClient, key) -> SimpleNamespace:
    state, created = Account(acme, key).create(["mailto:eab@example.com"], terms_agreed=True, eab={"kid": "kid-1", "hmac_key": b64url_encode(EAB_MAC_KEY)})
    return SimpleNamespace(state=state, created=created)


def replay_scenario(name: str, acme: AcmeClient) -> list:
    """Runs the scenario ``name`` was recorded with, with fresh keys; the account keys it signed with."""
    if name == "pebble_rollover":
        old_key, new_key = generate_private_key("ec256"), generate_private_key("ec384")
        rollover_scenario(acme, old_key, new_key)
        return [old_key, new_key]
    key = generate_private_key("ec256")
    (eab_scenario if name == "pebble_eab" else account_scenario)(acme, key)
    return [key]


@pytest.mark.parametrize("name", ["pebble_account", "pebble_rollover", "pebble_eab"])
def test_replayed_run_follows_the_rules(name, recorded, clock, jws_verify):
    """What the client sends in each recorded scenario: one newNonce, each nonce from the answer
    just before, a User-Agent, and a JWS for its URL that verifies with exactly one account key."""
    fixture, session = recorded(name)
    new_nonce = urls(fixture).newNonce
    keys = replay_scenario(name, replay_client(session, clock, fixture))
    sent = session.sent
    assert [(s.method, s.url) for s in sent if s.method == "HEAD"] == [("HEAD", new_nonce)]
    assert_user_agent(sent)
    for previous, current in zip(sent, sent[1:]):
        if current.method != "POST":
            continue
        assert current.headers["Content-Type"] == "application/jose+json"
        verified = []
        for key in keys:
            try:
                verified.append(jws_verify(current.jws, key.public_jwk())[0])
            except (InvalidSignature, AssertionError):
                continue
        assert len(verified) == 1, f"POST {current.url} verifies with {len(verified)} of the account keys"
        assert verified[0]["url"] == current.url
        assert verified[0]["nonce"] == replay_nonce(previous), f"POST {current.url} did not use the nonce of the answer before it"
    nonces = [s.nonce for s in sent if s.method == "POST"]
    assert nonces and len(set(nonces)) == len(nonces), "a nonce was used twice"


# -- replaying the account scenario ---------------------------------------------------


def test_replay_account_scenario(recorded, clock, jws_verify):
    fixture, session = recorded("pebble_account")
    acme = replay_client(session, clock, fixture)
    key = generate_private_key("ec256")
    result = account_scenario(acme, key)
    assert session.steps == [], "the replay did not use every recorded response"
    directory = urls(fixture)

    # What the client made of Pebble's answers.
    assert result.absent is None
    assert result.created is True
    account_uri = recorded_account_uri(fixture)
    assert result.account.uri == account_uri
    assert result.created_state.status == "valid" and result.created_state.contacts == ["mailto:first@example.com"]
    assert result.updated.contacts == CONTACTS_AFTER_UPDATE
    assert result.found.uri == account_uri and result.found.contacts == CONTACTS_AFTER_UPDATE
    assert result.fetched.status == 200 and result.fetched.links("index") == [directory.directory]
    assert clock.waits == []

    # What the client sent.
    sent = session.sent
    assert [s.method for s in sent][:2] == ["GET", "HEAD"]
    assert len(session.sent_to("GET", directory.directory)) == 1
    assert_nonce_chain(sent, directory.newNonce)
    assert_user_agent(sent)
    assert_signed_by(sent, jws_verify, key, account_uri, directory.newAccount)
    new_account_posts = session.sent_to("POST", directory.newAccount)
    payloads = [s.payload for s in new_account_posts]
    assert {"onlyReturnExisting": True} in payloads
    assert {"contact": ["mailto:first@example.com"], "termsOfServiceAgreed": True} in payloads
    account_posts = session.sent_to("POST", account_uri)
    assert {"contact": CONTACTS_AFTER_UPDATE} in [s.payload for s in account_posts]
    assert account_posts[-1].payload == "" and account_posts[-1].jws["payload"] == ""


@pytest.mark.parametrize("verify", ["/etc/certfleet/pebble-ca.pem", False, True], ids=["ca_path", "no-validation", "system"])
def test_verify_is_passed_on_every_request(recorded, clock, verify):
    """(f) REQUESTS_CA_BUNDLE overrides Session.verify, so verify= must go with every request."""
    fixture, session = recorded("pebble_account")
    acme = replay_client(session, clock, fixture, verify=verify, request_timeout=7.5)
    account_scenario(acme, generate_private_key("ec256"))
    assert len(session.sent) >= 7
    for sent in session.sent:
        if isinstance(verify, bool):
            assert sent.verify is verify, (sent.method, sent.url, sent.verify)
        else:
            assert sent.verify == verify, (sent.method, sent.url, sent.verify)
        assert sent.timeout == 7.5
        assert sent.allow_redirects is False


class CapturingAdapter(requests.adapters.BaseAdapter):
    """A transport for a real requests.Session that records what requests would hand to urllib3."""

    def __init__(self, directory_body: bytes) -> None:
        super().__init__()
        self.calls = []
        self.directory_body = directory_body

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.calls.append({"url": request.url, "verify": verify, "user_agent": request.headers.get("User-Agent")})
        response = requests.Response()
        response.status_code = 200
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response._content = self.directory_body
        response._content_consumed = True
        response.raw = SimpleNamespace(headers=HTTPHeaderDict({"Content-Type": "application/json"}))
        response.url = request.url
        response.request = request
        return response


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"validate_certs": True, "ca_path": "CA"}, "CA"),
        ({"validate_certs": False}, False),
        ({"validate_certs": False, "ca_path": "CA"}, False),
    ],
)
def test_verify_survives_requests_ca_bundle(params, expected, monkeypatch, tmp_path):
    """With a real requests.Session and REQUESTS_CA_BUNDLE set, ca_path and validate_certs still rule."""
    fixture = load_recorded("pebble_account")
    directory_body = fixture["exchanges"][0]["response"]["body"].encode()
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "from-the-environment.pem"))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / "from-the-environment.pem"))
    adapter = CapturingAdapter(directory_body)

    class SessionWithAdapter(requests.Session):
        def __init__(self):
            super().__init__()
            self.mount("https://", adapter)

    monkeypatch.setattr(client_module.requests, "Session", SessionWithAdapter)
    params = dict(params, directory=fixture["recorded"]["directory"])
    if params.get("ca_path") == "CA":
        params["ca_path"] = str(ca)
    acme = argspec.client_from_params(params)
    assert acme.endpoint("newAccount") == urls(fixture).newAccount
    want = str(ca) if expected == "CA" else expected
    assert adapter.calls and all(call["verify"] == want for call in adapter.calls), adapter.calls
    assert adapter.calls[0]["user_agent"].startswith("certfleet.acme/")


# -- (d) badNonce ----------------------------------------------------------------------


def bad_nonce_response(problem, nonce: str):
    return problem(400, BAD_NONCE, 'JWS has an invalid anti-replay nonce: "stale"', nonce=nonce)


def test_bad_nonce_is_retried_with_the_nonce_from_the_error(recorded, clock, jws_verify, problem):
    fixture, session = recorded("pebble_account")
    directory = urls(fixture)
    # Splice a badNonce answer in front of the registration (the first 201) and another
    # in front of the recorded contact update (the first POST to the account URL).
    at = session.index_of("POST", directory.newAccount, status=201)
    session.insert(at, "POST", directory.newAccount, bad_nonce_response(problem, "synthetic-nonce-1"))
    account_uri = recorded_account_uri(fixture)
    at = session.index_of("POST", account_uri)
    session.insert(at, "POST", account_uri, bad_nonce_response(problem, "synthetic-nonce-2"))
    key = generate_private_key("ec256")
    result = account_scenario(replay_client(session, clock, fixture), key)
    assert session.steps == []
    assert result.created is True and result.updated.contacts == CONTACTS_AFTER_UPDATE
    retried = [s for s in session.sent if s.method == "POST" and s.nonce in ("synthetic-nonce-1", "synthetic-nonce-2")]
    assert [s.nonce for s in retried] == ["synthetic-nonce-1", "synthetic-nonce-2"]
    assert [s.url for s in retried] == [directory.newAccount, account_uri]
    # The retry re-signs the same payload with the new nonce.
    for sent in retried:
        before = session.sent[session.sent.index(sent) - 1]
        assert before.response.status_code == 400 and before.url == sent.url
        assert before.payload == sent.payload and before.nonce != sent.nonce
    assert clock.waits == []
    assert_nonce_chain(session.sent, directory.newNonce)
    assert_signed_by(session.sent, jws_verify, key, result.account.uri, directory.newAccount)


def start_of_recording(recorded):
    """The recorded directory and newNonce answers queued, and Pebble's accountDoesNotExist answer.

    (Pebble may have rejected a nonce at any point of the recording, so the answer to
    onlyReturnExisting is looked up by its type, not by position.)
    """
    fixture, session = recorded("pebble_account")
    first_post = next(i for i, step in enumerate(session.steps) if step[0] == "POST")
    not_found = next(step for step in session.steps[first_post:] if b"accountDoesNotExist" in step[2].content)
    del session.steps[first_post:]
    return fixture, session, not_found


@pytest.mark.parametrize("bad", [MAX_BAD_NONCE_RETRIES, MAX_BAD_NONCE_RETRIES + 1])
def test_bad_nonce_retries_are_bounded(bad, recorded, clock, problem):
    fixture, session, not_found = start_of_recording(recorded)
    directory = urls(fixture)
    for i in range(bad):
        session.steps.append(("POST", directory.newAccount, bad_nonce_response(problem, f"bad-{i}")))
    if bad <= MAX_BAD_NONCE_RETRIES:
        session.steps.append(not_found)
    account = Account(replay_client(session, clock, fixture), generate_private_key("ec256"))
    if bad <= MAX_BAD_NONCE_RETRIES:
        assert account.find() is None
        assert len(session.sent_to("POST")) == bad + 1
    else:
        with pytest.raises(AcmeProblem) as info:
            account.find()
        assert info.value.has_type("badNonce") and info.value.status == 400
        assert "badNonce" in info.value.msg and info.value.msg.startswith("Looking up the account of this key")
        assert len(session.sent_to("POST")) == MAX_BAD_NONCE_RETRIES + 1
    posts = session.sent_to("POST")
    assert [p.nonce for p in posts[1:]] == [f"bad-{i}" for i in range(len(posts) - 1)]
    assert len(session.sent_to("HEAD")) == 1
    assert clock.waits == []


# -- (e) 503 / 429 with Retry-After -------------------------------------------------------


def splice_before_registration(recorded, clock, responses, retry_timeout=60.0, *, refused=False):
    """The account recording with ``responses`` answering the registration first.

    With ``refused`` the script ends there: the registration is given up and nothing may follow.
    """
    fixture, session = recorded("pebble_account")
    directory = urls(fixture)
    at = session.index_of("POST", directory.newAccount, status=201)
    for offset, response in enumerate(responses):
        session.insert(at + offset, "POST", directory.newAccount, response)
    if refused:
        del session.steps[at + len(responses) :]
    acme = replay_client(session, clock, fixture, retry_timeout=retry_timeout)
    return fixture, session, acme, directory


def end_after(session, index: int) -> None:
    """Nothing of the recording after the step at ``index``: the scenario of the test stops there."""
    del session.steps[index + 1 :]


def refused_registration(acme) -> AcmeProblem:
    """The problem a new account's registration ends with, after the lookup that finds no account."""
    account = Account(acme, generate_private_key("ec256"))
    account.find()
    with pytest.raises(AcmeProblem) as info:
        account.create([], terms_agreed=True)
    return info.value


def test_503_with_retry_after_seconds_is_slept_and_retried(recorded, clock, problem, jws_verify):
    unavailable = problem(503, "urn:ietf:params:acme:error:serverInternal", "maintenance", nonce="nonce-503", retry_after="7")
    fixture, session, acme, directory = splice_before_registration(recorded, clock, [unavailable])
    key = generate_private_key("ec256")
    result = account_scenario(acme, key)
    assert session.steps == [] and result.created is True
    assert clock.waits == [7.0]
    after = session.sent[[s.response for s in session.sent].index(unavailable) + 1]
    assert after.url == directory.newAccount and after.nonce == "nonce-503"
    assert_nonce_chain(session.sent, directory.newNonce)
    assert_signed_by(session.sent, jws_verify, key, result.account.uri, directory.newAccount)


def test_429_with_retry_after_http_date_is_slept_and_retried(recorded, clock, problem, frozen_now):
    when = frozen_now + timedelta(seconds=31)
    limited = problem(429, "urn:ietf:params:acme:error:rateLimited", "slow down", nonce="nonce-429", retry_after=format_datetime(when, usegmt=True))
    fixture, session, acme, directory = splice_before_registration(recorded, clock, [limited])
    result = account_scenario(acme, generate_private_key("ec256"))
    assert result.created is True and session.steps == []
    assert clock.waits == [31.0]
    assert session.sent[[s.response for s in session.sent].index(limited) + 1].nonce == "nonce-429"


def test_503_without_retry_after_backs_off(recorded, clock, problem):
    busy = [problem(503, "urn:ietf:params:acme:error:serverInternal", "busy", nonce=f"n{i}") for i in range(3)]
    fixture, session, acme, directory = splice_before_registration(recorded, clock, busy)
    assert account_scenario(acme, generate_private_key("ec256")).created is True
    assert clock.waits == [1.0, 2.0, 4.0]


def test_retry_after_beyond_retry_timeout_fails_fast(recorded, clock, problem, frozen_now):
    limited = problem(429, "urn:ietf:params:acme:error:rateLimited", "too many new accounts", nonce="n", retry_after="3600")
    fixture, session, acme, directory = splice_before_registration(recorded, clock, [limited], retry_timeout=60, refused=True)
    account = Account(acme, generate_private_key("ec256"))
    assert account.find() is None
    with pytest.raises(AcmeProblem) as info:
        account.create(["mailto:first@example.com"], terms_agreed=True)
    assert clock.waits == []
    assert session.sent[-1].response is limited  # no second attempt
    error = info.value
    assert error.status == 429 and error.has_type("rateLimited") and error.retry_after == 3600
    assert "too many new accounts" in error.msg and "3600 s" in error.msg and "retry_timeout of 60 s" in error.msg
    assert error.fields["retry_at"] == (frozen_now + timedelta(seconds=3600)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert error.fields["retry_at"] in error.msg
    assert error.to_result()["retry_at"] == error.fields["retry_at"]


def test_retry_after_http_date_beyond_retry_timeout_names_that_time(recorded, clock, problem, frozen_now):
    when = frozen_now + timedelta(hours=2)
    unavailable = problem(503, "urn:ietf:params:acme:error:serverInternal", "down", nonce="n", retry_after=format_datetime(when, usegmt=True))
    fixture, session, acme, directory = splice_before_registration(recorded, clock, [unavailable], retry_timeout=60, refused=True)
    refused = refused_registration(acme)
    assert clock.waits == []
    assert refused.fields["retry_at"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert refused.fields["retry_at"] in refused.msg


def test_retries_of_one_request_share_the_retry_time(recorded, clock, problem):
    busy = [problem(503, "urn:ietf:params:acme:error:serverInternal", "busy", nonce=f"n{i}", retry_after="4") for i in range(3)]
    fixture, session, acme, directory = splice_before_registration(recorded, clock, busy, retry_timeout=10, refused=True)
    refused = refused_registration(acme)
    assert clock.waits == [4.0, 4.0]  # 8 s slept; a third 4 s wait would make 12 s, more than retry_timeout
    assert refused.status == 503 and "retry_timeout of 10 s" in refused.msg


def test_time_before_the_refusal_is_not_retry_time(recorded, clock, problem):
    """retry_timeout bounds the time spent on 429/503 answers, not the run's age.

    A run that polled a validation for minutes (acme_challenge_proof, acme_finalize) and then
    meets a 503 asking for 2 s must wait those 2 s, not fail saying 2 s is beyond 60 s.
    """
    unavailable = problem(503, "urn:ietf:params:acme:error:serverInternal", "busy", nonce="nonce-503", retry_after="2")
    fixture, session, acme, directory = splice_before_registration(recorded, clock, [unavailable], retry_timeout=60)
    end_after(session, session.index_of("POST", directory.newAccount, status=201))
    account = Account(acme, generate_private_key("ec256"))
    assert account.find() is None
    clock.now += 300  # e.g. polling an authorization, with no 429/503 answer
    state, created = account.create([], terms_agreed=True)
    assert created is True and state.status == "valid"
    assert clock.waits == [2.0]


def test_retry_time_is_shared_by_the_requests_of_a_run(recorded, clock, problem):
    fixture, session, acme, directory = splice_before_registration(
        recorded, clock, [problem(503, "urn:ietf:params:acme:error:serverInternal", "busy", nonce="n1", retry_after="6")], retry_timeout=10
    )
    account_uri = recorded_account_uri(fixture)
    limited = problem(429, "urn:ietf:params:acme:error:rateLimited", "slow down", nonce="n2", retry_after="6")
    session.insert(session.index_of("POST", account_uri), "POST", account_uri, limited)
    end_after(session, session.index_of("POST", account_uri, status=429))
    account = Account(acme, generate_private_key("ec256"))
    account.find()
    account.create([], terms_agreed=True)
    with pytest.raises(AcmeProblem) as info:
        account.update_contacts(list(CONTACTS_AFTER_UPDATE))
    assert clock.waits == [6.0]  # 6 + 6 s would be more than the 10 s of the run
    assert session.sent[-1].response is limited
    assert "retry_timeout of 10 s" in info.value.msg and "6 s of it already spent" in info.value.msg


class SlowSession:
    """A session whose every answer takes ``seconds`` of the fake clock."""

    def __init__(self, session, clock, seconds: float) -> None:
        self.session, self.clock, self.seconds = session, clock, seconds

    def request(self, *args, **kwargs):
        self.clock.now += self.seconds
        return self.session.request(*args, **kwargs)


def test_resent_requests_count_as_retry_time(recorded, clock, problem):
    busy = [problem(503, "urn:ietf:params:acme:error:serverInternal", "busy", nonce=f"n{i}", retry_after="2") for i in range(3)]
    fixture, session, acme, directory = splice_before_registration(recorded, clock, busy, retry_timeout=10, refused=True)
    acme._session = SlowSession(session, clock, 3.0)
    refused = refused_registration(acme)
    # 2 s waited + 3 s resending + 2 s + 3 s = 10 s: a third wait would pass retry_timeout.
    assert clock.waits == [2.0, 2.0]
    assert refused.status == 503 and "10 s of it already spent" in refused.msg


def test_no_retry_after_beyond_retry_timeout_says_the_ca_named_no_time(recorded, clock, problem):
    busy = problem(503, "urn:ietf:params:acme:error:serverInternal", "busy", nonce="n")
    fixture, session, acme, directory = splice_before_registration(recorded, clock, [busy], retry_timeout=0, refused=True)
    refused = refused_registration(acme)
    assert clock.waits == []
    assert "without Retry-After" in refused.msg and "retry_timeout of 0 s" in refused.msg
    assert "retry_at" not in refused.fields and refused.retry_after is None


# -- key rollover and EAB, replayed ---------------------------------------------------------


def test_replay_rollover_scenario(recorded, clock, jws_verify):
    fixture, session = recorded("pebble_rollover")
    directory = urls(fixture)
    old_key, new_key = generate_private_key("ec256"), generate_private_key("ec384")
    result = rollover_scenario(replay_client(session, clock, fixture), old_key, new_key)
    assert session.steps == []
    assert result.created is True and result.deactivated.status == "deactivated"
    assert result.account.key is new_key
    assert_nonce_chain(session.sent, directory.newNonce)
    assert_user_agent(session.sent)
    key_changes = session.sent_to("POST", directory.keyChange)
    assert key_changes
    for outer in key_changes:
        protected, inner = jws_verify(outer.jws, old_key.public_jwk())
        assert protected["kid"] == result.account.uri and "jwk" not in protected
        inner_protected, inner_payload = jws_verify(inner, new_key.public_jwk())
        assert inner_protected == {"alg": "ES384", "jwk": new_key.public_jwk(), "url": directory.keyChange}
        assert inner_payload == {"account": result.account.uri, "oldKey": old_key.public_jwk()}
    after = session.sent[session.sent.index(key_changes[-1]) + 1 :]
    assert after and all(s.method == "POST" for s in after)
    for sent in after:
        protected = jws_verify(sent.jws, new_key.public_jwk())[0]
        assert protected["alg"] == "ES384" and protected["kid"] == result.account.uri
    assert after[-1].payload == {"status": "deactivated"}


def test_replay_eab_registration(recorded, clock):
    fixture, session = recorded("pebble_eab")
    directory = urls(fixture)
    assert directory.meta["externalAccountRequired"] is True
    result = eab_scenario(replay_client(session, clock, fixture), generate_private_key("ec256"))
    assert result.created is True and result.state.status == "valid"
    (registration,) = session.sent_to("POST", directory.newAccount)[-1:]
    binding = registration.payload["externalAccountBinding"]
    signing_input = f"{binding['protected']}.{binding['payload']}".encode()
    expected = b64url_encode(hmac.new(EAB_MAC_KEY, signing_input, hashlib.sha256).digest())
    assert binding["signature"] == expected
    recorded_binding = fixture["exchanges"][-1]["request"]["decoded"]["payload"]["externalAccountBinding"]
    assert set(recorded_binding) == set(binding)
