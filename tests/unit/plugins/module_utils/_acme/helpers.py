# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Fakes and builders shared by the unit tests of the ACME core (conftest.py hands some out as fixtures).

- ``ScriptedSession``: a scripted stand-in for ``requests.Session``. Each expected request is
  queued with the response to give; every request the client sends is kept in ``sent``.
- ``ScriptedAccount``: stands in for ``account.Account`` in the tests of the core runs: each URL
  has a queue of answers, every POST is kept in ``posts``.
- Both register themselves; conftest.py fails a passing test that left a scripted answer unused,
  because an answer the code never asked for means the test did not exercise what it scripted.
- ``load_recorded``/``replay_session``: recorded Pebble exchanges (``tests/unit/fixtures``,
  written by ``record_pebble.py``) replayed in order.
- ``FakeClock``: a monotonic clock whose ``sleep`` records the wait and moves time on.
- ``verify_jws``: checks a flattened JWS against a public JWK with ``cryptography`` alone (no code
  of the collection); ``b64url_encode``/``b64url_decode`` and ``rfc7638_thumbprint`` are likewise
  the tests' own.
- ``make_cert``: a certificate (PEM) built with ``cryptography`` alone.

Nothing here depends on where the tree lives: fixtures are found relative to this file.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPHeaderDict

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeResponse
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key

FIXTURES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "fixtures")
NOT_PASSED = object()


# -- scripts that must be used up -----------------------------------------------------------

# Every ScriptedSession and ScriptedAccount of the running test; conftest.py empties it before
# each test and checks it after.
LIVE_SCRIPTS: list[Any] = []


def unused_answers() -> list[str]:
    """What the scripts of the running test still hold, one line per answer never asked for."""
    return [line for script in LIVE_SCRIPTS for line in script.unused()]


# -- encodings ------------------------------------------------------------------------------


def b64url_decode(text: str) -> bytes:
    """The tests' own base64url decoder, independent of the collection's."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    """The tests' own base64url encoder without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def sha256_b64url(text: str) -> str:
    """base64url(SHA-256(UTF-8 text)): a JWK thumbprint of a canonical JWK, a dns-01 TXT value."""
    return b64url_encode(hashlib.sha256(text.encode("utf-8")).digest())


