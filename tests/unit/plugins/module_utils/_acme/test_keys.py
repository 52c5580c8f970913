# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""keys.py: generation, loading (with errors that name the option and never echo the key), JWK, RFC 7638."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from ansible_collections.certfleet.acme.plugins.module_utils._acme import encoding
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import (
    KEY_TYPES,
    PrivateKey,
    generate_private_key,
    jwk_thumbprint,
    load_private_key,
    unsupported_key_reason,
)
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import b64url_decode, rfc7638_thumbprint, sha256_b64url

# RFC 7638 section 3.1, the RSA key of the example (as in RFC 7517 appendix A.1), with the
# optional members the example carries: they must not change the thumbprint.
RFC7638_JWK = {
    "kty": "RSA",
    "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvzq"
        "Y368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu"
        "0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    ),
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
EC_CURVES = {"ec256": (ec.SECP256R1, "P-256", "ES256", 32), "ec384": (ec.SECP384R1, "P-384", "ES384", 48), "ec521": (ec.SECP521R1, "P-521", "ES512", 66)}


def pem_body_lines(pem: bytes) -> list[str]:
    return [line for line in pem.decode("ascii").splitlines() if line and not line.startswith("-----")]


# -- RFC 7638 ---------------------------------------------------------------------


def test_rfc7638_example_thumbprint():
    assert jwk_thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT


def test_rfc7638_thumbprint_hashes_only_the_required_members_in_order():
    """Section 3.1 spells out the hashed JSON: required members only, sorted, no white space.

    The same key with its members in another order and more optional members must give the
    SHA-256 of exactly that text (computed here with hashlib), through the collection's function.
    """
    canonical = '{"e":"AQAB","kty":"RSA","n":"' + RFC7638_JWK["n"] + '"}'
    assert sha256_b64url(canonical) == RFC7638_THUMBPRINT  # the independent helper agrees with the RFC
    shuffled = {"use": "sig", "n": RFC7638_JWK["n"], "kid": "other", "e": "AQAB", "kty": "RSA", "x5t": "ignored"}
    assert jwk_thumbprint(shuffled) == sha256_b64url(canonical)


def test_rfc7638_example_modulus_encoding():
    """The RFC's n, parsed to an integer and encoded the way public_jwk() does, comes back unchanged."""
    n = int.from_bytes(b64url_decode(RFC7638_JWK["n"]), "big")
    assert n.bit_length() == 2048
    public = rsa.RSAPublicNumbers(65537, n)
    assert encoding.b64url_encode(encoding.int_to_bytes(public.n)) == RFC7638_JWK["n"]
    assert encoding.b64url_encode(encoding.int_to_bytes(public.e)) == RFC7638_JWK["e"]


def test_thumbprint_of_other_key_differs():
    other = dict(RFC7638_JWK, e="AQAC")
    assert jwk_thumbprint(other) != RFC7638_THUMBPRINT


# -- generated keys: JWK rebuilds the public key, thumbprint is independent -------


@pytest.mark.parametrize("key_type", ["ec256", "ec384", "ec521"])
def test_ec_public_jwk_rebuilds_the_key(key_type):
    curve_class, crv, alg, size = EC_CURVES[key_type]
    key = generate_private_key(key_type)
    jwk = key.public_jwk()
    assert set(jwk) == {"kty", "crv", "x", "y"}
    assert jwk["kty"] == "EC" and jwk["crv"] == crv
    assert key.alg == alg
    x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
    assert len(x) == size and len(y) == size  # RFC 7518 section 6.2.1.2: full coordinate length
    rebuilt = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve_class()).public_key()
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert rebuilt.public_bytes(*spki) == key.crypto_key.public_key().public_bytes(*spki)
    assert key.thumbprint() == rfc7638_thumbprint(key.crypto_key.public_key())


