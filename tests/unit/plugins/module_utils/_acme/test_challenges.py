# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""challenges.py: the proofs for http-01, dns-01 and dns-persist-01, merged records and zone lines.

Thumbprints and dns-01 digests are computed by the tests' own helpers (helpers.py: hashlib and base64 only; RFC 7638,
RFC 8555 section 8.4), never with the collection's own helpers.
"""

from __future__ import annotations

import json

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import (
    CHALLENGE_TYPES,
    CHALLENGES,
    DNS_PERSIST,
    PERSIST_UNTIL_WARNING_SECONDS,
    ChallengeType,
    bind_lines,
    build_proof,
    choose_issuer,
    dns01_proof,
    dns01_value,
    dns_persist01_proof,
    http01_proof,
    key_authorization,
    merge_dns_records,
    persist_until_warning,
    txt_rdata,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier, parse_identifier
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import PrivateKey
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import rfc7638_thumbprint, sha256_b64url

TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
ACCOUNT_URI = "https://ca.example/acme/acct/1234"
ISSUER = "ca.example"


@pytest.fixture(
    params=["ec256", "ec384", "rsa2048"],
)
def key_pair(request):
    """A generated key, its collection wrapper, and the thumbprint computed independently."""
    if request.param == "ec256":
        raw = ec.generate_private_key(ec.SECP256R1())
    elif request.param == "ec384":
        raw = ec.generate_private_key(ec.SECP384R1())
    else:
        raw = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return PrivateKey(raw), rfc7638_thumbprint(raw.public_key())


# -- key authorization ------------------------------------------------------------------


def test_key_authorization_is_token_dot_thumbprint(key_pair):
    key, thumbprint = key_pair
    assert key.thumbprint() == thumbprint
    assert key_authorization(TOKEN, key.thumbprint()) == TOKEN + "." + thumbprint


# -- http-01 ----------------------------------------------------------------------------


def test_http01_proof_for_a_dns_name(key_pair):
    key, thumbprint = key_pair
    proof = http01_proof(parse_identifier("www.example.com"), TOKEN, key.thumbprint())
    assert proof == {
        "identifier": "www.example.com",
        "token": TOKEN,
        "path": "/.well-known/acme-challenge/" + TOKEN,
        "url": "http://www.example.com/.well-known/acme-challenge/" + TOKEN,
        "content": TOKEN + "." + thumbprint,
    }


def test_http01_proof_for_ipv4():
    proof = http01_proof(parse_identifier("192.0.2.1"), TOKEN, "tp")
    assert proof["identifier"] == "192.0.2.1"
    assert proof["url"] == "http://192.0.2.1/.well-known/acme-challenge/" + TOKEN


@pytest.mark.parametrize("raw, host", [("2001:db8::1", "[2001:db8::1]"), ("[::1]", "[::1]"), ("2001:0db8::0001", "[2001:db8::1]")])
def test_http01_proof_for_ipv6_has_brackets_in_the_url(raw, host):
    proof = http01_proof(parse_identifier(raw), TOKEN, "tp")
    assert proof["identifier"] == host.strip("[]")
    assert proof["path"] == "/.well-known/acme-challenge/" + TOKEN
    assert proof["url"] == f"http://{host}/.well-known/acme-challenge/{TOKEN}"


# -- dns-01 -----------------------------------------------------------------------------


def test_dns01_value_is_base64url_sha256_of_the_key_authorization(key_pair):
    key, thumbprint = key_pair
    expected = sha256_b64url(f"{TOKEN}.{thumbprint}")
    assert len(expected) == 43
    assert dns01_value(TOKEN, key.thumbprint()) == expected


def test_dns01_value_rfc8555_style_vector():
    # Fixed input, digest computed with hashlib by hand: guards against a change of encoding.
    keyauth = "token.thumbprint"
    expected = sha256_b64url(keyauth)
    assert dns01_value("token", "thumbprint") == expected
    assert "=" not in expected and "+" not in expected and "/" not in expected


@pytest.mark.parametrize(
    "raw, name",
    [
        ("example.com", "_acme-challenge.example.com"),
        ("*.example.com", "_acme-challenge.example.com"),
        ("www.example.com", "_acme-challenge.www.example.com"),
    ],
)
def test_dns01_record_name(raw, name):
    proof = dns01_proof(parse_identifier(raw), TOKEN, "tp")
    assert proof["identifier"] == raw
    assert proof["name"] == name
    assert proof["type"] == "TXT"
    assert proof["value"] == sha256_b64url(f"{TOKEN}.tp")


@pytest.mark.parametrize("value", ["a..example", "x" * 64 + ".example", "bücher.example", "a b.example"])
def test_an_authorization_for_a_name_that_is_no_dns_name_is_the_cas_fault(value):
    """The identifier of an authorization is the CA's word: refused before a record name is built from it."""
    identifier = Identifier("dns", value)
    with pytest.raises(AcmeServerError, match="the CA's authorization is for .* which is not a DNS name"):
        dns01_proof(identifier, TOKEN, "thumb")
    with pytest.raises(AcmeServerError, match="which is not a DNS name"):
        dns_persist01_proof(identifier, persist_challenge(), ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None)


