# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""account.py: the Account signer against scripted answers, contacts, and the credentials file.

The recorded Pebble runs of find/create/update/rollover are in test_replay.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import (
    Account,
    AccountState,
    Credentials,
    load_credentials,
    register,
    same_contacts,
    save_credentials,
    validate_contacts,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeClient
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError, AcmeProblem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key

DIR = "https://ca.example/dir"
DIRECTORY = {
    "newNonce": "https://ca.example/new-nonce",
    "newAccount": "https://ca.example/new-acct",
    "newOrder": "https://ca.example/new-order",
    "keyChange": "https://ca.example/key-change",
}
ACCT = "https://ca.example/acct/17"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def acme(session, clock):
    session.add("GET", DIR, 200, JSON, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "n0"})
    return AcmeClient(DIR, session=session, clock=clock.time, sleep=clock.sleep)


# -- contacts and state ----------------------------------------------------------------


def test_validate_contacts():
    assert validate_contacts([" mailto:ops@example.com ", "mailto:sec@example.com"]) == ["mailto:ops@example.com", "mailto:sec@example.com"]
    assert validate_contacts([]) == []


@pytest.mark.parametrize("bad", ["ops@example.com", "mailto:nobody", "tel:+4912345", "https://example.com"])
def test_validate_contacts_rejects(bad):
    with pytest.raises(AcmeOptionError) as info:
        validate_contacts(["mailto:ok@example.com", bad])
    assert info.value.option == "contacts"
    assert bad in info.value.msg and "mailto:" in info.value.msg


def test_same_contacts_ignores_order():
    assert same_contacts(["mailto:a@x", "mailto:b@x"], ["mailto:b@x", "mailto:a@x"])
    assert not same_contacts(["mailto:a@x"], ["mailto:a@x", "mailto:b@x"])


def test_account_state_from_odd_bodies():
    state = AccountState.from_response(ACCT, {"status": "valid", "contact": ["mailto:a@x"], "orders": "https://ca.example/o"})
    assert (state.uri, state.status, state.contacts, state.orders) == (ACCT, "valid", ["mailto:a@x"], "https://ca.example/o")
    bare = AccountState.from_response(ACCT, None)
    assert (bare.status, bare.contacts, bare.orders) == ("valid", [], None)
    odd = AccountState.from_response(ACCT, {"status": "deactivated", "contact": "mailto:a@x", "orders": 5})
    assert (odd.status, odd.contacts, odd.orders) == ("deactivated", [], None)


# -- the signer --------------------------------------------------------------------------


def test_post_needs_the_account_url(session, clock):
    """Without an account URL there is no kid to sign with: refused before anything is sent."""
    acme = AcmeClient(DIR, session=session, clock=clock.time, sleep=clock.sleep)
    with pytest.raises(RuntimeError):
        Account(acme, generate_private_key("ec256")).post(ACCT, None, context="x")
    assert session.sent == []


def test_find_existing(acme, session, jws_verify):
    key = generate_private_key("ec256")
    session.add("POST", DIRECTORY["newAccount"], 200, {"Location": ACCT, "Replay-Nonce": "n1", **JSON}, {"status": "valid", "contact": []})
    account = Account(acme, key)
    state = account.find()
    assert state.uri == ACCT and account.uri == ACCT
    protected, payload = jws_verify(session.sent[-1].jws, key.public_jwk())
    assert payload == {"onlyReturnExisting": True}
    assert protected["jwk"] == key.public_jwk() and "kid" not in protected


def test_find_other_problem_propagates(acme, session):
    session.add_problem("POST", DIRECTORY["newAccount"], 403, "urn:ietf:params:acme:error:unauthorized", "key is blocked", nonce="n1")
    with pytest.raises(AcmeProblem) as info:
        Account(acme, generate_private_key("ec256")).find()
    assert info.value.has_type("unauthorized") and "key is blocked" in info.value.msg