def test_ec_coordinates_keep_leading_zero_bytes():
    """A P-256 key whose x starts with a zero byte still has a 32-byte x (a classic JWK bug)."""
    d = 1
    while True:
        private = ec.derive_private_key(d, ec.SECP256R1())
        if private.public_key().public_numbers().x.bit_length() <= 248:
            break
        d += 1
    key = PrivateKey(private)
    jwk = key.public_jwk()
    assert len(b64url_decode(jwk["x"])) == 32
    assert b64url_decode(jwk["x"])[0] == 0
    assert key.thumbprint() == rfc7638_thumbprint(private.public_key())


@pytest.mark.parametrize("bits", [2048, 3072])
def test_rsa_public_jwk_rebuilds_the_key(bits):
    key = PrivateKey(rsa.generate_private_key(public_exponent=65537, key_size=bits))
    jwk = key.public_jwk()
    assert set(jwk) == {"kty", "n", "e"}
    assert jwk["kty"] == "RSA" and jwk["e"] == "AQAB"
    assert key.alg == "RS256"
    n_bytes = b64url_decode(jwk["n"])
    assert len(n_bytes) == bits // 8 and n_bytes[0] != 0  # minimal big-endian, no sign byte
    rebuilt = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(jwk["e"]), "big"), int.from_bytes(n_bytes, "big")).public_key()
    assert rebuilt.public_numbers() == key.crypto_key.public_key().public_numbers()
    assert key.thumbprint() == rfc7638_thumbprint(key.crypto_key.public_key())


def test_same_key_as():
    a = generate_private_key("ec256")
    b = generate_private_key("ec256")
    assert a.same_key_as(load_private_key(a.private_pem(), "k"))
    assert not a.same_key_as(b)


# -- generation -------------------------------------------------------------------


@pytest.mark.parametrize("key_type", sorted(KEY_TYPES))
def test_generate_private_key(key_type):
    key = generate_private_key(key_type)
    family, parameter = KEY_TYPES[key_type]
    if family == "rsa":
        assert isinstance(key.crypto_key, rsa.RSAPrivateKey)
        assert key.crypto_key.key_size == parameter
        assert key.crypto_key.public_key().public_numbers().e == 65537
        assert key.alg == "RS256"
        assert key.description == f"RSA {parameter}"
    else:
        assert isinstance(key.crypto_key, ec.EllipticCurvePrivateKey)
        assert key.crypto_key.curve.name == parameter
        assert key.alg == EC_CURVES[key_type][2]
        assert key.description == f"EC {EC_CURVES[key_type][1]}"
    # PEM round trip: PKCS#8, unencrypted, and loadable by this module again.
    pem = key.private_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert load_private_key(pem, "private_key_path").thumbprint() == key.thumbprint()
    assert key.public_pem().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_generate_private_key_unknown_type():
    with pytest.raises(AcmeOptionError) as info:
        generate_private_key("ec999")
    assert info.value.option == "key_type"
    assert "ec999" in info.value.msg and "ec256" in info.value.msg


def test_generated_keys_differ():
    assert generate_private_key("ec256").thumbprint() != generate_private_key("ec256").thumbprint()


# -- loading ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def pkcs8(key, password: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def assert_option_error(info, option: str, pem: bytes | None, *words: str) -> None:
    error = info.value
    assert isinstance(error, AcmeOptionError)
    assert error.option == option
    assert error.to_result()["option"] == option
    assert option in error.msg
    for word in words:
        assert word in error.msg, error.msg
    if pem is not None:
        for line in pem_body_lines(pem):
            assert line not in error.msg
            assert line[:16] not in error.msg


def test_load_unencrypted_pem_in_every_format(ec_key):
    expected = PrivateKey(ec_key).thumbprint()
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        pem = ec_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        assert load_private_key(pem, "account_key_content").thumbprint() == expected
        assert load_private_key(pem.decode("ascii"), "account_key_content").thumbprint() == expected


def test_load_encrypted_with_passphrase(ec_key):
    pem = pkcs8(ec_key, b"s3cret")
    assert load_private_key(pem, "account_key_src", "s3cret").thumbprint() == PrivateKey(ec_key).thumbprint()