def test_a_name_too_long_for_its_record_label_cannot_use_a_dns_challenge():
    name = ".".join(["a" * 60] * 4) + ".example"  # 251 characters: a valid name, but not with _acme-challenge. before it
    identifier = parse_identifier(name)
    with pytest.raises(AcmeOptionError) as caught:
        dns01_proof(identifier, TOKEN, "thumb")
    assert caught.value.option == "identifiers"
    assert f"{name} cannot be proved with dns-01: its record name is not a DNS name: it has 267 characters" in caught.value.msg
    with pytest.raises(AcmeOptionError, match="cannot be proved with dns-persist-01"):
        dns_persist01_proof(identifier, persist_challenge(), ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None)


# -- dns-persist-01 --------------------------------------------------------------------


def persist_challenge(**extra):
    challenge = {"type": "dns-persist-01", "url": "https://ca.example/chal/1", "status": "pending", "issuer-domain-names": [ISSUER]}
    challenge.update(extra)
    return challenge


def test_dns_persist_value_minimal():
    proof = dns_persist01_proof(
        parse_identifier("example.com"), persist_challenge(), ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None
    )
    assert proof["identifier"] == "example.com"
    assert proof["name"] == "_validation-persist.example.com"
    assert proof["type"] == "TXT"
    assert proof["value"] == f"{ISSUER}; accounturi={ACCOUNT_URI}"
    assert proof["issuer"] == ISSUER
    assert proof["draft"] == DNS_PERSIST.draft


def test_dns_persist_value_with_every_parameter_in_order():
    proof = dns_persist01_proof(
        parse_identifier("example.com"), persist_challenge(), ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=True, persist_until=1893456000
    )
    assert proof["value"] == f"{ISSUER}; accounturi={ACCOUNT_URI}; policy=wildcard; persistUntil=1893456000"


def test_dns_persist_wildcard_gets_policy_wildcard_and_the_base_name():
    proof = dns_persist01_proof(
        parse_identifier("*.example.com"), persist_challenge(), ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None
    )
    assert proof["identifier"] == "*.example.com"
    assert proof["name"] == "_validation-persist.example.com"
    assert proof["value"] == f"{ISSUER}; accounturi={ACCOUNT_URI}; policy=wildcard"


def test_dns_persist_refuses_a_challenge_bound_to_another_account():
    """A record naming another account would authorize that account for these names on every later issuance."""
    bound = "https://ca.example/acme/acct/bound-by-ca"
    with pytest.raises(AcmeServerError) as caught:
        dns_persist01_proof(
            parse_identifier("example.com"),
            persist_challenge(accounturi=bound),
            ACCOUNT_URI,
            issuer_domain_name=None,
            policy_wildcard=False,
            persist_until=None,
        )
    assert f"binds the record to account '{bound}', not to this run's account {ACCOUNT_URI}" in caught.value.msg
    assert caught.value.url == "https://ca.example/chal/1"
    same = dns_persist01_proof(
        parse_identifier("example.com"),
        persist_challenge(accounturi=ACCOUNT_URI),
        ACCOUNT_URI,
        issuer_domain_name=None,
        policy_wildcard=False,
        persist_until=None,
    )
    assert same["value"] == f"{ISSUER}; accounturi={ACCOUNT_URI}"


