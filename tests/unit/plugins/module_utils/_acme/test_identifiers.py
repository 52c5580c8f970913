# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""identifiers.py: normalisation, IDNA, wildcards, IP addresses, duplicates and challenge fit.

Every rejection must happen before anything is sent and name the option to fix.
"""

from __future__ import annotations

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme import identifiers as identifiers_module
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import CHALLENGE_TYPES, check_challenge_fits
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import (
    Identifier,
    parse_identifier,
    parse_identifiers,
    same_names,
)

# -- normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        ("www.example.com", "www.example.com"),
        ("WWW.Example.COM", "www.example.com"),
        ("example.com.", "example.com"),
        ("  example.com  ", "example.com"),
        ("a-b.example.com", "a-b.example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("*.example.com", "*.example.com"),
        ("*.Example.COM.", "*.example.com"),
        ("1a.example.com", "1a.example.com"),
    ],
)
def test_dns_names_are_normalised(raw, value):
    identifier = parse_identifier(raw)
    assert identifier == Identifier("dns", value)
    assert identifier.to_acme() == {"type": "dns", "value": value}


@pytest.mark.parametrize(
    "raw, value",
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("*.bücher.example", "*.xn--bcher-kva.example"),
        ("münchen.example.com.", "xn--mnchen-3ya.example.com"),
    ],
)
def test_internationalised_names_become_ascii(raw, value):
    assert parse_identifier(raw) == Identifier("dns", value)


@pytest.mark.parametrize(
    "raw, value",
    [
        # IDNA 2008 (RFC 5891): "ß" is a letter of its own, not "ss" as in IDNA 2003.
        ("straße.example", "xn--strae-oqa.example"),
        ("ß.example", "xn--zca.example"),
        ("*.straße.example", "*.xn--strae-oqa.example"),
    ],
)
def test_idna2008_not_idna2003(raw, value):
    assert parse_identifier(raw) == Identifier("dns", value)


def test_without_the_idna_package_python_codec_is_used(monkeypatch):
    monkeypatch.setattr(identifiers_module, "_idna", None)
    assert parse_identifier("*.Bücher.example") == Identifier("dns", "*.xn--bcher-kva.example")


def test_label_of_63_characters_is_accepted_64_is_not():
    assert parse_identifier("a" * 63 + ".example").value == "a" * 63 + ".example"
    with pytest.raises(AcmeOptionError) as info:
        parse_identifier("a" * 64 + ".example")
    assert info.value.option == "identifiers"
    assert "at most 63 characters each" in info.value.msg


def test_name_longer_than_253_characters_is_rejected():
    name = ".".join(["a" * 60] * 4) + ".example"  # 4 * 61 + 7 = 251 characters: fine
    assert parse_identifier(name).value == name
    with pytest.raises(AcmeOptionError) as info:
        parse_identifier("abc." + name)
    assert "255 characters, more than the 253 DNS allows" in info.value.msg


# -- wildcards -----------------------------------------------------------------------


def test_wildcard_properties():
    wildcard = parse_identifier("*.example.com")
    assert wildcard.wildcard
    assert wildcard.base == "example.com"
    plain = parse_identifier("example.com")
    assert not plain.wildcard
    assert plain.base == "example.com"
    address = parse_identifier("192.0.2.1")
    assert not address.wildcard
    assert address.base == "192.0.2.1"


@pytest.mark.parametrize(
    "raw",
    [
        "*.*.example.com",
        "www.*.example.com",
        "a*.example.com",
        "*",
        "*.",
        "*.com",
    ],
)
def test_bad_wildcards_are_rejected(raw):
    with pytest.raises(AcmeOptionError) as info:
        parse_identifier(raw)
    assert info.value.option == "identifiers"
    assert info.value.msg.startswith("identifiers: ")
    assert repr(raw) in info.value.msg


@pytest.mark.parametrize("raw", ["www.*.example.com", "*.*.example.com", "a*.example.com", "*example.com"])
def test_bad_wildcard_message_explains_the_rule(raw):
    with pytest.raises(AcmeOptionError) as info:
        parse_identifier(raw)
    assert "only the leftmost label may be '*', and only as a whole label" in info.value.msg


@pytest.mark.parametrize("raw", ["*.com", "*", "*."])
def test_wildcard_of_a_top_level_name_says_what_is_missing(raw):
    with pytest.raises(AcmeOptionError) as info:
        parse_identifier(raw)
    assert "needs a name of at least two labels after it" in info.value.msg


# -- IP addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        ("192.0.2.1", "192.0.2.1"),
        ("127.0.0.1", "127.0.0.1"),
        (" 198.51.100.7 ", "198.51.100.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::1", "::1"),
        ("0:0:0:0:0:0:0:1", "::1"),
    ],
)
def test_ip_addresses_are_compressed(raw, value):
    identifier = parse_identifier(raw)
    assert identifier == Identifier("ip", value)
    assert identifier.to_acme() == {"type": "ip", "value": value}


# -- invalid names -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "bad_name.example.test",
        "-x.example.test",
        "x-.example.test",
        "a..example.test",
        "localhost",
        "example",
        "exa mple.com",
        "http://example.com",
        "example.com/path",
        "user@example.com",
    ],
)
def test_invalid_names_are_rejected_naming_identifiers(raw):
    with pytest.raises(AcmeOptionError) as info:
        parse_identifiers(["ok.example.com", raw])
    assert info.value.option == "identifiers"
    assert "identifiers" in info.value.msg
    assert repr(raw) in info.value.msg
    assert "not a valid" in info.value.msg
    assert info.value.to_result() == {"msg": info.value.msg, "option": "identifiers"}


def test_invalid_idn_is_rejected():
    with pytest.raises(AcmeOptionError) as info:
        parse_identifier("\u00e4" * 70 + ".example")
    assert info.value.option == "identifiers"
    assert "internationalised" in info.value.msg or "not a valid" in info.value.msg


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_entry_is_rejected(raw):
    with pytest.raises(AcmeOptionError) as info:
        parse_identifiers(["example.com", raw])
    assert info.value.option == "identifiers"
    assert "empty entry" in info.value.msg


def test_option_name_is_passed_through():
    with pytest.raises(AcmeOptionError) as info:
        parse_identifiers(["bad_name.example"], option="names")
    assert info.value.option == "names"
    assert info.value.msg.startswith("names: ")


# -- lists -------------------------------------------------------------------------


def test_list_keeps_order():
    parsed = parse_identifiers(["www.example.com", "*.example.com", "example.com", "192.0.2.1", "2001:db8::1"])
    assert [i.value for i in parsed] == ["www.example.com", "*.example.com", "example.com", "192.0.2.1", "2001:db8::1"]
    assert [i.type for i in parsed] == ["dns", "dns", "dns", "ip", "ip"]


@pytest.mark.parametrize("values", [[], None])
def test_empty_list_is_rejected(values):
    with pytest.raises(AcmeOptionError) as info:
        parse_identifiers(values)
    assert info.value.option == "identifiers"
    assert "identifiers is empty" in info.value.msg
    assert "at least one" in info.value.msg


@pytest.mark.parametrize(
    "values, duplicate",
    [
        (["example.com", "example.com"], "example.com"),
        (["Example.com", "example.com."], "example.com"),
        (["WWW.EXAMPLE.COM.", "www.example.com"], "www.example.com"),
        (["bücher.example", "xn--bcher-kva.example"], "xn--bcher-kva.example"),
        (["*.Example.com", "*.example.com."], "*.example.com"),
        (["2001:db8::1", "2001:0db8:0:0:0:0:0:1"], "2001:db8::1"),
        (["[::1]", "0:0:0:0:0:0:0:1"], "::1"),
    ],
)
def test_duplicates_after_normalisation_are_rejected(values, duplicate):
    with pytest.raises(AcmeOptionError) as info:
        parse_identifiers(values)
    assert info.value.option == "identifiers"
    assert f"lists {duplicate} twice" in info.value.msg


def test_apex_and_wildcard_are_not_duplicates():
    parsed = parse_identifiers(["example.com", "*.example.com"])
    assert [i.value for i in parsed] == ["example.com", "*.example.com"]
    assert parsed[0].base == parsed[1].base


def test_same_names_ignores_order_only():
    a = parse_identifiers(["a.example.com", "*.example.com", "192.0.2.1"])
    b = parse_identifiers(["192.0.2.1", "a.example.com", "*.example.com"])
    assert same_names(a, b)
    assert not same_names(a, a[:2])
    assert not same_names([Identifier("dns", "192.0.2.1")], [Identifier("ip", "192.0.2.1")])


# -- from the CA's JSON ----------------------------------------------------------------


def test_from_acme():
    assert Identifier.from_acme({"type": "dns", "value": "example.com"}) == Identifier("dns", "example.com")
    assert Identifier.from_acme({"type": "dns", "value": "example.com"}, wildcard=True) == Identifier("dns", "*.example.com")
    assert Identifier.from_acme({"type": "dns", "value": "*.example.com"}, wildcard=True) == Identifier("dns", "*.example.com")
    assert Identifier.from_acme({"type": "ip", "value": "192.0.2.1"}) == Identifier("ip", "192.0.2.1")
    assert Identifier.from_acme(None) == Identifier("dns", "")


# -- which challenge can prove which name --------------------------------------------------


@pytest.mark.parametrize(
    "names, challenge",
    [
        (["example.com", "www.example.com"], "http-01"),
        (["192.0.2.1", "2001:db8::1", "example.com"], "http-01"),
        (["example.com", "*.example.com"], "dns-01"),
        (["example.com", "*.example.com"], "dns-persist-01"),
    ],
)
def test_challenge_fits(names, challenge):
    check_challenge_fits(parse_identifiers(names), challenge)


def test_wildcard_with_http01_is_rejected_naming_challenge():
    with pytest.raises(AcmeOptionError) as info:
        check_challenge_fits(parse_identifiers(["example.com", "*.example.com"]), "http-01")
    assert info.value.option == "challenge"
    assert "*.example.com is a wildcard" in info.value.msg
    assert "http-01 cannot prove" in info.value.msg
    assert "challenge: dns-01" in info.value.msg


@pytest.mark.parametrize("challenge", ["dns-01", "dns-persist-01"])
@pytest.mark.parametrize("address", ["192.0.2.1", "2001:db8::1"])
def test_ip_with_dns_challenges_is_rejected_naming_challenge(challenge, address):
    with pytest.raises(AcmeOptionError) as info:
        check_challenge_fits(parse_identifiers(["example.com", address]), challenge)
    assert info.value.option == "challenge"
    assert f"{address} is an IP address" in info.value.msg
    assert challenge in info.value.msg
    assert "challenge: http-01" in info.value.msg


def test_unknown_challenge_is_rejected_naming_challenge():
    with pytest.raises(AcmeOptionError) as info:
        check_challenge_fits(parse_identifiers(["example.com"]), "tls-alpn-01")
    assert info.value.option == "challenge"
    assert "'tls-alpn-01'" in info.value.msg
    for known in CHALLENGE_TYPES:
        assert known in info.value.msg
