# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The batch path's own logic: steps, per-certificate options, isolation, the merged result."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.certfleet.acme.plugins.module_utils._acme import batch_run as batch_module
from ansible_collections.certfleet.acme.plugins.module_utils._acme.batch_run import UNANSWERED_LIMIT, certificate_params, check_steps, run_batch, summarize
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeNetworkError, AcmeOptionError, AcmeProblem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import CertificateOutcome
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import make_cert, private_key_pem

CA_KEY = ec.generate_private_key(ec.SECP256R1())


def batch_params(tmp_path, certificates, **options):
    params = {
        "certificates": certificates,
        "state_dir": str(tmp_path / "orders"),
        "steps": ["order", "validate", "finalize"],
        "workers": 4,
        "challenge": None,
        "profile": None,
        "issuer_domain_name": None,
        "persist_policy_wildcard": False,
        "persist_until": None,
        "dns_ttl": 60,
        "renew_before_days": 30,
        "renew_before_fraction": None,
        "ari": True,
        "lock_timeout": 5,
        "self_test_attempts": 10,
        "self_test_delay": 2,
        "wait_timeout": 120,
    }
    params.update(options)
    return params


def entry(tmp_path, name, names=None, **extra):
    base = {
        "name": name,
        "identifiers": names or [f"{name}.example.test"],
        "cert_path": str(tmp_path / f"{name}.crt"),
        "private_key_path": str(tmp_path / f"{name}.key"),
        "chain_path": None,
        "fullchain_path": None,
        "challenge": None,
        "profile": None,
        "issuer_domain_name": None,
        "persist_policy_wildcard": None,
        "persist_until": None,
    }
    base.update(extra)
    return base


@pytest.mark.parametrize("steps", [["order"], ["validate", "finalize"], ["order", "validate", "finalize"], ["finalize"]])
def test_consecutive_steps_are_accepted(steps):
    assert check_steps(steps) == steps


@pytest.mark.parametrize("steps", [["order", "finalize"], ["validate", "order"], []])
def test_steps_with_a_gap_or_out_of_order_are_refused(steps):
    with pytest.raises(AcmeOptionError) as caught:
        check_steps(steps)
    assert caught.value.option == "steps"


def test_an_entry_falls_back_to_the_module_options_and_gets_its_state_file(tmp_path):
    entries = [entry(tmp_path, "a"), entry(tmp_path, "b", challenge="dns-01", profile="shortlived")]
    params = batch_params(tmp_path, entries, challenge="dns-persist-01", profile="default")
    first, second = certificate_params(params)
    assert (first["challenge"], first["profile"]) == ("dns-persist-01", "default")
    assert (second["challenge"], second["profile"]) == ("dns-01", "shortlived")
    assert first["state_path"] == str(tmp_path / "orders" / "a.order.json")
    assert "certificates" not in first
    # What the single-certificate modules take and a batch decides itself.
    assert (first["order_uri"], first["replaces"], first["csr_path"], first["validate"]) == (None, None, None, True)


def test_an_entry_may_name_its_own_state_file(tmp_path):
    """The certificates role passes <dir>/<name>/order.json: the file (and lock) the certificate role uses."""
    own = str(tmp_path / "www" / "order.json")
    first, second = certificate_params(batch_params(tmp_path, [entry(tmp_path, "www", state_path=own), entry(tmp_path, "api")]))
    assert first["state_path"] == own
    assert second["state_path"] == str(tmp_path / "orders" / "api.order.json")
    with pytest.raises(AcmeOptionError) as caught:
        certificate_params(batch_params(tmp_path, [entry(tmp_path, "a", state_path=own), entry(tmp_path, "b", state_path=own)]))
    assert "uses " + own + " as state_path, which certificates[0] (a) uses already" in caught.value.msg


def test_the_state_files_folder_is_made_before_the_order_step_locks_it(tmp_path):
    own = tmp_path / "www" / "order.json"
    params = batch_params(tmp_path, [entry(tmp_path, "www", state_path=str(own))], ari=False)
    result = run_batch(params, connect=lambda: None, warn=lambda text: None, check_mode=False).to_result()
    # No certificate yet: due; the order step then needs the CA, which this test does not give.
    assert result["certificates"][0]["status"] == "failed"
    assert own.parent.is_dir() and (own.parent.stat().st_mode & 0o777) == 0o700
    assert (tmp_path / "www" / "order.json.lock").exists()