def test_load_garbage_without_pem_header():
    garbage = b"this is not a key, just some text the user pasted by mistake"
    with pytest.raises(AcmeOptionError) as info:
        load_private_key(garbage, "account_key_content")
    assert_option_error(info, "account_key_content", None, "PEM")
    assert "pasted by mistake" not in info.value.msg


def test_load_garbage_inside_pem_armour():
    pem = b"-----BEGIN PRIVATE KEY-----\nTUlJQ2VBSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBbUl3Z2dKZUFnRUFBb0dCQUw=\n-----END PRIVATE KEY-----\n"
    with pytest.raises(AcmeOptionError) as info:
        load_private_key(pem, "account_key_content")
    assert_option_error(info, "account_key_content", pem)


def test_load_encrypted_without_passphrase(ec_key):
    pem = pkcs8(ec_key, b"s3cret")
    with pytest.raises(AcmeOptionError) as info:
        load_private_key(pem, "account_key_src", path="/etc/acme/account.key", passphrase_option="account_key_passphrase")
    assert_option_error(info, "account_key_src", pem, "account_key_src /etc/acme/account.key is encrypted", "give its passphrase in account_key_passphrase")


def test_load_encrypted_where_the_module_takes_no_passphrase(ec_key):
    pem = pkcs8(ec_key, b"s3cret")
    with pytest.raises(AcmeOptionError) as info:
        load_private_key(pem, "private_key_path", path="/etc/ssl/www.key")
    assert_option_error(info, "private_key_path", pem, "private_key_path /etc/ssl/www.key is encrypted", "takes no passphrase", "decrypt it first")


def test_load_encrypted_with_wrong_passphrase(ec_key):
    pem = pkcs8(ec_key, b"s3cret")
    with pytest.raises(AcmeOptionError) as info:
        load_private_key(pem, "account_key_src", "wrong", passphrase_option="account_key_passphrase")
    assert_option_error(info, "account_key_src", pem, "cannot be decrypted with account_key_passphrase")
    assert "s3cret" not in info.value.msg and "wrong" not in info.value.msg


def test_load_passphrase_for_unencrypted_key(ec_key):
    pem = pkcs8(ec_key)
    with pytest.raises(AcmeOptionError) as info:
        load_private_key(pem, "account_key_content", "s3cret")
    assert_option_error(info, "account_key_content", pem, "not encrypted")
    assert "s3cret" not in info.value.msg


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda: dsa.generate_private_key(key_size=2048), id="dsa"),
        pytest.param(ed25519.Ed25519PrivateKey.generate, id="ed25519"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256K1()), id="secp256k1"),
        pytest.param(lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), id="rsa1024"),
    ],
)
def test_load_unsupported_key(make_key):
    pem = pkcs8(make_key())
    with pytest.raises(AcmeOptionError) as info:
        load_private_key(pem, "private_key_path")
    assert_option_error(info, "private_key_path", pem)
    assert any(word in info.value.msg for word in ("unsupported", "use an RSA key of 2048")), info.value.msg


@pytest.mark.parametrize(
    "make_key, words",
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()).public_key(), None),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(), None),
        (lambda: ec.generate_private_key(ec.SECP256K1()).public_key(), "secp256k1"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key(), "1024 bits"),
        (lambda: ed25519.Ed25519PrivateKey.generate().public_key(), "unsupported key type"),
    ],
    ids=["ec256", "rsa2048", "secp256k1", "rsa1024", "ed25519"],
)
def test_unsupported_key_reason_of_public_keys(make_key, words):
    """The rule for the key of a user's CSR is the one for private keys."""
    reason = unsupported_key_reason(make_key())
    if words is None:
        assert reason is None
    else:
        assert words in reason


def test_private_key_refuses_unsupported_objects():
    with pytest.raises(ValueError):
        PrivateKey(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(ValueError):
        PrivateKey("not a key")
    with pytest.raises(ValueError):
        PrivateKey(ec.generate_private_key(ec.SECP256R1()).public_key())


def test_public_jwk_has_no_private_member():
    for key_type in ("ec256", "rsa2048"):
        jwk = generate_private_key(key_type).public_jwk()
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
        json.dumps(jwk)  # JSON-serialisable strings only
