"""A fault-injecting HTTPS reverse proxy in front of Pebble's ACME listener, for the faults target.

Pebble never answers 429 or 503 by itself. This proxy sits between the modules and Pebble,
forwards every request, and answers some of them itself with 429 (rate limited) or 503
(unavailable) and a ``Retry-After`` (RFC 9110 section 10.2.3), as rules set by the test say.
Everything it sees and does is logged with a timestamp, so the test can check from the
proxy's side when the client came back.

Usage:
  fault_proxy.py --listen IP:PORT --control IP:PORT --upstream DIRECTORY_URL
                 --cert CERT --key KEY --ca CA [--log FILE]

  --listen     where it serves HTTPS with CERT/KEY (the test bed's listener certificate, which
               is valid for Pebble's IP, so the proxy takes the same IP and another port)
  --control    plain HTTP control endpoint, loopback only (see below)
  --upstream   Pebble's directory URL; requests go to its scheme, host and port, Pebble's TLS
               certificate is verified with CA
  --log        file that gets one JSON object per line for every request (also at GET /log)

Forwarding. The client's ``Host`` is passed on unchanged: Pebble checks the ``url`` of every JWS
(RFC 8555 section 6.4) against the host it was asked for, and builds the URLs it returns from
that host too. Any absolute URL of the upstream left in a response body or in a ``Location`` or
``Link`` header is rewritten to the proxy's own base URL, so the client keeps talking to the
proxy (a CA that builds URLs from its configured name would need this; the log counts them).

Rules (``PUT /rules`` replaces them, ``POST /rules`` adds, ``DELETE /rules`` removes all,
``GET /rules`` shows them with what is left). A rule is a JSON object::

  {"label": "neworder-503",        name used in the log (required, unique)
   "path": "^/order-plz$",         regular expression searched in the request path (required)
   "method": "POST",               only this method (default: any)
   "status": 503,                  429 or 503 (required)
   "count": 1,                     answer this many matching requests, then forward again (default 1)
   "retry_after_seconds": 3,       Retry-After as delay-seconds, or
   "retry_after_date_in": 3600,    Retry-After as an HTTP-date this many seconds ahead (from the
                                   next whole second), or neither: no Retry-After at all
   "problem": "rateLimited",       RFC 7807 body of type urn:ietf:params:acme:error:<problem>
                                   (default rateLimited for 429, serverInternal for 503);
                                   null or "none": no problem document, an empty body
   "detail": "..."}                the problem's detail (a default says what was injected)

A rule may tamper with Pebble's answer instead of answering itself, as a compromised or broken CA
would (the hostile_ca target): ``tamper`` in place of ``status``, the answer forwarded and then
changed::

  {"label": "token-climbs-out", "path": "^/authZ/", "method": "POST", "count": 100,
   "tamper": {"sub": [["\"token\":\\s*\"[^\"]*\"", "\"token\": \"../../etc\""]],
              regular expression and replacement (Python re.sub syntax), applied to the body
              in order
              "headers": {"Retry-After": "999"},   set (or replace) these headers
              "status": 200,                        answer this status instead of Pebble's
              "body": "...", "repeat": 1000,        the body instead of Pebble's: "body" repeated
                                                    "repeat" times (a huge or malformed answer)
              "drip": 0.5,                          send the body one byte every this many seconds
                                                    (a CA that never finishes its answer)
              "reissue": "expired"}                 on a certificate download: the leaf re-made for the
                                                    same key and names by a CA of the proxy's own,
                                                    "expired", "not_yet_valid" (each with that CA
                                                    after it), or "foreign_signer" (the original chain
                                                    after it, which did not sign it); needs the
                                                    cryptography package, the rest of the proxy only
                                                    the standard library

A rule may hold the request instead, as a CA that stopped answering would (Pebble under a lock-order
cycle, a CA behind a dead load balancer): ``hold`` in place of ``status``, the request neither
forwarded nor answered for that many seconds (1 to 600), then the connection closed without an
answer; the client's own timeout should end it first::

  {"label": "ca-stops", "path": "^/order-plz$", "method": "POST", "count": 1000, "hold": 60}

A tamper rule acts only on Pebble's successful (2xx) answers: a refusal, such as a rejected nonce, goes
through unchanged and does not count against the rule.

The first rule (in order) with requests left that matches a request answers it. An injected
answer carries a fresh ``Replay-Nonce`` from Pebble, as a real CA's error answers do
(RFC 8555 section 6.5), so the client's nonce chain stays intact.

Log entries (``GET /log``, optionally ``?since=SEQ``, and the --log file); ``time`` and ``at``
are when the request arrived (epoch seconds, and UTC)::

  {"seq": 7, "time": 1767225600.123, "at": "2026-01-01T00:00:00.123Z", "method": "POST",
   "path": "/order-plz", "kind": "forwarded" | "injected" | "tampered" | "held" | "upstream-error", "status": 201,
   "previous_seq": 5, "previous_time": ...,   the last earlier request with the same method and
                                              path (null when none), to find retries
   "rule": "neworder-503", "retry_after": "3", "retry_at": 1767225603.1,   injected answers only:
   "problem": "urn:...", "nonce": true,       retry_at is the instant the Retry-After names, nonce
                                              whether a Replay-Nonce went with the answer
   "rewritten": 0, "upstream_ms": 12}         forwarded answers only

Other control endpoints: ``GET /health`` (``ok``). The proxy stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import json
import math
import re
import signal
import ssl
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACME_ERROR = "urn:ietf:params:acme:error:"
DEFAULT_PROBLEM = {429: "rateLimited", 503: "serverInternal"}
# Not passed on by a proxy (RFC 9110 section 7.6.1); Content-Length is recomputed.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length"}
# Asked for again as identity, so that bodies stay plain text whose URLs can be rewritten.
NOT_FORWARDED = HOP_BY_HOP | {"accept-encoding"}
UPSTREAM_TIMEOUT = 30.0
RULE_FIELDS = {"label", "path", "method", "status", "count", "retry_after_seconds", "retry_after_date_in", "problem", "detail", "tamper", "hold"}
OWN_ANSWER_FIELDS = {"status", "retry_after_seconds", "retry_after_date_in", "problem", "detail"}
MAX_HOLD_SECONDS = 600
TAMPER_FIELDS = {"sub", "headers", "status", "body", "repeat", "drip", "reissue"}
REISSUES = ("expired", "not_yet_valid", "foreign_signer")
# A dripped answer stops after this long whatever its size: the client is expected to give up first.
MAX_DRIP_SECONDS = 120.0


class RuleError(ValueError):
    """A rule the control endpoint cannot accept."""


class Rule:
    """One fault: answer the next ``count`` requests matching ``method`` and ``path`` with ``status``."""

    def __init__(self, spec: Any) -> None:
        if not isinstance(spec, dict):
            raise RuleError("a rule is a JSON object")
        unknown = set(spec) - RULE_FIELDS
        if unknown:
            raise RuleError(f"unknown rule fields: {', '.join(sorted(unknown))}")
        self.label = spec.get("label")
        if not isinstance(self.label, str) or not self.label:
            raise RuleError("label must be a non-empty string")
        path = spec.get("path")
        if not isinstance(path, str) or not path:
            raise RuleError(f"{self.label}: path must be a regular expression")
        try:
            self.path = re.compile(path)
        except re.error as exc:
            raise RuleError(f"{self.label}: path {path!r}: {exc}") from None
        method = spec.get("method")
        if method is not None and not isinstance(method, str):
            raise RuleError(f"{self.label}: method must be a string")
        self.method = method.upper() if method else None
        self.tamper = Tamper(self.label, spec["tamper"]) if "tamper" in spec else None
        self.hold = self._hold(spec)
        self.status = spec.get("status")
        if self.tamper is not None and self.hold is not None:
            raise RuleError(f"{self.label}: a rule tampers with an answer or holds the request, not both")
        if self.tamper is not None or self.hold is not None:
            if set(spec) & OWN_ANSWER_FIELDS:
                raise RuleError(f"{self.label}: a tamper or hold rule sends no answer of its own; it takes no status, retry_after or problem")
            self.status = 0
        elif self.status not in (429, 503):
            raise RuleError(f"{self.label}: status must be 429 or 503")
        self.remaining = spec.get("count", 1)
        if not isinstance(self.remaining, int) or self.remaining < 1:
            raise RuleError(f"{self.label}: count must be a whole number from 1")
        self.count = self.remaining
        self.retry_after_seconds = self._seconds(spec, "retry_after_seconds")
        self.retry_after_date_in = self._seconds(spec, "retry_after_date_in")
        if self.retry_after_seconds is not None and self.retry_after_date_in is not None:
            raise RuleError(f"{self.label}: give retry_after_seconds or retry_after_date_in, not both")
        problem = spec.get("problem", DEFAULT_PROBLEM.get(self.status))
        if problem is not None and not isinstance(problem, str):
            raise RuleError(f"{self.label}: problem must be an ACME error name or null")
        self.problem = None if problem in (None, "", "none") else problem
        detail = spec.get("detail")
        self.detail = detail if isinstance(detail, str) else f"injected by the fault proxy (rule {self.label})"

    def _hold(self, spec: dict[str, Any]) -> int | None:
        hold = spec.get("hold")
        if hold is not None and (not isinstance(hold, int) or isinstance(hold, bool) or not 1 <= hold <= MAX_HOLD_SECONDS):
            raise RuleError(f"{self.label}: hold is the whole seconds to hold the request, from 1 to {MAX_HOLD_SECONDS}")
        return hold

    def _seconds(self, spec: dict[str, Any], name: str) -> int | None:
        value = spec.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise RuleError(f"{self.label}: {name} must be a whole number of seconds from 0")
        return value

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and (self.method is None or self.method == method) and self.path.search(path) is not None

    def retry_after(self, now: float) -> tuple[str | None, float | None]:
        """The ``Retry-After`` value to send and the instant it names (epoch seconds)."""
        if self.retry_after_seconds is not None:
            return str(self.retry_after_seconds), now + self.retry_after_seconds
        if self.retry_after_date_in is not None:
            when = math.ceil(now) + self.retry_after_date_in
            return email.utils.formatdate(when, usegmt=True), float(when)
        return None, None

    def describe(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "path": self.path.pattern,
            "method": self.method,
            "status": self.status,
            "count": self.count,
            "remaining": self.remaining,
            "retry_after_seconds": self.retry_after_seconds,
            "retry_after_date_in": self.retry_after_date_in,
            "problem": self.problem,
            "detail": self.detail,
            "tamper": None if self.tamper is None else self.tamper.spec,
            "hold": self.hold,
        }


class Tamper:
    """What a tampering rule does to the forwarded answer: body substitutions, headers, status, or a body of its own."""

    def __init__(self, label: str, spec: Any) -> None:
        if not isinstance(spec, dict) or not spec or set(spec) - TAMPER_FIELDS:
            raise RuleError(f"{label}: tamper is an object of {', '.join(sorted(TAMPER_FIELDS))}")
        self.spec = spec
        self.subs: list[tuple[re.Pattern[bytes], bytes]] = []
        for pair in spec.get("sub", []):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
                raise RuleError(f"{label}: tamper.sub is a list of [pattern, replacement] pairs")
            try:
                self.subs.append((re.compile(pair[0].encode("utf-8")), pair[1].encode("utf-8")))
            except re.error as exc:
                raise RuleError(f"{label}: tamper.sub pattern {pair[0]!r}: {exc}") from None
        headers = spec.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise RuleError(f"{label}: tamper.headers maps header names to string values")
        self.headers = headers
        self.status = spec.get("status")
        if self.status is not None and (not isinstance(self.status, int) or not 100 <= self.status <= 599):
            raise RuleError(f"{label}: tamper.status must be an HTTP status")
        body, repeat = spec.get("body"), spec.get("repeat", 1)
        if (body is not None and not isinstance(body, str)) or not isinstance(repeat, int) or not 1 <= repeat <= 10**8:
            raise RuleError(f"{label}: tamper.body is a string and tamper.repeat a count from 1")
        self.body = None if body is None else body.encode("utf-8") * repeat
        drip = spec.get("drip", 0)
        if not isinstance(drip, (int, float)) or isinstance(drip, bool) or not 0 <= drip <= 5:
            raise RuleError(f"{label}: tamper.drip is the seconds between two bytes of the body, from 0 to 5")
        self.drip = float(drip)
        self.reissue = spec.get("reissue")
        if self.reissue is not None and self.reissue not in REISSUES:
            raise RuleError(f"{label}: tamper.reissue is one of {', '.join(REISSUES)}")

    def apply(self, status: int, headers: list[tuple[str, str]], content: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        for pattern, replacement in self.subs:
            content = pattern.sub(replacement, content)
        if self.body is not None:
            content = self.body
        if self.reissue is not None:
            content = reissued(content, self.reissue)
        names = {name.lower() for name in self.headers}
        kept = [(name, value) for name, value in headers if name.lower() not in names]
        return self.status or status, kept + list(self.headers.items()), content


def reissued(chain_pem: bytes, how: str) -> bytes:
    """The chain's leaf made again for the same public key and names by a throwaway CA of the proxy's.

    ``expired`` and ``not_yet_valid`` put that CA after the leaf (the chain holds, the dates do
    not); ``foreign_signer`` keeps the original chain after it (the chain does not hold).
    """
    # Imported here: only this tamper needs them, and cryptography is not in the standard library.
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", chain_pem, re.S)
    leaf = x509.load_pem_x509_certificate(blocks[0])
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "fault proxy stranger CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    window = {
        "expired": (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)),
        "not_yet_valid": (now + datetime.timedelta(days=1), now + datetime.timedelta(days=30)),
        "foreign_signer": (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)),
    }[how]
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(ca_name)
        .public_key(leaf.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(window[0])
        .not_valid_after(window[1])
        .add_extension(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value, critical=False)
    )
    new_leaf = builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    if how == "foreign_signer":
        return new_leaf + b"".join(block if block.endswith(b"\n") else block + b"\n" for block in blocks[1:])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=60))
        .not_valid_after(now + datetime.timedelta(days=60))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return new_leaf + ca.public_bytes(serialization.Encoding.PEM)


class State:
    """Rules and log, shared by the proxy's and the control endpoint's threads."""

    def __init__(self, log_path: str | None) -> None:
        self.lock = threading.Lock()
        self.rules: list[Rule] = []
        self.entries: list[dict[str, Any]] = []
        self.last_seen: dict[tuple[str, str], dict[str, Any]] = {}
        self.log_path = log_path

    def set_rules(self, specs: Any, replace: bool) -> list[dict[str, Any]]:
        if not isinstance(specs, list):
            raise RuleError('the body must be {"rules": [...]}')
        rules = [Rule(spec) for spec in specs]
        with self.lock:
            kept = [] if replace else self.rules
            labels = [rule.label for rule in kept + rules]
            duplicates = sorted({label for label in labels if labels.count(label) > 1})
            if duplicates:
                raise RuleError(f"duplicate labels: {', '.join(duplicates)}")
            self.rules = kept + rules
            return [rule.describe() for rule in self.rules]

    def describe_rules(self) -> list[dict[str, Any]]:
        with self.lock:
            return [rule.describe() for rule in self.rules]

    def give_back(self, rule: Rule) -> None:
        """Undo ``take_fault`` for a request the rule did not act on."""
        with self.lock:
            rule.remaining += 1

    def take_fault(self, method: str, path: str) -> Rule | None:
        """The rule that answers this request, its count already taken."""
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.remaining -= 1
                    return rule
        return None

    def record(self, now: float, method: str, path: str, **fields: Any) -> dict[str, Any]:
        """Append one log entry, linked to the previous request with the same method and path."""
        with self.lock:
            previous = self.last_seen.get((method, path))
            entry: dict[str, Any] = {
                "seq": len(self.entries) + 1,
                "time": round(now, 6),
                "at": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "method": method,
                "path": path,
                "previous_seq": previous["seq"] if previous else None,
                "previous_time": previous["time"] if previous else None,
            }
            entry.update(fields)
            self.entries.append(entry)
            self.last_seen[(method, path)] = entry
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry, sort_keys=True) + "\n")
        line = f"{entry['at']} #{entry['seq']} {method} {path} -> {fields.get('status')} {fields.get('kind')}"
        if fields.get("rule"):
            line += f" by rule {fields['rule']} (Retry-After: {fields.get('retry_after')})"
        print(line, flush=True)
        return entry

    def log_since(self, since: int) -> list[dict[str, Any]]:
        with self.lock:
            return [entry for entry in self.entries if entry["seq"] > since]


class Upstream:
    """Pebble: where requests go, how it is trusted, and its newNonce path (read from its directory once)."""

    def __init__(self, directory_url: str, ca_path: str) -> None:
        parts = urlsplit(directory_url)
        if parts.scheme != "https" or not parts.hostname:
            raise SystemExit(f"fault_proxy: --upstream {directory_url} is not an https URL")
        self.host = parts.hostname
        self.port = parts.port or 443
        self.base = f"https://{parts.netloc}"
        self.directory_path = parts.path or "/"
        self.context = ssl.create_default_context(cafile=ca_path)
        self._nonce_path: str | None = None

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=UPSTREAM_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def fresh_nonce(self, host: str) -> str | None:
        """A nonce from Pebble's newNonce, for an injected answer; None when Pebble gives none."""
        ask = {"Host": host, "User-Agent": "certfleet-fault-proxy"}
        try:
            if self._nonce_path is None:
                status, unused_headers, body = self.request("GET", self.directory_path, ask, None)
                directory = json.loads(body) if status == 200 else {}
                self._nonce_path = urlsplit(directory["newNonce"]).path
            headers = self.request("HEAD", self._nonce_path, ask, None)[1]
        except (OSError, ValueError, KeyError, TypeError, http.client.HTTPException) as exc:
            print(f"fault_proxy: no nonce from upstream for an injected answer: {exc}", file=sys.stderr, flush=True)
            return None
        return next((value for name, value in headers if name.lower() == "replay-nonce"), None)


