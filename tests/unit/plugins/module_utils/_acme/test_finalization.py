# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Tests of finalize_run.py: what acme_finalize does with an order (RFC 8555 sections 7.4 and 7.4.2)."""

from __future__ import annotations

import datetime
import errno
import json
import os
import stat
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.certfleet.acme.plugins.module_utils._acme.certs import key_public_der
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.finalize_run import (
    FinalizeRun,
    check_destinations,
    check_options,
    destinations,
    file_contents,
    leaf_option,
    pending_key_path,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key, load_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import OrderState, save_order_state
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import PRIVATE_MODE, parse_mode
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import Reply, ScriptedAccount, b64url_decode, make_cert

CA = "https://ca.test"
ACCOUNT_URI = f"{CA}/acct/1"
ORDER_URI = f"{CA}/order/1"
FINALIZE_URI = f"{ORDER_URI}/finalize"
CERT_URI = f"{CA}/cert/1"
ALT_URI = f"{CA}/cert/1/alt"
NAMES = ["a.example.test", "b.example.test"]


# -- fakes ----------------------------------------------------------------------------


def account_with(routes: dict[str, list[Any]]) -> ScriptedAccount:
    return ScriptedAccount(routes, ACCOUNT_URI)


def order_json(status: str, certificate: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": status,
        "identifiers": [{"type": "dns", "value": name} for name in NAMES],
        "authorizations": [],
        "finalize": FINALIZE_URI,
    }
    if certificate:
        data["certificate"] = certificate
    return data


class Issuer:
    """A root and an intermediate built with the shared ``make_cert``; the intermediate can be cross-signed by another root."""

    def __init__(self) -> None:
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.roots = {name: ec.generate_private_key(ec.SECP256R1()) for name in ("Root A", "Root B")}

    def intermediate(self, root: str) -> str:
        return make_cert("Intermediate", root, self.intermediate_key.public_key(), self.roots[root], ca=True)

    def leaf(self, public_key: Any, names: list[str]) -> str:
        return make_cert(names[0], "Intermediate", public_key, self.intermediate_key, ca=False, sans=names)


def csr_public_key(payload: dict[str, Any]) -> Any:
    return x509.load_der_x509_csr(b64url_decode(payload["csr"])).public_key()


def params(tmp_path: Any, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "order_uri": None,
        "state_path": str(tmp_path / "order.json"),
        "private_key_path": str(tmp_path / "cert.key"),
        "key_type": "ec256",
        "rotate_key": False,
        "csr_path": None,
        "cert_path": str(tmp_path / "cert.pem"),
        "chain_path": str(tmp_path / "chain.pem"),
        "fullchain_path": str(tmp_path / "fullchain.pem"),
        "mode": "0644",
        "owner": None,
        "group": None,
        "preferred_chain": None,
        "wait_timeout": 60,
    }
    values.update(overrides)
    return values


def record_order(tmp_path: Any) -> str:
    path = str(tmp_path / "order.json")
    save_order_state(path, OrderState(ORDER_URI, NAMES, "http-01", CA, ACCOUNT_URI))
    return path


def make_run(values: dict[str, Any], account: ScriptedAccount, warnings: list[str] | None = None, **kwargs: Any) -> FinalizeRun:
    return FinalizeRun(values, connect=lambda: account, warn=(warnings if warnings is not None else []).append, **kwargs)


def read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def issuing_ca(issuer: Issuer, names: list[str] | None = None, keys: list[Any] | None = None) -> dict[str, list[Any]]:
    """Routes of a CA that finalizes a ready order and issues for the CSR's key (recorded in ``keys``)."""
    seen = keys if keys is not None else []
    names = names or NAMES

    def on_finalize(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(csr_public_key(payload))
        return order_json("valid", CERT_URI)

    def on_download(payload: Any) -> Reply:
        return Reply(body=issuer.leaf(seen[-1], names) + issuer.intermediate("Root A"))

    return {ORDER_URI: [order_json("ready")], FINALIZE_URI: [on_finalize], CERT_URI: [on_download]}


# -- options and destinations -----------------------------------------------------------


def test_destinations_are_in_write_order_certificate_last(tmp_path: Any) -> None:
    values = params(tmp_path)
    assert list(destinations(values)) == ["private_key_path", "chain_path", "fullchain_path", "cert_path"]
    assert list(destinations(params(tmp_path, chain_path=None, private_key_path=None))) == ["fullchain_path", "cert_path"]
    assert pending_key_path("/etc/ssl/x.key") == "/etc/ssl/x.key.next"


def test_same_file_twice_names_the_later_option(tmp_path: Any) -> None:
    with pytest.raises(AcmeOptionError) as caught:
        check_options(params(tmp_path, fullchain_path=str(tmp_path / "cert.pem")))
    assert caught.value.option == "cert_path"
    assert caught.value.msg == f"cert_path {tmp_path / 'cert.pem'} is the same file as fullchain_path; give each file its own path"
    os.symlink(str(tmp_path / "cert.pem"), str(tmp_path / "link.pem"))
    with pytest.raises(AcmeOptionError) as caught:
        check_options(params(tmp_path, state_path=str(tmp_path / "link.pem")))
    assert caught.value.option == "state_path"
    check_options(params(tmp_path))  # distinct paths pass


def test_rotate_key_needs_private_key_path_and_wait_timeout_is_not_negative(tmp_path: Any) -> None:
    with pytest.raises(AcmeOptionError) as caught:
        check_options(params(tmp_path, private_key_path=None, csr_path=str(tmp_path / "x.csr"), rotate_key=True))
    assert caught.value.option == "rotate_key"
    with pytest.raises(AcmeOptionError) as caught:
        check_options(params(tmp_path, wait_timeout=-1))
    assert (caught.value.option, caught.value.msg) == ("wait_timeout", "wait_timeout must be zero or more seconds")
    # The bound acme_challenge_proof has always had: zero finalizes and does not wait.
    check_options(params(tmp_path, wait_timeout=0))


def test_destination_whose_parent_is_a_file(tmp_path: Any) -> None:
    (tmp_path / "plain").write_text("x")
    path = str(tmp_path / "plain" / "cert.pem")
    with pytest.raises(AcmeOptionError) as caught:
        check_destinations({"cert_path": path}, create=True)
    assert caught.value.option == "cert_path"
    assert caught.value.msg == f"cert_path {path}: {tmp_path / 'plain'} is not a directory"


def test_destination_in_a_missing_directory(tmp_path: Any) -> None:
    path = str(tmp_path / "missing" / "chain.pem")
    check_destinations({"cert_path": str(tmp_path / "cert.pem"), "chain_path": path}, create=False)
    assert not (tmp_path / "missing").exists()  # check mode: predicted, not made
    check_destinations({"cert_path": str(tmp_path / "cert.pem"), "chain_path": path}, create=True)
    assert stat.S_IMODE((tmp_path / "missing").stat().st_mode) == 0o700


def test_destination_that_is_a_directory(tmp_path: Any) -> None:
    with pytest.raises(AcmeOptionError) as caught:
        check_destinations({"fullchain_path": str(tmp_path)}, create=True)
    assert caught.value.msg == f"fullchain_path {tmp_path} is a directory; give a file path"


def test_bad_destination_fails_before_connecting(tmp_path: Any) -> None:
    def connect() -> Any:
        raise AssertionError("connected")

    (tmp_path / "plain").write_bytes(b"x")
    values = params(tmp_path, chain_path=str(tmp_path / "plain" / "nowhere" / "chain.pem"))
    with pytest.raises(AcmeOptionError) as caught:
        FinalizeRun(values, connect=connect, warn=lambda msg: None)()
    assert caught.value.option == "chain_path"


@pytest.mark.parametrize(("value", "expected"), [("0644", 0o644), ("644", 0o644), ("0o600", 0o600), (420, 0o644), (" 0640 ", 0o640)])
def test_parse_mode(value: Any, expected: int) -> None:
    assert parse_mode(value) == expected


@pytest.mark.parametrize("value", ["0844", "", "rw-r--r--", "077777", True, 0o17777])
def test_parse_mode_refuses(value: Any) -> None:
    with pytest.raises(AcmeOptionError) as caught:
        parse_mode(value)
    assert caught.value.option == "mode"


def test_file_contents() -> None:
    contents = file_contents(["LEAF\n", "INT\n", "ROOT\n"], b"KEY", 0o640)
    assert contents == {
        "chain_path": (b"INT\nROOT\n", 0o640),
        "fullchain_path": (b"LEAF\nINT\nROOT\n", 0o640),
        "cert_path": (b"LEAF\n", 0o640),
        "private_key_path": (b"KEY", PRIVATE_MODE),
    }
    assert "private_key_path" not in file_contents(["LEAF\n"], None, 0o644)
    assert file_contents(["LEAF\n"], None, 0o644)["chain_path"] == (b"", 0o644)


# -- issuing ------------------------------------------------------------------------------


def test_generated_key_full_run_writes_everything_and_removes_state(tmp_path: Any) -> None:
    issuer = Issuer()
    keys: list[Any] = []
    state_path = record_order(tmp_path)
    account = account_with(issuing_ca(issuer, keys=keys))
    result = make_run(params(tmp_path), account, diff=True)().to_result()

    key = load_private_key(read(str(tmp_path / "cert.key")), "private_key_path")
    assert key_public_der(key) == keys[0].public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert os.stat(str(tmp_path / "cert.key")).st_mode & 0o777 == 0o600
    assert os.stat(str(tmp_path / "cert.pem")).st_mode & 0o777 == 0o644
    assert read(str(tmp_path / "cert.pem")).decode() == result["cert_pem"]
    assert read(str(tmp_path / "fullchain.pem")).decode() == result["cert_pem"] + result["chain_pem"]
    chain = x509.load_pem_x509_certificate(read(str(tmp_path / "chain.pem")))
    assert chain.subject.rfc4514_string() == "CN=Intermediate"
    assert chain.issuer.rfc4514_string() == "CN=Root A"
    assert read(str(tmp_path / "chain.pem")).decode() == result["chain_pem"]
    assert x509.load_pem_x509_certificate(read(str(tmp_path / "cert.pem"))).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == key_public_der(key)
    assert not os.path.exists(state_path)
    assert result["changed"] is True
    assert result["finalized"] is True
    assert result["key_generated"] is True
    assert result["key_rotated"] is False
    assert result["state_removed"] is True
    assert result["identifiers"] == NAMES
    assert result["chain_issuer"] == "Root A"
    assert {option: entry["changed"] for option, entry in result["files"].items()} == {
        "private_key_path": True,
        "chain_path": True,
        "fullchain_path": True,
        "cert_path": True,
    }
    assert result["diff"]["before"] == {"serial": None, "not_after": None}
    assert result["diff"]["after"]["serial"] == result["serial"]


def existing_key(tmp_path: Any) -> tuple[str, Any]:
    """A certificate key already in place at cert.key (0600), as an earlier run left it."""
    key_path = str(tmp_path / "cert.key")
    key = generate_private_key("ec256")
    with open(key_path, "wb") as handle:
        handle.write(key.private_pem())
    os.chmod(key_path, 0o600)
    return key_path, key


def test_rotation_keeps_the_old_key_until_the_new_certificate_is_verified(tmp_path: Any) -> None:
    issuer = Issuer()
    state_path = record_order(tmp_path)
    key_path, old_key = existing_key(tmp_path)

    # The CA issues a certificate that does not name what was ordered: nothing may be replaced.
    keys: list[Any] = []
    account = account_with(issuing_ca(issuer, names=["other.example.test"], keys=keys))
    with pytest.raises(AcmeError) as caught:
        make_run(params(tmp_path, rotate_key=True), account)()
    assert caught.value.msg.startswith("The certificate names other.example.test, but the order is for a.example.test, b.example.test")
    assert read(key_path) == old_key.private_pem()
    pending = load_private_key(read(key_path + ".next"), "private_key_path")
    new_public = keys[0].public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key_public_der(pending) == new_public != key_public_der(old_key)
    assert not os.path.exists(str(tmp_path / "cert.pem"))
    assert os.path.exists(state_path)

    # The rerun finds the order valid and a certificate for the pending key: it installs that key.
    rerun = account_with(
        {
            ORDER_URI: [order_json("valid", CERT_URI)],
            CERT_URI: [Reply(body=issuer.leaf(keys[0], NAMES) + issuer.intermediate("Root A"))],
        }
    )
    result = make_run(params(tmp_path, rotate_key=True), rerun)().to_result()
    assert read(key_path) == pending.private_pem()
    assert not os.path.exists(key_path + ".next")
    assert result["key_rotated"] is True
    assert result["key_generated"] is False
    assert result["finalized"] is False
    assert result["files"]["private_key_path"]["changed"] is True
    assert not os.path.exists(state_path)
    assert [url for url, payload in rerun.posts] == [ORDER_URI, CERT_URI]


def test_certificate_for_an_unknown_key_writes_nothing(tmp_path: Any) -> None:
    issuer = Issuer()
    state_path = record_order(tmp_path)
    key_path, key = existing_key(tmp_path)
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    account = account_with(
        {
            ORDER_URI: [order_json("valid", CERT_URI)],
            CERT_URI: [Reply(body=issuer.leaf(stranger, NAMES) + issuer.intermediate("Root A"))],
        }
    )
    with pytest.raises(AcmeError) as caught:
        make_run(params(tmp_path), account)()
    assert "is for a key that is neither private_key_path" in caught.value.msg
    assert sorted(os.listdir(str(tmp_path))) == ["cert.key", "order.json"]
    assert read(key_path) == key.private_pem()
    assert os.path.exists(state_path)


def test_preferred_chain_picks_the_alternate(tmp_path: Any) -> None:
    issuer = Issuer()
    record_order(tmp_path)
    keys: list[Any] = []

    def on_finalize(payload: dict[str, Any]) -> dict[str, Any]:
        keys.append(csr_public_key(payload))
        return order_json("valid", CERT_URI)

    leaf_holder: dict[str, str] = {}

    def default(payload: Any) -> Reply:
        leaf_holder["leaf"] = issuer.leaf(keys[0], NAMES)
        return Reply(body=leaf_holder["leaf"] + issuer.intermediate("Root A"), links=[ALT_URI])

    def alternate(payload: Any) -> Reply:
        return Reply(body=leaf_holder["leaf"] + issuer.intermediate("Root B"))

    account = account_with({ORDER_URI: [order_json("ready")], FINALIZE_URI: [on_finalize], CERT_URI: [default], ALT_URI: [alternate]})
    warnings: list[str] = []
    result = make_run(params(tmp_path, preferred_chain="Root B"), account, warnings)().to_result()
    assert result["preferred_chain_found"] is True
    assert result["alternates"] == 1
    assert result["chain_issuer"] == "Root B"
    assert read(str(tmp_path / "chain.pem")).decode() == result["chain_pem"]
    assert warnings == []


def test_preferred_chain_not_offered_warns_and_keeps_the_default(tmp_path: Any) -> None:
    issuer = Issuer()
    record_order(tmp_path)
    keys: list[Any] = []
    account = account_with(issuing_ca(issuer, keys=keys))
    warnings: list[str] = []
    result = make_run(params(tmp_path, preferred_chain="Root Z"), account, warnings)().to_result()
    assert result["preferred_chain_found"] is False
    assert result["chain_issuer"] == "Root A"
    assert warnings == ["preferred_chain 'Root Z' matches none of the 1 chain(s) the CA offers (default chain issued by 'Root A'); using the default chain"]


def fail_replace_onto(monkeypatch: pytest.MonkeyPatch, target: str) -> list[tuple[str, str]]:
    """Make os.replace (and os.rename) raise EIO when a temporary file is renamed onto ``target``; the rest goes through."""
    calls: list[tuple[str, str]] = []

    def wrap(real: Any) -> Any:
        def renaming(src: Any, dst: Any) -> None:
            calls.append((os.fspath(src), os.fspath(dst)))
            if os.fspath(dst) == target and os.path.basename(os.fspath(src)).endswith(".tmp"):
                raise OSError(errno.EIO, "Input/output error")
            real(src, dst)

        return renaming

    monkeypatch.setattr(os, "replace", wrap(os.replace))
    monkeypatch.setattr(os, "rename", wrap(os.rename))
    return calls


def test_state_is_kept_when_a_file_could_not_be_written(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = Issuer()
    state_path = record_order(tmp_path)
    fail_replace_onto(monkeypatch, str(tmp_path / "cert.pem"))
    with pytest.raises(AcmeOptionError) as caught:
        make_run(params(tmp_path), account_with(issuing_ca(issuer)))()
    # The key was written before finalizing (a new key, no old one to protect); the set of
    # chain, fullchain and certificate is installed as a unit: the certificate failed, so none is.
    assert caught.value.option == "cert_path"
    assert caught.value.msg == (
        f"cert_path {tmp_path / 'cert.pem'}: cannot put the new file in place: Input/output error; "
        "fix the cause and run again; no file of the set was changed (each was left as it was)"
    )
    assert os.path.exists(state_path)
    assert sorted(os.listdir(str(tmp_path))) == ["cert.key", "order.json"]


FILE_OPTIONS = {"cert.key": "private_key_path", "chain.pem": "chain_path", "fullchain.pem": "fullchain_path", "cert.pem": "cert_path"}


def earlier_issuance(tmp_path: Any, issuer: Issuer) -> dict[str, tuple[bytes, int]]:
    """Key, chain, fullchain and certificate as an earlier run installed them: content and mode by file name."""
    key_path, key = existing_key(tmp_path)
    public_key = serialization.load_der_public_key(key_public_der(key))
    leaf, intermediate = issuer.leaf(public_key, NAMES), issuer.intermediate("Root A")
    for name, text in (("chain.pem", intermediate), ("fullchain.pem", leaf + intermediate), ("cert.pem", leaf)):
        (tmp_path / name).write_text(text)
        os.chmod(str(tmp_path / name), 0o640)
    return {name: (read(str(tmp_path / name)), os.stat(str(tmp_path / name)).st_mode & 0o7777) for name in FILE_OPTIONS}


@pytest.mark.parametrize("failing", ["cert.key", "chain.pem", "fullchain.pem", "cert.pem"])
def test_rotation_failing_at_any_rename_leaves_the_previous_set(failing: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """rotate_key: a failure while installing must not leave the new key beside the old certificate (or the reverse)."""
    issuer = Issuer()
    state_path = record_order(tmp_path)
    before = earlier_issuance(tmp_path, issuer)
    calls = fail_replace_onto(monkeypatch, str(tmp_path / failing))
    keys: list[Any] = []
    with pytest.raises(AcmeOptionError) as caught:
        make_run(params(tmp_path, rotate_key=True, mode="0640"), account_with(issuing_ca(issuer, keys=keys)))()
    assert caught.value.option == FILE_OPTIONS[failing]
    assert caught.value.msg.endswith("no file of the set was changed (each was left as it was)")
    assert any(dst == str(tmp_path / failing) for _src, dst in calls)
    for name, (content, mode) in before.items():
        assert read(str(tmp_path / name)) == content, name
        assert os.stat(str(tmp_path / name)).st_mode & 0o7777 == mode, name
    # The rotated key waits in .next for the rerun; no temporary file or backup is left.
    pending = load_private_key(read(str(tmp_path / "cert.key.next")), "private_key_path")
    assert key_public_der(pending) == keys[0].public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert sorted(os.listdir(str(tmp_path))) == sorted([*before, "cert.key.next", "order.json"])
    assert os.path.exists(state_path)


def test_rotation_installs_the_whole_set_with_its_modes(tmp_path: Any) -> None:
    issuer = Issuer()
    before = earlier_issuance(tmp_path, issuer)
    record_order(tmp_path)
    keys: list[Any] = []
    result = make_run(params(tmp_path, rotate_key=True, mode="0640"), account_with(issuing_ca(issuer, keys=keys)))().to_result()
    assert all(entry["changed"] for entry in result["files"].values())
    for name in before:
        assert read(str(tmp_path / name)) != before[name][0], name
        assert os.stat(str(tmp_path / name)).st_mode & 0o7777 == (0o600 if name == "cert.key" else 0o640), name
    key = load_private_key(read(str(tmp_path / "cert.key")), "private_key_path")
    assert key_public_der(key) == keys[0].public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert read(str(tmp_path / "cert.pem")).decode() == result["cert_pem"]
    # Beside the set, the record of the CA that issued it; nothing else is left.
    assert sorted(os.listdir(str(tmp_path))) == sorted([*before, "cert.pem.acme.json"])


def test_the_issuing_ca_is_recorded_beside_the_certificate(tmp_path: Any) -> None:
    issuer = Issuer()
    record_order(tmp_path)
    account = account_with(issuing_ca(issuer))
    result = make_run(params(tmp_path, mode="0640"), account)().to_result()
    record_file = str(tmp_path / "cert.pem.acme.json")
    assert os.stat(record_file).st_mode & 0o7777 == 0o644  # no secret in it, whatever the certificate's mode
    record = json.loads(read(record_file))
    assert record == {
        "version": 1,
        "directory": account.client.directory_url,
        "serial": result["serial"],
        "accountUri": ACCOUNT_URI,
        "certificateUri": CERT_URI,
    }
    assert sorted(result["files"]) == ["cert_path", "chain_path", "fullchain_path", "private_key_path"]


def test_neither_cert_path_nor_fullchain_path_is_refused(tmp_path: Any) -> None:
    with pytest.raises(AcmeOptionError) as caught:
        check_options(params(tmp_path, cert_path=None, fullchain_path=None))
    assert caught.value.option == "cert_path"
    assert caught.value.msg == "give cert_path (the certificate alone), fullchain_path (the certificate and its chain) or both"
    assert leaf_option(params(tmp_path)) == "cert_path"
    assert leaf_option(params(tmp_path, cert_path=None)) == "fullchain_path"


def test_fullchain_only_writes_the_full_chain_and_the_record_beside_it(tmp_path: Any) -> None:
    issuer = Issuer()
    state_path = record_order(tmp_path)
    account = account_with(issuing_ca(issuer))
    values = params(tmp_path, cert_path=None, chain_path=None)
    result = make_run(values, account)().to_result()
    assert sorted(result["files"]) == ["fullchain_path", "private_key_path"]
    full_chain = read(str(tmp_path / "fullchain.pem")).decode()
    assert full_chain == result["cert_pem"] + result["chain_pem"]
    assert full_chain.count("BEGIN CERTIFICATE") == 2
    assert sorted(os.listdir(str(tmp_path))) == ["cert.key", "fullchain.pem", "fullchain.pem.acme.json"]
    record = json.loads(read(str(tmp_path / "fullchain.pem.acme.json")))
    assert record["serial"] == result["serial"]
    assert not os.path.exists(state_path)

    # Between renewals, the full chain is the certificate a rerun compares with: nothing to do, no request.
    def connect() -> Any:
        raise AssertionError("connected")

    again = FinalizeRun(values, connect=connect, warn=lambda msg: None)().to_result()
    assert again["changed"] is False
    assert again["serial"] == result["serial"]
    assert again["chain_pem"] == result["chain_pem"]
    assert again["msg"].endswith("the certificate at fullchain_path is left as is")


def test_pending_order_is_refused(tmp_path: Any) -> None:
    record_order(tmp_path)
    account = account_with({ORDER_URI: [order_json("pending")]})
    with pytest.raises(AcmeError) as caught:
        make_run(params(tmp_path), account)()
    assert caught.value.msg.startswith(f"The order {ORDER_URI} is pending: not every name is validated yet")
    assert account.posts == [(ORDER_URI, None)]
    assert not os.path.exists(str(tmp_path / "cert.key"))


def test_nothing_in_flight_leaves_the_certificate(tmp_path: Any) -> None:
    issuer = Issuer()
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "cert.pem").write_text(issuer.leaf(key.public_key(), NAMES))

    def connect() -> Any:
        raise AssertionError("connected")

    warnings: list[str] = []
    result = FinalizeRun(params(tmp_path), connect=connect, warn=warnings.append)().to_result()
    assert result["changed"] is False
    assert result["msg"].startswith(f"No order in flight (state_path {tmp_path / 'order.json'} does not exist)")
    assert result["identifiers"] == NAMES
    assert all(entry["changed"] is False for entry in result["files"].values())
    assert f"chain_path {tmp_path / 'chain.pem'} does not exist; it is written with the next certificate" in warnings


def test_check_mode_predicts_without_writing(tmp_path: Any) -> None:
    state_path = record_order(tmp_path)
    account = account_with({ORDER_URI: [order_json("ready")]})
    result = make_run(params(tmp_path), account, check_mode=True, diff=True)().to_result()
    assert result["changed"] is True
    assert result["finalized"] is True
    assert result["key_generated"] is True
    assert result["state_removed"] is True
    assert result["diff"]["after"] == {"serial": "(new certificate)", "not_after": None}
    assert os.path.exists(state_path)
    assert sorted(os.listdir(str(tmp_path))) == ["order.json"]
    assert account.posts == [(ORDER_URI, None)]


def test_check_mode_without_order_does_not_connect(tmp_path: Any) -> None:
    def connect() -> Any:
        raise AssertionError("connected")

    result = FinalizeRun(params(tmp_path, state_path=None), connect=connect, warn=lambda msg: None, check_mode=True)().to_result()
    assert result["order_uri"] is None
    assert result["identifiers"] == []
    assert result["key_generated"] is True
    assert result["files"] == {
        option: {"path": str(tmp_path / name), "changed": True}
        for option, name in (("private_key_path", "cert.key"), ("chain_path", "chain.pem"), ("fullchain_path", "fullchain.pem"), ("cert_path", "cert.pem"))
    }
    assert sorted(os.listdir(str(tmp_path))) == []
    assert result["msg"].startswith("No order yet (acme_order ran in check mode)")
    assert result["changed"] is True


def test_state_of_another_order_is_not_removed(tmp_path: Any) -> None:
    issuer = Issuer()
    state_path = str(tmp_path / "order.json")
    save_order_state(state_path, OrderState(f"{CA}/order/other", NAMES, "http-01", CA, ACCOUNT_URI))
    result = make_run(params(tmp_path, order_uri=ORDER_URI), account_with(issuing_ca(issuer)))().to_result()
    assert result["state_removed"] is False
    assert os.path.exists(state_path)
    assert os.path.exists(str(tmp_path / "cert.pem"))


# -- an order acme_challenge_proof recorded as ready -------------------------------------


def record_ready_order(tmp_path: Any, status: str = "ready") -> str:
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Order

    path = str(tmp_path / "order.json")
    state = OrderState(ORDER_URI, NAMES, "http-01", CA, ACCOUNT_URI)
    save_order_state(path, state.with_seen("acme_challenge_proof", Order.from_response(ORDER_URI, order_json(status))))
    return path


def test_order_recorded_ready_is_finalized_without_fetching_it(tmp_path: Any) -> None:
    issuer = Issuer()
    keys: list[Any] = []
    state_path = record_ready_order(tmp_path)
    routes = issuing_ca(issuer, keys=keys)
    del routes[ORDER_URI]  # any fetch of the order would fail the test
    account = account_with(routes)
    result = make_run(params(tmp_path), account)().to_result()
    assert [posted[0] for posted in account.posts] == [FINALIZE_URI, CERT_URI]
    assert result["finalized"] is True and result["key_generated"] is True
    key = load_private_key(read(str(tmp_path / "cert.key")), "private_key_path")
    assert key_public_der(key) == keys[0].public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not os.path.exists(state_path)


def test_record_refused_by_the_ca_is_replaced_by_what_the_ca_says(tmp_path: Any) -> None:
    """An earlier run finalized and crashed before the download: the record still says ready."""
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeProblem

    issuer = Issuer()
    record_ready_order(tmp_path)
    key_path, key = existing_key(tmp_path)
    public_key = serialization.load_der_public_key(key_public_der(key))

    def not_ready(payload: Any) -> Any:
        raise AcmeProblem(
            url=FINALIZE_URI,
            status=403,
            problem_type="urn:ietf:params:acme:error:orderNotReady",
            detail='Order\'s status ("valid") is not acceptable for finalization',
        )

    account = account_with(
        {
            FINALIZE_URI: [not_ready],
            ORDER_URI: [order_json("valid", CERT_URI)],
            CERT_URI: [Reply(body=issuer.leaf(public_key, NAMES) + issuer.intermediate("Root A"))],
        }
    )
    result = make_run(params(tmp_path), account)().to_result()
    assert [posted[0] for posted in account.posts] == [FINALIZE_URI, ORDER_URI, CERT_URI]
    assert result["changed"] is True and result["finalized"] is False
    assert result["key_generated"] is False and result["key_rotated"] is False
    assert read(key_path) == key.private_pem()


def test_record_is_not_trusted_while_a_rotated_key_waits(tmp_path: Any) -> None:
    """A .next key means an earlier run sent its CSR: a new key must not take its place unasked."""
    record_ready_order(tmp_path)
    key_path = existing_key(tmp_path)[0]
    pending = generate_private_key("ec256")
    with open(pending_key_path(key_path), "wb") as handle:
        handle.write(pending.private_pem())
    account = account_with({ORDER_URI: [order_json("invalid")]})
    with pytest.raises(AcmeError) as caught:
        make_run(params(tmp_path, rotate_key=True), account)()
    assert [posted[0] for posted in account.posts] == [ORDER_URI]
    assert "is invalid" in caught.value.msg
    assert read(pending_key_path(key_path)) == pending.private_pem()


def test_record_of_an_order_that_is_not_ready_is_fetched_again(tmp_path: Any) -> None:
    record_ready_order(tmp_path, status="pending")
    account = account_with({ORDER_URI: [order_json("pending")]})
    with pytest.raises(AcmeError) as caught:
        make_run(params(tmp_path), account)()
    assert [posted[0] for posted in account.posts] == [ORDER_URI]
    assert "is pending" in caught.value.msg


def test_rate_limited_finalize_from_a_record_is_not_sent_twice(tmp_path: Any) -> None:
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeProblem

    record_ready_order(tmp_path)

    def rate_limited(payload: Any) -> Any:
        raise AcmeProblem(url=FINALIZE_URI, status=429, problem_type="urn:ietf:params:acme:error:rateLimited", detail="too many certificates")

    account = account_with({FINALIZE_URI: [rate_limited]})
    with pytest.raises(AcmeError) as caught:
        make_run(params(tmp_path), account)()
    assert [posted[0] for posted in account.posts] == [FINALIZE_URI]
    assert "too many certificates" in caught.value.msg


# -- what the CA sent is checked before anything is written ------------------------------------


class Hierarchy:
    """A root, an intermediate it signs and leaves the intermediate signs, built with the shared ``make_cert``."""

    def __init__(self) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.root = make_cert("Root R", "Root R", self.root_key.public_key(), self.root_key, ca=True)
        self.intermediate = make_cert("Inter I", "Root R", self.inter_key.public_key(), self.root_key, ca=True)

    def leaf(self, public_key: Any, names: list[str] | None = None, **kwargs: Any) -> str:
        return make_cert((names or NAMES)[0], "Inter I", public_key, self.inter_key, ca=False, sans=names or NAMES, **kwargs)


def ca_sending(body: Any, keys: list[Any] | None = None) -> dict[str, list[Any]]:
    """Routes of a CA that finalizes a ready order and answers the download with ``body(csr_public_key)``."""
    seen = keys if keys is not None else []

    def on_finalize(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(csr_public_key(payload))
        return order_json("valid", CERT_URI)

    return {ORDER_URI: [order_json("ready")], FINALIZE_URI: [on_finalize], CERT_URI: [lambda payload: Reply(body=body(seen[-1]))]}


def refused_by_the_check(tmp_path: Any, routes: dict[str, list[Any]], **overrides: Any) -> AcmeServerError:
    """Run and expect AcmeServerError with nothing but the key saved before finalizing and the order state on disk."""
    with pytest.raises(AcmeServerError) as caught:
        make_run(params(tmp_path, **overrides), account_with(routes))()
    assert caught.value.url == CERT_URI
    assert caught.value.fields["order_uri"] == ORDER_URI
    assert caught.value.msg.endswith("; nothing was written")
    assert sorted(os.listdir(str(tmp_path))) == ["cert.key", "order.json"]
    return caught.value


def test_chain_ending_in_its_root_is_installed(tmp_path: Any) -> None:
    ca = Hierarchy()
    record_order(tmp_path)
    result = make_run(params(tmp_path), account_with(ca_sending(lambda key: ca.leaf(key) + ca.intermediate + ca.root)))().to_result()
    assert read(str(tmp_path / "chain.pem")).decode() == ca.intermediate + ca.root
    assert result["chain_issuer"] == "Root R"


def test_chain_whose_upper_link_does_not_sign_is_refused(tmp_path: Any) -> None:
    ca = Hierarchy()
    record_order(tmp_path)
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    impostor_root = make_cert("Root R", "Root R", impostor_key.public_key(), impostor_key, ca=True)
    error = refused_by_the_check(tmp_path, ca_sending(lambda key: ca.leaf(key) + ca.intermediate + impostor_root))
    assert error.msg == (
        f"The chain the CA sent for the order {ORDER_URI} does not hold together: certificate 2 (CN=Inter I, issuer CN=Root R) "
        "is not signed by certificate 3 (CN=Root R); nothing was written"
    )


@pytest.mark.parametrize(
    "body, words",
    [
        ("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", "is not a readable X.509 certificate"),
        ("<html>maintenance</html>\n", "holds no PEM certificate"),
    ],
)
def test_a_download_that_is_no_certificate_is_refused_not_a_traceback(tmp_path: Any, body: str, words: str) -> None:
    record_order(tmp_path)
    error = refused_by_the_check(tmp_path, ca_sending(lambda key: body))
    assert error.msg == f"The certificate the CA sent for the order {ORDER_URI} {words}; nothing was written"


def test_leaf_not_signed_by_the_chain_is_refused(tmp_path: Any) -> None:
    ca, other = Hierarchy(), Hierarchy()
    record_order(tmp_path)
    error = refused_by_the_check(tmp_path, ca_sending(lambda key: other.leaf(key) + ca.intermediate))
    assert "certificate 1 (CN=a.example.test, issuer CN=Inter I) is not signed by certificate 2 (CN=Inter I)" in error.msg


@pytest.mark.parametrize(
    ("start", "problem"),
    [(datetime.timedelta(hours=1), "not yet valid"), (datetime.timedelta(days=-100), "expired")],
    ids=["not-yet-valid", "expired"],
)
def test_leaf_outside_its_validity_is_refused(start: datetime.timedelta, problem: str, tmp_path: Any) -> None:
    ca = Hierarchy()
    record_order(tmp_path)
    not_before = datetime.datetime.now(datetime.timezone.utc) + start
    error = refused_by_the_check(tmp_path, ca_sending(lambda key: ca.leaf(key, not_before=not_before) + ca.intermediate))
    assert error.msg.startswith(f"The certificate the CA sent for the order {ORDER_URI} cannot be used: it is valid from ")
    assert f": {problem} at " in error.msg and "(allowing 5 minutes of clock skew); check this host's clock and the CA's" in error.msg


def test_leaf_starting_within_the_clock_skew_is_installed(tmp_path: Any) -> None:
    ca = Hierarchy()
    record_order(tmp_path)
    not_before = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)
    result = make_run(params(tmp_path), account_with(ca_sending(lambda key: ca.leaf(key, not_before=not_before) + ca.intermediate)))().to_result()
    assert read(str(tmp_path / "cert.pem")).decode() == result["cert_pem"]


def test_leaf_for_other_names_is_refused_as_what_the_ca_sent(tmp_path: Any) -> None:
    ca = Hierarchy()
    record_order(tmp_path)
    error = refused_by_the_check(tmp_path, ca_sending(lambda key: ca.leaf(key, ["a.example.test"]) + ca.intermediate))
    assert error.msg == "The certificate names a.example.test, but the order is for a.example.test, b.example.test; nothing was written"


def test_an_order_for_other_names_than_asked_for_is_refused_before_finalizing(tmp_path: Any) -> None:
    """The CA's order and its certificate agree, but neither is what acme_order asked for (recorded in state_path):
    refused before a CSR for the CA's names is sent, so no certificate for them is ever issued."""
    save_order_state(str(tmp_path / "order.json"), OrderState(ORDER_URI, ["a.example.test", "c.example.test"], "http-01", CA, ACCOUNT_URI))
    account = account_with({ORDER_URI: [order_json("ready")]})
    with pytest.raises(AcmeServerError) as caught:
        make_run(params(tmp_path), account)()
    assert caught.value.msg.startswith(f"The CA's order {ORDER_URI} is for a.example.test, b.example.test, not for the names asked for")
    assert "not asked for: b.example.test; missing: c.example.test" in caught.value.msg
    assert [post[0] for post in account.posts] == [ORDER_URI]
    assert sorted(os.listdir(str(tmp_path))) == ["order.json"]


def test_leaf_for_another_key_is_refused_as_what_the_ca_sent(tmp_path: Any) -> None:
    ca = Hierarchy()
    record_order(tmp_path)
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    error = refused_by_the_check(tmp_path, ca_sending(lambda key: ca.leaf(stranger) + ca.intermediate))
    assert error.msg == f"The certificate of the order {ORDER_URI} is not for the key of this run's CSR; nothing was written"
