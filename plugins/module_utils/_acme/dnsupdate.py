# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""A batch's TXT records as DNS dynamic updates (RFC 2136), one message per zone, signed with TSIG (RFC 8945).

``present`` adds each value that the authoritative server does not show yet; ``absent``
deletes exactly the given values, so values published by others for the same name stay.
Nothing is sent for a zone whose records already are as asked.
"""

from __future__ import annotations

import ipaddress
import socket
import traceback
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import txt_rdata, txt_text
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import check_dns_name

DNSPYTHON_IMPORT_ERROR: str | None
try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.tsig
    import dns.tsigkeyring
    import dns.update
except ImportError:
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()
else:
    DNSPYTHON_IMPORT_ERROR = None

TSIG_ALGORITHMS = ("hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5")
# An update goes over TCP, whose DNS messages end at 64 KB; a TXT change is about 150 bytes.
MAX_CHANGES_PER_MESSAGE = 250
# RFC 2181 section 8: a TTL is an unsigned 32-bit number whose top bit is zero.
MAX_TTL = 2**31 - 1


@dataclass
class Record:
    name: str
    values: list[str]
    ttl: int


@dataclass
class ZoneChanges:
    """What one zone needs: values to add or delete, by record name."""

    zone: str
    add: dict[str, list[str]] = field(default_factory=dict)
    delete: dict[str, list[str]] = field(default_factory=dict)
    ttl: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.add and not self.delete

    def count(self) -> int:
        return sum(len(v) for v in self.add.values()) + sum(len(v) for v in self.delete.values())


def absolute(name: str) -> str:
    return name.rstrip(".").lower()


def parse_records(records: list[dict[str, Any]], default_ttl: int) -> list[Record]:
    """The ``name`` and ``values`` (and ``ttl``) of each record, as ``dns_records`` returns them; one entry per name."""
    if not 0 <= default_ttl <= MAX_TTL:
        raise AcmeOptionError("ttl", f"ttl must be from 0 to {MAX_TTL} seconds (RFC 2181 section 8)")
    merged: dict[str, Record] = {}
    for index, record in enumerate(records):
        name = check_dns_name(record.get("name"), "records", f"records[{index}].name")
        values = record.get("values")
        if not isinstance(values, list) or not values or not all(isinstance(value, str) for value in values):
            raise AcmeOptionError("records", f"records[{index}].values must be a non-empty list of TXT values (strings)")
        for value in values:
            try:
                # A TXT value goes on the wire as UTF-8 octets (txt_rdata); a lone surrogate has none.
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise AcmeOptionError("records", f"records[{index}].values has a value that is not valid Unicode text ({exc.reason})") from None
        ttl = record.get("ttl", default_ttl)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= MAX_TTL:
            raise AcmeOptionError("records", f"records[{index}].ttl {ttl!r} is not a number of seconds")
        entry = merged.setdefault(absolute(name), Record(absolute(name), [], ttl))
        entry.values.extend(value for value in values if value not in entry.values)
    return list(merged.values())


def server_address(server: str, port: int) -> str:
    """The IP address to send to: dnspython's queries take addresses only, so a host name is looked up here."""
    try:
        return ipaddress.ip_address(server.strip("[]")).compressed
    except ValueError:
        pass
    check_dns_name(server, "server")
    try:
        return str(socket.getaddrinfo(server, port, type=socket.SOCK_STREAM)[0][4][0])
    except OSError as exc:
        raise AcmeError(f"could not look up the address of DNS server {server} ({exc}); check server") from None


