# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""renewal.py: the renewal decision, ARI parsing and lookup, the window choice and next_check_at.

Every certificate is generated here with ``cryptography`` (issued by a throwaway CA, with
AKI and SAN), every ``now`` is fixed, and the expected values are computed from the
certificates' own dates, never hard-coded.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeClient
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import parse_identifiers
from ansible_collections.certfleet.acme.plugins.module_utils._acme.issuance_record import IssuanceRecord
from ansible_collections.certfleet.acme.plugins.module_utils._acme.renewal import (
    DEFAULT_CHECK_INTERVAL,
    RenewalWindow,
    check_certificate,
    decide,
    expiry_due_at,
    fetch_renewal_info,
    load_certificate,
    load_wanted_public_key,
    next_check_time,
    parse_renewal_info,
    renewal_info_url,
    replaces_for,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.times import format_time, parse_rfc3339
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import b64url_encode, make_cert, private_key_pem

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
DIR = "https://ca.example/dir"
ARI_BASE = "https://ca.example/renewal-info"
DIRECTORY = {
    "newNonce": "https://ca.example/new-nonce",
    "newAccount": "https://ca.example/new-acct",
    "newOrder": "https://ca.example/new-order",
    "renewalInfo": ARI_BASE,
}
NAMES = ["www.example.com", "example.com"]


# -- certificates made for the tests -----------------------------------------------------


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


CA_KEY = new_key()
CA_CN = "Test Intermediate CA"


def leaf_and_key(
    not_before: datetime,
    lifetime: timedelta,
    names: tuple[str, ...] | list[str] = tuple(NAMES),
    key: ec.EllipticCurvePrivateKey | None = None,
    *,
    aki: bool = True,
    serial: int | None = None,
) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A leaf issued by CA_KEY (AKI from the CA's key) with the names as SAN; PEM and its key."""
    key = key or new_key()
    key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(CA_KEY.public_key()).key_identifier if aki else None
    pem = make_cert(names[0], CA_CN, key.public_key(), CA_KEY, ca=False, serial=serial, aki=key_id, sans=list(names), lifetime=lifetime, not_before=not_before)
    return pem, key


def make_pem(not_before: datetime, lifetime: timedelta, *args, **kwargs) -> str:
    return leaf_and_key(not_before, lifetime, *args, **kwargs)[0]


def ca_pem() -> str:
    return make_cert(CA_CN, CA_CN, CA_KEY.public_key(), CA_KEY, ca=True, serial=1, lifetime=timedelta(days=730), not_before=NOW - timedelta(days=365))


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def expected_cert_id(pem: str) -> str:
    """RFC 9773 section 4.1, computed independently of the collection."""
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    serial_der = cert.serial_number.to_bytes(cert.serial_number.bit_length() // 8 + 1, "big")

    return f"{b64url_encode(aki)}.{b64url_encode(serial_der)}"


@pytest.fixture
def write(tmp_path):
    def write_file(name: str, data: str | bytes) -> str:
        path = os.path.join(str(tmp_path), name)
        # 0600, as a key file should be: a file others may read is warned about.
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(data.encode("ascii") if isinstance(data, str) else data)
        return path

    return write_file


def loaded(pem: str, tmp_path) -> tuple:
    path = os.path.join(str(tmp_path), "c.pem")
    with open(path, "w", encoding="ascii") as handle:
        handle.write(pem)
    return load_certificate(path)


def load_info(pem: str, tmp_path):
    return loaded(pem, tmp_path)[0]


def window_json(start: datetime, end: datetime, **extra) -> str:
    body = {"suggestedWindow": {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    body.update(extra)
    return json.dumps(body)


# -- files ------------------------------------------------------------------------------


def test_missing_file_is_none(tmp_path):
    assert load_certificate(os.path.join(str(tmp_path), "nope.pem")) is None


def test_fullchain_checks_the_leaf(tmp_path):
    leaf = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    info, pem = loaded(leaf + ca_pem(), tmp_path)
    cert = x509.load_pem_x509_certificate(leaf.encode("ascii"))
    assert info.serial == format(cert.serial_number, "x")
    assert pem.strip() == leaf.strip()
    assert [i.value for i in info.identifiers] == NAMES


def test_der_is_accepted(write):
    leaf = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    der = x509.load_pem_x509_certificate(leaf.encode("ascii")).public_bytes(serialization.Encoding.DER)
    info, pem = load_certificate(write("c.der", der))
    assert pem.strip() == leaf.strip()
    assert info.not_after == NOW + timedelta(days=80)


@pytest.mark.parametrize(
    "content",
    [
        b"GARBAGE-CONTENT-5e1d not a certificate\n",
        b"-----BEGIN CERTIFICATE-----\nR0FSQkFHRS1DT05URU5ULTVlMWQ=\n-----END CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\nR0FSQkFHRS1DT05URU5ULTVlMWQ=\n-----END PRIVATE KEY-----\n",
        b"",
        b"\x00\x01\x02GARBAGE-CONTENT-5e1d",
    ],
)
def test_garbage_fails_naming_cert_path(write, content):
    path = write("bad.pem", content)
    with pytest.raises(AcmeOptionError) as caught:
        load_certificate(path)
    assert caught.value.option == "cert_path"
    assert path in caught.value.msg
    assert "GARBAGE-CONTENT-5e1d" not in caught.value.msg
    assert "R0FSQkFHRS1DT05URU5ULTVlMWQ" not in caught.value.msg


def test_directory_fails_naming_cert_path(tmp_path):
    with pytest.raises(AcmeOptionError, match="is a directory") as caught:
        load_certificate(str(tmp_path))
    assert caught.value.option == "cert_path"


def test_wanted_key(write, tmp_path):
    key = new_key()
    assert load_wanted_public_key(write("k.pem", private_key_pem(key))) == spki(key)
    assert load_wanted_public_key(os.path.join(str(tmp_path), "none.pem")) is None
    with pytest.raises(AcmeOptionError) as caught:
        load_wanted_public_key(write("g.pem", b"KEY-GARBAGE-77aa\n"))
    assert caught.value.option == "private_key_path"
    assert "KEY-GARBAGE-77aa" not in caught.value.msg


def test_a_wanted_key_that_others_may_read_is_used_with_a_warning(write):
    key = new_key()
    path = write("open.pem", private_key_pem(key))
    os.chmod(path, 0o640)
    heard: list[str] = []
    assert load_wanted_public_key(path, warn=heard.append) == spki(key)
    assert heard == [
        f"private_key_path {path} is readable by group or others (mode 0640); it holds the certificate's private key: "
        "chmod 0600 it (certfleet.acme.acme_finalize rewrites it with mode 0600 when it next writes the certificate)"
    ]
    os.chmod(path, 0o600)
    heard.clear()
    load_wanted_public_key(path, warn=heard.append)
    assert heard == []


# -- expiry: renew_before_days and renew_before_fraction ---------------------------------------


def test_renew_before_days_boundary(tmp_path):
    cert = load_info(make_pem(NOW - timedelta(days=60), timedelta(days=90)), tmp_path)
    boundary = cert.not_after - timedelta(days=30)
    at = decide(cert, boundary)
    assert cert.days_left(boundary) == 30.0
    assert not at.renewal_due and at.reason == "none" and at.reasons == []
    after = decide(cert, boundary + timedelta(seconds=1))
    assert after.renewal_due and after.reason == "expiring" and after.reasons == ["expiring"]
    assert not decide(cert, boundary - timedelta(seconds=1)).renewal_due
    assert decide(cert, boundary, renew_before_days=31).renewal_due
    assert not decide(cert, boundary + timedelta(days=29), renew_before_days=0).renewal_due


def test_expired_is_expiring(tmp_path):
    cert = load_info(make_pem(NOW - timedelta(days=100), timedelta(days=90)), tmp_path)
    decision = decide(cert, NOW)
    assert cert.days_left(NOW) < 0
    assert decision.reasons == ["expiring"]


def test_fraction_rule_for_short_lived(tmp_path):
    lifetime = timedelta(days=6)
    cert = load_info(make_pem(NOW - timedelta(days=3), lifetime), tmp_path)
    due_at = cert.not_after - lifetime * 0.33
    assert expiry_due_at(cert, 0, 0.33) == due_at
    # renew_before_days alone would wait until 1 day is left.
    assert not decide(cert, due_at, renew_before_days=1, renew_before_fraction=0.33).renewal_due
    later = decide(cert, due_at + timedelta(seconds=1), renew_before_days=1, renew_before_fraction=0.33)
    assert later.reasons == ["expiring"]
    assert not decide(cert, due_at + timedelta(seconds=1), renew_before_days=1).renewal_due
    # Whichever rule comes first decides: 30 days is earlier than a third of 6 days.
    assert decide(cert, NOW, renew_before_days=30, renew_before_fraction=0.33).renewal_due


# -- names and key ------------------------------------------------------------------------


def test_names_changed(tmp_path):
    cert = load_info(make_pem(NOW - timedelta(days=1), timedelta(days=90), ["www.example.com", "example.com", "192.0.2.7"]), tmp_path)
    same = parse_identifiers(["EXAMPLE.com.", "192.0.2.7", "www.example.com"])
    assert not decide(cert, NOW, wanted_identifiers=same).renewal_due
    extra = parse_identifiers(["www.example.com", "example.com", "192.0.2.7", "api.example.com"])
    assert decide(cert, NOW, wanted_identifiers=extra).reasons == ["names_changed"]
    fewer = parse_identifiers(["www.example.com", "example.com"])
    assert decide(cert, NOW, wanted_identifiers=fewer).reasons == ["names_changed"]
    assert not decide(cert, NOW, wanted_identifiers=None).renewal_due


def test_key_changed(tmp_path):
    pem, key = leaf_and_key(NOW - timedelta(days=1), timedelta(days=90))
    cert = load_info(pem, tmp_path)
    assert not decide(cert, NOW, wanted_public_key=spki(key)).renewal_due
    assert decide(cert, NOW, wanted_public_key=spki(new_key())).reasons == ["key_changed"]
    assert decide(cert, NOW, wanted_key_missing=True).reasons == ["key_changed"]


def test_all_reasons_in_order(tmp_path):
    pem = make_pem(NOW - timedelta(days=80), timedelta(days=90))
    cert = load_info(pem, tmp_path)
    window = RenewalWindow(start=NOW - timedelta(days=1), end=NOW + timedelta(days=1))
    decision = decide(
        cert,
        NOW,
        wanted_identifiers=parse_identifiers(["other.example.com"]),
        wanted_public_key=spki(new_key()),
        window=window,
    )
    assert decision.reasons == ["names_changed", "key_changed", "ari_window", "expiring"]
    assert decision.reason == "names_changed"
    missing = decide(None, NOW)
    assert missing.renewal_due and missing.reasons == ["missing"] and missing.reason == "missing"
    assert missing.next_check_at == NOW


# -- the ARI window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset, due",
    [(-timedelta(hours=1), False), (timedelta(0), True), (timedelta(hours=1), True), (timedelta(days=5), True)],
    ids=["before", "at-start", "inside", "after-end"],
)
def test_ari_window(tmp_path, offset, due):
    cert = load_info(make_pem(NOW - timedelta(days=10), timedelta(days=90)), tmp_path)
    start = NOW + timedelta(days=20)
    window = RenewalWindow(start=start, end=start + timedelta(days=2))
    decision = decide(cert, start + offset, window=window)
    assert decision.renewal_due is due
    assert decision.reasons == (["ari_window"] if due else [])
    # Without ARI the same moment is decided by expiry alone (60 days left).
    assert not decide(cert, start + offset).renewal_due


# -- ARI answers ------------------------------------------------------------------------------


def test_parse_renewal_info():
    start = NOW + timedelta(days=50)
    end = start + timedelta(days=2)
    window = parse_renewal_info(window_json(start, end, explanationURL="https://ca.example/why"), 21600.0)
    assert (window.start, window.end) == (start, end)
    assert window.explanation_url == "https://ca.example/why"
    assert window.to_result() == {
        "suggested_window": {"start": format_time(start), "end": format_time(end)},
        "explanation_url": "https://ca.example/why",
        "retry_after_seconds": 21600,
    }


def test_parse_renewal_info_without_explanation_url():
    start = NOW + timedelta(days=50)
    for body in (window_json(start, start + timedelta(days=1)), window_json(start, start + timedelta(days=1), explanationURL="")):
        window = parse_renewal_info(body.encode("utf-8"))
        assert window.explanation_url is None
        assert window.to_result()["retry_after_seconds"] is None


def test_parse_renewal_info_go_timestamps_and_offsets():
    # Go servers send up to nine fractional digits; other servers may use offsets.
    body = json.dumps({"suggestedWindow": {"start": "2026-04-01T10:00:00.123456789Z", "end": "2026-04-03T12:00:00.5+02:00"}})
    window = parse_renewal_info(body)
    assert window.start == datetime(2026, 4, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 4, 3, 10, 0, 0, 500000, tzinfo=timezone.utc)
    assert window.to_result()["suggested_window"] == {"start": "2026-04-01T10:00:00.123456Z", "end": "2026-04-03T10:00:00.5Z"}


def test_pebble_revoked_window_is_kept(tmp_path):
    """Pebble's "renew now" window for a revoked certificate lasts one second, from one hour ago."""
    start = NOW - timedelta(hours=1, milliseconds=600)
    end = start + timedelta(seconds=1)
    body = json.dumps({"suggestedWindow": {"start": format_time(start), "end": format_time(end)}})
    window = parse_renewal_info(body)
    assert (window.start, window.end) == (start, end)
    cert = load_info(make_pem(NOW - timedelta(days=10), timedelta(days=90)), tmp_path)
    decision = decide(cert, NOW, window=window)
    assert decision.reasons == ["ari_window"] and decision.next_check_at == NOW


@pytest.mark.parametrize(
    "body, why",
    [
        ("{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ("[1, 2]", "not a JSON object"),
        ("{}", "suggestedWindow"),
        ('{"suggestedWindow": "soon"}', "suggestedWindow"),
        ('{"suggestedWindow": {"start": "2026-04-01T00:00:00Z"}}', "lacks start or end"),
        ('{"suggestedWindow": {"start": "yesterday", "end": "2026-04-01T00:00:00Z"}}', "RFC 3339"),
        ('{"suggestedWindow": {"start": "2026-02-30T00:00:00Z", "end": "2026-04-01T00:00:00Z"}}', "not a valid date"),
        ('{"suggestedWindow": {"start": "2026-04-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}}', "at or before"),
        ('{"suggestedWindow": {"start": "2026-04-02T00:00:00Z", "end": "2026-04-01T00:00:00Z"}}', "at or before"),
    ],
)
def test_parse_renewal_info_rejects(body, why):
    with pytest.raises(ValueError, match=why):
        parse_renewal_info(body)


def test_parse_rfc3339_leap_second():
    assert parse_rfc3339("2016-12-31T23:59:60Z") == datetime(2017, 1, 1, tzinfo=timezone.utc)


def test_renewal_info_url():
    assert renewal_info_url(ARI_BASE, "a.b") == f"{ARI_BASE}/a.b"
    assert renewal_info_url(ARI_BASE + "/", "a.b") == f"{ARI_BASE}/a.b"


# -- next_check_at ------------------------------------------------------------------------------


def test_next_check_default_interval(tmp_path):
    cert = load_info(make_pem(NOW - timedelta(days=10), timedelta(days=90)), tmp_path)
    decision = decide(cert, NOW)
    assert decision.next_check_at == NOW + DEFAULT_CHECK_INTERVAL


def test_next_check_capped_by_expiry(tmp_path):
    cert = load_info(make_pem(NOW - timedelta(days=10), timedelta(days=90)), tmp_path)
    due_at = cert.not_after - timedelta(days=30)
    now = due_at - timedelta(hours=2)
    decision = decide(cert, now)
    assert not decision.renewal_due
    # One second after the instant: "less than renew_before_days" holds from then on.
    assert decision.next_check_at == due_at + timedelta(seconds=1)
    assert decide(cert, decision.next_check_at).renewal_due


def test_next_check_uses_retry_after_within_limits(tmp_path):
    cert = load_info(make_pem(NOW - timedelta(days=10), timedelta(days=90)), tmp_path)
    start = NOW + timedelta(days=40)

    def at(retry_after):
        window = RenewalWindow(start=start, end=start + timedelta(days=2), retry_after=retry_after)
        return decide(cert, NOW, window=window).next_check_at

    assert at(3600.0) == NOW + timedelta(hours=1)
    assert at(5.0) == NOW + timedelta(minutes=1)  # at least one minute
    assert at(10 * 86400.0) == NOW + timedelta(days=1)  # at most one day
    assert at(None) == NOW + DEFAULT_CHECK_INTERVAL


def test_next_check_capped_by_ari_start(tmp_path):
    cert = load_info(make_pem(NOW - timedelta(days=10), timedelta(days=90)), tmp_path)
    start = NOW + timedelta(minutes=90, milliseconds=250)
    decision = decide(cert, NOW, window=RenewalWindow(start=start, end=start + timedelta(days=1), retry_after=86400.0))
    assert decision.next_check_at == NOW + timedelta(minutes=90, seconds=1)  # whole seconds, not before the start
    assert decide(cert, decision.next_check_at, window=RenewalWindow(start=start, end=start + timedelta(days=1))).reasons == ["ari_window"]


def test_next_check_is_now_when_due_and_whole_seconds():
    now = NOW + timedelta(microseconds=250)
    assert next_check_time(now, True, NOW + timedelta(days=1), None) == NOW + timedelta(seconds=1)
    assert next_check_time(now, False, None, None) == NOW + timedelta(seconds=1)
    assert next_check_time(now, False, NOW + timedelta(days=3), None) == NOW + DEFAULT_CHECK_INTERVAL + timedelta(seconds=1)


# -- the lookup against a scripted CA ------------------------------------------------------------


def test_fetch_renewal_info(session, tmp_path):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    cert_id = expected_cert_id(pem)
    start = NOW + timedelta(days=50)
    session.add("GET", DIR, 200, {"Content-Type": "application/json"}, DIRECTORY)
    headers = {"Content-Type": "application/json", "Retry-After": "21600"}
    session.add("GET", f"{ARI_BASE}/{cert_id}", 200, headers, window_json(start, start + timedelta(days=2)))
    window, warnings = fetch_renewal_info(AcmeClient(DIR, session=session), cert_id, NOW)
    assert warnings == []
    assert window.start == start and window.retry_after == 21600.0
    assert [s.method for s in session.sent] == ["GET", "GET"]


def test_fetch_renewal_info_http_date_retry_after(session, frozen_now):
    start = frozen_now + timedelta(days=50)
    later = format_datetime(frozen_now + timedelta(hours=3), usegmt=True)
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add("GET", f"{ARI_BASE}/x.y", 200, {"Retry-After": later}, window_json(start, start + timedelta(days=2)))
    window, warnings = fetch_renewal_info(AcmeClient(DIR, session=session), "x.y", frozen_now)
    assert warnings == [] and window.retry_after == 3 * 3600


def test_fetch_renewal_info_without_renewal_info_endpoint(session):
    directory = {k: v for k, v in DIRECTORY.items() if k != "renewalInfo"}
    session.add("GET", DIR, 200, {}, directory)
    assert fetch_renewal_info(AcmeClient(DIR, session=session), "x.y", NOW) == (None, [])
    assert len(session.sent) == 1


@pytest.mark.parametrize("status, problem_type", [(404, "urn:ietf:params:acme:error:notFound"), (400, "urn:ietf:params:acme:error:malformed")])
def test_fetch_renewal_info_unknown_certificate_warns(session, status, problem_type):
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add_problem("GET", f"{ARI_BASE}/x.y", status, problem_type, "no such certificate")
    window, warnings = fetch_renewal_info(AcmeClient(DIR, session=session), "x.y", NOW)
    assert window is None
    assert len(warnings) == 1
    assert f"HTTP {status}" in warnings[0] and "issued by the CA" in warnings[0] and "without the CA's renewal window" in warnings[0]


@pytest.mark.parametrize("body", ["{not json", json.dumps({"suggestedWindow": {"start": "2026-04-02T00:00:00Z", "end": "2026-04-01T00:00:00Z"}})])
def test_fetch_renewal_info_unusable_answer_warns(session, body):
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add("GET", f"{ARI_BASE}/x.y", 200, {"Retry-After": "60"}, body)
    window, warnings = fetch_renewal_info(AcmeClient(DIR, session=session), "x.y", NOW)
    assert window is None and len(warnings) == 1 and "unusable renewalInfo" in warnings[0]


class RaisingSession:
    def request(self, method, url, **kwargs):
        raise ConnectionError("connection refused")


def test_fetch_renewal_info_network_error_warns():
    window, warnings = fetch_renewal_info(AcmeClient(DIR, session=RaisingSession()), "x.y", NOW)
    assert window is None and len(warnings) == 1 and "cannot reach" in warnings[0]


# -- a whole run -----------------------------------------------------------------------------------


def params(cert_path, **overrides):
    base = {
        "cert_path": cert_path,
        "identifiers": None,
        "private_key_path": None,
        "private_key_passphrase": None,
        "renew_before_days": 30,
        "renew_before_fraction": None,
        "ari": True,
        "directory": DIR,
    }
    base.update(overrides)
    return base


def run(p, session=None, now=NOW, **options):
    warnings: list[str] = []
    factory = (lambda: AcmeClient(DIR, session=session)) if session is not None else (lambda: pytest.fail("no client expected"))
    return check_certificate(p, client_factory=factory, warn=warnings.append, now=now, **options).to_result(), warnings


def test_run_not_due_with_ari(session, write):
    pem, key = leaf_and_key(NOW - timedelta(days=10), timedelta(days=90))
    cert_id = expected_cert_id(pem)
    start = NOW + timedelta(days=50)
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add("GET", f"{ARI_BASE}/{cert_id}", 200, {"Retry-After": "21600"}, window_json(start, start + timedelta(days=2)))
    cert_path = write("c.pem", pem + ca_pem())
    result, warnings = run(params(cert_path, identifiers=NAMES, private_key_path=write("k.pem", private_key_pem(key))), session)
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    assert warnings == []
    assert result == {
        "changed": False,
        "cert_path": cert_path,
        "wanted_identifiers": NAMES,
        "exists": True,
        "renewal_due": False,
        "reason": "none",
        "reasons": [],
        "serial": format(cert.serial_number, "x"),
        "not_before": format_time(NOW - timedelta(days=10)),
        "not_after": format_time(NOW + timedelta(days=80)),
        "days_left": 80.0,
        "identifiers": NAMES,
        "issuer": "CN=Test Intermediate CA",
        "cert_id": cert_id,
        "replaces": cert_id,
        "issuing_directory": None,
        "ari": {
            "suggested_window": {"start": format_time(start), "end": format_time(start + timedelta(days=2))},
            "explanation_url": None,
            "retry_after_seconds": 21600,
        },
        "next_check_at": format_time(NOW + timedelta(hours=6)),
    }
    assert "PRIVATE KEY" not in json.dumps(result)


def test_run_missing(session, tmp_path):
    result, warnings = run(params(os.path.join(str(tmp_path), "none.pem")), session)
    assert session.sent == [] and warnings == []
    assert result["exists"] is False and result["renewal_due"] is True
    assert result["reason"] == "missing" and result["reasons"] == ["missing"]
    assert result["ari"] is None and result["cert_id"] is None and result["identifiers"] == []
    assert result["next_check_at"] == format_time(NOW)
    # What acme_order's certificate option takes: the file checked; no names were asked for.
    assert result["cert_path"] == os.path.join(str(tmp_path), "none.pem") and result["wanted_identifiers"] is None


def test_run_missing_validates_ari_options_first(tmp_path):
    called = []
    check_certificate(params(os.path.join(str(tmp_path), "none.pem")), client_factory=lambda: called.append(1), warn=print, now=NOW)
    assert called == [1]


def test_run_without_ari_makes_no_request(write):
    pem = make_pem(NOW - timedelta(days=70), timedelta(days=90))
    result, warnings = run(params(write("c.pem", pem), ari=False))
    assert result["ari"] is None and warnings == []
    assert result["reasons"] == ["expiring"] and result["days_left"] == 20.0
    assert result["cert_id"] == expected_cert_id(pem)


def test_run_ari_window_due(session, write):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    start = NOW - timedelta(hours=1)
    session.add("GET", DIR, 200, {}, DIRECTORY)
    body = window_json(start, start + timedelta(days=1), explanationURL="https://ca.example/incident")
    session.add("GET", f"{ARI_BASE}/{expected_cert_id(pem)}", 200, {}, body)
    result, warnings = run(params(write("c.pem", pem)), session)
    assert result["renewal_due"] and result["reason"] == "ari_window"
    assert result["ari"]["explanation_url"] == "https://ca.example/incident"
    assert result["next_check_at"] == format_time(NOW)


def test_run_due_anyway_skips_ari_when_asked(session, write):
    # The batch renews a certificate that expires within renew_before_days without the ARI
    # request: the window could only add a reason, and `replaces` needs only the local cert ID.
    pem = make_pem(NOW - timedelta(days=70), timedelta(days=90))
    result, warnings = run(params(write("c.pem", pem)), session, ari_when_due=False)
    assert session.sent == [] and warnings == []
    assert result["renewal_due"] and result["reasons"] == ["expiring"] and result["ari"] is None
    assert result["cert_id"] == expected_cert_id(pem)


def test_run_due_anyway_still_asks_ari_by_default(session, write):
    # acme_certificate_info reports the CA's window even for a certificate that is due anyway.
    pem = make_pem(NOW - timedelta(days=70), timedelta(days=90))
    start = NOW - timedelta(days=1)
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add("GET", f"{ARI_BASE}/{expected_cert_id(pem)}", 200, {}, window_json(start, start + timedelta(days=2)))
    result, warnings = run(params(write("c.pem", pem)), session)
    assert [sent.url for sent in session.sent] == [DIR, f"{ARI_BASE}/{expected_cert_id(pem)}"] and warnings == []
    assert result["reasons"] == ["ari_window", "expiring"]
    assert result["ari"]["suggested_window"]["start"] == format_time(start)


def test_run_not_due_by_dates_asks_ari_even_when_told_to_skip_for_due(session, write):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    start = NOW - timedelta(hours=1)
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add("GET", f"{ARI_BASE}/{expected_cert_id(pem)}", 200, {}, window_json(start, start + timedelta(days=1)))
    result, _warnings = run(params(write("c.pem", pem)), session, ari_when_due=False)
    assert len(session.sent) == 2
    assert result["renewal_due"] and result["reasons"] == ["ari_window"]


def test_run_unknown_to_ca_decides_by_expiry(session, write):
    pem = make_pem(NOW - timedelta(days=70), timedelta(days=90))
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add_problem("GET", f"{ARI_BASE}/{expected_cert_id(pem)}", 404, "urn:ietf:params:acme:error:notFound", "unknown serial")
    result, warnings = run(params(write("c.pem", pem)), session)
    assert len(warnings) == 1 and "404" in warnings[0]
    assert result["ari"] is None and result["reasons"] == ["expiring"]


def test_run_expired_skips_ari(session, write):
    pem = make_pem(NOW - timedelta(days=100), timedelta(days=90))
    result, warnings = run(params(write("c.pem", pem)), session)
    assert session.sent == [] and warnings == []
    assert result["reasons"] == ["expiring"] and result["days_left"] == -10.0


def test_run_without_aki_warns_and_skips_ari(session, write):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90), aki=False)
    result, warnings = run(params(write("c.pem", pem)), session)
    assert session.sent == [] and result["cert_id"] is None and result["ari"] is None
    assert len(warnings) == 1 and "Authority Key Identifier" in warnings[0]


def test_run_key_file_missing_is_key_changed(write, tmp_path):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    result, warnings = run(params(write("c.pem", pem), ari=False, private_key_path=os.path.join(str(tmp_path), "new.pem")))
    assert result["reasons"] == ["key_changed"]
    assert len(warnings) == 1 and "does not exist" in warnings[0]


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"renew_before_days": -1}, "renew_before_days"),
        ({"renew_before_days": 10**12}, "renew_before_days"),
        ({"renew_before_fraction": 0.0}, "renew_before_fraction"),
        ({"renew_before_fraction": 1.0}, "renew_before_fraction"),
        ({"identifiers": []}, "identifiers"),
        ({"identifiers": ["not a name"]}, "identifiers"),
    ],
)
def test_run_bad_options(tmp_path, overrides, option):
    with pytest.raises(AcmeOptionError) as caught:
        run(params(os.path.join(str(tmp_path), "none.pem"), ari=False, **overrides))
    assert caught.value.option == option