def test_find_without_location(acme, session):
    session.add("POST", DIRECTORY["newAccount"], 200, {"Replay-Nonce": "n1", **JSON}, {"status": "valid"})
    with pytest.raises(AcmeProblem) as info:
        Account(acme, generate_private_key("ec256")).find()
    assert "Location" in info.value.msg


def test_list_orders_follows_every_page(acme, session, jws_verify):
    key = generate_private_key("ec256")
    first, second = "https://ca.example/orders/1", "https://ca.example/orders/1/page/2"
    first_headers = [("Replay-Nonce", "n1"), ("Link", f'<{second}>;rel="next"'), ("Content-Type", "application/json")]
    session.add("POST", first, 200, first_headers, {"orders": ["https://ca.example/o/a", "https://ca.example/o/b"]})
    session.add("POST", second, 200, {"Replay-Nonce": "n2", **JSON}, {"orders": ["https://ca.example/o/c"]})
    orders = Account(acme, key, ACCT).list_orders(first)
    assert orders == ["https://ca.example/o/a", "https://ca.example/o/b", "https://ca.example/o/c"]
    protected, payload = jws_verify(session.sent[-1].jws, key.public_jwk())
    assert payload == ""  # POST-as-GET
    assert protected["kid"] == ACCT and protected["url"] == second


@pytest.mark.parametrize("status, created", [(201, True), (200, False)])
def test_create(status, created, acme, session, jws_verify):
    key = generate_private_key("ec384")
    body = {"status": "valid", "contact": ["mailto:a@example.com"]}
    session.add("POST", DIRECTORY["newAccount"], status, {"Location": ACCT, "Replay-Nonce": "n1", **JSON}, body)
    state, was_created = Account(acme, key).create(["mailto:a@example.com"], terms_agreed=True)
    assert was_created is created and state.uri == ACCT and state.contacts == ["mailto:a@example.com"]
    payload = jws_verify(session.sent[-1].jws, key.public_jwk())[1]
    assert payload == {"contact": ["mailto:a@example.com"], "termsOfServiceAgreed": True}


def test_create_without_agreeing_sends_no_agreement(acme, session):
    session.add("POST", DIRECTORY["newAccount"], 201, {"Location": ACCT, "Replay-Nonce": "n1"}, {"status": "valid"})
    Account(acme, generate_private_key("ec256")).create([], terms_agreed=False)
    assert session.sent[-1].payload == {"contact": []}


def test_create_with_external_account_binding(acme, session, jws_verify):
    key = generate_private_key("ec256")
    mac_key = os.urandom(32)
    session.add("POST", DIRECTORY["newAccount"], 201, {"Location": ACCT, "Replay-Nonce": "n1"}, {"status": "valid"})
    eab = {"kid": "kid-7", "hmac_key": base64.urlsafe_b64encode(mac_key).decode(), "alg": "HS512"}
    Account(acme, key).create(["mailto:a@example.com"], terms_agreed=True, eab=eab)
    payload = jws_verify(session.sent[-1].jws, key.public_jwk())[1]
    binding = payload["externalAccountBinding"]
    protected = json.loads(base64.urlsafe_b64decode(binding["protected"] + "=="))
    assert protected == {"alg": "HS512", "kid": "kid-7", "url": DIRECTORY["newAccount"]}
    assert json.loads(base64.urlsafe_b64decode(binding["payload"] + "==")) == key.public_jwk()
    mac = hmac.new(mac_key, f"{binding['protected']}.{binding['payload']}".encode(), hashlib.sha512).digest()
    assert base64.urlsafe_b64decode(binding["signature"] + "==") == mac


def saved_when_sent(session, path):
    """Wrap the scripted session to note, at each request, whether ``path`` exists and what it holds."""
    seen = []
    real_request = session.request

    def request(method, url, **kwargs):
        seen.append((method, url, path.read_bytes() if path.exists() else None))
        return real_request(method, url, **kwargs)

    session.request = request
    return seen


