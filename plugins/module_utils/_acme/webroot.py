# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""http-01 tokens in a web server's document root, many at once (RFC 8555 section 8.3).

The CA fetches ``http://<name>/.well-known/acme-challenge/<token>`` and expects the key
authorization. ``publish`` writes every token of a batch into one webroot in one module run
on the web node; ``withdraw`` removes them again. Needs nothing beyond the standard library
on the web node.

A web root may belong to someone other than the operator (a site's deploy user). Inside it,
nothing is followed: ``.well-known``, ``acme-challenge`` and the token files are opened
relative to the directory above them with ``O_NOFOLLOW``, so a symbolic link planted there
is refused instead of leading a write (or a removal) elsewhere. The web root itself is the
operator's choice and may be a link.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import ACME_TOKEN
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError

CHALLENGE_DIR = os.path.join(".well-known", "acme-challenge")
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
        if not isinstance(token, str) or not ACME_TOKEN.fullmatch(token):
            raise AcmeOptionError(
                "proofs",
                f"proofs[{index}].token {token!r} is not an ACME token (22 to 255 base64url characters); pass the http_proofs a module returned",
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


CHALLENGE_PARTS = (".well-known", "acme-challenge")
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def challenge_dir(webroot: str) -> str:
    return os.path.join(webroot, CHALLENGE_DIR)


def check_webroot(webroot: str) -> None:
    if not os.path.isdir(webroot):
        raise AcmeOptionError("webroot", f"webroot {webroot} is not a directory; give the document root that serves http://<name>/ on port 80")


@contextmanager
def challenge_dir_fd(webroot: str, *, create: bool) -> Iterator[int | None]:
    """A descriptor of ``<webroot>/.well-known/acme-challenge``, reached without following any link.

    ``create`` makes the missing folders (mode 0755); without it a missing folder yields None.
    """
    check_webroot(webroot)
    try:
        opened: list[int] = [os.open(webroot, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))]
    except OSError as exc:
        raise AcmeOptionError("webroot", f"webroot {webroot} cannot be opened ({exc.strerror}); run as a user that may write in it (become)") from None
    try:
        for part in CHALLENGE_PARTS:
            fd = _open_part(opened[-1], part, webroot, create=create)
            if fd is None:
                yield None
                return
            opened.append(fd)
        yield opened[-1]
    finally:
        for fd in opened:
            os.close(fd)


def _open_part(parent: int, name: str, webroot: str, *, create: bool) -> int | None:
    """The folder ``name`` in ``parent``, refused when it is a link or not a folder."""
    shown = os.path.join(webroot, *CHALLENGE_PARTS[: CHALLENGE_PARTS.index(name) + 1])
    try:
        if create:
            try:
                os.mkdir(name, 0o755, dir_fd=parent)
            except FileExistsError:
                pass
        return os.open(name, DIRECTORY_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            kind = "a symbolic link" if _is_link(parent, name) else "not a directory"
            raise AcmeOptionError(
                "webroot",
                f"webroot {webroot}: {shown} is {kind}; tokens are only written into real folders of the web root, never through a link. "
                "Remove it (the folder is created when missing) or point webroot at the folder the link leads to",
            ) from None
        raise AcmeOptionError("webroot", f"webroot {webroot}: cannot open or create {shown} ({exc.strerror})") from None


def _is_link(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _holds(directory: int, token: Token, mode: int, uid: int | None, gid: int | None) -> bool:
    """True when the token's file is a regular file (not a link) with its content, mode and owner already."""
    try:
        # O_NONBLOCK: a FIFO planted under a token's name must not hold the run (it is replaced like any other).
        fd = os.open(token.token, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), dir_fd=directory)
    except OSError:
        return False  # missing, a link, unreadable: written anew (the rename replaces a link itself)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(token.content):
            return False
        content = os.read(fd, len(token.content) + 1)
    finally:
        os.close(fd)
    owner_ok = (uid is None or info.st_uid == uid) and (gid is None or info.st_gid == gid)
    return content == token.content.encode("ascii") and stat.S_IMODE(info.st_mode) == mode and owner_ok


def _write(directory: int, webroot: str, token: Token, mode: int, uid: int | None, gid: int | None) -> None:
    """The token's file replaced in one rename; the temporary name is random and created exclusively."""
    temp = f".{token.token}.{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode, dir_fd=directory)
        try:
            os.fchmod(fd, mode)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            os.write(fd, token.content.encode("ascii"))
        finally:
            os.close(fd)
        # Not fsynced: a token is worthless after a crash, and the rename alone keeps the change atomic.
        os.rename(temp, token.token, src_dir_fd=directory, dst_dir_fd=directory)
    except OSError as exc:
        try:
            os.unlink(temp, dir_fd=directory)
        except OSError:
            pass
        raise AcmeOptionError("webroot", f"webroot {webroot}: cannot write the token {token.token} ({exc.strerror})") from None


def publish(webroot: str, tokens: list[Token], *, mode: int, uid: int | None, gid: int | None, check_mode: bool) -> list[str]:
    """Write each token's file unless it already holds its content; returns the tokens written."""
    if not tokens:
        check_webroot(webroot)
        return []
    with challenge_dir_fd(webroot, create=not check_mode) as directory:
        if directory is None:  # check mode, and the folders do not exist yet
            return [t.token for t in tokens]
        missing = [t for t in tokens if not _holds(directory, t, mode, uid, gid)]
        if not check_mode:
            for token in missing:
                _write(directory, webroot, token, mode, uid, gid)
    return [t.token for t in missing]


def withdraw(webroot: str, tokens: list[Token], *, check_mode: bool) -> list[str]:
    """Remove each token's file that exists; returns the tokens removed. Other files are left alone."""
    with challenge_dir_fd(webroot, create=False) as directory:
        if directory is None:
            return []
        present = [t.token for t in tokens if _exists(directory, t.token)]
        if not check_mode:
            for token in present:
                try:
                    os.unlink(token, dir_fd=directory)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise AcmeOptionError("webroot", f"webroot {webroot}: cannot remove {token} ({exc.strerror})") from None
    return present


def _exists(directory: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError:
        pass  # unreadable: the removal says why
    return True
