# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""base64url without padding (RFC 7515 section 2) and big-endian integer encoding."""

from __future__ import annotations

import base64
import binascii
import re


def b64url_encode(data: bytes | str) -> str:
    """RFC 7515 section 2: URL-safe alphabet, trailing ``=`` removed."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; also accepts the standard alphabet.

    CAs hand out EAB HMAC keys in either alphabet, sometimes padded; being liberal
    here spares users a confusing failure. Raises ``ValueError`` on anything else.
    """
    cleaned = "".join(text.split()).rstrip("=").replace("+", "-").replace("/", "_")
    if not cleaned or any(c not in _URLSAFE for c in cleaned) or len(cleaned) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


# RFC 8555 section 8.1: a challenge token is base64url without padding and carries at least 128
# bits of entropy (22 characters). It becomes a file name in web roots, whose file systems take
# names of up to 255 bytes. Nothing else is a token: no dot, no slash, no way out of a directory.
ACME_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,255}")

_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def int_to_bytes(value: int, length: int | None = None) -> bytes:
    """Unsigned big-endian bytes; ``length`` pads to a fixed size (EC coordinates, r and s)."""
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(length, "big")