@pytest.mark.parametrize(
    "refusal",
    [
        (400, "urn:ietf:params:acme:error:malformed", "the external account binding's MAC is invalid"),
        (500, "urn:ietf:params:acme:error:serverInternal", "account created, then the database timed out"),
    ],
    ids=["bad-eab", "ca-failed-after-creating"],
)
def test_generated_key_is_saved_before_registering_and_reused_by_the_rerun(refusal, acme, session, jws_verify, tmp_path):
    path = tmp_path / "acme.json"
    key = generate_private_key("ec256")
    seen = saved_when_sent(session, path)
    status, problem_type, detail = refusal
    session.add_problem("POST", DIRECTORY["newAccount"], status, problem_type, detail, nonce="n1")
    eab = {"kid": "kid-7", "hmac_key": base64.urlsafe_b64encode(os.urandom(32)).decode()}
    with pytest.raises(AcmeProblem):
        register(Account(acme, key), ["mailto:a@example.com"], True, eab, save_key_to=str(path))

    # The key was on disk, 0600, when newAccount went out, and is still there after the refusal.
    method, url, saved = seen[-1]
    assert (method, url) == ("POST", DIRECTORY["newAccount"]) and saved is not None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    credentials, _warnings = load_credentials(str(path))
    assert credentials.key.same_key_as(key)
    assert (credentials.account_uri, credentials.directory, credentials.contacts, credentials.accept_terms) == (None, DIR, ["mailto:a@example.com"], True)
    assert sorted(os.listdir(tmp_path)) == ["acme.json"]

    # The rerun signs its lookup with the saved key and finds the account the CA may have created.
    session.add("POST", DIRECTORY["newAccount"], 200, {"Location": ACCT, "Replay-Nonce": "n2", **JSON}, {"status": "valid", "contact": []})
    state = Account(acme, credentials.key).find()
    assert state.uri == ACCT
    assert jws_verify(session.sent[-1].jws, key.public_jwk())[1] == {"onlyReturnExisting": True}