@pytest.mark.parametrize(
    "offered",
    [
        ["ca.example; accounturi=https://evil.example/acct/9"],
        ["ca.example\nevil IN TXT x"],
        ["ca.example", "a..b"],
        ["ca example"],
        [42],
    ],
)
def test_dns_persist_refuses_issuer_domain_names_that_are_no_domain_names(offered):
    challenge = persist_challenge(**{"issuer-domain-names": offered})
    with pytest.raises(AcmeServerError, match="lists issuer-domain-name .* which is not a domain name") as caught:
        dns_persist01_proof(parse_identifier("example.com"), challenge, ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None)
    assert caught.value.url == "https://ca.example/chal/1"


@pytest.mark.parametrize(
    "account_uri, why",
    [
        ("https://ca.example/acct/1; policy=wildcard", "a space, a ';'"),
        ("https://ca.example/acct/1\n", "control character"),
        ("https://ca.example/acct/\u00e9", "outside ASCII"),
        ("http://ca.example/acct/1", "not an https URL"),
        ("ca.example/acct/1", "not an https URL"),
    ],
)
def test_dns_persist_refuses_an_account_url_that_would_change_the_record(account_uri, why):
    with pytest.raises(AcmeOptionError) as caught:
        dns_persist01_proof(
            parse_identifier("example.com"), persist_challenge(), account_uri, issuer_domain_name=None, policy_wildcard=False, persist_until=None
        )
    assert caught.value.option == "account_uri" and why in caught.value.msg
    # The same URL repeated by the CA in accounturi is no better.
    with pytest.raises(AcmeOptionError):
        dns_persist01_proof(
            parse_identifier("example.com"),
            persist_challenge(accounturi=account_uri),
            account_uri,
            issuer_domain_name=None,
            policy_wildcard=False,
            persist_until=None,
        )


@pytest.mark.parametrize("wanted", ["ca.example; accounturi=x", "ca..example", "ca.exa\nmple"])
def test_issuer_domain_name_option_must_be_a_domain_name(wanted):
    with pytest.raises(AcmeOptionError) as caught:
        choose_issuer([], wanted)
    assert caught.value.option == "issuer_domain_name" and "is not a DNS name" in caught.value.msg


def test_dns_persist_ignores_a_non_string_accounturi():
    proof = dns_persist01_proof(
        parse_identifier("example.com"), persist_challenge(accounturi=42), ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None
    )
    assert proof["value"] == f"{ISSUER}; accounturi={ACCOUNT_URI}"


def test_dns_persist_issuer_choice():
    challenge = persist_challenge(**{"issuer-domain-names": ["First.Example", "second.example"]})
    default = dns_persist01_proof(parse_identifier("example.com"), challenge, ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None)
    assert default["issuer"] == "first.example"
    assert default["value"].startswith("first.example; ")
    chosen = dns_persist01_proof(
        parse_identifier("example.com"), challenge, ACCOUNT_URI, issuer_domain_name="Second.Example.", policy_wildcard=False, persist_until=None
    )
    assert chosen["issuer"] == "second.example"
    assert chosen["value"] == f"second.example; accounturi={ACCOUNT_URI}"


def test_choose_issuer():
    assert choose_issuer(["a.example", "b.example"], None) == "a.example"
    assert choose_issuer(["a.example", "b.example"], "b.example") == "b.example"
    assert choose_issuer(["A.Example"], "a.example.") == "a.example"
    # A CA that lists none: the user's name is taken as given.
    assert choose_issuer([], "ca.example") == "ca.example"


