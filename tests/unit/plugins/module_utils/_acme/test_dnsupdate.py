# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""dnsupdate.py: records of a batch as RFC 2136 updates; what is checked before anything is sent.

Sending to a real BIND is the acme_nsupdate integration target.
"""

from __future__ import annotations

import ipaddress

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.update
import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme import dnsupdate
from ansible_collections.certfleet.acme.plugins.module_utils._acme.dnsupdate import DnsUpdater, ZoneChanges, parse_records
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError

SECRET = "c2VjcmV0LW9mLXRoZS10ZXN0LWtleS0xMjM0NTY3OA=="


def test_records_with_one_name_are_merged_and_names_made_absolute():
    records = parse_records(
        [
            {"name": "_acme-challenge.Example.test.", "values": ["one"], "ttl": 30},
            {"name": "_acme-challenge.example.test", "values": ["two", "one"]},
            {"name": "_acme-challenge.other.test", "values": ["three"]},
        ],
        60,
    )
    assert [(r.name, r.values, r.ttl) for r in records] == [
        ("_acme-challenge.example.test", ["one", "two"], 30),
        ("_acme-challenge.other.test", ["three"], 60),
    ]


@pytest.mark.parametrize(
    "record, words",
    [
        ({"name": "", "values": ["x"]}, "records[0].name '' is not a DNS name"),
        ({"name": "a b.example", "values": ["x"]}, "is not a DNS name"),
        ({"name": "a.example", "values": "x"}, "records[0].values must be a non-empty list"),
        ({"name": "a.example", "values": [1]}, "must be a non-empty list of TXT values"),
        ({"name": "a.example", "values": ["x"], "ttl": -1}, "records[0].ttl -1 is not a number of seconds"),
        ({"name": "a.example", "values": ["ok", "half \udc80 a character"]}, "records[0].values has a value that is not valid Unicode text"),
    ],
)
def test_records_that_cannot_be_sent_are_refused(record, words):
    with pytest.raises(AcmeOptionError) as caught:
        parse_records([record], 60)
    assert caught.value.option == "records" and words in caught.value.msg


def test_a_secret_that_is_not_base64_is_refused_without_showing_it():
    with pytest.raises(AcmeOptionError) as caught:
        DnsUpdater("127.0.0.1", 53, "key", "not base64 !!", "hmac-sha256", 5)
    assert caught.value.option == "key_secret" and "not base64 !!" not in caught.value.msg


@pytest.fixture
def sent(monkeypatch):
    """The update messages the updater sends; each is answered NOERROR."""
    messages = []

    def tcp(message, server, timeout, port):
        messages.append(message)
        response = dns.update.UpdateMessage(message.origin)
        response.id = message.id
        return response

    monkeypatch.setattr(dnsupdate.dns.query, "tcp", tcp)
    return messages


def test_one_signed_message_per_zone_with_every_change(sent):
    """What goes on the wire: one UPDATE for the zone, TSIG-signed, adds and deletes of exact TXT values."""
    updater = DnsUpdater("127.0.0.1", 8053, "certfleet-key", SECRET, "hmac-sha256", 5)
    changes = ZoneChanges("example.test")
    changes.add = {"_acme-challenge.example.test": ["one", "two"], "_acme-challenge.www.example.test": ["three"]}
    changes.ttl = {"_acme-challenge.example.test": 60, "_acme-challenge.www.example.test": 120}
    changes.delete = {"_acme-challenge.old.example.test": ["gone"]}
    assert updater.send(changes) == 1
    (message,) = sent
    wire = dns.message.from_wire(message.to_wire(), keyring=updater.keyring)
    assert wire.had_tsig and wire.keyname.to_text() == "certfleet-key."
    updates = {
        (rrset.name.to_text(), rrset.ttl, "delete" if rrset.deleting is not None else "add", b"".join(rdata.strings).decode())
        for rrset in wire.update
        for rdata in rrset
    }
    assert updates == {
        ("_acme-challenge.example.test.", 60, "add", "one"),
        ("_acme-challenge.example.test.", 60, "add", "two"),
        ("_acme-challenge.www.example.test.", 120, "add", "three"),
        # RFC 2136 section 2.5.4: deleting one RR (class NONE, TTL 0).
        ("_acme-challenge.old.example.test.", 0, "delete", "gone"),
    }
    assert [rrset.deleting for rrset in wire.update if rrset.deleting is not None] == [dns.rdataclass.NONE]
    assert all(rrset.rdtype == dns.rdatatype.TXT for rrset in wire.update)


def test_more_changes_than_one_message_holds_go_in_several(sent):
    updater = DnsUpdater("127.0.0.1", 8053, "certfleet-key", SECRET, "hmac-sha256", 5)
    changes = ZoneChanges("example.test")
    names = [f"_acme-challenge.n{i}.example.test" for i in range(dnsupdate.MAX_CHANGES_PER_MESSAGE + 1)]
    changes.add = {name: ["v"] for name in names}
    changes.ttl = dict.fromkeys(names, 60)
    assert updater.send(changes) == 2
    assert [sum(len(rrset) for rrset in message.update) for message in sent] == [dnsupdate.MAX_CHANGES_PER_MESSAGE, 1]
    assert all(len(message.to_wire()) < 65535 for message in sent)


BAD_NAMES = [
    ("_acme-challenge.a..b.example", "empty label"),
    (".a.example", "empty label"),
    ("_acme-challenge." + "x" * 64 + ".example", "more than the 63 DNS allows"),
    ("_acme-challenge." + "abcdefghi." * 25 + "example", "more than the 253 DNS allows"),
    ("_acme-challenge.bücher.example", "outside ASCII"),
    ("_acme-challenge.a\nb.example", "other characters than letters"),
]


@pytest.mark.parametrize("name, why", BAD_NAMES)
def test_record_names_dnspython_would_choke_on_are_refused_naming_the_entry(name, why):
    """Record names go to dns.name/dns.message/dns.update: checked where they enter, not as a dnspython traceback."""
    with pytest.raises(AcmeOptionError) as caught:
        parse_records([{"name": "_acme-challenge.ok.example", "values": ["v"]}, {"name": name, "values": ["v"]}], 60)
    assert caught.value.option == "records"
    assert caught.value.msg.startswith("records[1].name ") and "is not a DNS name: " in caught.value.msg and why in caught.value.msg


def test_a_ttl_beyond_rfc_2181_is_refused():
    with pytest.raises(AcmeOptionError) as caught:
        parse_records([{"name": "_acme-challenge.a.example", "values": ["v"], "ttl": 2**31}], 60)
    assert caught.value.option == "records" and "records[0].ttl 2147483648 is not a number of seconds" in caught.value.msg
    with pytest.raises(AcmeOptionError) as caught:
        parse_records([{"name": "_acme-challenge.a.example", "values": ["v"]}], 2**32)
    assert caught.value.option == "ttl"
    assert parse_records([{"name": "_acme-challenge.a.example", "values": ["v"], "ttl": 2**31 - 1}], 60)[0].ttl == 2**31 - 1


@pytest.mark.parametrize("key_name", ["a..b", "k" * 64, "schlüssel"])
def test_a_key_name_that_is_no_dns_name_is_named_as_such_not_as_a_bad_secret(key_name):
    with pytest.raises(AcmeOptionError) as caught:
        DnsUpdater("127.0.0.1", 53, key_name, SECRET, "hmac-sha256", 5)
    assert caught.value.option == "key_name" and "is not a DNS name" in caught.value.msg


def test_a_zone_that_is_no_dns_name_is_refused_before_any_query(sent):
    updater = DnsUpdater("127.0.0.1", 8053, "certfleet-key", SECRET, "hmac-sha256", 5)
    with pytest.raises(AcmeOptionError) as caught:
        updater.plan(parse_records([{"name": "_acme-challenge.a.example", "values": ["v"]}], 60), present=True, zone="a..example")
    assert caught.value.option == "zone" and "zone 'a..example' is not a DNS name: it has an empty label" in caught.value.msg
    assert sent == []


def test_a_server_given_by_name_is_looked_up_before_dnspython_gets_it(monkeypatch):
    """dnspython's queries take addresses only (a host name raises ValueError)."""
    asked = []

    def tcp(message, where, timeout, port):
        asked.append(where)
        return dns.message.make_response(message)

    monkeypatch.setattr(dnsupdate.dns.query, "tcp", tcp)
    updater = DnsUpdater("localhost", 8053, "certfleet-key", SECRET, "hmac-sha256", 5)
    assert updater.current_values("_acme-challenge.a.example") == []
    assert ipaddress.ip_address(asked[0]).is_loopback
    with pytest.raises(AcmeOptionError) as caught:
        DnsUpdater("ns1..example", 53, "certfleet-key", SECRET, "hmac-sha256", 5)
    assert caught.value.option == "server"


