# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""What each run hands back: one dataclass per run, and the one way it becomes a task's result.

The runs return these; the batch reads their fields, and only the module glue turns them
into the dict Ansible prints (``to_result``). A field is a return key of the module, named
as its ``RETURN`` documents it (tests/unit/plugins/modules/test_return_docs.py holds the two
together). Standard library only: modules that run on managed nodes use it too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Keys Ansible gives every task a meaning of its own: not documented in RETURN.
STANDARD_KEYS = frozenset({"changed", "msg", "diff"})


# Field metadata: a return key left out of the task result while it is None (the module's
# RETURN says when it is there), and a field for the run's callers (the batch) that is no return key.
WHEN_SET = {"when_set": True}
INTERNAL = {"internal": True}


def plain(value: Any) -> Any:
    """``value`` with every nested ``TaskResult`` turned into its task result."""
    if isinstance(value, TaskResult):
        return value.to_result()
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


@dataclass
class TaskResult:
    """The part every result shares: ``changed``, and ``msg`` and ``diff`` when there is one."""

    changed: bool = False
    msg: str | None = None
    diff: dict[str, Any] | None = None

    @classmethod
    def return_keys(cls) -> set[str]:
        """The keys this result documents in its module's ``RETURN``."""
        return {item.name for item in dataclasses.fields(cls) if not item.metadata.get("internal")} - STANDARD_KEYS

    def to_result(self) -> dict[str, Any]:
        """The task result: every return key, those that are None left out when they are optional."""
        result: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.metadata.get("internal"):
                continue
            if value is None and (item.name in ("msg", "diff") or item.metadata.get("when_set")):
                continue
            result[item.name] = plain(value)
        return result


@dataclass
class OrderResult(TaskResult):
    """``acme_order``: the order, its authorizations and the proofs to publish (RFC 8555 section 7.4)."""

    created: bool = False
    resumed: bool = False
    superseded: bool = False
    state_path: str | None = None
    cert_path: str | None = None
    order_uri: str | None = None
    status: str | None = None
    identifiers: list[str] = field(default_factory=list)
    challenge: str = ""
    authorizations: list[dict[str, Any]] = field(default_factory=list)
    http_proofs: list[dict[str, Any]] = field(default_factory=list)
    dns_records: list[dict[str, Any]] = field(default_factory=list)
    bind: list[str] = field(default_factory=list)
    expires: str | None = field(default=None, metadata=WHEN_SET)
    profile: str | None = field(default=None, metadata=WHEN_SET)

    @property
    def proofs(self) -> list[dict[str, Any]]:
        """Every pending authorization's proof, before records are merged by name."""
        return [entry["proof"] for entry in self.authorizations if entry["proof"]]


@dataclass
class ValidationResult(TaskResult):
    """``acme_challenge_proof``: the order and every authorization after self-tests and validation."""

    order_uri: str | None = None
    # The order's status, named as acme_order and acme_finalize name it; order_status is the 0.1.0 name.
    status: str | None = None
    order_status: str | None = None
    challenge: str = ""
    authorizations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FinalizeResult(TaskResult):
    """``acme_finalize``: the certificate issued (RFC 8555 section 7.4) and the files written."""

    order_uri: str | None = None
    status: str | None = None
    finalized: bool = False
    identifiers: list[str] = field(default_factory=list)
    serial: str | None = None
    alternates: int = 0
    preferred_chain_found: bool | None = None
    key_generated: bool = False
    key_rotated: bool = False
    state_removed: bool = False
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_before: str | None = field(default=None, metadata=WHEN_SET)
    not_after: str | None = field(default=None, metadata=WHEN_SET)
    issuer: str | None = field(default=None, metadata=WHEN_SET)
    chain_issuer: str | None = field(default=None, metadata=WHEN_SET)
    cert_pem: str | None = field(default=None, metadata=WHEN_SET)
    chain_pem: str | None = field(default=None, metadata=WHEN_SET)
    fullchain_pem: str | None = field(default=None, metadata=WHEN_SET)


@dataclass
class CertificateStatus(TaskResult):
    """``acme_certificate_info``: a certificate file and whether it is due for renewal (RFC 9773)."""

    cert_path: str = ""
    wanted_identifiers: list[str] | None = None
    exists: bool = False
    renewal_due: bool = False
    reason: str = ""
    reasons: list[str] = field(default_factory=list)
    serial: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    days_left: float | None = None
    identifiers: list[str] = field(default_factory=list)
    issuer: str | None = None
    cert_id: str | None = None
    # What a renewal order names as the certificate it replaces (renewal.replaces_for): the one rule of every path.
    replaces: str | None = None
    issuing_directory: str | None = None
    ari: dict[str, Any] | None = None
    next_check_at: str = ""


@dataclass
class AccountResult(TaskResult):
    """``acme_account``: the account as it is after the run (RFC 8555 section 7.3)."""

    account_uri: str | None = None
    status: str = "absent"
    contacts: list[str] = field(default_factory=list)
    created: bool = False
    rolled_over: bool = False
    key_thumbprint: str | None = None
    credentials_path: str | None = field(default=None, metadata=WHEN_SET)
    orders: list[str] | None = field(default=None, metadata=WHEN_SET)


@dataclass
class CertificateOutcome(TaskResult):
    """One certificate of ``acme_certificates``: how far its steps went."""

    name: str = ""
    status: str | None = None
    failed: bool = False
    reason: str | None = None
    order_uri: str | None = None
    serial: str | None = None
    not_after: str | None = None
    error: dict[str, Any] | None = field(default=None, metadata=WHEN_SET)
    http_proofs: list[dict[str, Any]] = field(default_factory=list, metadata=INTERNAL)
    dns_proofs: list[dict[str, Any]] = field(default_factory=list, metadata=INTERNAL)

    def to_result(self) -> dict[str, Any]:
        """As the other results, but ``msg`` is always there (None while the certificate did not fail)."""
        result = super().to_result()
        result["msg"] = self.msg
        return result


@dataclass
class BatchResult(TaskResult):
    """``acme_certificates``: every certificate's outcome and what to publish for all of them."""

    certificates: list[CertificateOutcome] = field(default_factory=list)
    failed_certificates: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str | None, int] = field(default_factory=dict)
    http_proofs: list[dict[str, Any]] = field(default_factory=list)
    dns_records: list[dict[str, Any]] = field(default_factory=list)
    bind: list[str] = field(default_factory=list)


@dataclass
class DnsUpdateResult(TaskResult):
    """``acme_nsupdate``: what changed in each zone (RFC 2136)."""

    zones: dict[str, Any] = field(default_factory=dict)
    messages: int = 0


@dataclass
class WebrootResult(TaskResult):
    """``acme_webroot_tokens``: the token files written or removed (RFC 8555 section 8.3)."""

    path: str = ""
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
