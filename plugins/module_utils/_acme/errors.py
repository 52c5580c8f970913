# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Exceptions of the ACME core.

Every failure the core can meet is one of these; a module turns them into
``fail_json`` in a single ``except`` (see ``task_exit.exit_with``). Each carries
structured fields so the task result says what went wrong, where, and how to
fix it, without a traceback and without key material.
"""

from __future__ import annotations

from typing import Any


class AcmeError(Exception):
    """Base class: a message for the user plus structured result fields."""

    def __init__(self, msg: str, **fields: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.fields = {key: value for key, value in fields.items() if value is not None}

    def to_result(self) -> dict[str, Any]:
        """Keyword arguments for ``AnsibleModule.fail_json``."""
        result: dict[str, Any] = {"msg": self.msg}
        result.update(self.fields)
        return result


class AcmeOptionError(AcmeError):
    """Bad module input, or a file or server the user points at that cannot serve: ``option`` names what to fix.

    Checked before anything is sent to the CA wherever the input allows; some only show once
    the CA or a server answered (a CSR for other names than the order, a DNS server that is
    not authoritative for a zone, a key file that cannot be written).
    """

    def __init__(self, option: str, msg: str) -> None:
        super().__init__(msg, option=option)
        self.option = option


class AcmeServerError(AcmeError):
    """The CA (or a server standing in for it) answered with something this run must not use.

    A token outside RFC 8555's alphabet, an order for other names than were asked, a URL on
    another origin than the directory, a certificate for another key: refused where it
    enters, before anything is published, written or deleted. ``url`` is where it came from.
    """

    def __init__(self, msg: str, *, url: str | None = None) -> None:
        super().__init__(msg, url=url)
        self.url = url


class AcmeNetworkError(AcmeError):
    """The CA could not be reached, or its TLS certificate was not trusted.

    ``transient`` marks a timeout or a dropped connection, which a read-only request may
    simply send again; a refused certificate or a wrong URL stays wrong.
    """

    def __init__(self, msg: str, url: str, *, transient: bool = False) -> None:
        super().__init__(msg, url=url)
        self.url = url
        self.transient = transient


class AcmeProblem(AcmeError):
    """An RFC 7807 problem document (RFC 8555 section 6.7) or another non-success answer.

    ``problem_type`` is the full URN (``urn:ietf:params:acme:error:badNonce``);
    ``subproblems`` keep their identifiers (RFC 8555 section 6.7.1).
    """

    ACME_ERROR_PREFIX = "urn:ietf:params:acme:error:"

    def __init__(
        self,
        *,
        url: str,
        status: int,
        problem_type: str | None = None,
        detail: str | None = None,
        subproblems: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
        context: str | None = None,
        hint: str | None = None,
        retry_at: str | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.problem_type = problem_type
        self.detail = detail
        self.subproblems = subproblems or []
        self.retry_after = retry_after
        message = self._message(context)
        super().__init__(
            f"{message}. {hint}" if hint else message,
            retry_at=retry_at,
            problem={
                "type": problem_type,
                "detail": detail,
                "status": status,
                "subproblems": self.subproblems,
                "url": url,
            },
        )

    @property
    def short_type(self) -> str | None:
        """``badNonce`` for ``urn:ietf:params:acme:error:badNonce``; other URIs unchanged."""
        if self.problem_type and self.problem_type.startswith(self.ACME_ERROR_PREFIX):
            return self.problem_type[len(self.ACME_ERROR_PREFIX) :]
        return self.problem_type

    def has_type(self, short_type: str) -> bool:
        return self.short_type == short_type

    def _message(self, context: str | None) -> str:
        parts = [context or "The ACME server refused the request"]
        parts.append(f"to {self.url}: HTTP {self.status}")
        if self.problem_type:
            parts.append(f"{self.problem_type}:")
        parts.append(self.detail or "(the server gave no detail)")
        return " ".join(parts) + "".join(f"; {describe_subproblem(sub)}" for sub in self.subproblems)


def describe_subproblem(sub: Any) -> str:
    """``identifier type: detail`` of one subproblem (RFC 8555 section 6.7.1)."""
    if not isinstance(sub, dict):
        return str(sub)
    identifier = sub.get("identifier")
    value = identifier.get("value", "?") if isinstance(identifier, dict) else (identifier or "?")
    return f"{value} {sub.get('type', '?')}: {sub.get('detail', '(no detail)')}"


def format_problem(problem: dict[str, Any] | None) -> str:
    """``type: detail`` of a problem document (RFC 7807), with its subproblems (RFC 8555 section 6.7.1)."""
    if not problem:
        return "the CA gave no problem document"
    text = f"{problem.get('type') or '(no type)'}: {problem.get('detail') or '(no detail)'}"
    subproblems = [sub for sub in problem.get("subproblems") or [] if isinstance(sub, dict)]
    return text + "".join(f"; {describe_subproblem(sub)}" for sub in subproblems)


def unexpected_error_message(error: Exception) -> str:
    """The message for an exception the core did not foresee: what it was, without a traceback, and what to do."""
    text = " ".join(str(error).split())[:300] or "(no message)"
    return (
        f"Unexpected {type(error).__name__}: {text}. The run stopped here and kept the files it had; this is a defect of "
        "certfleet.acme, or an answer of the CA or a server that it failed to check: please report it with the task's -vvv output"
    )
