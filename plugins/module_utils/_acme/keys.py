# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Private keys: generation, loading, JWK (RFC 7517/7518) and thumbprints (RFC 7638).

Only ``cryptography`` is used; nothing shells out to openssl. Key material never
leaves this module except as PEM bytes handed to ``storage`` for a 0600 file.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import b64url_encode, int_to_bytes
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError

CRYPTOGRAPHY_IMPORT_ERROR: str | None
try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

# key_type option value -> (family, size or curve name)
KEY_TYPES: dict[str, tuple[str, int | str]] = {
    "ec256": ("ec", "secp256r1"),
    "ec384": ("ec", "secp384r1"),
    "ec521": ("ec", "secp521r1"),
    "rsa2048": ("rsa", 2048),
    "rsa3072": ("rsa", 3072),
    "rsa4096": ("rsa", 4096),
}
DEFAULT_KEY_TYPE = "ec256"

# RFC 7518 section 3.4: ECDSA JWS algorithm and the byte length of r and s per curve.
_EC_CURVES: dict[str, tuple[str, str, int]] = {
    # curve name: (JWK crv, JWS alg, coordinate length in bytes)
    "secp256r1": ("P-256", "ES256", 32),
    "secp384r1": ("P-384", "ES384", 48),
    "secp521r1": ("P-521", "ES512", 66),
}
_EC_HASHES = {"ES256": "SHA256", "ES384": "SHA384", "ES512": "SHA512"}
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 8192


class PrivateKey:
    """An EC or RSA private key with what ACME needs: JWS ``alg``, JWK, thumbprint, signing."""

    def __init__(self, key: Any) -> None:
        if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise ValueError("unsupported key type; use an EC (P-256, P-384, P-521) or RSA key")
        problem = unsupported_key_reason(key)
        if problem:
            raise ValueError(problem)
        self._key = key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            self.crv, self.alg, self._coordinate_size = _EC_CURVES[key.curve.name]
        else:
            self.alg = "RS256"

    @property
    def description(self) -> str:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return f"RSA {self._key.key_size}"
        return f"EC {self.crv}"

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK with only its required members (RFC 7518 sections 6.2, 6.3)."""
        numbers = self._key.public_key().public_numbers()
        if isinstance(self._key, rsa.RSAPrivateKey):
            return {"e": b64url_encode(int_to_bytes(numbers.e)), "kty": "RSA", "n": b64url_encode(int_to_bytes(numbers.n))}
        return {
            "crv": self.crv,
            "kty": "EC",
            "x": b64url_encode(int_to_bytes(numbers.x, self._coordinate_size)),
            "y": b64url_encode(int_to_bytes(numbers.y, self._coordinate_size)),
        }

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url), as used in key authorizations."""
        return jwk_thumbprint(self.public_jwk())

    def sign(self, data: bytes) -> bytes:
        """A JWS signature over ``data`` (RFC 7518 sections 3.3 and 3.4: ECDSA as raw r||s)."""
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        digest = getattr(hashes, _EC_HASHES[self.alg])()
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(digest)))
        return int_to_bytes(r, self._coordinate_size) + int_to_bytes(s, self._coordinate_size)

    def private_pem(self) -> bytes:
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def same_key_as(self, other: PrivateKey) -> bool:
        return self.thumbprint() == other.thumbprint()

    @property
    def crypto_key(self) -> Any:
        """The ``cryptography`` key object (for CSR signing and tests)."""
        return self._key


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 section 3: SHA-256 over the required members, sorted, without white space."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "oct": ("k", "kty")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def generate_private_key(key_type: str) -> PrivateKey:
    """A new key of ``key_type`` (one of ``KEY_TYPES``)."""
    if key_type not in KEY_TYPES:
        raise AcmeOptionError("key_type", f"key_type {key_type!r} is not supported; use one of {', '.join(KEY_TYPES)}")
    family, parameter = KEY_TYPES[key_type]
    if family == "rsa":
        return PrivateKey(rsa.generate_private_key(public_exponent=65537, key_size=int(parameter)))
    return PrivateKey(ec.generate_private_key(getattr(ec, str(parameter).upper())()))


def unsupported_key_reason(key: Any) -> str | None:
    """Why ACME cannot use ``key`` (a private or public key object), or None when it can.

    The same rule for account keys, certificate keys and the key of a user's CSR: EC on
    P-256, P-384 or P-521, or RSA of RSA_MIN_BITS to RSA_MAX_BITS (RFC 7518 section 3.1).
    """
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if key.curve.name not in _EC_CURVES:
            return f"unsupported elliptic curve {key.curve.name}; use P-256, P-384 or P-521"
        return None
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if not RSA_MIN_BITS <= key.key_size <= RSA_MAX_BITS:
            return f"RSA key of {key.key_size} bits; use an RSA key of {RSA_MIN_BITS} to {RSA_MAX_BITS} bits or an EC key"
        return None
    return "unsupported key type; use an EC (P-256, P-384, P-521) or RSA key"


def load_private_key(
    pem: bytes | str,
    option: str,
    passphrase: str | None = None,
    *,
    path: str | None = None,
    passphrase_option: str | None = None,
) -> PrivateKey:
    """Parse a PEM private key; errors name ``option`` (and ``path``) and never echo the key.

    ``passphrase_option`` is the module option that carries the passphrase of this key, if
    the module has one: an encrypted key without it gets a message naming the way out.
    """
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    subject = f"{option} {path}" if path else option
    if b"-----BEGIN" not in data:
        raise AcmeOptionError(option, f"{subject} does not hold a PEM private key (no '-----BEGIN' line found)")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode("utf-8") if passphrase else None)
    except TypeError:
        if passphrase:
            raise AcmeOptionError(option, f"{subject} is not encrypted; remove {passphrase_option or 'the passphrase'}") from None
        if passphrase_option:
            raise AcmeOptionError(option, f"{subject} is encrypted; give its passphrase in {passphrase_option}, or decrypt it first") from None
        raise AcmeOptionError(
            option, f"{subject} is encrypted and this module takes no passphrase for it; decrypt it first (openssl pkey -in KEY -out NEWKEY)"
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        # cryptography's message never contains key material, only what it could not parse.
        # A wrong passphrase decrypts to noise, which cryptography reports as a failed decryption or,
        # now and then, as a parsing error of that noise: an encrypted key that does not load did not decrypt.
        if passphrase and ("decrypt" in str(exc).lower() or b"ENCRYPTED" in data):
            raise AcmeOptionError(
                option, f"{subject} cannot be decrypted with {passphrase_option or 'the passphrase'}: the passphrase does not fit or the key is damaged"
            ) from None
        raise AcmeOptionError(option, f"{subject} is not a usable PEM private key ({exc}); give an EC or RSA private key in PEM") from None
    problem = unsupported_key_reason(key)
    if problem:
        raise AcmeOptionError(option, f"{subject}: {problem}")
    return PrivateKey(key)
