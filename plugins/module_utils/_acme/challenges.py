# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""What to publish for each challenge type.

- ``http-01`` (RFC 8555 section 8.3): the key authorization ``token.thumbprint`` served at
  ``http://<name>/.well-known/acme-challenge/<token>``.
- ``dns-01`` (section 8.4): a TXT record ``_acme-challenge.<name>`` holding
  base64url(SHA-256(key authorization)); an apex and its wildcard share the name.
- ``dns-persist-01`` (draft-ietf-acme-dns-persist): a lasting TXT record
  ``_validation-persist.<name>`` holding an RFC 8659 issue-value naming the CA and the
  account. The record format lives only in ``DnsPersistFormat`` so that a later draft
  (which may, for example, hash the account URI) is a small change.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import ACME_TOKEN, b64url_encode
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier, check_dns_name, dns_name_problem

HTTP01_PATH_PREFIX = "/.well-known/acme-challenge/"
# RFC 8659 section 4.2: a parameter value of an issue-value is printable ASCII without ';' or space.
_ISSUE_PARAMETER_VALUE = re.compile(r"[\x21-\x3a\x3c-\x7e]+")
# RFC 1035 section 5.1: each octet of a quoted TXT string, as written in presentation format.
_TXT_OCTET = ["\\" + chr(octet) if chr(octet) in '"\\' else chr(octet) if 0x20 <= octet <= 0x7E else f"\\{octet:03d}" for octet in range(256)]
DNS01_PREFIX = "_acme-challenge"
DEFAULT_TTL = 60
# Warn when a dns-persist-01 record's persistUntil is closer than this.
PERSIST_UNTIL_WARNING_SECONDS = 30 * 24 * 3600


def checked_token(challenge_type: str, identifier: Identifier, challenge: dict[str, Any]) -> str:
    """The challenge's ``token`` when it is one (RFC 8555 section 8.1), else refused before anything is built.

    The token becomes a file name in web roots and part of a DNS value: a CA that sends
    ``../../etc`` or a space must not reach a file system or a zone.
    """
    token = challenge.get("token")
    if isinstance(token, str) and ACME_TOKEN.fullmatch(token):
        return token
    shown = repr(token) if not isinstance(token, str) or len(token) <= 80 else repr(token[:80]) + "..."
    raise AcmeServerError(
        f"The CA's {challenge_type} challenge for {identifier.value} carries the token {shown}, which is not an ACME token "
        "(RFC 8555 section 8.1: 22 to 255 base64url characters, no padding); nothing was published. "
        "Check that the directory option names the CA you trust",
        url=_challenge_url(challenge),
    )


def key_authorization(token: str, thumbprint: str) -> str:
    """RFC 8555 section 8.1: ``token || '.' || base64url(JWK thumbprint)``."""
    return f"{token}.{thumbprint}"


def http01_proof(identifier: Identifier, token: str, thumbprint: str) -> dict[str, Any]:
    path = HTTP01_PATH_PREFIX + token
    host = f"[{identifier.value}]" if ":" in identifier.value else identifier.value
    return {
        "identifier": identifier.value,
        "token": token,
        "path": path,
        "url": f"http://{host}{path}",
        "content": key_authorization(token, thumbprint),
    }


def dns01_value(token: str, thumbprint: str) -> str:
    """RFC 8555 section 8.4: base64url of the SHA-256 digest of the key authorization."""
    return b64url_encode(hashlib.sha256(key_authorization(token, thumbprint).encode("ascii")).digest())


def checked_record_name(name: str, identifier: Identifier, challenge_type: str) -> str:
    """``name``, the record of ``identifier``, refused when it cannot be a DNS name (RFC 1035 section 2.3.4).

    The identifier of an authorization comes from the CA: one that is no DNS name is the CA's
    fault (``AcmeServerError``). A valid name can still be too long once the record's label is
    put in front of it; then the chosen challenge type cannot work (``AcmeOptionError``).
    """
    problem = dns_name_problem(identifier.base)
    if problem:
        raise AcmeServerError(f"the CA's authorization is for {identifier.value[:80]!r}, which is not a DNS name: {problem}")
    problem = dns_name_problem(name)
    if problem:
        raise AcmeOptionError("identifiers", f"{identifier.value} cannot be proved with {challenge_type}: its record name is not a DNS name: {problem}")
    return name


