# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""JWS objects as ACME needs them (RFC 8555 section 6.2, RFC 7515 flattened JSON).

Requests carry ``alg``, ``nonce``, ``url`` and exactly one of ``jwk`` (new account,
key rollover inner object, revocation by certificate key) or ``kid`` (everything
else). External account binding (section 7.3.4) and the inner key-change object
(section 7.3.5) carry no nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import b64url_decode, b64url_encode
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import PrivateKey

EAB_ALGORITHMS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

# The payload of a POST-as-GET request is the empty string (RFC 8555 section 6.3).
POST_AS_GET = None


def _encode_payload(payload: dict[str, Any] | None) -> str:
    if payload is POST_AS_GET:
        return ""
    return b64url_encode(json.dumps(payload, separators=(",", ":"), sort_keys=True))


def sign_request(
    key: PrivateKey,
    url: str,
    payload: dict[str, Any] | None,
    *,
    nonce: str | None,
    kid: str | None = None,
) -> dict[str, str]:
    """A flattened JWS for ``url`` signed by ``key``; ``kid`` None means embed the ``jwk``."""
    protected: dict[str, Any] = {"alg": key.alg, "url": url}
    if nonce is not None:
        protected["nonce"] = nonce
    if kid is None:
        protected["jwk"] = key.public_jwk()
    else:
        protected["kid"] = kid
    protected_b64 = b64url_encode(json.dumps(protected, separators=(",", ":"), sort_keys=True))
    payload_b64 = _encode_payload(payload)
    signature = key.sign(f"{protected_b64}.{payload_b64}".encode("ascii"))
    return {"protected": protected_b64, "payload": payload_b64, "signature": b64url_encode(signature)}


def external_account_binding(account_key: PrivateKey, new_account_url: str, eab_kid: str, hmac_key: str, alg: str = "HS256") -> dict[str, str]:
    """RFC 8555 section 7.3.4: the account's JWK, MACed with the CA-issued key."""
    if alg not in EAB_ALGORITHMS:
        raise AcmeOptionError("external_account_binding.alg", f"external_account_binding.alg {alg!r} is not one of {', '.join(EAB_ALGORITHMS)}")
    try:
        mac_key = b64url_decode(hmac_key)
    except ValueError:
        raise AcmeOptionError(
            "external_account_binding.hmac_key",
            "external_account_binding.hmac_key is not base64url; paste the HMAC key exactly as the CA issued it",
        ) from None
    protected = {"alg": alg, "kid": eab_kid, "url": new_account_url}
    protected_b64 = b64url_encode(json.dumps(protected, separators=(",", ":"), sort_keys=True))
    payload_b64 = b64url_encode(json.dumps(account_key.public_jwk(), separators=(",", ":"), sort_keys=True))
    mac = hmac.new(mac_key, f"{protected_b64}.{payload_b64}".encode("ascii"), EAB_ALGORITHMS[alg]).digest()
    return {"protected": protected_b64, "payload": payload_b64, "signature": b64url_encode(mac)}


def key_change_inner(new_key: PrivateKey, key_change_url: str, account_url: str, old_key: PrivateKey) -> dict[str, str]:
    """RFC 8555 section 7.3.5: the inner JWS, signed by the new key, naming account and old key."""
    return sign_request(new_key, key_change_url, {"account": account_url, "oldKey": old_key.public_jwk()}, nonce=None, kid=None)