class ProxyHandler(BaseHTTPRequestHandler):
    """Forwards one request to Pebble, or answers it with a fault."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the client's session expects
    server_version = "certfleet-fault-proxy"
    timeout = 60  # an idle keep-alive connection is closed after this long
    server: ProxyServer

    def do_GET(self) -> None:
        self.handle_any()

    def do_HEAD(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def handle_any(self) -> None:
        now = time.time()
        method = self.command
        path = self.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        state = self.server.state
        rule = state.take_fault(method, urlsplit(path).path)
        if rule is not None and rule.hold is not None:
            state.record(now, method, path, kind="held", status=0, rule=rule.label, hold=rule.hold)
            time.sleep(rule.hold)
            self.close_connection = True
            return
        if rule is not None and rule.tamper is None:
            self.inject(rule, now, method, path)
            return
        headers = {name: value for name, value in self.headers.items() if name.lower() not in NOT_FORWARDED}
        headers["Accept-Encoding"] = "identity"
        started = time.monotonic()
        try:
            status, upstream_headers, content = self.server.upstream.request(method, path, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            state.record(now, method, path, kind="upstream-error", status=502, error=str(exc))
            self.answer(502, [("Content-Type", "application/problem+json")], self.problem_body("serverInternal", f"fault proxy: upstream failed: {exc}", 502))
            return
        upstream_ms = round((time.monotonic() - started) * 1000)
        content, rewritten = self.rewrite(content)
        out: list[tuple[str, str]] = []
        for name, value in upstream_headers:
            # The proxy sends its own Date and Server (http.server adds them to every answer).
            if name.lower() in HOP_BY_HOP or name.lower() in ("date", "server"):
                continue
            if name.lower() in ("location", "link") and self.server.upstream.base in value:
                rewritten += value.count(self.server.upstream.base)
                value = value.replace(self.server.upstream.base, self.server.base)
            out.append((name, value))
        if rule is not None and rule.tamper is not None and not 200 <= status < 300:
            # Pebble refused the request (a rejected nonce, say): its problem document goes through as it is, and
            # the rule waits for the request sent again, as a CA tampering with its answers would.
            state.give_back(rule)
            rule = None
        if rule is not None and rule.tamper is not None:
            status, out, content = rule.tamper.apply(status, out, content)
            state.record(now, method, path, kind="tampered", status=status, rule=rule.label, rewritten=rewritten, upstream_ms=upstream_ms)
            self.answer(status, out, content, drip=rule.tamper.drip)
            return
        state.record(now, method, path, kind="forwarded", status=status, rewritten=rewritten, upstream_ms=upstream_ms)
        self.answer(status, out, content)

    def inject(self, rule: Rule, now: float, method: str, path: str) -> None:
        retry_after, retry_at = rule.retry_after(now)
        headers: list[tuple[str, str]] = [("Cache-Control", "no-store")]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        nonce = self.server.upstream.fresh_nonce(self.headers.get("Host") or self.server.netloc)
        if nonce:
            headers.append(("Replay-Nonce", nonce))
        body = b""
        if rule.problem is not None:
            headers.append(("Content-Type", "application/problem+json"))
            body = self.problem_body(rule.problem, rule.detail, rule.status)
        self.server.state.record(
            now,
            method,
            path,
            kind="injected",
            status=rule.status,
            rule=rule.label,
            retry_after=retry_after,
            retry_at=None if retry_at is None else round(retry_at, 6),
            problem=None if rule.problem is None else ACME_ERROR + rule.problem,
            nonce=bool(nonce),
        )
        self.answer(rule.status, headers, body)

    @staticmethod
    def problem_body(problem: str, detail: str, status: int) -> bytes:
        return json.dumps({"type": ACME_ERROR + problem, "detail": detail, "status": status}).encode("utf-8")

    def rewrite(self, content: bytes) -> tuple[bytes, int]:
        upstream = self.server.upstream.base.encode("ascii")
        count = content.count(upstream)
        if count:
            content = content.replace(upstream, self.server.base.encode("ascii"))
        return content, count

    def answer(self, status: int, headers: list[tuple[str, str]], body: bytes, drip: float = 0.0) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD" or not body:
            return
        if not drip:
            self.wfile.write(body)
            return
        self.wfile.flush()
        stop = time.monotonic() + MAX_DRIP_SECONDS
        try:
            for offset in range(len(body)):
                if time.monotonic() > stop:
                    break
                self.wfile.write(body[offset : offset + 1])
                self.wfile.flush()
                time.sleep(drip)
        except OSError:
            pass  # the client gave up on the answer, as it should
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: State.record prints one line per request."""