def test_values_with_control_characters_reach_the_wire_unchanged(sent):
    """txt_rdata escapes them (RFC 1035 section 5.1) on the way through dnspython's presentation format."""
    updater = DnsUpdater("127.0.0.1", 8053, "certfleet-key", SECRET, "hmac-sha256", 5)
    changes = ZoneChanges("example.test")
    changes.add = {"_acme-challenge.example.test": ["line\nbreak", 'tab\t"quote"']}
    changes.ttl = {"_acme-challenge.example.test": 60}
    assert updater.send(changes) == 1
    wire = dns.message.from_wire(sent[0].to_wire(), keyring=updater.keyring)
    assert sorted(b"".join(rdata.strings) for rrset in wire.update for rdata in rrset) == [b"line\nbreak", b'tab\t"quote"']


def test_without_a_tsig_key_the_update_goes_unsigned(sent):
    """For a server that allows updates by address (allow-update { 192.0.2.1; })."""
    updater = DnsUpdater("127.0.0.1", 8053, None, None, "hmac-sha256", 5)
    changes = ZoneChanges("example.test")
    changes.add = {"_acme-challenge.example.test": ["one"]}
    changes.ttl = {"_acme-challenge.example.test": 60}
    assert updater.send(changes) == 1
    wire = dns.message.from_wire(sent[0].to_wire())
    assert not wire.had_tsig


@pytest.mark.parametrize("key_name, key_secret", [("certfleet-key", None), (None, SECRET)])
def test_half_a_tsig_key_is_refused(key_name, key_secret):
    with pytest.raises(AcmeOptionError) as caught:
        DnsUpdater("127.0.0.1", 53, key_name, key_secret, "hmac-sha256", 5)
    assert caught.value.option == "key_name" and "give key_name and key_secret together" in caught.value.msg
