# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Files that must never be half-written or briefly world-readable.

A write goes to a temporary file in the destination's directory under a random name,
created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and the final mode from its first byte
(``fchmod`` then undoes the umask), is fsynced, gets its owner and group, and replaces
the destination with one ``rename``. The old file stays in place until then.
``install_files`` does this for a set of files that belong together (a key and its
certificate): every temporary file is complete before the first rename, and a failure
puts back every file of the set already replaced.
"""

from __future__ import annotations

import errno
import fcntl
import grp
import os
import pwd
import re
import secrets
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
# Random names collide only when planted on purpose; a few tries then give up with a message.
# A certificate's name, which both roles and the batch make the name of its folder or state file:
# nothing that climbs out of the parent, hides, or outgrows a file name.
CERTIFICATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
TEMP_NAME_ATTEMPTS = 16


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


def check_writable_directory(path: str, option: str, *, create: bool = False) -> None:
    """Fail naming ``option`` unless a file can be created at ``path``: called before anything
    that would be lost if the write failed afterwards (a registered account's new key, an order
    the CA created, a certificate's files).

    Missing folders on the way are fine when they can be made in the nearest existing one:
    ``create`` makes them (mode 0700, ``make_private_folders``), otherwise (check mode) they are
    only predicted.
    """
    if os.path.isdir(path):
        raise AcmeOptionError(option, f"{option} {path} is a directory; give a file path")
    directory = os.path.dirname(os.path.abspath(path))
    if make_private_folders(directory, option, create=create) and not create:
        return
    if not os.path.isdir(directory):
        raise AcmeOptionError(option, f"{option} {path}: {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise AcmeOptionError(option, f"{option} {path}: cannot write in {directory}; fix its permissions or choose another path")


def make_private_folders(directory: str, option: str, *, create: bool = True) -> list[str]:
    """The folders of ``directory`` that do not exist yet, outermost first, each created with mode 0700 if ``create``.

    For the folders of the collection's own files (order state, credentials, session cache) and
    of a certificate's files, which hold keys: a folder made here is open to its owner, the user
    running the module, only. A folder that exists is never changed, so a looser or tighter mode
    chosen by the user stays. ``mkdir`` can only take bits away through the umask, never add any.
    """
    missing: list[str] = []
    current = os.path.abspath(os.path.expanduser(directory))
    while not os.path.lexists(current):
        missing.insert(0, current)
        current = os.path.dirname(current)
    if not missing:
        return []
    if not os.path.isdir(current):
        raise AcmeOptionError(option, f"{option}: {current} is not a directory, so {missing[-1]} cannot be created in it")
    if not os.access(current, os.W_OK | os.X_OK):
        raise AcmeOptionError(option, f"{option}: cannot create {missing[0]} in {current}; create it, fix its permissions or choose another path")
    for folder in missing if create else []:
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise AcmeOptionError(option, f"{option}: {folder} is not a directory") from None
        except OSError as exc:
            raise AcmeOptionError(option, f"{option}: cannot create the folder {folder} ({exc.strerror})") from None
    return missing


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


@dataclass(frozen=True)
class PlannedWrite:
    """One file of a set that ``install_files`` puts in place: where, what, with which mode and owner."""

    path: str
    content: bytes
    option: str
    mode: int = PRIVATE_MODE
    uid: int | None = None
    gid: int | None = None

    def needed(self) -> bool:
        return needs_write(self.path, self.content, self.mode, self.uid, self.gid, self.option)


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
    return install_files([PlannedWrite(path, content, option, mode, uid, gid)], durable=durable)[0]


def install_files(writes: list[PlannedWrite], *, durable: bool = True) -> list[bool]:
    """Put a set of files in place as a unit; returns, for each write, whether it changed its file.

    A file whose content, mode and owner already match is left alone. Every other file first
    gets a complete temporary file beside it (final mode from the first byte, owner, fsync);
    only then are they renamed over their targets, one by one. The previous file of every
    target but the last is kept as a hard link (or, where the file system has none, a renamed
    backup) in the same directory until the whole set is in place, so that a failure during
    the renames puts back every target already replaced, byte for byte, or removes it when it
    did not exist. Temporary files and backups never outlive the call. Any ``OSError`` is an
    ``AcmeOptionError`` naming the option and the path of the file that failed.
    """
    changed = [write.needed() for write in writes]
    pending = [write for write, needed in zip(writes, changed) if needed]
    if not pending:
        return changed
    temps: list[str] = []
    renamed: set[str] = set()
    try:
        for write in pending:
            temps.append(_write_temp(write, durable, single=len(pending) == 1))
        _swap_in(list(zip(pending, temps)), renamed)
    finally:
        for temp in temps:
            if temp not in renamed:
                _remove_quietly(temp)
    if durable:
        for directory in dict.fromkeys(_directory_of(write.path) for write in pending):
            _fsync_directory(directory)
    return changed


def _directory_of(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def _unguessable_name(path: str, suffix: str) -> str:
    """``.<name>.<random>.<suffix>`` beside ``path``: a name another user cannot plant in advance."""
    return os.path.join(_directory_of(path), f".{os.path.basename(path)}.{secrets.token_hex(8)}.{suffix}")


def _create_temp(write: PlannedWrite, single: bool) -> tuple[int, str]:
    """A new, empty file beside the target, created with ``O_CREAT | O_EXCL`` (and ``O_NOFOLLOW``).

    ``O_EXCL`` means a file or symlink someone planted under the name is never opened or
    followed; the random name means it cannot be planted in advance. A taken name is
    skipped, never removed: it is not this run's file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    directory = _directory_of(write.path)
    for _attempt in range(TEMP_NAME_ATTEMPTS):
        temp_path = _unguessable_name(write.path, "tmp")
        try:
            return os.open(temp_path, flags, write.mode), temp_path
        except FileExistsError:
            continue
        except OSError as exc:
            raise _write_error(write, exc, f"cannot create a temporary file in {directory}", single) from None
    raise AcmeOptionError(
        write.option,
        f"{write.option} {write.path}: no free temporary file name in {directory} after {TEMP_NAME_ATTEMPTS} tries; "
        f"remove the .{os.path.basename(write.path)}.*.tmp files there; {_untouched(single)}",
    )


def _write_temp(write: PlannedWrite, durable: bool, *, single: bool) -> str:
    """The complete temporary file of ``write``, mode and owner set before its first byte, fsynced."""
    directory = _directory_of(write.path)
    if not os.path.isdir(directory):
        raise AcmeOptionError(write.option, f"{write.option} {write.path}: the directory {directory} does not exist; create it first")
    fd, temp_path = _create_temp(write, single)
    step = "write a temporary file"
    try:
        try:
            if write.uid is not None or write.gid is not None:
                step = "give the temporary file its owner and group"
                os.fchown(fd, -1 if write.uid is None else write.uid, -1 if write.gid is None else write.gid)
            step = "set the mode of the temporary file"
            os.fchmod(fd, write.mode)  # undoes the umask; after fchown, which may clear set-id bits
            step = "write a temporary file"
            view = memoryview(write.content)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:  # permissions, full disk, read-only file system, quota
        _remove_quietly(temp_path)
        raise _write_error(write, exc, f"cannot {step} in {directory}", single) from None
    except BaseException:
        _remove_quietly(temp_path)
        raise
    return temp_path


def _untouched(single: bool) -> str:
    return "the existing file was left as it was" if single else "no file of the set was changed (each was left as it was)"


def _write_error(write: PlannedWrite, exc: OSError, what: str, single: bool, outcome: str | None = None) -> AcmeOptionError:
    """An ``OSError`` as the user needs it: which option and path, what failed, what to fix, what was left."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        fix = "fix the permissions (owner and group need root) or choose another path"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space or raise the quota"
    elif exc.errno == errno.EROFS:
        fix = "the file system is read-only: choose another path"
    else:
        fix = "fix the cause and run again"
    return AcmeOptionError(write.option, f"{write.option} {write.path}: {what}: {exc.strerror or exc}; {fix}; {outcome or _untouched(single)}")


@dataclass(frozen=True)
class _Backup:
    """The previous file of a target, kept under another name; ``linked``: a hard link, the target stayed."""

    path: str
    linked: bool


def _keep_previous(write: PlannedWrite) -> _Backup | None:
    """Keep the file now at ``write.path`` under an unguessable name beside it; None when there is none.

    A hard link leaves the target in place; a file system without hard links gets a rename,
    which leaves the target missing until the temporary file replaces it a moment later.
    """
    if not os.path.lexists(write.path):
        return None
    for _attempt in range(TEMP_NAME_ATTEMPTS):
        backup = _unguessable_name(write.path, "old")
        try:
            os.link(write.path, backup, follow_symlinks=False)  # a symlink is kept as the symlink
            return _Backup(backup, linked=True)
        except FileExistsError:
            continue
        except OSError:
            if os.path.lexists(backup):
                continue
            os.rename(write.path, backup)
            return _Backup(backup, linked=False)
    raise FileExistsError(errno.EEXIST, "no free name for a backup of the previous file", write.path)


def _swap_in(pairs: list[tuple[PlannedWrite, str]], renamed: set[str]) -> None:
    """Rename each temporary file over its target; on any failure put back every target already replaced."""
    done: list[tuple[PlannedWrite, _Backup | None]] = []  # backup None: there was no file before
    write = pairs[0][0]
    try:
        for index, (write, temp) in enumerate(pairs):
            # The last rename needs no backup: once it succeeds the set is complete.
            backup = _keep_previous(write) if index < len(pairs) - 1 else None
            try:
                os.replace(temp, write.path)
            except BaseException:
                _drop_unused(write, backup)
                raise
            renamed.add(temp)
            done.append((write, backup))
    except OSError as exc:
        not_restored = _roll_back(done)
        outcome = "; ".join(not_restored) if not_restored else None
        raise _write_error(write, exc, "cannot put the new file in place", len(pairs) == 1, outcome) from None
    except BaseException:
        _roll_back(done)
        raise
    for _write, backup in done:
        if backup is not None:
            _remove_quietly(backup.path)


def _drop_unused(write: PlannedWrite, backup: _Backup | None) -> None:
    """The target was not replaced: remove its hard link, or rename the moved file back."""
    if backup is None:
        return
    if backup.linked:
        _remove_quietly(backup.path)
    else:
        os.replace(backup.path, write.path)


def _roll_back(done: list[tuple[PlannedWrite, _Backup | None]]) -> list[str]:
    """Undo the renames of ``done``, last first; what could not be undone, with where the old file is kept."""
    problems: list[str] = []
    for write, backup in reversed(done):
        try:
            if backup is None:
                os.unlink(write.path)  # there was no file before this run
            else:
                os.replace(backup.path, write.path)
        except OSError as exc:
            kept = f"; its previous file is kept as {backup.path}: move it back" if backup else ": remove it"
            problems.append(f"{write.option} {write.path} was replaced and could not be put back ({exc.strerror or exc}){kept}")
    return problems


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

    With ``create``, the missing folders of ``state_path`` are made first (mode 0700,
    ``make_private_folders``). Yields the lock file's path, or None when no lock was taken:
    ``create`` is false (check mode) and the directory of ``state_path`` or the lock file
    does not exist yet.
    """
    if timeout < 0:
        raise AcmeOptionError("lock_timeout", "lock_timeout must be zero (try once) or more seconds")
    if os.path.isdir(os.path.expanduser(state_path)):
        raise AcmeOptionError(option, f"{option} {state_path} is a directory; give a file path (the order state file)")
    path = lock_path_for(state_path)
    directory = os.path.dirname(os.path.abspath(path))
    if create:
        make_private_folders(directory, option)
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