def dns01_proof(identifier: Identifier, token: str, thumbprint: str) -> dict[str, Any]:
    return {
        "identifier": identifier.value,
        "name": checked_record_name(f"{DNS01_PREFIX}.{identifier.base}", identifier, "dns-01"),
        "type": "TXT",
        "value": dns01_value(token, thumbprint),
    }


@dataclass(frozen=True)
class DnsPersistFormat:
    """The dns-persist-01 record as draft-ietf-acme-dns-persist-00/-01 (and Pebble 2.10) define it."""

    draft: str = "draft-ietf-acme-dns-persist-01"
    label: str = "_validation-persist"

    def record_name(self, identifier: Identifier) -> str:
        return f"{self.label}.{identifier.base}"

    def record_value(self, issuer: str, account_uri: str, *, wildcard_policy: bool, persist_until: int | None) -> str:
        """RFC 8659 issue-value: ``issuer; accounturi=URI[; policy=wildcard][; persistUntil=T]``."""
        parts = [issuer, f"accounturi={account_uri}"]
        if wildcard_policy:
            parts.append("policy=wildcard")
        if persist_until is not None:
            parts.append(f"persistUntil={int(persist_until)}")
        return "; ".join(parts)


DNS_PERSIST = DnsPersistFormat()


def choose_issuer(offered: list[str], wanted: str | None, option: str = "issuer_domain_name") -> str:
    """The wanted issuer domain name when the CA offers it (or offers none), else the CA's first."""
    if wanted:
        wanted = check_dns_name(wanted.strip(), option).rstrip(".").lower()
        if offered and wanted not in [name.lower() for name in offered]:
            raise AcmeOptionError(option, f"{option} {wanted!r} is not among the CA's issuer-domain-names: {', '.join(offered)}")
        return wanted
    if not offered:
        raise AcmeOptionError(option, "the CA's dns-persist-01 challenge lists no issuer-domain-names; set issuer_domain_name to the CA's CAA name")
    return offered[0].lower()


def offered_issuers(challenge: dict[str, Any]) -> list[str]:
    """The CA's ``issuer-domain-names``, each a domain name (RFC 8659 section 4.2), else ``AcmeServerError``.

    They go into a TXT record that lasts across renewals: a value with a ``;``, a space or a
    control character would change what the record says, so the whole list is refused.
    """
    offered = challenge.get("issuer-domain-names")
    if not isinstance(offered, list):
        return []
    for name in offered:
        problem = dns_name_problem(name)
        if problem:
            shown = name[:80] if isinstance(name, str) else name
            raise AcmeServerError(
                f"the CA's dns-persist-01 challenge lists issuer-domain-name {shown!r}, which is not a domain name: {problem}", url=_challenge_url(challenge)
            )
    return [name.rstrip(".") for name in offered]


def account_uri_problem(uri: object) -> str | None:
    """What keeps ``uri`` from being an ``accounturi`` parameter value, or None.

    RFC 8659 section 4.2: a parameter value is printable ASCII without spaces or ``;``; the
    account URL is an https URL (RFC 8555 section 6.1).
    """
    if not isinstance(uri, str) or not uri:
        return "it is empty"
    if not _ISSUE_PARAMETER_VALUE.fullmatch(uri):
        return "it has a space, a ';', a control character or a character outside ASCII"
    parts = urlsplit(uri)
    if parts.scheme != "https" or not parts.netloc:
        return "it is not an https URL"
    return None


def bound_account_uri(challenge: dict[str, Any], account_uri: str) -> str:
    """The account URL the record names: this run's, which the challenge's ``accounturi`` must repeat.

    draft-ietf-acme-dns-persist-01 section 3: the CA names the account the record must bind in
    ``accounturi``. A record binding the names to an account other than the one this run uses
    would authorize that account for every later issuance, so a challenge that names another
    account is refused (``AcmeServerError``) instead of being published.
    """
    problem = account_uri_problem(account_uri)
    if problem:
        raise AcmeOptionError("account_uri", f"the account URL {account_uri!r} cannot go into a dns-persist-01 record: {problem}")
    offered = challenge.get("accounturi")
    if isinstance(offered, str) and offered != account_uri:
        raise AcmeServerError(
            f"the CA's dns-persist-01 challenge binds the record to account {offered[:200]!r}, not to this run's account {account_uri}; "
            "a record for another account is not published",
            url=_challenge_url(challenge),
        )
    return account_uri