# -- a change of CA ----------------------------------------------------------------------------------


def recorded(write, pem: str, directory: str, serial: str | None = None) -> str:
    """A certificate file with the issuance record acme_finalize writes beside it."""
    path = write("c.pem", pem)
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    record = IssuanceRecord(directory=directory, serial=serial or format(cert.serial_number, "x"))
    write("c.pem.acme.json", record.to_json())
    os.chmod(path + ".acme.json", 0o644)
    return path


def test_a_certificate_of_another_ca_is_due_without_asking_this_cas_ari(session, write):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    path = recorded(write, pem, "https://acme-staging-v02.api.letsencrypt.org/directory")
    result, warnings = run(params(path, identifiers=NAMES), session)
    # The CA the run uses is not asked about another CA's certificate (it would answer 404).
    assert session.sent == [] and warnings == []
    assert result["renewal_due"] is True
    assert result["reason"] == "ca_changed" and result["reasons"] == ["ca_changed"]
    assert result["issuing_directory"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
    assert result["ari"] is None and result["next_check_at"] == format_time(NOW)


def test_a_certificate_of_this_ca_is_not_due_for_its_record(session, write):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    path = recorded(write, pem, DIR)
    session.add("GET", DIR, 200, {}, DIRECTORY)
    session.add("GET", f"{ARI_BASE}/{expected_cert_id(pem)}", 404, {}, {"type": "urn:ietf:params:acme:error:malformed"})
    result, _warnings = run(params(path, identifiers=NAMES), session)
    assert result["renewal_due"] is False and result["issuing_directory"] == DIR


def test_a_preset_name_is_compared_as_its_url(write):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    path = recorded(write, pem, "https://acme-v02.api.letsencrypt.org/directory")
    result, _warnings = run(params(path, identifiers=NAMES, directory="letsencrypt", ari=False))
    assert result["renewal_due"] is False and result["reasons"] == []
    result, _warnings = run(params(path, identifiers=NAMES, directory="letsencrypt_staging", ari=False))
    assert result["reasons"] == ["ca_changed"]


def test_a_record_of_an_earlier_certificate_is_ignored(write):
    pem = make_pem(NOW - timedelta(days=10), timedelta(days=90))
    path = recorded(write, pem, "https://other.example/dir", serial="01")
    result, _warnings = run(params(path, identifiers=NAMES, ari=False))
    assert result["renewal_due"] is False and result["issuing_directory"] is None


@pytest.mark.parametrize(
    ("cert_id", "use_ari", "ca_changed", "expected"),
    [
        ("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", True, False, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"),
        ("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", False, False, None),  # ari: false sends none
        ("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", True, True, None),  # another CA's certificate
        (None, True, False, None),  # no certificate, or one without an Authority Key Identifier
    ],
)
def test_replaces_is_the_cert_id_of_this_cas_certificate_while_ari_is_on(cert_id, use_ari, ca_changed, expected):
    assert replaces_for(cert_id, use_ari=use_ari, ca_changed=ca_changed) == expected


def test_a_certificate_due_by_expiry_names_itself_in_replaces_without_an_ari_lookup(session, write):
    # The batch's decision: due anyway, so ARI is not asked (the session answers nothing), and replaces is still its ID.
    pem, _key = leaf_and_key(NOW - timedelta(days=85), timedelta(days=90))
    cert_path = write("c.pem", pem + ca_pem())
    result, _warnings = run(params(cert_path, identifiers=NAMES), session, ari_when_due=False)
    assert result["renewal_due"] and result["reason"] == "expiring"
    assert result["ari"] is None
    assert result["replaces"] == expected_cert_id(pem)