def test_choose_issuer_not_offered_names_the_option_and_the_offer():
    with pytest.raises(AcmeOptionError) as info:
        choose_issuer(["a.example", "b.example"], "other.example")
    assert info.value.option == "issuer_domain_name"
    assert "'other.example'" in info.value.msg
    assert "a.example, b.example" in info.value.msg


def test_choose_issuer_none_offered_and_none_given():
    with pytest.raises(AcmeOptionError) as info:
        choose_issuer([], None)
    assert info.value.option == "issuer_domain_name"
    assert "set issuer_domain_name" in info.value.msg


@pytest.mark.parametrize("offered", [None, "ca.example", {}])
def test_dns_persist_without_a_usable_issuer_list(offered):
    challenge = persist_challenge(**{"issuer-domain-names": offered})
    with pytest.raises(AcmeOptionError) as info:
        dns_persist01_proof(parse_identifier("example.com"), challenge, ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=False, persist_until=None)
    assert info.value.option == "issuer_domain_name"
    proof = dns_persist01_proof(
        parse_identifier("example.com"), challenge, ACCOUNT_URI, issuer_domain_name="ca.example", policy_wildcard=False, persist_until=None
    )
    assert proof["value"] == f"ca.example; accounturi={ACCOUNT_URI}"


def test_persist_until_warning():
    now = 1_800_000_000.0
    assert persist_until_warning(None, now) is None
    assert persist_until_warning(int(now + PERSIST_UNTIL_WARNING_SECONDS + 60), now) is None
    warning = persist_until_warning(int(now + 10 * 86400 + 60), now)
    assert warning is not None
    assert "persist_until is 10 day(s) away" in warning
    past = persist_until_warning(int(now - 86400), now)
    assert past is not None and "0 day(s)" in past


# -- build_proof dispatch ---------------------------------------------------------------


def test_build_proof_dispatches_by_type(key_pair):
    key, thumbprint = key_pair
    identifier = parse_identifier("example.com")
    http = build_proof("http-01", identifier, {"type": "http-01", "token": TOKEN}, key.thumbprint(), ACCOUNT_URI)
    assert http["content"] == f"{TOKEN}.{thumbprint}"
    dns = build_proof("dns-01", identifier, {"type": "dns-01", "token": TOKEN}, key.thumbprint(), ACCOUNT_URI)
    assert dns["value"] == sha256_b64url(f"{TOKEN}.{thumbprint}")
    persist = build_proof("dns-persist-01", identifier, persist_challenge(), key.thumbprint(), ACCOUNT_URI, policy_wildcard=True, persist_until=2000000000)
    assert persist["value"] == f"{ISSUER}; accounturi={ACCOUNT_URI}; policy=wildcard; persistUntil=2000000000"


# -- merged records and zone lines ---------------------------------------------------------


def test_merge_puts_apex_and_wildcard_values_on_one_name():
    apex = dns01_proof(parse_identifier("example.com"), "token-apex", "tp")
    wildcard = dns01_proof(parse_identifier("*.example.com"), "token-wild", "tp")
    other = dns01_proof(parse_identifier("www.example.com"), "token-www", "tp")
    records = merge_dns_records([apex, other, wildcard], ttl=120)
    assert records == [
        {
            "name": "_acme-challenge.example.com",
            "type": "TXT",
            "values": [apex["value"], wildcard["value"]],
            "rdata": [f'"{apex["value"]}"', f'"{wildcard["value"]}"'],
            "ttl": 120,
            "identifiers": ["example.com", "*.example.com"],
        },
        {
            "name": "_acme-challenge.www.example.com",
            "type": "TXT",
            "values": [other["value"]],
            "rdata": [f'"{other["value"]}"'],
            "ttl": 120,
            "identifiers": ["www.example.com"],
        },
    ]
    assert apex["value"] != wildcard["value"]


