# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""What one module run learned about a CA, kept in a file for the next run.

Every module run is a new process. Without this file each one would fetch the
directory and ask ``newNonce`` for a nonce before its first signed request: two
requests of every module call, six of the seven a certificate needs.

- The directory (RFC 8555 section 7.1.1) changes rarely; a copy younger than the
  file's ``max_age`` is used instead of fetching it.
- A nonce is good for one request for as long as the server keeps it (section 6.5).
  The nonce a run received last and did not spend is kept here; the next run spends
  it instead of asking ``newNonce``. A nonce the server no longer accepts costs a
  ``badNonce`` answer, which carries a fresh nonce (section 6.5), so a stale one costs
  what the ``newNonce`` request would have cost.

The file holds no secret (nonces are single-use and bound to nothing). Runs on the
same file take turns with ``flock`` for the moment they read or update it; a nonce
taken by one run leaves the file at once, so two runs never spend the same one. The
cache is a shortcut only: a file that cannot be read, locked or written, or that holds
something else, is ignored (and replaced when writable).

The file is not replaced by a rename, unlike every other file of the collection: runs
take turns with ``flock`` on the file itself, and a rename would let a run that waited on
the old inode update a file nobody reads any more. It is rewritten in place under the
lock instead; a crash in the middle leaves a torn file, which is read as empty. A file
that another user owns or that group or others may write is ignored and never written:
whoever could plant it could hand this run a directory with their own URLs.
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import lock_within, make_private_folders

CACHE_FORMAT = "certfleet.acme session cache 1"
DEFAULT_MAX_AGE = 86400
# Nonces beyond this many are dropped: a run rarely has more than one to spare, and a
# server forgets old nonces anyway.
MAX_SPARE_NONCES = 8
LOCK_WAIT = 5.0


@dataclass
class CachedServer:
    """What the file had for one directory URL: its directory (when fresh enough) and spare nonces."""

    directory: dict[str, Any] | None = None
    nonces: list[str] = field(default_factory=list)


class SessionCache:
    """The session cache file ``path`` for the CA at ``directory_url``."""

    def __init__(
        self,
        path: str,
        directory_url: str,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = os.path.expanduser(path)
        self.directory_url = directory_url
        self.max_age = max_age
        self._clock = clock

    def take(self) -> CachedServer:
        """The directory if younger than ``max_age``, and every spare nonce, which leave the file."""
        found = CachedServer()

        def update(servers: dict[str, Any]) -> bool:
            entry = servers.get(self.directory_url)
            if not isinstance(entry, dict):
                return False
            fetched_at = entry.get("fetched_at")
            directory = entry.get("directory")
            if isinstance(directory, dict) and isinstance(fetched_at, (int, float)) and 0 <= self._clock() - fetched_at < self.max_age:
                found.directory = directory
            nonces = entry.get("nonces")
            if isinstance(nonces, list) and nonces:
                found.nonces = [nonce for nonce in nonces if isinstance(nonce, str) and nonce]
                entry["nonces"] = []
                return True
            return False

        self._update(update, create=False)
        return found

    def keep(self, directory: dict[str, Any] | None, nonces: list[str]) -> None:
        """Record a directory fetched now (None keeps the recorded one) and nonces not spent."""
        if directory is None and not nonces:
            return

        def update(servers: dict[str, Any]) -> bool:
            entry = servers.get(self.directory_url)
            if not isinstance(entry, dict):
                entry = servers[self.directory_url] = {}
            if directory is not None:
                entry["directory"] = directory
                entry["fetched_at"] = self._clock()
            kept = entry.get("nonces")
            kept = [nonce for nonce in kept if isinstance(nonce, str)] if isinstance(kept, list) else []
            entry["nonces"] = (kept + nonces)[-MAX_SPARE_NONCES:]
            return True

        self._update(update, create=True)

    def _update(self, update: Callable[[dict[str, Any]], bool], *, create: bool) -> None:
        """Read the file under its lock, let ``update`` change the servers, write them back when it says so."""
        flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            if create:
                make_private_folders(os.path.dirname(os.path.abspath(self.path)), "session_cache")
        except AcmeOptionError:
            return  # the cache only saves requests: a folder that cannot be made means no cache
        try:
            fd = os.open(self.path, flags | (os.O_CREAT if create else 0), 0o600)
        except OSError:
            return
        try:
            if not _trusted(os.fstat(fd)) or not lock_within(fd, LOCK_WAIT):
                return
            servers = self._read(fd)
            if update(servers):
                data = json.dumps({"format": CACHE_FORMAT, "servers": servers}, sort_keys=True).encode()
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
        except OSError:
            return
        finally:
            os.close(fd)

    @staticmethod
    def _read(fd: int) -> dict[str, Any]:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        try:
            document = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            return {}
        if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT or not isinstance(document.get("servers"), dict):
            return {}
        return document["servers"]


def _trusted(info: os.stat_result) -> bool:
    """A regular file of this user that only this user may write: what this cache may read and rewrite."""
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022