def test_registration_completes_the_saved_file(acme, session, tmp_path):
    path = tmp_path / "acme.json"
    key = generate_private_key("ec256")
    body = {"status": "valid", "contact": ["mailto:a@example.com"]}
    session.add("POST", DIRECTORY["newAccount"], 201, {"Location": ACCT, "Replay-Nonce": "n1", **JSON}, body)
    state, created = register(Account(acme, key), ["mailto:a@example.com"], True, save_key_to=str(path))
    assert created is True and state.uri == ACCT
    credentials, _warnings = load_credentials(str(path))
    assert credentials.key.same_key_as(key)
    assert (credentials.account_uri, credentials.directory, credentials.contacts) == (ACCT, DIR, ["mailto:a@example.com"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_registration_without_a_file_to_save_writes_nothing(acme, session, tmp_path):
    session.add("POST", DIRECTORY["newAccount"], 201, {"Location": ACCT, "Replay-Nonce": "n1"}, {"status": "valid"})
    register(Account(acme, generate_private_key("ec256")), [], False)
    assert os.listdir(tmp_path) == []


def test_update_deactivate_and_change_key(acme, session, jws_verify):
    old_key, new_key = generate_private_key("ec256"), generate_private_key("rsa2048")
    session.add("POST", ACCT, 200, {"Replay-Nonce": "n1", **JSON}, {"status": "valid", "contact": ["mailto:b@example.com"]})
    session.add("POST", DIRECTORY["keyChange"], 200, {"Replay-Nonce": "n2"}, b"")
    session.add("POST", ACCT, 200, {"Replay-Nonce": "n3", **JSON}, {"status": "deactivated"})
    account = Account(acme, old_key, uri=ACCT)
    assert account.update_contacts(["mailto:b@example.com"]).contacts == ["mailto:b@example.com"]
    account.change_key(new_key)
    assert account.key is new_key
    assert account.deactivate().status == "deactivated"
    update, key_change, deactivate = session.sent_to("POST")
    assert jws_verify(update.jws, old_key.public_jwk()) == ({"alg": "ES256", "kid": ACCT, "nonce": "n0", "url": ACCT}, {"contact": ["mailto:b@example.com"]})
    outer, inner = jws_verify(key_change.jws, old_key.public_jwk())
    assert outer["kid"] == ACCT and outer["nonce"] == "n1"
    inner_protected, inner_payload = jws_verify(inner, new_key.public_jwk())
    assert inner_protected == {"alg": "RS256", "jwk": new_key.public_jwk(), "url": DIRECTORY["keyChange"]}
    assert inner_payload == {"account": ACCT, "oldKey": old_key.public_jwk()}
    assert jws_verify(deactivate.jws, new_key.public_jwk())[1] == {"status": "deactivated"}


# -- the credentials file --------------------------------------------------------------------


def make_credentials(key_type="ec256") -> Credentials:
    return Credentials(
        key=generate_private_key(key_type),
        account_uri=ACCT,
        directory=DIR,
        contacts=["mailto:a@example.com"],
        accept_terms=True,
    )


def test_credentials_round_trip(tmp_path):
    path = tmp_path / "acme.json"
    credentials = make_credentials()
    old_umask = os.umask(0)
    try:
        assert save_credentials(str(path), credentials) is True
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"privateKeyPem", "publicKeyPem", "acceptTerms", "contacts", "accountUri", "directory"}
    assert data["publicKeyPem"] == credentials.key.public_pem().decode()
    loaded, warnings = load_credentials(str(path))
    assert warnings == []
    assert loaded.key.thumbprint() == credentials.key.thumbprint()
    assert (loaded.account_uri, loaded.directory, loaded.contacts, loaded.accept_terms) == (ACCT, DIR, ["mailto:a@example.com"], True)
    assert save_credentials(str(path), loaded) is False  # same content, same mode: nothing to do


def test_credentials_readable_by_others_warns(tmp_path):
    path = tmp_path / "acme.json"
    save_credentials(str(path), make_credentials())
    os.chmod(path, 0o644)
    loaded, warnings = load_credentials(str(path))
    assert loaded is not None
    assert len(warnings) == 1
    assert str(path) in warnings[0] and "0644" in warnings[0] and "credentials_path" in warnings[0]
    assert "PRIVATE KEY" not in warnings[0]
    assert "certfleet.acme.acme_account" in warnings[0]  # who tightens it
    assert save_credentials(str(path), loaded) is True  # rewriting fixes the mode
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_credentials(str(path))[1] == []


def test_credentials_missing_file(tmp_path):
    assert load_credentials(str(tmp_path / "nope.json")) == (None, [])


@pytest.mark.parametrize(
    "content, words",
    [
        (b"-----BEGIN PRIVATE KEY-----\n", ["not a JSON credentials file", "at a path that does not exist yet"]),
        (b'["a list"]', ["no privateKeyPem", "at the file certfleet.acme.acme_account wrote"]),
        (b'{"accountUri": "https://ca.example/acct/1"}', ["no privateKeyPem"]),
        (b'{"privateKeyPem": "garbage"}', ["PEM"]),
        (b'{"privateKeyPem": "-----BEGIN PRIVATE KEY-----\\nQUJD\\n-----END PRIVATE KEY-----\\n"}', ["is not a usable PEM private key", "give an EC or RSA"]),
    ],
)
def test_credentials_bad_file(content, words, tmp_path):
    path = tmp_path / "acme.json"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(AcmeOptionError) as info:
        load_credentials(str(path), option="credentials_path")
    assert info.value.option == "credentials_path"
    for word in words:
        assert word in info.value.msg


def test_credentials_tolerate_missing_optional_fields(tmp_path):
    key = generate_private_key("ec256")
    path = tmp_path / "acme.json"
    path.write_text(json.dumps({"privateKeyPem": key.private_pem().decode(), "contacts": "mailto:x", "accountUri": 3}))
    os.chmod(path, 0o600)
    loaded = load_credentials(str(path))[0]
    assert loaded.key.thumbprint() == key.thumbprint()
    assert (loaded.account_uri, loaded.directory, loaded.contacts, loaded.accept_terms) == (None, None, [], False)


# -- the acme_account run: a new credentials file ------------------------------------------


def account_run(acme, monkeypatch, path, *, check_mode=False):
    """The acme_account run for ``credentials_path`` ``path``, talking to the scripted CA behind ``acme``."""
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.account_run import AccountRun
    from ansible_collections.certfleet.acme.plugins.modules import acme_account

    params = {name: spec.get("default") for name, spec in acme_account.argument_spec().items()}
    params.update(directory=DIR, credentials_path=str(path), contacts=["mailto:a@example.com"], terms_agreed=True)
    return AccountRun(params, connect=lambda: acme, warn=[].append, check_mode=check_mode)


def test_acme_account_keeps_the_generated_key_when_registration_fails(acme, session, monkeypatch, jws_verify, tmp_path):
    path = tmp_path / "acme.json"
    session.add_problem("POST", DIRECTORY["newAccount"], 400, "urn:ietf:params:acme:error:accountDoesNotExist", "no account", nonce="n1")
    session.add_problem("POST", DIRECTORY["newAccount"], 500, "urn:ietf:params:acme:error:serverInternal", "try again later", nonce="n2")
    with pytest.raises(AcmeProblem):
        account_run(acme, monkeypatch, path)()
    lookup, registration = session.sent_to("POST")
    credentials, _warnings = load_credentials(str(path))
    assert credentials.account_uri is None and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert jws_verify(registration.jws, credentials.key.public_jwk())[1]["contact"] == ["mailto:a@example.com"]

    # The rerun uses the saved key: its lookup finds the account, and the file is completed.
    body = {"status": "valid", "contact": ["mailto:a@example.com"]}
    session.add("POST", DIRECTORY["newAccount"], 200, {"Location": ACCT, "Replay-Nonce": "n3", **JSON}, body)
    result = account_run(acme, monkeypatch, path)().to_result()
    assert jws_verify(session.sent[-1].jws, credentials.key.public_jwk())[1] == {"onlyReturnExisting": True}
    assert result["account_uri"] == ACCT and result["created"] is False and result["changed"] is True
    completed, _warnings = load_credentials(str(path))
    assert completed.key.same_key_as(credentials.key) and completed.account_uri == ACCT


def test_acme_account_check_mode_writes_no_key(acme, session, monkeypatch, tmp_path):
    path = tmp_path / "acme.json"
    session.add_problem("POST", DIRECTORY["newAccount"], 400, "urn:ietf:params:acme:error:accountDoesNotExist", "no account", nonce="n1")
    result = account_run(acme, monkeypatch, path, check_mode=True)().to_result()
    assert result["created"] is True and result["changed"] is True
    assert [sent.payload for sent in session.sent_to("POST")] == [{"onlyReturnExisting": True}]
    assert os.listdir(tmp_path) == []


def test_other_modules_name_credentials_path_when_its_registration_did_not_finish(acme, session, tmp_path):
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import account_from_params

    path = tmp_path / "acme.json"
    save_credentials(str(path), Credentials(key=generate_private_key("ec256"), directory=DIR))
    session.add_problem("POST", DIRECTORY["newAccount"], 400, "urn:ietf:params:acme:error:accountDoesNotExist", "no account", nonce="n1")
    with pytest.raises(AcmeOptionError) as info:
        account_from_params({"credentials_path": str(path)}, acme)
    assert info.value.option == "credentials_path"
    assert info.value.msg == (
        f"credentials_path {path} holds a key with no account at {DIR} (its registration did not finish); run certfleet.acme.acme_account with it again"
    )


# -- the acme_account run: an existing account key imported into a credentials file ------------


def import_run(client, path, key_pem, *, check_mode=False, option="account_key_content"):
    """The acme_account run with ``credentials_path`` ``path`` and an existing key given as ``option``."""
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.account_run import AccountRun
    from ansible_collections.certfleet.acme.plugins.modules import acme_account

    params = {name: spec.get("default") for name, spec in acme_account.argument_spec().items()}
    params.update(directory=DIR, credentials_path=str(path), terms_agreed=True)
    if option == "account_key_src":
        key_file = path.parent / "account.key"
        key_file.write_bytes(key_pem)
        key_file.chmod(0o600)
        params["account_key_src"] = str(key_file)
    else:
        params["account_key_content"] = key_pem.decode("ascii")
    return AccountRun(params, connect=lambda: client, warn=[].append, check_mode=check_mode)


def found(nonce, contacts=("mailto:a@example.com",)):
    return (200, {"Location": ACCT, "Replay-Nonce": nonce, **JSON}, {"status": "valid", "contact": list(contacts)})


@pytest.mark.parametrize("option", ["account_key_content", "account_key_src"])
def test_import_writes_the_given_key_and_its_account_then_reruns_unchanged(option, acme, session, jws_verify, tmp_path):
    path = tmp_path / "creds" / "acme.json"
    path.parent.mkdir()
    key = generate_private_key("ec384")
    session.add("POST", DIRECTORY["newAccount"], *found("n1"))
    result = import_run(acme, path, key.private_pem(), option=option)().to_result()
    # The lookup was signed by the given key: the account is the one that key already has.
    assert jws_verify(session.sent[-1].jws, key.public_jwk())[1] == {"onlyReturnExisting": True}
    assert (result["changed"], result["created"], result["account_uri"]) == (True, False, ACCT)
    assert result["key_thumbprint"] == key.thumbprint()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    credentials, _warnings = load_credentials(str(path))
    assert credentials.key.same_key_as(key)
    assert (credentials.account_uri, credentials.directory, credentials.contacts) == (ACCT, DIR, ["mailto:a@example.com"])
    written = path.read_bytes()

    session.add("POST", DIRECTORY["newAccount"], *found("n2"))
    again = import_run(acme, path, key.private_pem(), option=option)().to_result()
    assert (again["changed"], again["account_uri"]) == (False, ACCT)
    assert path.read_bytes() == written


def test_import_registers_a_key_without_account(acme, session, jws_verify, tmp_path):
    path = tmp_path / "acme.json"
    key = generate_private_key("ec256")
    session.add_problem("POST", DIRECTORY["newAccount"], 400, "urn:ietf:params:acme:error:accountDoesNotExist", "no account", nonce="n1")
    session.add("POST", DIRECTORY["newAccount"], 201, {"Location": ACCT, "Replay-Nonce": "n2", **JSON}, {"status": "valid", "contact": []})
    result = import_run(acme, path, key.private_pem())().to_result()
    assert jws_verify(session.sent[-1].jws, key.public_jwk())[1]["termsOfServiceAgreed"] is True
    assert (result["changed"], result["created"], result["account_uri"]) == (True, True, ACCT)
    credentials, _warnings = load_credentials(str(path))
    assert credentials.key.same_key_as(key) and credentials.account_uri == ACCT


def test_import_in_check_mode_writes_nothing(acme, session, tmp_path):
    path = tmp_path / "acme.json"
    session.add("POST", DIRECTORY["newAccount"], *found("n1"))
    result = import_run(acme, path, generate_private_key("ec256").private_pem(), check_mode=True)().to_result()
    assert (result["changed"], result["created"], result["account_uri"]) == (True, False, ACCT)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("option", ["account_key_content", "account_key_src"])
def test_import_refuses_a_credentials_file_with_another_key(option, session, clock, tmp_path):
    path = tmp_path / "acme.json"
    save_credentials(str(path), Credentials(key=generate_private_key("ec256"), account_uri=ACCT, directory=DIR))
    before = path.read_bytes()
    client = AcmeClient(DIR, session=session, clock=clock.time, sleep=clock.sleep)
    with pytest.raises(AcmeOptionError) as info:
        import_run(client, path, generate_private_key("ec256").private_pem(), option=option)()
    assert info.value.option == "credentials_path"
    assert f"credentials_path {path} holds another account key than {option}" in info.value.msg
    assert session.sent == [] and path.read_bytes() == before