class DnsUpdater:
    """One authoritative server, one TSIG key, a bounded time per exchange."""

    def __init__(self, server: str, port: int, key_name: str | None, key_secret: str | None, key_algorithm: str, timeout: float) -> None:
        if key_algorithm not in TSIG_ALGORITHMS:
            raise AcmeOptionError("key_algorithm", f"key_algorithm {key_algorithm} is not one of {', '.join(TSIG_ALGORITHMS)}")
        if bool(key_name) != bool(key_secret):
            raise AcmeOptionError("key_name", "give key_name and key_secret together (a TSIG key), or neither (a server that allows updates by address)")
        self.keyring: Any = None
        self.key_name: Any = None
        if key_name and key_secret:
            # A TSIG key name is a domain name (RFC 8945 section 4.2); checked first, so that a bad one is not reported as a bad secret.
            check_dns_name(key_name, "key_name")
            try:
                self.keyring = dns.tsigkeyring.from_text({key_name: key_secret})
            except Exception:  # dnspython raises binascii.Error, ValueError, ... for a bad secret
                raise AcmeOptionError("key_secret", f"key_secret of {key_name} is not base64, as tsig-keygen writes it") from None
            self.key_name = dns.name.from_text(key_name)
        self.algorithm = dns.name.from_text(key_algorithm)
        self.server = server
        self.address = server_address(server, port)
        self.port = port
        self.timeout = timeout
        self._zones: dict[str, str] = {}

    def _ask(self, name: str, rdtype: Any) -> Any:
        query = dns.message.make_query(name, rdtype)
        query.flags &= ~dns.flags.RD  # no recursion: the server's own data
        try:
            return dns.query.tcp(query, self.address, timeout=self.timeout, port=self.port)
        except (OSError, dns.exception.DNSException) as exc:
            what = dns.rdatatype.to_text(rdtype)
            raise AcmeError(f"DNS server {self.server}:{self.port} did not answer a {what} query for {name} ({exc}); check server and port") from None

    def zone_of(self, name: str) -> str:
        """The zone ``name`` is in, from the SOA the server shows for it (answer or authority section)."""
        if name in self._zones:
            return self._zones[name]
        response = self._ask(name, dns.rdatatype.SOA)
        for section in (response.answer, response.authority):
            for rrset in section:
                if rrset.rdtype == dns.rdatatype.SOA and dns.name.from_text(name).is_subdomain(rrset.name):
                    zone = absolute(rrset.name.to_text())
                    self._zones[name] = zone
                    return zone
        raise AcmeOptionError(
            "zone",
            f"DNS server {self.server}:{self.port} is not authoritative for {name} (no SOA in its answer, {dns.rcode.to_text(response.rcode())}); "
            "give the zone, or the server that holds it",
        )

    def current_values(self, name: str) -> list[str]:
        response = self._ask(name, dns.rdatatype.TXT)
        values = []
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.TXT and absolute(rrset.name.to_text()) == name:
                values.extend(txt_text(rdata) for rdata in rrset)
        return values

    def plan(self, records: list[Record], *, present: bool, zone: str | None) -> list[ZoneChanges]:
        """Per zone, the values to add (present) or delete (absent) that the server does not already reflect."""
        if zone is not None:
            check_dns_name(zone, "zone")
        zones: dict[str, ZoneChanges] = {}
        for record in records:
            record_zone = absolute(zone) if zone else self.zone_of(record.name)
            if not (record.name == record_zone or record.name.endswith("." + record_zone)):
                raise AcmeOptionError("zone", f"record {record.name} is not in zone {record_zone}")
            current = self.current_values(record.name)
            changes = zones.setdefault(record_zone, ZoneChanges(record_zone))
            if present:
                missing = [value for value in record.values if value not in current]
                if missing:
                    changes.add[record.name] = missing
                    changes.ttl[record.name] = record.ttl
            else:
                there = [value for value in record.values if value in current]
                if there:
                    changes.delete[record.name] = there
        return [changes for changes in zones.values() if not changes.empty]

    def send(self, changes: ZoneChanges) -> int:
        """The zone's changes as signed updates (more than one only past ``MAX_CHANGES_PER_MESSAGE``); returns the messages sent."""
        items = [("add", name, value) for name, values in changes.add.items() for value in values]
        items += [("delete", name, value) for name, values in changes.delete.items() for value in values]
        sent = 0
        for start in range(0, len(items), MAX_CHANGES_PER_MESSAGE):
            update = dns.update.UpdateMessage(changes.zone, keyring=self.keyring, keyname=self.key_name, keyalgorithm=self.algorithm)
            for action, name, value in items[start : start + MAX_CHANGES_PER_MESSAGE]:
                rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, txt_rdata(value))
                if action == "add":
                    update.add(name + ".", changes.ttl[name], rdata)
                else:
                    update.delete(name + ".", rdata)
            try:
                response = dns.query.tcp(update, self.address, timeout=self.timeout, port=self.port)
            except dns.tsig.PeerError as exc:
                raise AcmeOptionError(
                    "key_secret",
                    f"DNS server {self.server}:{self.port} rejected the TSIG signature of key {self.key_name} ({exc}); "
                    "check key_name, key_secret and key_algorithm",
                ) from None
            except (OSError, dns.exception.DNSException) as exc:
                raise AcmeError(f"DNS server {self.server}:{self.port} did not answer the update of zone {changes.zone} ({exc})") from None
            rcode = response.rcode()
            if rcode != dns.rcode.NOERROR:
                hint = {
                    dns.rcode.NOTAUTH: "the server does not accept this key for the zone (or is not authoritative for it)",
                    dns.rcode.REFUSED: "the server's update policy refuses this key for these names",
                    dns.rcode.NOTZONE: "a record is outside the zone",
                }.get(rcode, "see the server's log")
                raise AcmeError(
                    f"DNS server {self.server}:{self.port} refused the update of zone {changes.zone} with {dns.rcode.to_text(rcode)}: {hint}",
                    zone=changes.zone,
                    rcode=dns.rcode.to_text(rcode),
                )
            sent += 1
        return sent
