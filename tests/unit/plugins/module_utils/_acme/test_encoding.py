# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""encoding.py: base64url without padding (RFC 7515 section 2 and appendix C) and integer bytes."""

from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import b64url_decode, b64url_encode, int_to_bytes

# RFC 7515 appendix C: "Notes on Implementing base64url Encoding without Padding".
RFC7515_C_OCTETS = bytes([3, 236, 255, 224, 193])
RFC7515_C_TEXT = "A-z_4ME"


def test_rfc7515_appendix_c_encode():
    assert b64url_encode(RFC7515_C_OCTETS) == RFC7515_C_TEXT


def test_rfc7515_appendix_c_decode():
    assert b64url_decode(RFC7515_C_TEXT) == RFC7515_C_OCTETS


@pytest.mark.parametrize(
    "data, text",
    [
        # RFC 4648 section 10 test vectors, padding removed.
        (b"f", "Zg"),
        (b"fo", "Zm8"),
        (b"foo", "Zm9v"),
        (b"foob", "Zm9vYg"),
        (b"fooba", "Zm9vYmE"),
        (b"foobar", "Zm9vYmFy"),
        # Bytes that use the two URL-safe characters (62 '-' and 63 '_').
        (b"\xfb\xff\xbf", "-_-_"),
    ],
)
def test_encode_has_no_padding_and_uses_url_alphabet(data, text):
    assert b64url_encode(data) == text
    assert b64url_decode(text) == data


def test_encode_text_as_utf8():
    assert b64url_encode("é") == "w6k"
    assert b64url_encode('{"a":1}') == b64url_encode(b'{"a":1}') == "eyJhIjoxfQ"


@pytest.mark.parametrize("length", range(1, 70))
def test_round_trip(length):
    data = os.urandom(length)
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert text == base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "A-z_4ME=",  # padded
        "A-z_4ME==",  # over-padded
        "A+z/4ME",  # standard alphabet
        "A+z/4ME=",  # standard alphabet, padded
        " A-z_\n4ME\t",  # white space, as when a key is pasted from a mail
    ],
)
def test_decode_is_liberal_in_what_it_accepts(text):
    assert b64url_decode(text) == RFC7515_C_OCTETS


@pytest.mark.parametrize(
    "text",
    [
        "",
        "====",
        "A",  # one character cannot encode a byte
        "abcde",  # length 1 modulo 4
        "A-z_4ME*",
        "A-z_!4ME",
        "AB=C",  # padding in the middle
        "äöü",
        "-----BEGIN PRIVATE KEY-----",
    ],
)
def test_decode_rejects_garbage(text):
    with pytest.raises(ValueError):
        b64url_decode(text)


@pytest.mark.parametrize(
    "value, length, expected",
    [
        (0, None, b"\x00"),
        (1, None, b"\x01"),
        (255, None, b"\xff"),
        (256, None, b"\x01\x00"),
        (65537, None, b"\x01\x00\x01"),
        (1, 4, b"\x00\x00\x00\x01"),
        (0xABCD, 32, b"\x00" * 30 + b"\xab\xcd"),
    ],
)
def test_int_to_bytes(value, length, expected):
    assert int_to_bytes(value, length) == expected


def test_int_to_bytes_refuses_to_truncate():
    with pytest.raises(OverflowError):
        int_to_bytes(0x1_0000, 2)
