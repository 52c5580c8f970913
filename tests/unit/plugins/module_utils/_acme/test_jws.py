# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""jws.py: signed requests (RFC 8555 section 6.2), external account binding (7.3.4), key change (7.3.5).

Signatures are checked with ``cryptography`` alone (the ``jws_verify`` fixture turns
raw ECDSA r||s back into DER with ``encode_dss_signature``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ansible_collections.certfleet.acme.plugins.module_utils._acme import jws
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import b64url_decode, b64url_encode

URL = "https://ca.example/acme/new-order"
KID = "https://ca.example/acme/acct/42"
SIGNATURE_BYTES = {"ec256": 64, "ec384": 96, "ec521": 132, "rsa2048": 256}
ALGS = {"ec256": "ES256", "ec384": "ES384", "ec521": "ES512", "rsa2048": "RS256"}


def decoded(obj: dict[str, str]) -> tuple[dict, object]:
    protected = json.loads(b64url_decode(obj["protected"]))
    payload = "" if obj["payload"] == "" else json.loads(b64url_decode(obj["payload"]))
    return protected, payload


@pytest.fixture(scope="module", params=sorted(SIGNATURE_BYTES))
def key(request):
    return request.param, generate_private_key(request.param)


# -- sign_request ------------------------------------------------------------------


def test_sign_with_jwk(key, jws_verify):
    key_type, account_key = key
    payload = {"identifiers": [{"type": "dns", "value": "example.org"}]}
    signed = jws.sign_request(account_key, URL, payload, nonce="nonce-1", kid=None)
    assert set(signed) == {"protected", "payload", "signature"}
    protected, body = jws_verify(signed, account_key.public_jwk())
    assert protected == {"alg": ALGS[key_type], "nonce": "nonce-1", "url": URL, "jwk": account_key.public_jwk()}
    assert "kid" not in protected
    assert body == payload
    assert len(b64url_decode(signed["signature"])) == SIGNATURE_BYTES[key_type]
    for part in signed.values():
        assert "=" not in part and "+" not in part and "/" not in part


def test_sign_with_kid(key, jws_verify):
    key_type, account_key = key
    signed = jws.sign_request(account_key, URL, {"contact": ["mailto:a@example.org"]}, nonce="nonce-2", kid=KID)
    protected, body = jws_verify(signed, account_key.public_jwk())
    assert protected == {"alg": ALGS[key_type], "nonce": "nonce-2", "url": URL, "kid": KID}
    assert "jwk" not in protected
    assert body == {"contact": ["mailto:a@example.org"]}


def test_post_as_get_has_empty_payload(key, jws_verify):
    account_key = key[1]
    signed = jws.sign_request(account_key, URL, jws.POST_AS_GET, nonce="nonce-3", kid=KID)
    assert signed["payload"] == ""
    protected, body = jws_verify(signed, account_key.public_jwk())
    assert body == "" and protected["nonce"] == "nonce-3"


def test_empty_object_is_not_post_as_get(jws_verify):
    account_key = generate_private_key("ec256")
    signed = jws.sign_request(account_key, URL, {}, nonce="n", kid=KID)
    assert signed["payload"] == "e30"  # base64url("{}"), e.g. for a challenge response
    assert jws_verify(signed, account_key.public_jwk())[1] == {}


def test_tampering_breaks_the_signature(key, jws_verify):
    key_type, account_key = key
    signed = jws.sign_request(account_key, URL, {"status": "deactivated"}, nonce="n", kid=KID)
    forged = dict(signed, payload=b64url_encode(json.dumps({"status": "valid"}).encode()))
    with pytest.raises(InvalidSignature):
        jws_verify(forged, account_key.public_jwk())
    other = generate_private_key(key_type)  # the same algorithm and size: only the key differs
    with pytest.raises(InvalidSignature):
        jws_verify(signed, other.public_jwk())


def test_ecdsa_signatures_are_randomised_but_all_verify(jws_verify):
    """ECDSA draws a fresh k per signature (RFC 7518 section 3.4): two signatures of one input differ, both verify."""
    account_key = generate_private_key("ec256")
    first = jws.sign_request(account_key, URL, None, nonce="n", kid=KID)
    second = jws.sign_request(account_key, URL, None, nonce="n", kid=KID)
    assert (first["protected"], first["payload"]) == (second["protected"], second["payload"])
    assert first["signature"] != second["signature"]
    jws_verify(first, account_key.public_jwk())
    jws_verify(second, account_key.public_jwk())


def test_rs256_signature_is_pkcs1_v15_of_the_signing_input():
    """RS256 is deterministic (RFC 7518 section 3.3): the signature equals one made here with cryptography
    over ASCII(protected '.' payload) (RFC 7515 section 5.1)."""
    account_key = generate_private_key("rsa2048")
    signed = jws.sign_request(account_key, URL, {"status": "deactivated"}, nonce="n", kid=KID)
    signing_input = f"{signed['protected']}.{signed['payload']}".encode("ascii")
    expected = account_key.crypto_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    assert b64url_decode(signed["signature"]) == expected


# -- external account binding ----------------------------------------------------


@pytest.mark.parametrize("alg, digest", [("HS256", hashlib.sha256), ("HS384", hashlib.sha384), ("HS512", hashlib.sha512)])
def test_external_account_binding(alg, digest):
    account_key = generate_private_key("ec256")
    mac_key = os.urandom(32)
    new_account = "https://ca.example/acme/new-account"
    binding = jws.external_account_binding(account_key, new_account, "eab-kid-1", b64url_encode(mac_key), alg)
    protected, payload = decoded(binding)
    assert protected == {"alg": alg, "kid": "eab-kid-1", "url": new_account}
    assert "nonce" not in protected and "jwk" not in protected
    assert payload == account_key.public_jwk()
    expected = hmac.new(mac_key, f"{binding['protected']}.{binding['payload']}".encode("ascii"), digest).digest()
    assert b64url_decode(binding["signature"]) == expected


def test_external_account_binding_accepts_standard_alphabet_key():
    account_key = generate_private_key("ec256")
    mac_key = bytes(range(250, 256)) + os.urandom(26)  # leading 0xfa..: '+' and '/' in standard base64
    standard = base64.b64encode(mac_key).decode("ascii")
    assert "+" in standard or "/" in standard
    url = "https://ca.example/acme/new-account"
    from_standard = jws.external_account_binding(account_key, url, "kid", standard)
    from_urlsafe = jws.external_account_binding(account_key, url, "kid", b64url_encode(mac_key))
    assert from_standard == from_urlsafe
    expected = hmac.new(mac_key, f"{from_standard['protected']}.{from_standard['payload']}".encode(), hashlib.sha256).digest()
    assert b64url_decode(from_standard["signature"]) == expected


def test_external_account_binding_rejects_bad_alg():
    with pytest.raises(AcmeOptionError) as info:
        jws.external_account_binding(generate_private_key("ec256"), "https://ca.example/n", "kid", b64url_encode(b"k" * 32), "RS256")
    assert info.value.option == "external_account_binding.alg"
    assert "RS256" in info.value.msg


def test_external_account_binding_rejects_bad_key_without_echoing_it():
    secret = "not*base64*at*all*but*very*secret"
    with pytest.raises(AcmeOptionError) as info:
        jws.external_account_binding(generate_private_key("ec256"), "https://ca.example/n", "kid", secret)
    assert info.value.option == "external_account_binding.hmac_key"
    assert secret not in info.value.msg and "secret" not in str(info.value.to_result())


# -- key change ------------------------------------------------------------------


def test_key_change_inner(jws_verify):
    old_key = generate_private_key("ec256")
    new_key = generate_private_key("ec384")
    key_change = "https://ca.example/acme/key-change"
    inner = jws.key_change_inner(new_key, key_change, KID, old_key)
    protected, payload = jws_verify(inner, new_key.public_jwk())
    assert protected == {"alg": "ES384", "jwk": new_key.public_jwk(), "url": key_change}
    assert "nonce" not in protected and "kid" not in protected
    assert payload == {"account": KID, "oldKey": old_key.public_jwk()}
    with pytest.raises((InvalidSignature, AssertionError)):
        jws_verify(inner, old_key.public_jwk())


def test_key_change_inner_rsa_to_ec(jws_verify):
    old_key = generate_private_key("rsa2048")
    new_key = generate_private_key("ec256")
    inner = jws.key_change_inner(new_key, "https://ca.example/kc", KID, old_key)
    protected, payload = jws_verify(inner, new_key.public_jwk())
    assert protected["alg"] == "ES256"
    assert payload["oldKey"] == old_key.public_jwk() and payload["oldKey"]["kty"] == "RSA"
