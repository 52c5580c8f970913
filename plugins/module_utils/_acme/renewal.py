# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The renewal decision for one certificate, with ACME Renewal Information (RFC 9773).

Everything here takes ``now`` as an argument, so the decision can be tested at any
instant. The order of the reasons is the order of the checks:

1. ``missing``        the certificate file does not exist;
2. ``names_changed``  its subjectAltName differs from the wanted identifiers;
3. ``key_changed``    its public key is not the wanted key's;
4. ``ari_window``     the CA's suggested renewal window has begun (``now >= start``);
5. ``expiring``       fewer than ``renew_before_days`` days, or less than
                      ``renew_before_fraction`` of the lifetime, are left.

RFC 9773 section 4.2 asks clients to pick a random time inside the suggested window.
This module picks the window's ``start`` instead: a run decides once, with no state
to remember a random pick, and a scheduled job that comes back at ``next_check_at``
must reach the same answer. Spreading the load is left to the CA, which spreads the
windows it hands out, and to the job's own schedule.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.certs import (
    CertificateInfo,
    ari_cert_id,
    certificate_info,
    split_pem_chain,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeClient, resolve_directory
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError, AcmeProblem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier, parse_identifiers
from ansible_collections.certfleet.acme.plugins.module_utils._acme.issuance_record import load_record
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import load_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import CertificateStatus
from ansible_collections.certfleet.acme.plugins.module_utils._acme.retry_after import ARI
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import read_bytes, read_state
from ansible_collections.certfleet.acme.plugins.module_utils._acme.times import ceil_second, format_time, parse_rfc3339

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:  # reported by module.require_libraries
    UnsupportedAlgorithm = ValueError  # keeps the except clauses below valid

NO_REASON = "none"
DEFAULT_RENEW_BEFORE_DAYS = 30
MAX_RENEW_BEFORE_DAYS = 100000  # far beyond any certificate; keeps the date arithmetic in range
# Without a Retry-After from the CA, the next check is this far away (Pebble and
# Let's Encrypt answer 6 hours too).
DEFAULT_CHECK_INTERVAL = timedelta(hours=6)
ARI_CONTEXT = "Fetching the certificate's renewal information (ARI)"


# -- ARI (RFC 9773) --------------------------------------------------------------------


@dataclass(frozen=True)
class RenewalWindow:
    """A usable ``renewalInfo`` answer (RFC 9773 section 4.2), times exactly as the CA sent them (in UTC)."""

    start: datetime
    end: datetime
    explanation_url: str | None = None
    retry_after: float | None = None

    @property
    def renewal_time(self) -> datetime:
        """The moment in the window this module renews at: its start (see the module docstring)."""
        return self.start

    def to_result(self) -> dict[str, Any]:
        return {
            "suggested_window": {"start": format_time(self.start), "end": format_time(self.end)},
            "explanation_url": self.explanation_url,
            "retry_after_seconds": None if self.retry_after is None else int(math.ceil(self.retry_after)),
        }


def renewal_info_url(base: str, cert_id: str) -> str:
    """``<renewalInfo>/<cert id>`` (RFC 9773 section 4.1), whether or not the directory's URL ends in a slash."""
    return f"{base.rstrip('/')}/{cert_id}"