_JWK_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def rfc7638_thumbprint(public_key: Any) -> str:
    """The JWK thumbprint of an EC or RSA public key, computed here (RFC 7638 section 3).

    The canonical JSON is written out by hand: the required members only, in lexical order, no
    white space; EC coordinates at the curve's full length (RFC 7518 section 6.2.1.2), RSA
    integers without leading zero bytes (section 6.3.1).
    """
    numbers = public_key.public_numbers()
    if isinstance(public_key, rsa.RSAPublicKey):
        e, n = (b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big")) for value in (numbers.e, numbers.n))
        return sha256_b64url(f'{{"e":"{e}","kty":"RSA","n":"{n}"}}')
    size = (public_key.curve.key_size + 7) // 8
    x, y = (b64url_encode(value.to_bytes(size, "big")) for value in (numbers.x, numbers.y))
    return sha256_b64url(f'{{"crv":"{_JWK_CURVES[public_key.curve.name]}","kty":"EC","x":"{x}","y":"{y}"}}')


class FakeHTTPResponse:
    """The parts of a ``requests.Response`` the client reads.

    ``headers`` folds repeated headers into one comma-joined value as requests does;
    ``raw.headers`` is a urllib3 ``HTTPHeaderDict`` that keeps them apart (``Link``).
    """

    def __init__(self, status: int, headers: list[tuple[str, str]] | dict[str, str] = (), body: bytes | str = b"") -> None:
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
        raw_headers = HTTPHeaderDict()
        for name, value in pairs:
            raw_headers.add(name, value)
        self.status_code = status
        self.raw = SimpleNamespace(headers=raw_headers)
        self.headers = CaseInsensitiveDict({name: ", ".join(raw_headers.getlist(name)) for name in raw_headers})
        self.content = body.encode("utf-8") if isinstance(body, str) else body


class UnexpectedRequest(BaseException):
    """A request the script did not plan for.

    A ``BaseException`` so that the client's ``except Exception`` (which turns
    transport errors into ``AcmeNetworkError``) cannot hide it.
    """


@dataclass
class SentRequest:
    """One request as the client handed it to the session."""

    method: str
    url: str
    body: Any
    headers: dict[str, str]
    timeout: Any
    verify: Any
    allow_redirects: Any
    response: FakeHTTPResponse
    stream: Any = None

    @property
    def jws(self) -> dict[str, str]:
        return json.loads(self.body)

    @property
    def protected(self) -> dict[str, Any]:
        return json.loads(b64url_decode(self.jws["protected"]))

    @property
    def payload(self) -> Any:
        payload = self.jws["payload"]
        return "" if payload == "" else json.loads(b64url_decode(payload))

    @property
    def nonce(self) -> str | None:
        return self.protected.get("nonce")


class ScriptedSession:
    """Answers each request with the next queued response, after checking method and URL."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str, FakeHTTPResponse]] = []
        self.sent: list[SentRequest] = []
        LIVE_SCRIPTS.append(self)

    # -- building the script ---------------------------------------------------

    def add(self, method: str, url: str, status: int, headers: Any = (), body: Any = b"") -> ScriptedSession:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        self.steps.append((method, url, FakeHTTPResponse(status, headers, body)))
        return self

    def add_error(self, method: str, url: str, exc: Exception) -> ScriptedSession:
        """The request fails in transport (a timeout, a dropped connection) with ``exc``."""
        self.steps.append((method, url, exc))  # type: ignore[arg-type]
        return self

    def insert(self, index: int, method: str, url: str, response: FakeHTTPResponse) -> None:
        """Put ``response`` before the step now at ``index`` (e.g. a synthetic error before a recorded success)."""
        self.steps.insert(index, (method, url, response))

    def index_of(self, method: str, url: str, status: int | None = None, occurrence: int = 0) -> int:
        """Position of a queued step, to insert before it."""
        found = [i for i, (m, u, r) in enumerate(self.steps) if m == method and u == url and (status is None or r.status_code == status)]
        return found[occurrence]

    def add_problem(
        self,
        method: str,
        url: str,
        status: int,
        problem_type: str,
        detail: str | None = "",
        *,
        nonce: str | None = None,
        retry_after: str | None = None,
    ) -> ScriptedSession:
        """An RFC 7807 / RFC 8555 section 6.7 problem document response."""
        self.steps.append((method, url, problem_response(status, problem_type, detail, nonce=nonce, retry_after=retry_after)))
        return self

    # -- what requests.Session offers ------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        data: Any = NOT_PASSED,
        headers: Any = NOT_PASSED,
        timeout: Any = NOT_PASSED,
        verify: Any = NOT_PASSED,
        allow_redirects: Any = NOT_PASSED,
        stream: Any = NOT_PASSED,
        **other: Any,
    ) -> FakeHTTPResponse:
        if other:
            raise UnexpectedRequest(f"unexpected keyword arguments {sorted(other)}")
        if not self.steps:
            raise UnexpectedRequest(f"unscripted request {method} {url} (after {len(self.sent)} requests)")
        want_method, want_url, response = self.steps.pop(0)
        if (method, url) != (want_method, want_url):
            raise UnexpectedRequest(f"request {len(self.sent)}: got {method} {url}, script expected {want_method} {want_url}")
        self.sent.append(SentRequest(method, url, data, dict(headers or {}), timeout, verify, allow_redirects, response, stream))
        if isinstance(response, Exception):
            raise response
        return response

    # -- reading what happened -------------------------------------------------

    def sent_to(self, method: str, url: str | None = None) -> list[SentRequest]:
        return [s for s in self.sent if s.method == method and (url is None or s.url == url)]

    def unused(self) -> list[str]:
        return [f"session: {method} {url} -> {_describe(response)}" for method, url, response in self.steps]


def _describe(response: Any) -> str:
    return repr(response) if isinstance(response, BaseException) else str(response.status_code)


def problem_response(status: int, problem_type: str, detail: str | None = "", *, nonce: str | None = None, retry_after: str | None = None) -> FakeHTTPResponse:
    body: dict[str, Any] = {"type": problem_type, "status": status}
    if detail is not None:
        body["detail"] = detail
    headers = [("Content-Type", "application/problem+json")]
    if nonce is not None:
        headers.append(("Replay-Nonce", nonce))
    if retry_after is not None:
        headers.append(("Retry-After", retry_after))
    return FakeHTTPResponse(status, headers, json.dumps(body))


def load_recorded(name: str) -> dict[str, Any]:
    with open(os.path.join(FIXTURES_DIR, f"{name}.json"), encoding="utf-8") as handle:
        return json.load(handle)


def recorded_response(record: dict[str, Any]) -> FakeHTTPResponse:
    headers = [tuple(line.split(": ", 1)) for line in record["headers"]]
    body = base64.b64decode(record["body_base64"]) if "body_base64" in record else record["body"]
    return FakeHTTPResponse(record["status"], headers, body)


def replay_session(fixture: dict[str, Any]) -> ScriptedSession:
    session = ScriptedSession()
    for exchange in fixture["exchanges"]:
        request = exchange["request"]
        session.steps.append((request["method"], request["url"], recorded_response(exchange["response"])))
    return session


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` for the code under test: sleeping only moves the clock.

    ``on_wait[n]`` runs during the n-th (1-based) wait, for a test in which the world changes
    while the code waits (a record that appears, another run that releases a lock).
    """

    def __init__(self, start: float = 1000.0, on_wait: dict[int, Callable[[], None]] | None = None) -> None:
        self.now = start
        self.waits: list[float] = []
        self.on_wait = on_wait or {}

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        action = self.on_wait.get(len(self.waits))
        if action:
            action()


def public_key_from_jwk(jwk: dict[str, str]) -> Any:
    """A ``cryptography`` public key rebuilt from a JWK (RFC 7518 sections 6.2 and 6.3)."""
    if jwk["kty"] == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[jwk["crv"]]
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    if jwk["kty"] == "RSA":
        e = int.from_bytes(b64url_decode(jwk["e"]), "big")
        n = int.from_bytes(b64url_decode(jwk["n"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    raise AssertionError(f"unexpected kty {jwk['kty']}")


_JWS_EC = {"ES256": (hashes.SHA256, 32), "ES384": (hashes.SHA384, 48), "ES512": (hashes.SHA512, 66)}


def verify_jws(jws: dict[str, str], jwk: dict[str, str]) -> tuple[dict[str, Any], Any]:
    """Verify a flattened JWS with the key of ``jwk``; raises ``InvalidSignature`` when it does not match.

    ECDSA signatures are raw r||s (RFC 7518 section 3.4) and go back to DER for cryptography.
    """
    protected = json.loads(b64url_decode(jws["protected"]))
    signing_input = f"{jws['protected']}.{jws['payload']}".encode("ascii")
    signature = b64url_decode(jws["signature"])
    public_key = public_key_from_jwk(jwk)
    alg = protected["alg"]
    if alg == "RS256":
        assert isinstance(public_key, rsa.RSAPublicKey), "RS256 with a non-RSA key"
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        digest, size = _JWS_EC[alg]
        assert isinstance(public_key, ec.EllipticCurvePublicKey), f"{alg} with a non-EC key"
        assert public_key.curve.key_size == {32: 256, 48: 384, 66: 521}[size], f"{alg} with curve {public_key.curve.name}"
        assert len(signature) == 2 * size, f"{alg} signature of {len(signature)} bytes, want {2 * size}"
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        public_key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest()))
    payload = "" if jws["payload"] == "" else json.loads(b64url_decode(jws["payload"]))
    return protected, payload


def make_cert(
    subject_cn: str,
    issuer_cn: str,
    public_key: Any,
    signer: Any,
    *,
    ca: bool,
    serial: int | None = None,
    aki: bytes | None = None,
    sans: list[Any] | None = None,
    lifetime: datetime.timedelta = datetime.timedelta(days=90),
    not_before: datetime.datetime | None = None,
) -> str:
    """A PEM certificate for ``public_key`` signed by ``signer`` (a private key; Ed25519/Ed448 sign without a hash).

    ``sans`` takes ``x509.GeneralName`` s or strings (IP addresses or DNS names); ``not_before``
    defaults to five minutes ago, so the certificate is valid now.
    """
    start = not_before or datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
        .public_key(public_key)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if aki is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(aki, None, None), critical=False)
    if sans:
        names = [name if isinstance(name, x509.GeneralName) else _general_name(name) for name in sans]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    hash_algorithm = None if isinstance(signer, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()
    return builder.sign(signer, hash_algorithm).public_bytes(serialization.Encoding.PEM).decode("ascii")


def private_key_pem(key: Any) -> bytes:
    """``key`` as an unencrypted PKCS#8 PEM, as a user's key file holds it."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


# -- a scripted account for the core runs ---------------------------------------------------


class Reply(AcmeResponse):
    """One answer of the fake CA: JSON data, or a PEM body with alternate links; an ``AcmeResponse`` in every other way."""

    def __init__(self, data: Any = None, *, body: str | None = None, links: list[str] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__("", 200, dict(headers or {}), body.encode("ascii") if body is not None else json.dumps(data).encode("utf-8"), {})
        self.data = data
        self._links = links or []

    @property
    def location(self) -> str | None:
        return None

    def json(self) -> Any:
        return self.data

    def links(self, rel: str) -> list[str]:
        return list(self._links) if rel == "alternate" else []


class Post(NamedTuple):
    """One POST the code under test sent through the account (``payload`` None is a POST-as-GET)."""

    url: str
    payload: Any


class ScriptedAccount:
    """Stands in for ``account.Account``: answers each POST with the next answer queued for its URL.

    An answer is an ``AcmeResponse`` (given as it is), an exception (raised, as the client raises
    an ``AcmeProblem``), a callable of the payload returning an answer, or JSON data (a ``Reply``).
    ``endpoints`` are the directory's URLs the code may ask for (``newOrder``); ``directory_url`` is
    the directory a run records as the issuing CA.
    """

    def __init__(self, routes: dict[str, list[Any]], uri: str, endpoints: dict[str, str] | None = None, directory_url: str = "https://ca.test/dir") -> None:
        self.key = generate_private_key("ec256")
        self.uri = uri
        self.routes = {url: list(answers) for url, answers in routes.items()}
        self.endpoints = dict(endpoints or {})
        self.directory_url = directory_url
        self.posts: list[Post] = []
        # What the runs read of account.client: the directory's endpoints (new_order) and its URL.
        self.client = self
        LIVE_SCRIPTS.append(self)

    def require_uri(self) -> str:
        return self.uri

    def endpoint(self, name: str) -> str:
        if name not in self.endpoints:
            raise UnexpectedRequest(f"unexpected directory lookup of {name}")
        return self.endpoints[name]

    def post(self, url: str, payload: dict[str, Any] | None, *, context: str) -> AcmeResponse:
        self.posts.append(Post(url, payload))
        queue = self.routes.get(url)
        if not queue:
            raise UnexpectedRequest(f"unscripted POST to {url} ({context}) after {len(self.posts) - 1} POSTs")
        answer = queue.pop(0)
        if callable(answer):
            answer = answer(payload)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, AcmeResponse):
            if isinstance(answer, Reply):
                answer.url = url
            return answer
        reply = Reply(answer)
        reply.url = url
        return reply

    def answers_to(self, url: str) -> list[Any]:
        """The payloads POSTed to ``url``, in order."""
        return [post.payload for post in self.posts if post.url == url]

    def unused(self) -> list[str]:
        return [f"account: POST {url} -> {answer!r}"[:200] for url, answers in self.routes.items() for answer in answers]