def _challenge_url(challenge: dict[str, Any]) -> str | None:
    url = challenge.get("url")
    return url if isinstance(url, str) else None


def dns_persist01_proof(
    identifier: Identifier,
    challenge: dict[str, Any],
    account_uri: str,
    *,
    issuer_domain_name: str | None,
    policy_wildcard: bool,
    persist_until: int | None,
) -> dict[str, Any]:
    """The record that binds ``identifier`` to the account for this CA, lasting across renewals."""
    issuer = choose_issuer(offered_issuers(challenge), issuer_domain_name)
    bound_uri = bound_account_uri(challenge, account_uri)
    return {
        "identifier": identifier.value,
        "name": checked_record_name(DNS_PERSIST.record_name(identifier), identifier, "dns-persist-01"),
        "type": "TXT",
        "value": DNS_PERSIST.record_value(issuer, bound_uri, wildcard_policy=identifier.wildcard or policy_wildcard, persist_until=persist_until),
        "issuer": issuer,
        "draft": DNS_PERSIST.draft,
    }


def persist_until_warning(persist_until: int | None, now: float | None = None) -> str | None:
    if persist_until is None:
        return None
    remaining = persist_until - (time.time() if now is None else now)
    if remaining < PERSIST_UNTIL_WARNING_SECONDS:
        days = max(0, int(remaining // 86400))
        return (
            f"persist_until is {days} day(s) away: after it the CA no longer accepts the dns-persist-01 record; "
            "publish a record with a later persist_until (or none) before then"
        )
    return None


def txt_text(rdata: Any) -> str:
    """A TXT record's value as one string: its character-strings joined (RFC 1035 section 3.3.14), as the CA reads it.

    Bytes that are not UTF-8 become U+FFFD: such a value never equals one this collection published.
    """
    return b"".join(rdata.strings).decode("utf-8", "replace")


def txt_rdata(value: str) -> str:
    """A TXT value in presentation format (RFC 1035 section 5.1): quoted character-strings.

    The value's UTF-8 octets are cut into character-strings of at most 255 octets (section
    3.3.14), which the CA reads back joined. Inside the quotes ``"`` and ``\\`` are escaped with a
    backslash, and every octet that is not printable ASCII (a newline, a tab, a NUL, a byte of
    a non-ASCII character) as ``\\DDD``, so that a value can never end the string or the line
    of an nsupdate command or a zone file early.
    """
    octets = value.encode("utf-8")
    chunks = [octets[i : i + 255] for i in range(0, len(octets), 255)] or [b""]
    return " ".join('"' + "".join(_TXT_OCTET[octet] for octet in chunk) + '"' for chunk in chunks)


def merge_dns_records(proofs: list[dict[str, Any]], ttl: int = DEFAULT_TTL) -> list[dict[str, Any]]:
    """One entry per record name with every value (apex and wildcard share ``_acme-challenge.<name>``).

    ``rdata`` holds the values in presentation format, what nsupdate and zone files take.
    """
    merged: dict[str, dict[str, Any]] = {}
    for proof in proofs:
        record = merged.setdefault(proof["name"], {"name": proof["name"], "type": "TXT", "values": [], "ttl": ttl, "identifiers": []})
        if proof["value"] not in record["values"]:
            record["values"].append(proof["value"])
        record["identifiers"].append(proof["identifier"])
    for record in merged.values():
        record["rdata"] = [txt_rdata(value) for value in record["values"]]
    return list(merged.values())


def bind_lines(records: list[dict[str, Any]]) -> list[str]:
    """Zone-file lines for the records (RFC 1035 section 5.1)."""
    return [f"{record['name']}. {record['ttl']} IN TXT {txt_rdata(value)}" for record in records for value in record["values"]]


@dataclass(frozen=True)
class ProofChoices:
    """What a run chose for its proofs beyond the CA's challenge (dns-persist-01's issuer, policy and expiry)."""

    issuer_domain_name: str | None = None
    policy_wildcard: bool = False
    persist_until: int | None = None


class ChallengeType:
    """One challenge type: the names it can prove, the proof it builds from the CA's challenge, how that is published.

    ``publishes`` is ``http`` (a token file that web nodes serve, RFC 8555 section 8.3) or ``dns``
    (a TXT record, section 8.4 and draft-ietf-acme-dns-persist). Adding a type is one subclass
    in ``CHALLENGES`` plus its tests.
    """

    name = ""
    publishes = ""

    def cannot_prove(self, identifier: Identifier) -> str | None:
        """Why this type cannot prove ``identifier`` (RFC 8555 section 7.1.3, RFC 8738 section 7); None when it can."""
        if identifier.type == "ip":
            return f"{identifier.value} is an IP address, which {self.name} cannot prove (no DNS name); use challenge: http-01"
        return None

    def proof(self, identifier: Identifier, challenge: dict[str, Any], thumbprint: str, account_uri: str, choices: ProofChoices) -> dict[str, Any]:
        raise NotImplementedError


class Http01(ChallengeType):
    """RFC 8555 section 8.3: the key authorization served at ``/.well-known/acme-challenge/<token>``."""

    name = "http-01"
    publishes = "http"

    def cannot_prove(self, identifier: Identifier) -> str | None:
        if identifier.wildcard:
            return f"{identifier.value} is a wildcard, which http-01 cannot prove; use challenge: dns-01 or dns-persist-01"
        return None

    def proof(self, identifier: Identifier, challenge: dict[str, Any], thumbprint: str, account_uri: str, choices: ProofChoices) -> dict[str, Any]:
        return http01_proof(identifier, checked_token(self.name, identifier, challenge), thumbprint)


class Dns01(ChallengeType):
    """RFC 8555 section 8.4: base64url(SHA-256(key authorization)) at ``_acme-challenge.<name>``."""

    name = "dns-01"
    publishes = "dns"

    def proof(self, identifier: Identifier, challenge: dict[str, Any], thumbprint: str, account_uri: str, choices: ProofChoices) -> dict[str, Any]:
        return dns01_proof(identifier, checked_token(self.name, identifier, challenge), thumbprint)


class DnsPersist01(ChallengeType):
    """draft-ietf-acme-dns-persist: a lasting record binding the name to the account, at ``_validation-persist.<name>``."""

    name = "dns-persist-01"
    publishes = "dns"

    def proof(self, identifier: Identifier, challenge: dict[str, Any], thumbprint: str, account_uri: str, choices: ProofChoices) -> dict[str, Any]:
        return dns_persist01_proof(
            identifier,
            challenge,
            account_uri,
            issuer_domain_name=choices.issuer_domain_name,
            policy_wildcard=choices.policy_wildcard,
            persist_until=choices.persist_until,
        )


CHALLENGES: dict[str, ChallengeType] = {kind.name: kind for kind in (Http01(), Dns01(), DnsPersist01())}
CHALLENGE_TYPES = tuple(CHALLENGES)


def challenge_type(name: str, option: str = "challenge") -> ChallengeType:
    """The registered type called ``name``; any other is refused naming ``option``."""
    kind = CHALLENGES.get(name)
    if kind is None:
        raise AcmeOptionError(option, f"{option} {name!r} is not one of {', '.join(CHALLENGE_TYPES)}")
    return kind


def check_challenge_fits(identifiers: list[Identifier], challenge: str, option: str = "challenge") -> None:
    """Every name can be proved with ``challenge``, before anything is sent."""
    kind = challenge_type(challenge, option)
    for identifier in identifiers:
        reason = kind.cannot_prove(identifier)
        if reason:
            raise AcmeOptionError(option, reason)


def build_proof(
    challenge_type_name: str,
    identifier: Identifier,
    challenge: dict[str, Any],
    thumbprint: str,
    account_uri: str,
    *,
    issuer_domain_name: str | None = None,
    policy_wildcard: bool = False,
    persist_until: int | None = None,
) -> dict[str, Any]:
    """The proof of ``challenge_type_name`` for one authorization; ``challenge`` is the CA's challenge object."""
    choices = ProofChoices(issuer_domain_name=issuer_domain_name, policy_wildcard=policy_wildcard, persist_until=persist_until)
    return challenge_type(challenge_type_name).proof(identifier, challenge, thumbprint, account_uri, choices)