def test_merge_deduplicates_equal_values():
    # dns-persist-01 for an apex and its wildcard: the same record value (policy=wildcard) serves both.
    proofs = [
        dns_persist01_proof(parse_identifier(name), persist_challenge(), ACCOUNT_URI, issuer_domain_name=None, policy_wildcard=True, persist_until=None)
        for name in ("example.com", "*.example.com")
    ]
    records = merge_dns_records(proofs)
    assert len(records) == 1
    assert records[0]["name"] == "_validation-persist.example.com"
    assert records[0]["values"] == [f"{ISSUER}; accounturi={ACCOUNT_URI}; policy=wildcard"]
    assert records[0]["identifiers"] == ["example.com", "*.example.com"]
    assert records[0]["ttl"] == 60


@pytest.mark.parametrize(
    "value",
    [
        "pebble.letsencrypt.org; accounturi=https://127.0.0.1:14000/my-account/1; policy=wildcard",
        'quote " and backslash \\ inside',
        "x" * 255,
        "y" * 256,
        "z" * 600,
        "",
    ],
)
def test_txt_rdata_reads_back_as_the_value(value):
    rdata = txt_rdata(value)
    # What a DNS server makes of the presentation format: character-strings of at most 255 bytes.
    parsed = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata)
    assert all(len(string) <= 255 for string in parsed.strings)
    assert b"".join(parsed.strings).decode() == value
    assert len(parsed.strings) == max(1, -(-len(value) // 255))


@pytest.mark.parametrize(
    "value, rdata",
    [
        ("a\nb", '"a\\010b"'),
        ("tab\there\x00", '"tab\\009here\\000"'),
        ("\r\x7f", '"\\013\\127"'),
        ("\u00e9", '"\\195\\169"'),
        ('"\\', '"\\"\\\\"'),
    ],
)
def test_txt_rdata_escapes_non_printable_octets_as_ddd(value, rdata):
    """RFC 1035 section 5.1: \\DDD for octets that are not printable ASCII; the value reads back unchanged."""
    assert txt_rdata(value) == rdata
    parsed = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata)
    assert b"".join(parsed.strings).decode("utf-8") == value


def test_txt_rdata_cuts_character_strings_at_255_octets_not_characters():
    value = "\u00e9" * 200  # 400 octets in UTF-8
    parsed = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, txt_rdata(value))
    assert [len(string) for string in parsed.strings] == [255, 145]
    assert b"".join(parsed.strings).decode("utf-8") == value


def test_bind_lines_keep_a_value_with_a_newline_on_one_line():
    records = [{"name": "x.example.com", "type": "TXT", "values": ["one\nx.example.com. 60 IN TXT injected"], "ttl": 60, "identifiers": []}]
    assert bind_lines(records) == ['x.example.com. 60 IN TXT "one\\010x.example.com. 60 IN TXT injected"']


def test_merge_of_nothing():
    assert merge_dns_records([]) == []
    assert bind_lines([]) == []


def test_bind_lines_one_line_per_value_quoted():
    records = [
        {"name": "_acme-challenge.example.com", "type": "TXT", "values": ["abc", "def"], "ttl": 60, "identifiers": []},
        {"name": "_validation-persist.example.com", "type": "TXT", "values": [f"{ISSUER}; accounturi={ACCOUNT_URI}"], "ttl": 300, "identifiers": []},
    ]
    assert bind_lines(records) == [
        '_acme-challenge.example.com. 60 IN TXT "abc"',
        '_acme-challenge.example.com. 60 IN TXT "def"',
        f'_validation-persist.example.com. 300 IN TXT "{ISSUER}; accounturi={ACCOUNT_URI}"',
    ]


def test_bind_lines_escape_quotes_and_backslashes():
    records = [{"name": "x.example.com", "type": "TXT", "values": ['say "hi" \\ bye'], "ttl": 60, "identifiers": []}]
    assert bind_lines(records) == ['x.example.com. 60 IN TXT "say \\"hi\\" \\\\ bye"']


def test_bind_lines_split_values_longer_than_255_characters():
    # RFC 1035 section 3.3.14: a TXT character-string holds at most 255 octets.
    value = "ca.example; accounturi=https://ca.example/acme/acct/" + "7" * 300
    line = bind_lines([{"name": "_validation-persist.example.com", "type": "TXT", "values": [value], "ttl": 60, "identifiers": []}])
    assert len(line) == 1
    rdata = line[0].split(" IN TXT ", 1)[1]
    strings = json.loads("[" + rdata.replace('" "', '","') + "]")
    assert all(len(s) <= 255 for s in strings)
    assert "".join(strings) == value


