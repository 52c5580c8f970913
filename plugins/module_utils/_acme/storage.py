# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Files that must never be half-written or briefly world-readable.

A write goes to a temporary file in the destination's directory, created with the
final mode from its first byte (``os.open`` with ``O_EXCL`` and the mode, then
``fchmod`` to undo the umask), is fsynced, gets its owner and group, and replaces
the destination with one ``rename``. The old file stays in place until then.
"""

from __future__ import annotations

import fcntl
import grp
import os
import pwd
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError

PRIVATE_MODE = 0o600
LOCK_SUFFIX = ".lock"
DEFAULT_LOCK_TIMEOUT = 600
LOCK_POLL_INTERVAL = 0.2


@dataclass
class FileState:
    """What a path holds now, for idempotence and ``--diff``."""

    exists: bool
    content: bytes | None = None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None


def parse_mode(value: Any, option: str = "mode") -> int:
    """An octal permission string (``'0644'``, ``'644'``, ``'0o644'``) or an integer (YAML ``0644`` is 420)."""
    if isinstance(value, bool):
        raise AcmeOptionError(option, f"{option} must be an octal string such as '0644', not {value!r}")
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip().lower()
        digits = text[2:] if text.startswith("0o") else text
        if not digits or len(digits) > 4 or any(c not in "01234567" for c in digits):
            raise AcmeOptionError(option, f"{option} {value!r} is not an octal mode; write it as a quoted string such as '0644'")
        mode = int(digits, 8)
    if not 0 <= mode <= 0o7777:
        raise AcmeOptionError(option, f"{option} {value!r} is not a file mode (0000 to 7777 in octal)")
    return mode


def read_state(path: str, option: str) -> FileState:
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            return FileState(True, handle.read(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    except FileNotFoundError:
        return FileState(False)
    except IsADirectoryError:
        raise AcmeOptionError(option, f"{option} {path} is a directory; give a file path") from None
    except PermissionError:
        raise AcmeOptionError(option, f"{option} {path} is not readable by this user; fix its permissions or become the owner") from None
    except OSError as exc:
        raise AcmeOptionError(option, f"{option} {path} cannot be read: {exc.strerror or exc}") from None


def open_to_others_warning(option: str, path: str, mode: int | None, who_fixes: str) -> list[str]:
    """A warning for a file holding an account's private key that group or others may access (mode & 0o077).

    Such a file is read, not refused: refusing would stop a nightly job over a mode that
    ``chmod 0600`` fixes. ``who_fixes`` says whether this collection tightens it itself.
    """
    if mode is None or not mode & 0o077:
        return []
    return [f"{option} {path} is readable by group or others (mode {mode:04o}); it holds the account's private key: chmod 0600 it ({who_fixes})"]


def check_writable_directory(path: str, option: str) -> None:
    """Fail naming ``option`` unless a file can be created at ``path``: called before anything
    that would be lost if the write failed afterwards (a registered account's new key, an order
    the CA created, a certificate's files)."""
    if os.path.isdir(path):
        raise AcmeOptionError(option, f"{option} {path} is a directory; give a file path")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(directory):
        raise AcmeOptionError(option, f"{option} {path}: the directory {directory} does not exist; create it first")
    if not os.path.isdir(directory):
        raise AcmeOptionError(option, f"{option} {path}: {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise AcmeOptionError(option, f"{option} {path}: cannot write in {directory}; fix its permissions or choose another path")


def read_bytes(path: str, option: str) -> bytes | None:
    """The content of ``path``, None when it does not exist; errors name ``option``."""
    return read_state(path, option).content


def resolve_owner(owner: str | int | None, option: str = "owner") -> int | None:
    if owner is None or owner == "":
        return None
    if isinstance(owner, int) or str(owner).isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(str(owner)).pw_uid
    except KeyError:
        raise AcmeOptionError(option, f"{option} {owner!r} is not a user on this host") from None


def resolve_group(group: str | int | None, option: str = "group") -> int | None:
    if group is None or group == "":
        return None
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(str(group)).gr_gid
    except KeyError:
        raise AcmeOptionError(option, f"{option} {group!r} is not a group on this host") from None


def needs_write(path: str, content: bytes, mode: int, uid: int | None, gid: int | None, option: str) -> bool:
    """True when the file differs from what ``atomic_write`` would leave."""
    state = read_state(path, option)
    return not (state.exists and state.content == content and state.mode == mode and (uid is None or state.uid == uid) and (gid is None or state.gid == gid))


def atomic_write(
    path: str,
    content: bytes,
    *,
    option: str,
    mode: int = PRIVATE_MODE,
    uid: int | None = None,
    gid: int | None = None,
    durable: bool = True,
) -> bool:
    """Replace ``path`` with ``content`` atomically; returns False when it already matched.

    ``durable=False`` leaves out the two fsyncs, for files that are worthless after a crash
    (an http-01 token lives for one validation): the rename still makes the change atomic.
    """
    if not needs_write(path, content, mode, uid, gid, option):
        return False
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise AcmeOptionError(option, f"{option} {path}: the directory {directory} does not exist; create it first")
    temp_path = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    except FileExistsError:
        os.unlink(temp_path)  # left by a crashed run of this same process id; never holds the live file
        fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    except PermissionError:
        raise AcmeOptionError(option, f"{option} {path}: cannot write in {directory}; fix its permissions or choose another path") from None
    except OSError as exc:
        raise AcmeOptionError(option, f"{option} {path}: cannot create a file in {directory}: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, mode)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            view = memoryview(content)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp_path, path)
    except OSError as exc:  # permissions, full disk, read-only file system, quota
        _remove_quietly(temp_path)
        raise AcmeOptionError(option, f"{option} {path}: {exc.strerror}; the existing file was left as it was") from None
    except BaseException:
        _remove_quietly(temp_path)
        raise
    if durable:
        _fsync_directory(directory)
    return True


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def lock_path_for(state_path: str) -> str:
    """The lock file that guards ``state_path``: ``<state_path>.lock``, next to it."""
    return os.path.expanduser(state_path) + LOCK_SUFFIX


@contextmanager
def state_lock(
    state_path: str,
    timeout: float,
    *,
    create: bool = True,
    option: str = "state_path",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str | None]:
    """Hold an exclusive ``flock`` on ``<state_path>.lock`` for the duration of the ``with`` block.

    Serialises every module run working on the certificate whose order ``state_path``
    records, across processes and playbook runs on this host (a lock on a network file
    system is only as good as its ``flock``). The lock file is created with mode 0600
    and never deleted: removing it would let a waiting run lock the old, unlinked inode
    while a newcomer locks a new file, and both would go ahead.

    Waits at most ``timeout`` seconds (``0``: try once), polling with ``LOCK_NB``, then
    raises ``AcmeError`` naming ``state_path``, the lock file and the time waited. The
    lock goes away with the file descriptor, so a killed run never leaves it held.

    Yields the lock file's path, or None when no lock was taken: the directory of
    ``state_path`` does not exist (no order can be recorded there, the caller reports
    it), or ``create`` is false (check mode) and the lock file does not exist yet.
    """
    if timeout < 0:
        raise AcmeOptionError("lock_timeout", "lock_timeout must be zero (try once) or more seconds")
    if os.path.isdir(os.path.expanduser(state_path)):
        raise AcmeOptionError(option, f"{option} {state_path} is a directory; give a file path (the order state file)")
    path = lock_path_for(state_path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        yield None
        return
    fd = _open_lock_file(path, create, option)
    if fd is None:
        yield None
        return
    try:
        start = clock()
        try:
            taken = lock_within(fd, timeout, clock=clock, sleep=sleep)
        except OSError as exc:
            raise AcmeOptionError(option, f"{option} {state_path}: cannot lock {path}: {exc.strerror or exc}") from None
        if not taken:
            waited = clock() - start
            raise AcmeError(
                f"Another run is working on the same certificate: the lock file {path} of state_path {state_path} "
                f"was still locked after waiting {waited:.1f} seconds (lock_timeout {timeout:g}). "
                "Let the other run finish, or raise lock_timeout; do not remove the lock file",
                state_path=state_path,
                lock_path=path,
                waited=round(waited, 1),
            )
        yield path
    finally:
        os.close(fd)  # releases the lock, if held


def lock_within(
    fd: int,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Take an exclusive ``flock`` on ``fd`` within ``timeout`` seconds (``0``: try once); False when it stayed taken.

    Polls with ``LOCK_NB`` so the wait is bounded; other ``OSError`` s are the caller's to report.
    """
    deadline = clock() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            now = clock()
            if now >= deadline:
                return False
            sleep(min(LOCK_POLL_INTERVAL, deadline - now))


def _open_lock_file(path: str, create: bool, option: str) -> int | None:
    """A descriptor of the lock file, created 0600 when missing (if ``create``); None when absent and not created."""
    flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        if create:
            try:
                fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
            except FileExistsError:
                pass
            else:
                try:
                    os.fchmod(fd, PRIVATE_MODE)  # undo a umask such as 0o277
                except OSError:
                    pass
                return fd
        try:
            return os.open(path, flags)
        except FileNotFoundError:
            if create:
                return _open_lock_file(path, create, option)  # removed between the two opens
            return None
    except PermissionError:
        directory = os.path.dirname(os.path.abspath(path))
        if create and not os.path.exists(path) and not os.access(directory, os.W_OK | os.X_OK):
            raise AcmeOptionError(
                option,
                f"{option} {path[: -len(LOCK_SUFFIX)]}: cannot create its lock file {path}: cannot write in {directory}; "
                "fix its permissions or choose another path",
            ) from None
        raise AcmeOptionError(
            option, f"{option} {path[: -len(LOCK_SUFFIX)]}: the lock file {path} cannot be opened by this user; fix its permissions"
        ) from None
    except OSError as exc:
        raise AcmeOptionError(option, f"{option} {path[: -len(LOCK_SUFFIX)]}: cannot open the lock file {path}: {exc.strerror or exc}") from None
