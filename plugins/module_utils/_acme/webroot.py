# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""http-01 tokens in a web server's document root, many at once (RFC 8555 section 8.3).

The CA fetches ``http://<name>/.well-known/acme-challenge/<token>`` and expects the key
authorization. ``publish`` writes every token of a batch into one webroot in one module run
on the web node; ``withdraw`` removes them again. Needs nothing beyond the standard library
on the web node.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import atomic_write, needs_write

CHALLENGE_DIR = os.path.join(".well-known", "acme-challenge")
# RFC 8555 section 8.1: a token is base64url (no padding) with at least 128 bits of entropy. Only
# these characters are accepted, so a token can never climb out of the challenge directory.
TOKEN = re.compile(r"[A-Za-z0-9_-]{22,}")
# The key authorization: token || '.' || base64url(SHA-256 JWK thumbprint) (RFC 8555 section 8.1).
KEY_AUTHORIZATION = re.compile(r"(?P<token>[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Token:
    token: str
    content: str


def parse_proofs(proofs: list[dict[str, Any]]) -> list[Token]:
    """The ``token`` and ``content`` of each proof (as ``http_proofs`` returns them), checked."""
    tokens: dict[str, Token] = {}
    for index, proof in enumerate(proofs):
        token = proof.get("token")
        content = proof.get("content")
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            raise AcmeOptionError(
                "proofs",
                f"proofs[{index}].token {token!r} is not an ACME token (22 or more base64url characters); pass the http_proofs a module returned",
            )
        match = KEY_AUTHORIZATION.fullmatch(content) if isinstance(content, str) else None
        if match is None or match.group("token") != token:
            raise AcmeOptionError(
                "proofs",
                f"proofs[{index}].content is not the key authorization of token {token} ('<token>.<account key thumbprint>'); "
                "pass the http_proofs a module returned",
            )
        if token in tokens and tokens[token].content != content:
            raise AcmeOptionError("proofs", f"proofs[{index}] gives token {token} another content than an earlier entry")
        tokens[token] = Token(token, content)
    return list(tokens.values())


def challenge_dir(webroot: str) -> str:
    return os.path.join(webroot, CHALLENGE_DIR)


def check_webroot(webroot: str) -> None:
    if not os.path.isdir(webroot):
        raise AcmeOptionError("webroot", f"webroot {webroot} is not a directory; give the document root that serves http://<name>/ on port 80")


def publish(webroot: str, tokens: list[Token], *, mode: int, uid: int | None, gid: int | None, check_mode: bool) -> list[str]:
    """Write each token's file (atomically) unless it already holds its content; returns the tokens written."""
    check_webroot(webroot)
    directory = challenge_dir(webroot)
    if check_mode:
        return [t.token for t in tokens if needs_write(os.path.join(directory, t.token), t.content.encode("ascii"), mode, uid, gid, "webroot")]
    if not tokens:
        return []
    try:
        os.makedirs(directory, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise AcmeOptionError("webroot", f"webroot {webroot}: cannot create {directory} ({exc.strerror})") from None
    # atomic_write reads each file once and leaves one that already matches alone. A token is worth
    # nothing after a crash: atomic, but not fsynced (1,000 fsyncs took 0.55 s here).
    return [
        t.token
        for t in tokens
        if atomic_write(os.path.join(directory, t.token), t.content.encode("ascii"), option="webroot", mode=mode, uid=uid, gid=gid, durable=False)
    ]


def withdraw(webroot: str, tokens: list[Token], *, check_mode: bool) -> list[str]:
    """Remove each token's file that exists; returns the tokens removed. Other files are left alone."""
    directory = challenge_dir(webroot)
    present = [t.token for t in tokens if os.path.lexists(os.path.join(directory, t.token))]
    if not check_mode:
        for token in present:
            try:
                os.unlink(os.path.join(directory, token))
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise AcmeOptionError("webroot", f"webroot {webroot}: cannot remove {token} ({exc.strerror})") from None
    return present
