# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The HTTP side of ACME: directory, nonces, signed requests, retries (RFC 8555 section 6).

One ``AcmeClient`` lives for one module run. It keeps a single keep-alive
``requests`` session, fetches the directory once, asks ``newNonce`` at most once
and afterwards reuses the ``Replay-Nonce`` of every response (section 7.2). A
``badNonce`` answer is retried with the nonce it carries (section 6.5); 429 and 503
answers to any request (the directory and ``newNonce`` included) are retried
honouring ``Retry-After`` (seconds or HTTP-date, RFC 9110 section 10.2.3), or after
a doubling backoff without one, while the run's retry time allows, and fail at
once with the time to come back when it does not. Retry time is what the run
spends on such answers: the waits and the requests sent again. Time spent on
anything else (polling a validation, waiting for a lock) does not count.
"""

from __future__ import annotations

import collections
import json
import re
import threading
import time
import traceback
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlparse

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import (
    AcmeError,
    AcmeNetworkError,
    AcmeOptionError,
    AcmeProblem,
    AcmeServerError,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.jws import sign_request
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import PrivateKey
from ansible_collections.certfleet.acme.plugins.module_utils._acme.retry_after import RATE_LIMITED, parse_retry_after
from ansible_collections.certfleet.acme.plugins.module_utils._acme.session_cache import SessionCache
from ansible_collections.certfleet.acme.plugins.module_utils._acme.times import format_time
from ansible_collections.certfleet.acme.plugins.module_utils._acme.version import COLLECTION_VERSION

REQUESTS_IMPORT_ERROR: str | None
try:
    import requests
except ImportError:
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

DIRECTORY_PRESETS: dict[str, str] = {
    "letsencrypt": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt_staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "pebble": "https://127.0.0.1:14000/dir",
}
DEFAULT_DIRECTORY = "letsencrypt_staging"
JOSE_CONTENT_TYPE = "application/jose+json"
PROBLEM_CONTENT_TYPE = "application/problem+json"
# Pebble rejects 5% of good nonces by default and up to all of them on request;
# 16 tries make a run of rejections at 50% fail one request in 65,536.
MAX_BAD_NONCE_RETRIES = 15
# Without Retry-After a 503 is retried after this many seconds (doubling).
DEFAULT_BACKOFF = 1.0
REQUIRED_DIRECTORY_FIELDS = ("newNonce", "newAccount", "newOrder")
# The largest answer read from the CA: a certificate chain or an order of a hundred names is a few
# KiB, a page of an account's orders a few more.
MAX_ANSWER_BYTES = 1 << 20
ANSWER_CHUNK_BYTES = 1 << 16
# Connections to the CA a batch run keeps open at most, however many certificates are in flight
# (docs/performance.md has the measurements behind the number).
MAX_CONNECTIONS = 20


def check_request_timeout(request_timeout: float) -> None:
    """``request_timeout``, for the CA and for the self-test's lookups, is more than zero: zero would fail every request."""
    if request_timeout <= 0:
        raise AcmeOptionError("request_timeout", "request_timeout must be more than zero seconds")


def resolve_directory(value: str | None) -> str:
    """A preset name (``letsencrypt``, ``letsencrypt_staging``, ``pebble``) or an https URL."""
    value = (value or DEFAULT_DIRECTORY).strip()
    if value in DIRECTORY_PRESETS:
        return DIRECTORY_PRESETS[value]
    parsed = urlparse(value)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise AcmeOptionError(
            "directory",
            f"directory {value!r} is neither a preset ({', '.join(DIRECTORY_PRESETS)}) nor an http(s) URL of an ACME directory",
        )
    return value