@pytest.mark.parametrize(
    "token",
    [
        "../../../../etc",  # climbs out of a web root
        "..%2f..%2fetc%2fpasswd-padding-padding",  # percent-encoded slashes
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ/PCt92wr-oA",  # a slash inside an otherwise good token
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA=",  # base64 padding (section 8.1 forbids it)
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ PCt92wr-oA",  # white space
        "short-token",  # fewer than 128 bits
        "A" * 256,  # longer than a file name may be
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-\u00f6",  # outside ASCII, which the dns-01 digest once choked on
        "",
        None,
        42,
    ],
)
@pytest.mark.parametrize("challenge_type", ["http-01", "dns-01"])
def test_a_token_outside_the_rfc_alphabet_is_refused_before_any_proof_is_built(challenge_type, token):
    """RFC 8555 section 8.1: the CA's token is checked before it can become a file name or a DNS value."""
    key = PrivateKey(ec.generate_private_key(ec.SECP256R1()))
    challenge = {"type": challenge_type, "url": "https://ca.example/chall/1", "token": token}
    with pytest.raises(AcmeServerError) as caught:
        build_proof(challenge_type, parse_identifier("www.example.com"), challenge, key.thumbprint(), ACCOUNT_URI)
    assert f"The CA's {challenge_type} challenge for www.example.com carries the token" in caught.value.msg
    assert "nothing was published" in caught.value.msg
    assert caught.value.to_result()["url"] == "https://ca.example/chall/1"


@pytest.mark.parametrize("token", ["A" * 22, "A" * 255, "_-" * 20])
def test_tokens_of_22_to_255_base64url_characters_are_accepted(token):
    key = PrivateKey(ec.generate_private_key(ec.SECP256R1()))
    proof = build_proof("http-01", parse_identifier("www.example.com"), {"type": "http-01", "token": token}, key.thumbprint(), ACCOUNT_URI)
    assert proof["path"] == "/.well-known/acme-challenge/" + token


# -- the registry: one class per challenge type ----------------------------------------------------


def test_every_registered_type_names_itself_and_how_it_is_published():
    assert CHALLENGE_TYPES == ("http-01", "dns-01", "dns-persist-01")
    assert {name: kind.publishes for name, kind in CHALLENGES.items()} == {"http-01": "http", "dns-01": "dns", "dns-persist-01": "dns"}
    assert all(kind.name == name for name, kind in CHALLENGES.items())


@pytest.mark.parametrize("name", ["tls-alpn-01", "dns-account-01", "HTTP-01", ""])
def test_an_unregistered_type_is_refused_naming_the_option(name):
    with pytest.raises(AcmeOptionError) as caught:
        build_proof(name, parse_identifier("www.example.com"), {"token": TOKEN}, "thumb", ACCOUNT_URI)
    assert caught.value.option == "challenge"
    assert caught.value.msg == f"challenge {name!r} is not one of http-01, dns-01, dns-persist-01"


def test_a_new_type_is_one_class_in_the_registry(monkeypatch):
    """What adding tls-alpn-01 or dns-account-01 takes: a subclass registered under its name."""

    class Example01(ChallengeType):
        name = "example-01"
        publishes = "dns"

        def proof(self, identifier, challenge, thumbprint, account_uri, choices):
            return {"identifier": identifier.value, "name": f"_example.{identifier.base}", "type": "TXT", "value": challenge["token"]}

    monkeypatch.setitem(CHALLENGES, "example-01", Example01())
    proof = build_proof("example-01", parse_identifier("www.example.com"), {"token": TOKEN}, "thumb", ACCOUNT_URI)
    assert proof == {"identifier": "www.example.com", "name": "_example.www.example.com", "type": "TXT", "value": TOKEN}