def test_two_certificates_writing_one_file_are_refused(tmp_path):
    shared = str(tmp_path / "same.crt")
    params = batch_params(tmp_path, [entry(tmp_path, "a", cert_path=shared), entry(tmp_path, "b", fullchain_path=str(tmp_path / "x" / ".." / "same.crt"))])
    with pytest.raises(AcmeOptionError) as caught:
        certificate_params(params)
    assert caught.value.option == "certificates"
    assert "certificates[1] (b) uses" in caught.value.msg and "which certificates[0] (a) uses already" in caught.value.msg


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden"])
def test_a_name_that_is_no_file_name_is_refused(tmp_path, name):
    with pytest.raises(AcmeOptionError) as caught:
        certificate_params(batch_params(tmp_path, [entry(tmp_path, name)]))
    assert "not usable as a file name in state_dir" in caught.value.msg


def test_an_apex_and_its_wildcard_in_two_certificates_share_one_record():
    results = [
        CertificateOutcome(
            name="apex",
            status="pending",
            changed=True,
            dns_proofs=[{"identifier": "example.test", "name": "_acme-challenge.example.test", "value": "one", "certificate": "apex"}],
        ),
        CertificateOutcome(
            name="wild",
            status="pending",
            changed=True,
            dns_proofs=[{"identifier": "*.example.test", "name": "_acme-challenge.example.test", "value": "two", "certificate": "wild"}],
        ),
        CertificateOutcome(name="broken", status="failed", failed=True, msg="why"),
    ]
    summary = summarize(results, 120).to_result()
    assert summary["dns_records"] == [
        {
            "name": "_acme-challenge.example.test",
            "type": "TXT",
            "values": ["one", "two"],
            "ttl": 120,
            "identifiers": ["example.test", "*.example.test"],
            "rdata": ['"one"', '"two"'],
        }
    ]
    assert summary["bind"] == ['_acme-challenge.example.test. 120 IN TXT "one"', '_acme-challenge.example.test. 120 IN TXT "two"']
    assert summary["counts"] == {"pending": 2, "failed": 1}
    assert summary["failed_certificates"] == [{"name": "broken", "msg": "why"}]
    assert summary["changed"] is True


def write_certificate(tmp_path, name):
    """A certificate for ``<name>.example.test``, valid since yesterday, and its key: ``<name>.crt`` and ``<name>.key``."""
    key = ec.generate_private_key(ec.SECP256R1())
    names = [f"{name}.example.test"]
    pem = make_cert(names[0], "Test CA", key.public_key(), CA_KEY, ca=False, sans=names, not_before=datetime.now(timezone.utc) - timedelta(days=1))
    (tmp_path / f"{name}.crt").write_text(pem)
    (tmp_path / f"{name}.key").write_bytes(private_key_pem(key))


def test_a_broken_certificate_fails_alone_and_one_not_due_needs_no_ca(tmp_path):
    write_certificate(tmp_path, "good")
    (tmp_path / "broken.crt").write_text("not a certificate\n")
    connected = []

    def connect():
        connected.append(True)
        raise AssertionError("no certificate here needs the CA")

    params = batch_params(tmp_path, [entry(tmp_path, "broken"), entry(tmp_path, "good")], ari=False)
    warnings = []
    result = run_batch(params, connect=connect, warn=warnings.append, check_mode=False).to_result()
    broken, good = result["certificates"]
    assert broken["status"] == "failed" and broken["failed"]
    assert "cert_path" in broken["msg"] and "does not hold a readable X.509 certificate" in broken["msg"]
    assert broken["error"] == {"option": "cert_path"}
    assert (good["status"], good["failed"], good["msg"]) == ("not_due", False, None)
    assert good["serial"] is not None and good["not_after"] is not None
    assert result["counts"] == {"failed": 1, "not_due": 1}
    assert result["changed"] is False
    assert connected == []
    assert (tmp_path / "broken.crt").read_text() == "not a certificate\n"


def test_an_account_that_cannot_be_made_fails_the_batch_once(tmp_path):
    calls = []

    def connect():
        calls.append(True)
        raise AcmeNetworkError("Fetching the ACME directory: cannot reach https://ca.invalid/dir", "https://ca.invalid/dir")

    params = batch_params(tmp_path, [entry(tmp_path, f"c{index}") for index in range(6)], workers=3)
    with pytest.raises(AcmeNetworkError) as caught:
        run_batch(params, connect=connect, warn=lambda text: None, check_mode=False)
    assert "cannot reach https://ca.invalid/dir" in caught.value.msg
    assert calls == [True]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("wait_timeout", -1, "wait_timeout must be zero or more seconds"),
        ("self_test_attempts", 0, "self_test_attempts must be at least 1"),
        ("self_test_delay", -0.5, "self_test_delay must be zero or more seconds"),
    ],
)
def test_a_bound_the_steps_share_fails_the_whole_batch_before_anything_is_made(tmp_path, option, value, message):
    """The same check and message as acme_challenge_proof and acme_finalize, once for the task instead of per certificate."""

    def connect():
        raise AssertionError("connected")

    params = batch_params(tmp_path, [entry(tmp_path, "c0"), entry(tmp_path, "c1")], **{option: value})
    with pytest.raises(AcmeOptionError) as caught:
        run_batch(params, connect=connect, warn=lambda text: None, check_mode=False)
    assert (caught.value.option, caught.value.msg) == (option, message)
    assert not (tmp_path / "orders").exists()