def parse_renewal_info(body: bytes | str, retry_after: float | None = None) -> RenewalWindow:
    """Parse a ``renewalInfo`` body; raises ``ValueError`` saying what is wrong with it.

    A missing or empty ``explanationURL`` is fine; a window whose end is not after its
    start is invalid and must be treated as no answer (RFC 9773 section 4.2).
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the body is not UTF-8 text") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    window = data.get("suggestedWindow")
    if not isinstance(window, dict):
        raise ValueError("suggestedWindow is missing or not an object")
    if "start" not in window or "end" not in window:
        raise ValueError("suggestedWindow lacks start or end")
    start = parse_rfc3339(window["start"])
    end = parse_rfc3339(window["end"])
    if end <= start:
        raise ValueError(f"suggestedWindow ends ({window['end']}) at or before it starts ({window['start']})")
    explanation = data.get("explanationURL")
    return RenewalWindow(
        start=start,
        end=end,
        explanation_url=explanation if isinstance(explanation, str) and explanation else None,
        retry_after=retry_after,
    )


def fetch_renewal_info(client: AcmeClient, cert_id: str, now: datetime) -> tuple[RenewalWindow | None, list[str]]:
    """Ask the CA's ``renewalInfo`` for ``cert_id``: (window or None, warnings).

    Never raises for what the CA or the network does: a nightly job must still decide
    by expiry when the CA does not know the certificate (404, or 400 for an issuer it
    does not recognise), is unreachable, or answers nonsense. A directory without
    ``renewalInfo`` means the CA has no ARI: no window and no warning.
    """
    try:
        base = client.directory.get("renewalInfo")
    except AcmeError as exc:
        return None, [f"ARI not asked: {exc.msg}. The renewal was decided without the CA's renewal window"]
    if not isinstance(base, str) or not base:
        return None, []
    url = renewal_info_url(base, cert_id)
    try:
        response = client.get(url, context=ARI_CONTEXT)
    except AcmeProblem as exc:
        hint = ""
        if exc.status in (400, 404):
            hint = f" (was the certificate issued by the CA at {client.directory_url}?)"
        return None, [f"{exc.msg}{hint}. The renewal was decided without the CA's renewal window"]
    except AcmeError as exc:
        return None, [f"{exc.msg}. The renewal was decided without the CA's renewal window"]
    if response.status != 200:
        return None, [f"{ARI_CONTEXT}: {url} answered HTTP {response.status} instead of 200. The renewal was decided without the CA's renewal window"]
    try:
        window = parse_renewal_info(response.body, response.retry_after)
    except ValueError as exc:
        return None, [f"{ARI_CONTEXT}: {url} answered an unusable renewalInfo: {exc}. The renewal was decided without the CA's renewal window"]
    return window, []


# -- the decision ----------------------------------------------------------------------


@dataclass
class Decision:
    """What is due, why, and when to look again."""

    renewal_due: bool
    reasons: list[str] = field(default_factory=list)
    due_by_expiry_at: datetime | None = None
    next_check_at: datetime | None = None

    @property
    def reason(self) -> str:
        return self.reasons[0] if self.reasons else NO_REASON


def expiry_due_at(cert: CertificateInfo, renew_before_days: float = DEFAULT_RENEW_BEFORE_DAYS, renew_before_fraction: float | None = None) -> datetime:
    """The instant after which the certificate is due by expiry.

    Due means ``days_left < renew_before_days``, or, with a fraction, less than that
    fraction of the lifetime (``not_after - not_before``) left; both are "now is later
    than this instant".
    """
    due = cert.not_after - timedelta(days=renew_before_days)
    if renew_before_fraction is not None:
        due = min(due, cert.not_after - timedelta(seconds=cert.lifetime_seconds * renew_before_fraction))
    return due


def next_check_time(now: datetime, renewal_due: bool, due_by_expiry_at: datetime | None, window: RenewalWindow | None) -> datetime:
    """When to run the check again (whole seconds, never before ``now``).

    Now, when renewal is due. Otherwise after the ARI answer's ``Retry-After`` (kept
    between one minute and one day, RFC 9773 section 4.3) or, without one, after 6 hours;
    but never later than the moment the certificate becomes due: one second after the
    expiry rule's instant (the rule is a strict "less than"), or the start of the ARI window.
    """
    if renewal_due or due_by_expiry_at is None:
        return ceil_second(now)
    interval = DEFAULT_CHECK_INTERVAL
    if window is not None and window.retry_after is not None:
        interval = timedelta(seconds=ARI.wait(window.retry_after, DEFAULT_CHECK_INTERVAL.total_seconds()))
    candidates = [now + interval, due_by_expiry_at + timedelta(seconds=1)]
    if window is not None:
        candidates.append(window.renewal_time)
    return ceil_second(max(now, min(candidates)))


def decide(
    cert: CertificateInfo | None,
    now: datetime,
    *,
    renew_before_days: float = DEFAULT_RENEW_BEFORE_DAYS,
    renew_before_fraction: float | None = None,
    wanted_identifiers: list[Identifier] | None = None,
    wanted_public_key: bytes | None = None,
    wanted_key_missing: bool = False,
    ca_changed: bool = False,
    window: RenewalWindow | None = None,
) -> Decision:
    """Every reason that applies, in the documented order, and the next check time.

    ``wanted_public_key`` is the wanted key's SubjectPublicKeyInfo in DER;
    ``wanted_key_missing`` says the wanted key file does not exist yet (a certificate
    cannot match a key that is still to be generated); ``ca_changed`` that the certificate's
    issuance record names another directory than the run's (``issuance_record``).
    """
    if cert is None:
        return Decision(renewal_due=True, reasons=["missing"], next_check_at=ceil_second(now))
    reasons: list[str] = []
    if wanted_identifiers is not None and _name_set(cert.identifiers) != _name_set(wanted_identifiers):
        reasons.append("names_changed")
    if wanted_key_missing or (wanted_public_key is not None and wanted_public_key != cert.public_key_der):
        reasons.append("key_changed")
    if ca_changed:
        reasons.append("ca_changed")
    if window is not None and now >= window.renewal_time:
        reasons.append("ari_window")
    due_at = expiry_due_at(cert, renew_before_days, renew_before_fraction)
    if now > due_at:
        reasons.append("expiring")
    due = bool(reasons)
    return Decision(
        renewal_due=due,
        reasons=reasons,
        due_by_expiry_at=due_at,
        next_check_at=next_check_time(now, due, due_at, window),
    )


def _name_set(identifiers: list[Identifier]) -> set[tuple[str, str]]:
    return {(identifier.type, identifier.value.lower()) for identifier in identifiers}


# -- files -----------------------------------------------------------------------------


def load_certificate(path: str) -> tuple[CertificateInfo, str] | None:
    """The first certificate of the file at ``path`` (the leaf of a fullchain) and its PEM.

    None when the file does not exist; ``AcmeOptionError`` naming ``cert_path`` when it
    cannot be read or holds no certificate. PEM is expected; DER is accepted too. The
    file's content never appears in a message.
    """
    data = read_bytes(path, "cert_path")
    if data is None:
        return None
    if not data.strip():
        raise AcmeOptionError("cert_path", f"cert_path {path} is empty; it should hold a PEM certificate (leaf or fullchain)")
    blocks = split_pem_chain(data.decode("utf-8", "replace"))
    try:
        if blocks:
            pem = blocks[0]
        elif b"-----BEGIN" in data:
            raise ValueError("no PEM block of type CERTIFICATE")
        else:
            pem = x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.PEM).decode("ascii")
        return certificate_info(pem), pem
    except (ValueError, UnsupportedAlgorithm) as exc:
        reason = str(exc) if blocks or b"-----BEGIN" in data else "neither PEM nor DER"
        raise AcmeOptionError("cert_path", f"cert_path {path} does not hold a readable X.509 certificate ({reason}); give the leaf or fullchain PEM") from None


def load_wanted_public_key(path: str, passphrase: str | None = None, warn: Callable[[str], None] | None = None) -> bytes | None:
    """The public key (SubjectPublicKeyInfo DER) of the private key at ``path``; None when the file does not exist.

    Errors name ``private_key_path`` and never contain key material. A key file that group or
    others may read is used, and ``warn`` hears of it: the renewal check only reads it.
    """
    state = read_state(path, "private_key_path")
    data = state.content
    if data is None:
        return None
    if warn is not None and state.mode is not None and state.mode & 0o077:
        warn(
            f"private_key_path {path} is readable by group or others (mode {state.mode:04o}); it holds the certificate's private key: "
            "chmod 0600 it (certfleet.acme.acme_finalize rewrites it with mode 0600 when it next writes the certificate)"
        )
    key = load_private_key(data, "private_key_path", passphrase, path=path, passphrase_option="private_key_passphrase")
    return key.crypto_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# -- one module run --------------------------------------------------------------------


def check_options(params: dict[str, Any]) -> list[Identifier] | None:
    """Validate the decision options before any file is read; returns the parsed identifiers."""
    days = params.get("renew_before_days")
    if days is not None and not 0 <= days <= MAX_RENEW_BEFORE_DAYS:
        raise AcmeOptionError("renew_before_days", f"renew_before_days must be between 0 and {MAX_RENEW_BEFORE_DAYS} days; got {days}")
    fraction = params.get("renew_before_fraction")
    if fraction is not None and not 0 < fraction < 1:
        raise AcmeOptionError(
            "renew_before_fraction",
            f"renew_before_fraction must be between 0 and 1 (exclusive), for example 0.33; got {fraction}",
        )
    if params.get("identifiers") is None:
        return None
    return parse_identifiers(params["identifiers"], "identifiers")


def check_certificate(
    params: dict[str, Any],
    *,
    client_factory: Callable[[], AcmeClient],
    warn: Callable[[str], None],
    now: datetime | None = None,
    ari_when_due: bool = True,
) -> CertificateStatus:
    """The whole ``acme_certificate_info`` run: read, ask ARI (at most the directory and one GET), decide, report.

    With ``ari_when_due`` false, ARI is not asked for a certificate that is due anyway
    (names, key or expiry): its window could only add the reason ``ari_window``, and a
    renewal about to be ordered needs the certificate ID only, which is computed here.
    Changes nothing anywhere, so check mode needs no special case.
    """
    wanted = check_options(params)
    use_ari = params.get("ari", True)
    client = client_factory() if use_ari else None  # option errors (directory, ca_path) fail before anything is read
    now = now or datetime.now(timezone.utc)
    renew_before_days = params.get("renew_before_days")
    if renew_before_days is None:
        renew_before_days = DEFAULT_RENEW_BEFORE_DAYS
    fraction = params.get("renew_before_fraction")
    path = params["cert_path"]

    loaded = load_certificate(path)
    if loaded is None:
        status = _result(None, None, None, decide(None, now), now)
        return _chain_facts(status, path, wanted)
    cert, pem = loaded

    wanted_key, key_missing = _wanted_key(params, warn)
    issued_by = _issuing_directory(path, cert)
    ca_changed = issued_by is not None and issued_by != resolve_directory(params.get("directory"))
    cert_id = ari_cert_id(pem)
    window: RenewalWindow | None = None
    decide_for_cert = functools.partial(
        decide,
        cert,
        now,
        renew_before_days=renew_before_days,
        renew_before_fraction=fraction,
        wanted_identifiers=wanted,
        wanted_public_key=wanted_key,
        wanted_key_missing=key_missing,
        ca_changed=ca_changed,
    )
    decision = decide_for_cert()
    # The window could only add a reason to a certificate that is due anyway; and the CA the run
    # uses does not know a certificate another CA issued (it would answer 404).
    if client is not None and not ca_changed and (ari_when_due or not decision.renewal_due):
        window = _renewal_window(client, cert, cert_id, path, now, warn)
        if window is not None:
            decision = decide_for_cert(window=window)
    status = _result(cert, cert_id, window, decision, now)
    status.issuing_directory = issued_by
    status.replaces = replaces_for(cert_id, use_ari=use_ari, ca_changed=ca_changed)
    return _chain_facts(status, path, wanted)


def replaces_for(cert_id: str | None, *, use_ari: bool, ca_changed: bool) -> str | None:
    """The ``replaces`` of a renewal order for a certificate in place (RFC 9773 section 5), or None.

    Every path (acme_order's ``certificate``, the batch, the certificate role) sends what this
    says: the certificate's ARI ID while ARI is on and the certificate came from the run's CA. A
    certificate of another CA (``ca_changed``) is unknown to this one. No ARI lookup is needed
    first: a CA that refuses the ``replaces`` gets the order again without it
    (order_requests.REPLACES_REFUSALS).
    """
    if cert_id is None or not use_ari or ca_changed:
        return None
    return cert_id


def _chain_facts(status: CertificateStatus, cert_path: str, wanted: list[Identifier] | None) -> CertificateStatus:
    """The options the result hands on to acme_order's ``certificate``: the file checked and the names wanted."""
    status.cert_path = cert_path
    status.wanted_identifiers = [identifier.value for identifier in wanted] if wanted is not None else None
    return status


def _renewal_window(
    client: AcmeClient, cert: CertificateInfo, cert_id: str | None, path: str, now: datetime, warn: Callable[[str], None]
) -> RenewalWindow | None:
    """The CA's renewal window for ``cert`` (RFC 9773 section 4.2), when it can be asked; every problem a warning."""
    if cert_id is None:
        warn(
            f"ARI not asked: the certificate in {path} has no Authority Key Identifier, which the ARI "
            "certificate ID needs (RFC 9773 section 4.1); set ari: false for certificates not issued by an ACME CA"
        )
        return None
    if cert.not_after <= now:
        return None  # RFC 9773 section 4.3: no more ARI checks for an expired certificate; it is due anyway
    window, warnings = fetch_renewal_info(client, cert_id, now)
    for warning in warnings:
        warn(warning)
    return window


def _issuing_directory(cert_path: str, cert: CertificateInfo) -> str | None:
    """The directory that issued ``cert``, as its issuance record says; None without a usable record."""
    record = load_record(cert_path, cert.serial)
    return record.directory if record is not None else None


def _wanted_key(params: dict[str, Any], warn: Callable[[str], None]) -> tuple[bytes | None, bool]:
    """The public key the certificate must be for (``private_key_path``), and whether that file is missing."""
    if not params.get("private_key_path"):
        return None, False
    wanted_key = load_wanted_public_key(params["private_key_path"], params.get("private_key_passphrase"), warn)
    if wanted_key is None:
        warn(f"private_key_path {params['private_key_path']} does not exist; the certificate cannot be for that key, so renewal is due (key_changed)")
        return None, True
    return wanted_key, False


def _result(
    cert: CertificateInfo | None,
    cert_id: str | None,
    window: RenewalWindow | None,
    decision: Decision,
    now: datetime,
) -> CertificateStatus:
    status = CertificateStatus(
        exists=cert is not None,
        renewal_due=decision.renewal_due,
        reason=decision.reason,
        reasons=list(decision.reasons),
        cert_id=cert_id,
        ari=window.to_result() if window else None,
        next_check_at=format_time(decision.next_check_at or ceil_second(now)),
    )
    if cert is not None:
        status.serial = cert.serial
        status.not_before = format_time(cert.not_before)
        status.not_after = format_time(cert.not_after)
        status.days_left = round(cert.days_left(now), 2)
        status.identifiers = [identifier.value for identifier in cert.identifiers]
        status.issuer = cert.issuer
    return status