class ProxyServer(ThreadingHTTPServer):
    """HTTPS, with each TLS handshake in its connection's own thread."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, upstream: Upstream, state: State) -> None:
        super().__init__(address, ProxyHandler)
        self.context = context
        self.upstream = upstream
        self.state = state
        self.netloc = f"{address[0]}:{address[1]}"
        self.base = f"https://{self.netloc}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            print(f"fault_proxy: TLS handshake with {client_address[0]} failed: {exc}", file=sys.stderr, flush=True)
            return
        self.RequestHandlerClass(tls, client_address, self)


class ControlHandler(BaseHTTPRequestHandler):
    """The test's side: rules in, log out."""

    protocol_version = "HTTP/1.1"
    server_version = "certfleet-fault-proxy-control"
    server: ControlServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/health":
            self.reply(200, "ok")
        elif parts.path == "/rules":
            self.reply(200, {"rules": self.server.state.describe_rules()})
        elif parts.path == "/log":
            since = parse_qs(parts.query).get("since", ["0"])[0]
            if not since.isdigit():
                self.reply(400, {"error": "since must be a log sequence number"})
                return
            self.reply(200, {"entries": self.server.state.log_since(int(since))})
        else:
            self.reply(404, {"error": f"no {parts.path}; see GET /health, /rules, /log"})

    def do_PUT(self) -> None:
        self.change_rules(replace=True)

    def do_POST(self) -> None:
        self.change_rules(replace=False)

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path != "/rules":
            self.reply(404, {"error": "only /rules can be deleted"})
            return
        self.reply(200, {"rules": self.server.state.set_rules([], replace=True)})

    def change_rules(self, replace: bool) -> None:
        if urlsplit(self.path).path != "/rules":
            self.reply(404, {"error": "rules are set at /rules"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
            rules = self.server.state.set_rules(request.get("rules") if isinstance(request, dict) else None, replace)
        except (ValueError, RuleError) as exc:
            self.reply(400, {"error": str(exc)})
            return
        print(f"fault_proxy: rules now {json.dumps(rules)}", flush=True)
        self.reply(200, {"rules": rules})

    def reply(self, status: int, payload: Any) -> None:
        body = payload.encode("utf-8") if isinstance(payload, str) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: control requests are not ACME traffic."""


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: State) -> None:
        super().__init__(address, ControlHandler)
        self.state = state


def address(value: str) -> tuple[str, int]:
    host, colon, port = value.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{value} is not IP:PORT")
    return host, int(port)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Fault-injecting HTTPS reverse proxy in front of Pebble (see the module docstring).")
    parser.add_argument("--listen", type=address, required=True)
    parser.add_argument("--control", type=address, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--log")
    args = parser.parse_args(argv)
    if not args.control[0].startswith("127."):
        parser.error("--control must be a loopback address")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    state = State(args.log)
    if args.log:
        open(args.log, "w", encoding="utf-8").close()
    proxy = ProxyServer(args.listen, context, Upstream(args.upstream, args.ca), state)
    control = ControlServer(args.control, state)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=control.serve_forever, name="control", daemon=True).start()
    print(f"fault_proxy: serving {proxy.base} -> {args.upstream}, control http://{args.control[0]}:{args.control[1]}", flush=True)
    try:
        proxy.serve_forever()
    finally:
        print("fault_proxy: stopped", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
