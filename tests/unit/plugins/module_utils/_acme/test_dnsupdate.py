# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""dnsupdate.py: records of a batch as RFC 2136 updates; what is checked before anything is sent.

Sending to a real BIND is the acme_nsupdate integration target.
"""

from __future__ import annotations

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
