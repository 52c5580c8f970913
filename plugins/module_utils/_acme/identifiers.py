# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Order identifiers (RFC 8555 section 7.1.4 ``dns``, RFC 8738 ``ip``) checked before anything is sent."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError

try:  # IDNA 2008 + UTS 46 (RFC 5891); requests depends on it, so it is there wherever the core runs
    import idna as _idna
except ImportError:  # pragma: no cover - Python's own codec is IDNA 2003 (maps "ß" to "ss")
    _idna = None

_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# A label of a record name: letters, digits, '_' (as in _acme-challenge) and inner hyphens.
_RECORD_LABEL_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$")


@dataclass(frozen=True)
class Identifier:
    """One name of a certificate: ``dns`` (possibly ``*.`` wildcard) or ``ip``."""

    type: str
    value: str

    @property
    def wildcard(self) -> bool:
        return self.type == "dns" and self.value.startswith("*.")

    @property
    def base(self) -> str:
        """The name an authorization is for: a wildcard's authorization drops ``*.`` (section 7.1.3)."""
        return self.value[2:] if self.wildcard else self.value

    def to_acme(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}

    @classmethod
    def from_acme(cls, data: object, wildcard: bool = False) -> Identifier:
        if not isinstance(data, dict):
            return cls("dns", "")
        value = str(data.get("value") or "")
        if wildcard and not value.startswith("*."):
            value = "*." + value
        return cls(str(data.get("type") or "dns"), value)


def _to_ascii(label: str) -> str:
    """One label in its ASCII (A-label) form; ``*`` and ASCII labels as they are."""
    if label == "*" or all(ord(c) < 128 for c in label):
        return label
    if _idna is not None:
        return _idna.encode(label, uts46=True).decode("ascii")
    return label.encode("idna").decode("ascii")


def _dns_name(raw: str, option: str) -> str:
    name = raw.strip().rstrip(".").lower()
    try:
        ascii_name = ".".join(_to_ascii(label) for label in name.split(".")) if any(ord(c) > 127 for c in name) else name
    except UnicodeError:
        raise AcmeOptionError(option, f"{option}: {raw!r} is not a valid internationalised domain name") from None
    labels = ascii_name.split(".")
    wildcard = labels[0] == "*"
    rest = labels[1:] if wildcard else labels
    if any("*" in label for label in rest):
        raise AcmeOptionError(
            option,
            f"{option}: {raw!r} is not a valid wildcard; only the leftmost label may be '*', and only as a whole label, as in '*.example.com'",
        )
    if wildcard and len(rest) < 2:
        raise AcmeOptionError(option, f"{option}: {raw!r} is not a valid wildcard; '*.' needs a name of at least two labels after it, as in '*.example.com'")
    if len(ascii_name) > 253:
        raise AcmeOptionError(option, f"{option}: {raw!r} is not a valid DNS name: {len(ascii_name)} characters, more than the 253 DNS allows")
    if len(rest) < 2 or not all(_LABEL_RE.match(label) for label in rest):
        raise AcmeOptionError(
            option,
            f"{option}: {raw!r} is not a valid DNS name (labels of letters, digits and inner hyphens, at most 63 characters each, at least two labels)",
        )
    return ascii_name


def dns_name_problem(name: object) -> str | None:
    """What keeps ``name`` from being a DNS name in presentation format, or None (RFC 1035 sections 2.3.4 and 3.1).

    Checked without dnspython, so that what a user or a server wrote fails as a message naming the
    option instead of a dnspython exception: ASCII only (an internationalised name is passed in its
    ``xn--`` form), no empty label, labels of at most 63 octets, at most 255 octets in wire form
    (253 characters without the final dot), and labels of letters, digits, '_' and inner '-'.
    """
    if not isinstance(name, str) or not name.strip("."):
        return "it is empty"
    if not name.isascii():
        return "it has characters outside ASCII (give an internationalised name in its xn-- form)"
    text = name[:-1] if name.endswith(".") else name
    labels = text.split(".")
    if "" in labels:
        return "it has an empty label (two dots in a row, or a leading dot)"
    for label in labels:
        if len(label) > 63:
            return f"its label {label[:20]!r}... has {len(label)} characters, more than the 63 DNS allows"
        if not _RECORD_LABEL_RE.match(label):
            return f"its label {label!r} has other characters than letters, digits, '_' and inner '-'"
    if len(text) > 253:
        return f"it has {len(text)} characters, more than the 253 DNS allows (255 octets on the wire)"
    return None


def check_dns_name(name: object, option: str, what: str | None = None) -> str:
    """``name`` when it is a DNS name (``dns_name_problem``), else ``AcmeOptionError`` naming ``option``.

    ``what`` is how the message names the value (``records[2].name``), by default the option.
    """
    problem = dns_name_problem(name)
    if problem:
        shown = name if isinstance(name, str) and len(name) <= 80 else (name[:80] + "..." if isinstance(name, str) else name)
        raise AcmeOptionError(option, f"{what or option} {shown!r} is not a DNS name: {problem}")
    return str(name)


def parse_identifier(raw: str, option: str = "identifiers") -> Identifier:
    if not isinstance(raw, str) or not raw.strip():
        raise AcmeOptionError(option, f"{option} contains an empty entry")
    text = raw.strip()
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return Identifier("dns", _dns_name(text, option))
    return Identifier("ip", address.compressed)


def parse_identifiers(values: list[str] | None, option: str = "identifiers") -> list[Identifier]:
    """Validate, normalise and de-duplicate-check the wanted names, keeping their order."""
    if not values:
        raise AcmeOptionError(option, f"{option} is empty; give at least one DNS name or IP address")
    identifiers: list[Identifier] = []
    seen: set[Identifier] = set()
    for raw in values:
        identifier = parse_identifier(raw, option)
        if identifier in seen:
            raise AcmeOptionError(option, f"{option} lists {identifier.value} twice; give each name once")
        seen.add(identifier)
        identifiers.append(identifier)
    return identifiers


def same_names(a: list[Identifier], b: list[Identifier]) -> bool:
    return sorted((i.type, i.value) for i in a) == sorted((i.type, i.value) for i in b)