def test_an_unforeseen_exception_fails_its_certificate_alone_with_a_message(tmp_path, monkeypatch):
    """Before, only AcmeError was caught: one worker's ValueError failed the task and lost every other result."""
    for name in ("good", "odd"):
        write_certificate(tmp_path, name)
    real = batch_module.check_certificate

    def check(params, **kwargs):
        if params["name"] == "odd":
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        return real(params, **kwargs)

    monkeypatch.setattr(batch_module, "check_certificate", check)
    params = batch_params(tmp_path, [entry(tmp_path, "odd"), entry(tmp_path, "good")], ari=False)
    result = run_batch(params, connect=lambda: None, warn=lambda text: None, check_mode=False).to_result()
    odd, good = result["certificates"]
    assert (odd["status"], odd["failed"]) == ("failed", True)
    assert odd["msg"].startswith("Unexpected UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff")
    assert "Traceback" not in odd["msg"]
    assert odd["error"] == {"exception_type": "UnicodeDecodeError"}
    assert (good["status"], good["failed"]) == ("not_due", False)
    assert result["failed_certificates"] == [{"name": "odd", "msg": odd["msg"]}]


# -- a CA that stops answering ----------------------------------------------------------------------


def unanswered_after(monkeypatch, answered: set[str]):
    """check_certificate as if the CA answered only for the names in ``answered``; the names asked, in order."""
    asked = []

    def check(params, **kwargs):
        asked.append(params["name"])
        if params["name"] in answered:
            raise AcmeProblem(url="https://ca.test/x", status=403, problem_type="urn:ietf:params:acme:error:unauthorized", detail="no", context="Ordering")
        raise AcmeNetworkError(
            f"Ordering: https://ca.test/order-plz did not answer within request_timeout (10 s) for {params['name']}", "https://ca.test/order-plz"
        )

    monkeypatch.setattr(batch_module, "check_certificate", check)
    return asked


def test_a_ca_that_stops_answering_costs_a_bounded_number_of_certificates(tmp_path, monkeypatch):
    asked = unanswered_after(monkeypatch, set())
    names = [f"c{index:02d}" for index in range(12)]
    params = batch_params(tmp_path, [entry(tmp_path, name) for name in names], workers=1)
    warnings = []
    result = run_batch(params, connect=lambda: None, warn=warnings.append, check_mode=False).to_result()
    # One worker: exactly UNANSWERED_LIMIT certificates tried the CA, none after them.
    assert asked == names[:UNANSWERED_LIMIT]
    statuses = [cert["status"] for cert in result["certificates"]]
    assert statuses == ["failed"] * UNANSWERED_LIMIT + ["not_attempted"] * (12 - UNANSWERED_LIMIT)
    skipped = result["certificates"][-1]
    assert skipped["failed"] is True and skipped["changed"] is False
    assert skipped["msg"].startswith("not attempted: the CA stopped answering (5 certificates in a row could not reach it; the last: ")
    assert "for c04" in skipped["msg"] and skipped["error"] == {"url": "https://ca.test/order-plz"}
    assert result["counts"] == {"failed": UNANSWERED_LIMIT, "not_attempted": 12 - UNANSWERED_LIMIT}
    assert len(result["failed_certificates"]) == 12
    skipped_count = 12 - UNANSWERED_LIMIT
    assert warnings == [f"the CA stopped answering: 5 certificates in a row could not reach it, so {skipped_count} were not attempted (status not_attempted)"]
    # Nothing was written for a certificate that was not attempted: no folder, no state, no lock.
    assert not (tmp_path / "orders" / "c11.order.json").exists() and not (tmp_path / "orders" / "c11.order.json.lock").exists()


def test_an_answer_between_timeouts_keeps_the_batch_going(tmp_path, monkeypatch):
    names = [f"c{index:02d}" for index in range(12)]
    # Every fourth certificate gets an answer (a refusal still is one): never five timeouts in a row.
    asked = unanswered_after(monkeypatch, set(names[3::4]))
    params = batch_params(tmp_path, [entry(tmp_path, name) for name in names], workers=1)
    result = run_batch(params, connect=lambda: None, warn=lambda text: None, check_mode=False).to_result()
    assert asked == names
    assert {cert["status"] for cert in result["certificates"]} == {"failed"}