_LINK_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def parse_link_header(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """``Link`` headers (RFC 8288) as (target, params); ACME repeats ``rel="alternate"``."""
    links: list[tuple[str, dict[str, str]]] = []
    for value in values:
        for match in _LINK_RE.finditer(value):
            params: dict[str, str] = {}
            for param in match.group(2).split(";"):
                if "=" in param:
                    name, raw = param.split("=", 1)
                    params[name.strip().lower()] = raw.strip().strip('"')
            links.append((match.group(1), params))
    return links


class AcmeResponse:
    """A finished HTTP exchange: status, headers (case-insensitive), body."""

    def __init__(self, url: str, status: int, headers: Any, body: bytes, header_lists: dict[str, list[str]], received_at: datetime | None = None) -> None:
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self._header_lists = header_lists
        # An HTTP-date in Retry-After counts from when the answer arrived, not from when it is read.
        self.received_at = received_at or datetime.now(timezone.utc)

    @property
    def retry_after(self) -> float | None:
        """The answer's ``Retry-After`` in seconds, bounded (``retry_after.parse_retry_after``); None without a usable one."""
        return parse_retry_after(self.headers.get("Retry-After"), self.received_at)

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def links(self, rel: str) -> list[str]:
        return [target for target, params in parse_link_header(self._header_lists.get("link", [])) if params.get("rel") == rel]

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of a URL (RFC 6454 section 4), the port made explicit."""
    parts = urlparse(url)
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:  # a port that is no number
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def missing_directory_fields(body: dict[str, Any]) -> list[str]:
    """The fields every ACME directory has (RFC 8555 section 7.1.1) that ``body`` lacks."""
    return [name for name in REQUIRED_DIRECTORY_FIELDS if not isinstance(body.get(name), str)]


def _header_lists(raw: Any) -> dict[str, list[str]]:
    """Repeated headers (``Link``) as lists; requests folds them into one comma-joined value."""
    lists: dict[str, list[str]] = collections.defaultdict(list)
    headers = getattr(raw, "headers", None)
    if headers is not None and hasattr(headers, "getlist"):
        for name in {key.lower() for key in headers.keys()}:
            lists[name] = list(headers.getlist(name))
    return lists


class AcmeClient:
    """One ACME server, one keep-alive session, one nonce pool, one retry budget."""

    def __init__(
        self,
        directory_url: str,
        *,
        verify: bool | str = True,
        request_timeout: float = 10.0,
        retry_timeout: float = 60.0,
        session: Any = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        user_agent_extra: str = "",
        session_cache: SessionCache | None = None,
    ) -> None:
        self.directory_url = directory_url
        # requests lets REQUESTS_CA_BUNDLE override Session.verify; passing verify on
        # every request keeps ca_path and validate_certs authoritative.
        self.verify = verify
        self.request_timeout = request_timeout
        self._clock = clock
        self._sleep = sleep
        self.retry_timeout = retry_timeout
        # Seconds this run has spent on 429/503 answers: waiting and sending again.
        self.retry_spent = 0.0
        if session is None:
            if REQUESTS_IMPORT_ERROR:
                raise RuntimeError("requests is required")
            session = requests.Session()
        self._session = session
        self.user_agent = f"certfleet.acme/{COLLECTION_VERSION} {user_agent_extra}".strip()
        self._directory: dict[str, Any] | None = None
        self._nonces: collections.deque[str] = collections.deque()
        self._nonce_lock = threading.Lock()
        # Notified when an answer brought a nonce or a request ended.
        self._nonce_returned = threading.Condition(self._nonce_lock)
        # Requests under way, and from how many of them on a thread waits for the nonce of their
        # answers instead of asking newNonce (allow_concurrency); one thread alone never waits.
        # A newNonce request counts too: its thread signs a request with its nonce next.
        self._requests_in_flight = 0
        self._nonce_waits_from = 1
        # counted_ahead: this thread's next request is counted already, since its newNonce request.
        self._thread = threading.local()
        # Reentrant: fetching the directory reads the session cache first, under the same lock.
        self._directory_lock = threading.RLock()
        self.request_log: list[tuple[str, str, int]] = []
        self._session_cache = session_cache
        self._session_cache_read = session_cache is None
        self._directory_fetched = False

    def allow_concurrency(self, threads: int) -> None:
        """Let ``threads`` threads send at once over at most ``MAX_CONNECTIONS`` keep-alive connections.

        A thread that finds them all busy waits for one: most of a batch's time is spent
        waiting as the CA's ``Retry-After`` asks, not on the wire, so a few connections
        serve many certificates, and the CA sees a bounded number of them.

        With every connection busy, a thread that needs a nonce also waits for one of their
        answers to bring it (RFC 8555 section 6.5) instead of asking newNonce, so a batch asks
        newNonce about once per connection however many certificates start at once. The
        threshold is the connection count itself: waiting from fewer requests in flight slowed a
        batch down (docs/performance.md).
        """
        connections = max(1, min(threads, MAX_CONNECTIONS))
        self._nonce_waits_from = connections
        if REQUESTS_IMPORT_ERROR is None and isinstance(self._session, requests.Session):
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=connections, pool_block=True)
            self._session.mount("https://", adapter)
            self._session.mount("http://", adapter)

    # -- the session cache (session_cache.py) ----------------------------------

    def _read_session_cache(self) -> None:
        """Once per run, before the first directory or nonce is needed."""
        if self._session_cache_read or self._session_cache is None:
            return
        with self._directory_lock:
            if self._session_cache_read:
                return
            self._session_cache_read = True
            self._take_session_cache(self._session_cache)

    def _take_session_cache(self, session_cache: SessionCache) -> None:
        cached = session_cache.take()
        if cached.directory is not None and self._directory is None and not missing_directory_fields(cached.directory):
            self._directory = cached.directory
        with self._nonce_lock:
            # The pool hands out its newest nonce first; what this run receives comes after these.
            self._nonces.extendleft(reversed(cached.nonces))

    def keep_session(self) -> None:
        """Leave the directory (when fetched by this run) and the unspent nonces for the next run.

        The nonces leave this client: spending one after it went to the file would let
        the next run spend it too.
        """
        if self._session_cache is None:
            return
        with self._nonce_lock:
            spare = list(self._nonces)
            self._nonces.clear()
        self._session_cache.keep(self._directory if self._directory_fetched else None, spare)

    # -- directory -------------------------------------------------------------

    @property
    def directory(self) -> dict[str, Any]:
        """The directory object (RFC 8555 section 7.1.1), fetched once per run, also when threads ask at once."""
        if self._directory is None:
            with self._directory_lock:
                return self._fetch_directory()
        return self._directory

    def _fetch_directory(self) -> dict[str, Any]:
        self._read_session_cache()
        if self._directory is None:
            context = "Fetching the ACME directory"
            # A CA in maintenance answers 503 here too; any other status means a wrong URL.
            response = self._with_retries(
                lambda: self._send("GET", self.directory_url, context=context),
                self.directory_url,
                context,
                nonce_retry=False,
                raise_other=False,
                read_only=True,
            )
            body = response.json()
            if response.status != 200 or not isinstance(body, dict):
                raise AcmeNetworkError(
                    f"{self.directory_url} did not return an ACME directory (HTTP {response.status}, "
                    f"{response.content_type or 'no content type'}); check the directory option",
                    self.directory_url,
                )
            missing = missing_directory_fields(body)
            if missing:
                raise AcmeNetworkError(
                    f"{self.directory_url} is not an ACME directory: it lacks {', '.join(missing)}; "
                    "check the directory option (for Let's Encrypt it ends in /directory, for Pebble in /dir)",
                    self.directory_url,
                )
            self._directory = body
            self._directory_fetched = True
        return self._directory

    def endpoint(self, name: str) -> str:
        url = self.directory.get(name)
        if not isinstance(url, str):
            raise AcmeNetworkError(f"the ACME server at {self.directory_url} does not offer {name}", self.directory_url)
        return url

    @property
    def meta(self) -> dict[str, Any]:
        meta = self.directory.get("meta")
        return meta if isinstance(meta, dict) else {}

    # -- nonces ----------------------------------------------------------------

    def _remember_nonce(self, response: AcmeResponse) -> None:
        nonce = response.headers.get("Replay-Nonce")
        if nonce:
            with self._nonce_lock:
                self._nonces.append(nonce)
                self._nonce_returned.notify()

    def _take_nonce(self) -> str:
        """A nonce from the pool; else, with enough requests under way, the first one their answers bring; else newNonce."""
        self._read_session_cache()
        with self._nonce_lock:
            # An answer comes within request_timeout or the request fails; both notify. The
            # deadline only guards against an answer that never notifies.
            deadline = time.monotonic() + self.request_timeout
            while not self._nonces and self._requests_in_flight >= self._nonce_waits_from:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._nonce_returned.wait(remaining)
            if self._nonces:
                # Newest first: after a badNonce it is the nonce the error carried (RFC 8555 6.5).
                return self._nonces.pop()
            # Counted from here until the signed request this nonce is for is under way (_send takes
            # the count over), so that threads deciding meanwhile see it.
            self._requests_in_flight += 1
        try:
            url = self.endpoint("newNonce")
            context = "Asking for a fresh nonce"
            # This nonce goes straight to the caller, not through the pool, where another thread could take it first.
            response = self._with_retries(lambda: self._send("HEAD", url, context=context, pool_nonce=False), url, context, nonce_retry=False, read_only=True)
            if response.status not in (200, 204):
                raise self._problem(response, context)
            nonce = response.headers.get("Replay-Nonce")
            if not nonce:
                raise AcmeNetworkError(f"{url} returned no Replay-Nonce header", url)
        except BaseException:
            # No signed request follows: the count ends here.
            self._request_ended()
            raise
        self._thread.counted_ahead = True
        return str(nonce)

    # -- requests --------------------------------------------------------------

    def check_origin(self, url: str, context: str) -> None:
        """Every request goes to the directory's origin: a URL the CA (or a state file) names elsewhere is refused.

        Signed requests carry the account's signature and the CA's URLs lead to proofs and
        certificates; none of them is sent to a host the directory option did not name.
        """
        if origin(url) != origin(self.directory_url):
            scheme, host, port = origin(self.directory_url)
            raise AcmeServerError(
                f"{context}: the URL {url[:200]} is not on the ACME server's origin ({scheme}://{host}:{port}, from the directory option); "
                "nothing was sent to it. A CA answer, a state file or the session cache named it: check that the directory option names the CA you trust",
                url=url[:200],
            )

    def _send(self, method: str, url: str, *, body: bytes | None = None, context: str, pool_nonce: bool = True) -> AcmeResponse:
        self.check_origin(url, context)
        headers = {"User-Agent": self.user_agent, "Accept-Language": "en"}
        if body is not None:
            headers["Content-Type"] = JOSE_CONTENT_TYPE
        if pool_nonce:
            if getattr(self._thread, "counted_ahead", False):
                self._thread.counted_ahead = False
            else:
                with self._nonce_lock:
                    self._requests_in_flight += 1
        try:
            try:
                raw = self._session.request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    timeout=self.request_timeout,
                    verify=self.verify,
                    allow_redirects=False,
                    stream=True,
                )
            except Exception as exc:  # requests raises many types; all end the run with one clear message
                raise self._network_error(exc, url, context) from None
            response = AcmeResponse(url, raw.status_code, raw.headers, self._read_answer(raw, url, context), _header_lists(raw.raw))
            self.request_log.append((method, url, response.status))
            if pool_nonce:
                self._remember_nonce(response)
            return response
        finally:
            if pool_nonce:
                self._request_ended()

    def _read_answer(self, raw: Any, url: str, context: str) -> bytes:
        """The body of an answer, at most ``MAX_ANSWER_BYTES`` and within ``request_timeout`` once the headers came.

        ``request_timeout`` bounds each read on its own; a CA that drips its answer a byte at a
        time, or sends without end, must not hold the run longer than that in all.
        """
        read1 = getattr(getattr(raw, "raw", None), "read1", None)
        if read1 is None:  # urllib3 before 2.0 (and a test's stand-in): read as requests does, then bound the size
            body = raw.content or b""
            if len(body) > MAX_ANSWER_BYTES:
                raise self._too_large(url, context)
            return bytes(body)
        deadline = time.monotonic() + self.request_timeout
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = read1(ANSWER_CHUNK_BYTES, decode_content=True)
                if not chunk:
                    return b"".join(chunks)  # read to the end: the connection goes back to the pool
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise self._too_large(url, context)
                if time.monotonic() > deadline:
                    raise AcmeNetworkError(
                        f"{context}: {url} did not finish its answer within request_timeout ({self.request_timeout:g} s) after {size} bytes",
                        url,
                        transient=True,
                    )
                chunks.append(chunk)
        except AcmeError:
            raw.close()  # never back to the pool half-read
            raise
        except Exception as exc:  # urllib3 raises many types while reading; all end the request with one clear message
            raw.close()
            raise self._network_error(exc, url, context) from None

    @staticmethod
    def _too_large(url: str, context: str) -> AcmeServerError:
        limit = MAX_ANSWER_BYTES // (1 << 20)
        return AcmeServerError(
            f"{context}: {url} answered with more than {limit} MiB, far more than any ACME answer holds; nothing of it was used",
            url=url,
        )

    def _request_ended(self) -> None:
        with self._nonce_lock:
            self._requests_in_flight -= 1
            # A waiter counted on this request; without a nonce from it, it decides again.
            self._nonce_returned.notify()

    def _network_error(self, exc: Exception, url: str, context: str) -> AcmeNetworkError:
        name = type(exc).__name__
        reason = str(exc) or name
        if "SSL" in name or "CERTIFICATE_VERIFY_FAILED" in reason:
            return AcmeNetworkError(
                f"{context}: TLS verification of {url} failed ({reason}). Set ca_path to the CA bundle "
                "that signs the ACME server's certificate (validate_certs: false only for throwaway tests)",
                url,
            )
        if "Timeout" in name:
            return AcmeNetworkError(f"{context}: {url} did not answer within request_timeout ({self.request_timeout:g} s)", url, transient=True)
        return AcmeNetworkError(
            f"{context}: cannot reach {url} ({reason}); check the directory option and the network",
            url,
            # A connection the CA dropped may work again; one it refused or a name that does not resolve will not.
            transient="Connection" in name and any(word in reason for word in ("reset", "aborted", "RemoteDisconnected", "Broken pipe")),
        )

    def get(self, url: str, *, context: str = "Fetching") -> AcmeResponse:
        """An unauthenticated GET (directory, ``renewalInfo``), retried like signed requests on 429/503."""
        return self._with_retries(lambda: self._send("GET", url, context=context), url, context, nonce_retry=False, read_only=True)

    def post(
        self,
        url: str,
        payload: dict[str, Any] | None,
        *,
        key: PrivateKey,
        kid: str | None,
        context: str,
        accept_statuses: tuple[int, ...] = (200, 201, 204),
    ) -> AcmeResponse:
        """A signed POST (payload None = POST-as-GET, RFC 8555 section 6.3).

        Raises ``AcmeProblem`` for any status outside ``accept_statuses``.
        """

        self.check_origin(url, context)  # before a nonce is spent on it

        def attempt() -> AcmeResponse:
            jws = sign_request(key, url, payload, nonce=self._take_nonce(), kid=kid)
            return self._send("POST", url, body=json.dumps(jws).encode("utf-8"), context=context)

        response = self._with_retries(attempt, url, context, nonce_retry=True, read_only=payload is None)
        if response.status not in accept_statuses:
            raise self._problem(response, context)
        return response

    def _with_retries(
        self,
        attempt: Callable[[], AcmeResponse],
        url: str,
        context: str,
        *,
        nonce_retry: bool,
        raise_other: bool = True,
        read_only: bool = False,
    ) -> AcmeResponse:
        """``attempt()`` until it is not refused with badNonce, 429 or 503 (RFC 8555 sections 6.5 and 6.6).

        Other statuses from 400 raise their problem, or with ``raise_other`` false are
        returned for the caller to judge. A ``read_only`` request (GET, HEAD, POST-as-GET)
        that timed out or lost its connection is sent again too, after the same doubling
        backoff: fetching a resource twice changes nothing at the CA. Each wait and each
        request sent again after one is added to ``retry_spent``; a wait that would take it
        past ``retry_timeout`` raises at once, saying when to come back.
        """
        bad_nonces = 0
        backoff = DEFAULT_BACKOFF
        resending = False
        while True:
            spent_before = self._spent_by_this_thread()
            started = self._clock()
            try:
                response = attempt()
            except AcmeNetworkError as error:
                if not (read_only and error.transient) or self.retry_spent + backoff > self.retry_timeout:
                    raise
                self._sleep(backoff)
                self._spend(backoff)
                backoff *= 2
                resending = True
                continue
            if resending:
                # Only what nested retries (a refused newNonce inside this attempt) did not count already.
                own = (self._clock() - started) - (self._spent_by_this_thread() - spent_before)
                self._spend(max(0.0, own))
            if response.status < 400:
                return response
            problem = self._problem(response, context)
            if nonce_retry and problem.has_type("badNonce") and bad_nonces < MAX_BAD_NONCE_RETRIES:
                bad_nonces += 1
                resending = False
                continue
            if response.status not in (429, 503):
                if raise_other:
                    raise problem
                return response
            wait = RATE_LIMITED.wait(problem.retry_after, backoff)
            backoff *= 2
            if self.retry_spent + wait > self.retry_timeout:
                raise self._too_late(problem, wait, context)
            self._sleep(wait)
            self._spend(wait)
            resending = True

    def _spend(self, seconds: float) -> None:
        """Add to the run's retry time, which every thread of a batch shares, and to this thread's own share."""
        with self._nonce_lock:
            self.retry_spent += seconds
        self._thread.retry_spent = self._spent_by_this_thread() + seconds

    def _spent_by_this_thread(self) -> float:
        """What this thread added to ``retry_spent``: nested retries are told apart by it, not by other threads' waits."""
        return float(getattr(self._thread, "retry_spent", 0.0))

    def _too_late(self, problem: AcmeProblem, wait: float, context: str) -> AcmeProblem:
        """The refusal, with when to come back: the CA's ``Retry-After``, or why no time can be named."""
        budget = f"the retry_timeout of {self.retry_timeout:g} s"
        if self.retry_spent > 0:
            budget += f" ({self.retry_spent:.0f} s of it already spent on earlier 429/503 answers of this run)"
        retry_at = None
        if problem.retry_after is None:
            hint = f"The CA answered HTTP {problem.status} without Retry-After, and another try after {wait:g} s would go beyond {budget}; run again later"
        else:
            when = datetime.now(timezone.utc).timestamp() + wait
            retry_at = format_time(datetime.fromtimestamp(int(when), timezone.utc))
            hint = f"The CA asks to retry after {retry_at} (in {wait:.0f} s), beyond {budget}; run again after that time"
        return AcmeProblem(
            url=problem.url,
            status=problem.status,
            problem_type=problem.problem_type,
            detail=problem.detail,
            subproblems=problem.subproblems,
            retry_after=None if retry_at is None else wait,
            context=context,
            hint=hint,
            retry_at=retry_at,
        )

    def _problem(self, response: AcmeResponse, context: str) -> AcmeProblem:
        """RFC 7807 problem document to ``AcmeProblem``; tolerant of missing fields and non-JSON bodies."""
        body = response.json()
        retry_after = response.retry_after
        if isinstance(body, dict) and (response.content_type == PROBLEM_CONTENT_TYPE or "type" in body):
            subproblems = body.get("subproblems")
            if isinstance(subproblems, list):
                subproblems = [sub for sub in subproblems if isinstance(sub, dict)]
            return AcmeProblem(
                url=response.url,
                status=response.status,
                problem_type=body.get("type") if isinstance(body.get("type"), str) else None,
                detail=body.get("detail") if isinstance(body.get("detail"), str) else None,
                subproblems=subproblems if isinstance(subproblems, list) else None,
                retry_after=retry_after,
                context=context,
            )
        text = response.body.decode("utf-8", "replace").strip()
        return AcmeProblem(
            url=response.url,
            status=response.status,
            detail=(text[:300] or None),
            retry_after=retry_after,
            context=context,
        )
