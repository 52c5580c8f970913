# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""storage.py: atomic writes that are never half-written nor briefly readable by others."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme import storage
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import atomic_write, read_state


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    saved = os.umask(0o022)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(saved)


@pytest.fixture
def replace_spy(monkeypatch):
    """Wraps os.replace to look at the temporary file and the destination at the moment of the rename."""
    seen = []
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        with open(src, "rb") as handle:
            temp_content = handle.read()
        dst_content = None
        if os.path.exists(dst):
            with open(dst, "rb") as handle:
                dst_content = handle.read()
        seen.append({"src": os.fspath(src), "dst": os.fspath(dst), "mode": mode_of(src), "content": temp_content, "dst_content": dst_content})
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spy)
    return seen


@pytest.fixture
def open_spy(monkeypatch):
    """Wraps os.open to record the mode a file has the instant it is created (before any fchmod)."""
    created = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        existed = os.path.exists(path)
        fd = real_open(path, flags, mode, *args, **kwargs)
        if flags & os.O_CREAT and not existed:
            created.append((os.fspath(path), stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    monkeypatch.setattr(os, "open", spy)
    return created


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_new_private_file_is_0600_from_the_start(mask, umask, replace_spy, open_spy, tmp_path):
    umask(mask)
    path = tmp_path / "account.json"
    assert atomic_write(str(path), b"secret", option="credentials_path") is True
    assert path.read_bytes() == b"secret"
    assert mode_of(path) == 0o600
    (created,) = open_spy
    assert created[1] == 0o600  # never readable by others, not even between creation and fchmod
    (call,) = replace_spy
    assert call["src"] == created[0]
    assert call["mode"] == 0o600  # the temporary file already had the final mode
    assert call["content"] == b"secret"  # and all of its content, before the rename
    assert os.path.dirname(call["src"]) == str(tmp_path) and call["dst"] == str(path)
    assert call["src"] != call["dst"]
    assert sorted(os.listdir(tmp_path)) == ["account.json"]


@pytest.mark.parametrize("mask, mode", [(0o077, 0o644), (0o000, 0o640), (0o022, 0o600)])
def test_requested_mode_is_exact_whatever_the_umask(mask, mode, umask, replace_spy, tmp_path):
    umask(mask)
    path = tmp_path / "cert.pem"
    atomic_write(str(path), b"cert", option="cert_path", mode=mode)
    assert mode_of(path) == mode
    assert replace_spy[0]["mode"] == mode


def test_existing_file_is_replaced_atomically(replace_spy, tmp_path):
    path = tmp_path / "fullchain.pem"
    path.write_bytes(b"old chain")
    os.chmod(path, 0o600)
    old_inode = os.stat(path).st_ino
    assert atomic_write(str(path), b"new chain", option="fullchain_path") is True
    assert path.read_bytes() == b"new chain"
    (call,) = replace_spy
    assert call["dst_content"] == b"old chain"  # the old file was untouched until the rename
    assert call["content"] == b"new chain"
    assert os.stat(path).st_ino != old_inode  # a new file took its place; no in-place truncation
    assert sorted(os.listdir(tmp_path)) == ["fullchain.pem"]


def test_unchanged_file_is_not_rewritten(replace_spy, tmp_path):
    path = tmp_path / "key.pem"
    assert atomic_write(str(path), b"key", option="private_key_path") is True
    inode = os.stat(path).st_ino
    assert atomic_write(str(path), b"key", option="private_key_path") is False
    assert os.stat(path).st_ino == inode
    assert len(replace_spy) == 1


def test_changed_mode_alone_is_a_change(tmp_path):
    path = tmp_path / "key.pem"
    path.write_bytes(b"key")
    os.chmod(path, 0o644)
    assert atomic_write(str(path), b"key", option="private_key_path") is True
    assert mode_of(path) == 0o600
    assert atomic_write(str(path), b"key", option="private_key_path", mode=0o640) is True
    assert mode_of(path) == 0o640


def test_large_content(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 7)
    path = tmp_path / "big"
    atomic_write(str(path), data, option="path")
    assert path.read_bytes() == data


def test_file_planted_at_a_temporary_name_is_neither_followed_nor_removed(tmp_path):
    """Another user who can write in the directory plants a symlink where a predictable temporary name would be."""
    path = tmp_path / "cert.pem"
    victim = tmp_path / "victim"
    victim.write_bytes(b"not yours")
    planted = tmp_path / f".cert.pem.{os.getpid()}.tmp"
    planted.symlink_to(victim)
    assert atomic_write(str(path), b"cert", option="cert_path") is True
    assert path.read_bytes() == b"cert"
    assert victim.read_bytes() == b"not yours"
    assert planted.is_symlink() and os.readlink(planted) == str(victim)  # not this run's file: left alone
    assert sorted(os.listdir(tmp_path)) == sorted(["cert.pem", "victim", planted.name])


def test_temporary_names_are_unpredictable_and_created_exclusively(replace_spy, open_spy, tmp_path):
    path = tmp_path / "cert.pem"
    atomic_write(str(path), b"one", option="cert_path", mode=0o644)
    atomic_write(str(path), b"two", option="cert_path", mode=0o644)
    first, second = (call["src"] for call in replace_spy)
    assert first != second
    assert str(os.getpid()) not in os.path.basename(first)
    assert [created for created, _mode in open_spy if os.path.dirname(created) == str(tmp_path)] == [first, second]


def test_taken_temporary_names_are_skipped(monkeypatch, tmp_path):
    """Every random name taken (planted on purpose): an option error after a few tries, nothing removed."""
    path = tmp_path / "cert.pem"
    path.write_bytes(b"old")
    monkeypatch.setattr(storage.secrets, "token_hex", lambda size: "f" * (2 * size))
    (tmp_path / f".cert.pem.{'f' * 16}.tmp").write_bytes(b"planted")
    with pytest.raises(AcmeOptionError) as info:
        atomic_write(str(path), b"new", option="cert_path")
    assert info.value.option == "cert_path"
    assert info.value.msg == (
        f"cert_path {path}: no free temporary file name in {tmp_path} after {storage.TEMP_NAME_ATTEMPTS} tries; "
        "remove the .cert.pem.*.tmp files there; the existing file was left as it was"
    )
    assert (tmp_path / f".cert.pem.{'f' * 16}.tmp").read_bytes() == b"planted"
    assert path.read_bytes() == b"old"


def test_failed_rename_is_an_option_error_naming_path_and_fix(monkeypatch, tmp_path):
    path = tmp_path / "cert.pem"
    path.write_bytes(b"old")

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(AcmeOptionError) as info:
        atomic_write(str(path), b"new", option="cert_path", mode=0o644)
    assert info.value.msg == (
        f"cert_path {path}: cannot put the new file in place: Permission denied; "
        "fix the permissions (owner and group need root) or choose another path; the existing file was left as it was"
    )
    assert sorted(os.listdir(tmp_path)) == ["cert.pem"]


def test_missing_directory(tmp_path):
    path = tmp_path / "does-not-exist" / "account.json"
    with pytest.raises(AcmeOptionError) as info:
        atomic_write(str(path), b"x", option="credentials_path")
    assert info.value.option == "credentials_path"
    assert "credentials_path" in info.value.msg and str(tmp_path / "does-not-exist") in info.value.msg
    assert not (tmp_path / "does-not-exist").exists()


@pytest.mark.parametrize("durable, fsyncs", [(True, 2), (False, 0)])
def test_fsync_of_the_file_and_its_directory_unless_not_durable(durable, fsyncs, monkeypatch, tmp_path):
    real = os.fsync
    calls = []

    def counting(fd):
        calls.append(fd)
        return real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    path = tmp_path / "token"
    assert atomic_write(str(path), b"token.thumbprint", option="webroot", mode=0o644, durable=durable) is True
    assert len(calls) == fsyncs
    assert path.read_bytes() == b"token.thumbprint" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["token"]


def make_failing(monkeypatch, name: str, error: OSError):
    real = getattr(os, name)
    calls = []

    def failing(*args, **kwargs):
        if name == "open" and not str(args[0]).endswith(".tmp"):
            return real(*args, **kwargs)  # let needs_write() and the directory fsync through
        calls.append(args)
        raise error

    monkeypatch.setattr(os, name, failing)
    return calls


def test_write_refused_leaves_existing_file_intact(monkeypatch, tmp_path):
    path = tmp_path / "cert.pem"
    path.write_bytes(b"the old certificate")
    os.chmod(path, 0o644)
    calls = make_failing(monkeypatch, "write", PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(AcmeOptionError) as info:
        atomic_write(str(path), b"the new certificate", option="cert_path", mode=0o644)
    assert calls
    assert info.value.option == "cert_path" and "left as it was" in info.value.msg
    assert path.read_bytes() == b"the old certificate"
    assert sorted(os.listdir(tmp_path)) == ["cert.pem"]  # no temporary file left behind


def test_directory_not_writable_leaves_existing_file_intact(monkeypatch, tmp_path):
    path = tmp_path / "cert.pem"
    path.write_bytes(b"the old certificate")
    make_failing(monkeypatch, "open", PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(AcmeOptionError) as info:
        atomic_write(str(path), b"the new certificate", option="cert_path", mode=0o644)
    assert info.value.option == "cert_path" and str(tmp_path) in info.value.msg
    assert path.read_bytes() == b"the old certificate"


@pytest.mark.parametrize(
    "name, error",
    [
        ("write", OSError(errno.ENOSPC, "No space left on device")),
        ("fsync", OSError(errno.EIO, "Input/output error")),
        ("open", OSError(errno.EROFS, "Read-only file system")),
    ],
    ids=["disk-full", "io-error", "read-only-fs"],
)
def test_other_write_failures_leave_file_intact(name, error, monkeypatch, tmp_path):
    path = tmp_path / "cert.pem"
    path.write_bytes(b"the old certificate")
    make_failing(monkeypatch, name, error)
    with pytest.raises((OSError, AcmeError)):
        atomic_write(str(path), b"the new certificate", option="cert_path", mode=0o644)
    assert path.read_bytes() == b"the old certificate"
    assert sorted(os.listdir(tmp_path)) == ["cert.pem"]


@pytest.mark.parametrize(
    "name, error",
    [
        ("write", OSError(errno.ENOSPC, "No space left on device")),
        ("open", OSError(errno.EROFS, "Read-only file system")),
    ],
    ids=["disk-full", "read-only-fs"],
)
def test_other_write_failures_are_reported_as_option_errors(name, error, monkeypatch, tmp_path):
    """errors.py: every failure the core can meet is an AcmeError, so a module fails cleanly, not with a traceback."""
    path = tmp_path / "cert.pem"
    path.write_bytes(b"the old certificate")
    make_failing(monkeypatch, name, error)
    with pytest.raises(AcmeOptionError) as info:
        atomic_write(str(path), b"the new certificate", option="cert_path", mode=0o644)
    assert info.value.option == "cert_path"
    assert error.strerror in info.value.msg


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_owner_and_group(tmp_path):
    path = tmp_path / "key.pem"
    assert atomic_write(str(path), b"k", option="path", uid=1, gid=2) is True
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (1, 2)
    assert atomic_write(str(path), b"k", option="path", uid=1, gid=2) is False
    assert atomic_write(str(path), b"k", option="path", uid=1, gid=3) is True
    assert os.stat(path).st_gid == 3


def test_read_state(tmp_path):
    missing = read_state(str(tmp_path / "nope"), "cert_path")
    assert missing.exists is False and missing.content is None
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    os.chmod(path, 0o640)
    state = read_state(str(path), "cert_path")
    assert (state.exists, state.content, state.mode, state.uid) == (True, b"abc", 0o640, os.getuid())
    with pytest.raises(AcmeOptionError) as info:
        read_state(str(tmp_path), "cert_path")
    assert info.value.option == "cert_path" and "directory" in info.value.msg


def test_resolve_owner_and_group():
    assert storage.resolve_owner(None) is None and storage.resolve_owner("") is None
    assert storage.resolve_owner("root") == 0 and storage.resolve_owner("1234") == 1234 and storage.resolve_owner(7) == 7
    assert storage.resolve_group("root") == 0 and storage.resolve_group("55") == 55
    with pytest.raises(AcmeOptionError) as info:
        storage.resolve_owner("no-such-user-certfleet")
    assert info.value.option == "owner" and "no-such-user-certfleet" in info.value.msg
    with pytest.raises(AcmeOptionError) as info:
        storage.resolve_group("no-such-group-certfleet", option="group")
    assert info.value.option == "group"


# -- check_writable_directory: refused before anything that would be lost -------------------------


def test_check_writable_directory_accepts_a_new_or_existing_file(tmp_path):
    storage.check_writable_directory(str(tmp_path / "new.pem"), "cert_path")
    (tmp_path / "old.pem").write_bytes(b"x")
    storage.check_writable_directory(str(tmp_path / "old.pem"), "cert_path")


def test_check_writable_directory_refuses_a_directory(tmp_path):
    with pytest.raises(AcmeOptionError) as info:
        storage.check_writable_directory(str(tmp_path), "credentials_path")
    assert info.value.option == "credentials_path"
    assert f"credentials_path {tmp_path} is a directory; give a file path" == info.value.msg


def test_check_writable_directory_creates_missing_folders_0700(tmp_path):
    old_umask = os.umask(0)
    try:
        storage.check_writable_directory(str(tmp_path / "var" / "lib" / "a.json"), "state_path", create=True)
    finally:
        os.umask(old_umask)
    for folder in (tmp_path / "var", tmp_path / "var" / "lib"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_check_writable_directory_only_predicts_missing_folders_in_check_mode(tmp_path):
    storage.check_writable_directory(str(tmp_path / "nope" / "a.json"), "state_path")
    assert not (tmp_path / "nope").exists()


def test_make_private_folders_leaves_an_existing_folder_as_it_is(tmp_path):
    (tmp_path / "open").mkdir(mode=0o755)
    (tmp_path / "open").chmod(0o755)
    assert storage.make_private_folders(str(tmp_path / "open" / "inner"), "credentials_path") == [str(tmp_path / "open" / "inner")]
    assert stat.S_IMODE((tmp_path / "open").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "open" / "inner").stat().st_mode) == 0o700
    assert storage.make_private_folders(str(tmp_path / "open" / "inner"), "credentials_path") == []


def test_make_private_folders_refuses_a_file_on_the_way(tmp_path):
    (tmp_path / "afile").write_bytes(b"x")
    with pytest.raises(AcmeOptionError) as info:
        storage.check_writable_directory(str(tmp_path / "afile" / "sub" / "a.json"), "state_path", create=True)
    assert info.value.option == "state_path"
    assert info.value.msg == f"state_path: {tmp_path / 'afile'} is not a directory, so {tmp_path / 'afile' / 'sub'} cannot be created in it"


def test_make_private_folders_refuses_an_unwritable_parent(tmp_path, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if os.fspath(path) == str(tmp_path) else real_access(path, mode))
    with pytest.raises(AcmeOptionError) as info:
        storage.check_writable_directory(str(tmp_path / "new" / "a.json"), "credentials_path")
    assert info.value.option == "credentials_path"
    assert f"cannot create {tmp_path / 'new'} in {tmp_path}" in info.value.msg
    assert not (tmp_path / "new").exists()


def test_state_lock_makes_the_folder_of_state_path(tmp_path):
    state_path = tmp_path / "state" / "www" / "order.json"
    with storage.state_lock(str(state_path), 0) as lock:
        assert lock == str(state_path) + ".lock"
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    with storage.state_lock(str(tmp_path / "other" / "order.json"), 0, create=False) as lock:
        assert lock is None
    assert not (tmp_path / "other").exists()


def test_check_writable_directory_refuses_a_file_as_directory(tmp_path):
    (tmp_path / "afile").write_bytes(b"x")
    with pytest.raises(AcmeOptionError) as info:
        storage.check_writable_directory(str(tmp_path / "afile" / "cert.pem"), "cert_path")
    assert info.value.option == "cert_path" and "is not a directory" in info.value.msg


def test_check_writable_directory_refuses_an_unwritable_directory(tmp_path, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if os.fspath(path) == str(tmp_path) else real_access(path, mode))
    with pytest.raises(AcmeOptionError) as info:
        storage.check_writable_directory(str(tmp_path / "account.json"), "credentials_path")
    assert info.value.option == "credentials_path"
    assert f"cannot write in {tmp_path}; fix its permissions or choose another path" in info.value.msg


# -- open_to_others_warning: key files group or others may read --------------------------------------


@pytest.mark.parametrize("mode, warned", [(0o600, False), (0o400, False), (0o640, True), (0o644, True), (0o604, True), (None, False)])
def test_open_to_others_warning(mode, warned):
    warnings = storage.open_to_others_warning("account_key_src", "/etc/acme/a.key", mode, "fix it yourself")
    if not warned:
        assert warnings == []
        return
    assert len(warnings) == 1
    assert warnings[0].startswith("account_key_src /etc/acme/a.key is readable by group or others")
    assert f"(mode {mode:04o})" in warnings[0] and "chmod 0600" in warnings[0] and "fix it yourself" in warnings[0]


# -- a set of files installed as a unit -------------------------------------------------------

SET_FILES = ("cert.key", "chain.pem", "fullchain.pem", "cert.pem")


def old_set(tmp_path, missing=()):
    """The files an earlier run left (one mode per kind), by name: (content, mode, inode)."""
    before = {}
    for name in SET_FILES:
        if name in missing:
            continue
        path = tmp_path / name
        path.write_bytes(f"old {name}".encode())
        os.chmod(path, 0o600 if name.endswith(".key") else 0o644)
        before[name] = (path.read_bytes(), mode_of(path), os.stat(path).st_ino)
    return before


def new_set(tmp_path):
    return [
        storage.PlannedWrite(str(tmp_path / name), f"new {name}".encode(), name.replace(".", "_"), 0o600 if name.endswith(".key") else 0o644)
        for name in SET_FILES
    ]


def fail_rename_call(monkeypatch, nth):
    """Make the ``nth`` call of os.replace or os.rename (counted together) raise EIO; the others go through."""
    calls = []

    def wrap(real):
        def renaming(src, dst, *args, **kwargs):
            calls.append((os.fspath(src), os.fspath(dst)))
            if len(calls) == nth:
                raise OSError(errno.EIO, "Input/output error")
            return real(src, dst, *args, **kwargs)

        return renaming

    monkeypatch.setattr(os, "replace", wrap(os.replace))
    monkeypatch.setattr(os, "rename", wrap(os.rename))
    return calls


def test_install_files_replaces_the_whole_set(tmp_path):
    old_set(tmp_path)
    assert storage.install_files(new_set(tmp_path)) == [True, True, True, True]
    for name in SET_FILES:
        assert (tmp_path / name).read_bytes() == f"new {name}".encode()
        assert mode_of(tmp_path / name) == (0o600 if name.endswith(".key") else 0o644)
    assert sorted(os.listdir(tmp_path)) == sorted(SET_FILES)


@pytest.mark.parametrize("nth", [1, 2, 3, 4])
@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
def test_install_files_failure_at_each_rename_puts_every_file_back(nth, links, monkeypatch, tmp_path):
    before = old_set(tmp_path, missing=("chain.pem",))
    if not links:  # a file system without hard links: the previous files are renamed aside instead

        def no_link(*args, **kwargs):
            raise PermissionError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_link)
    calls = fail_rename_call(monkeypatch, nth)
    with pytest.raises(AcmeOptionError) as info:
        storage.install_files(new_set(tmp_path))
    assert len(calls) >= nth
    src, dst = calls[nth - 1]
    failed = src if ".old" in dst else dst  # the rename of a target aside (no hard links) fails for that target
    assert info.value.msg.startswith(f"{info.value.option} {failed}: ")
    assert "Input/output error" in info.value.msg and info.value.msg.endswith("no file of the set was changed (each was left as it was)")
    for name, (content, mode, inode) in before.items():
        assert (tmp_path / name).read_bytes() == content
        assert mode_of(tmp_path / name) == mode
        assert os.stat(tmp_path / name).st_ino == inode  # the very file that was there
    assert sorted(os.listdir(tmp_path)) == sorted(before)  # no temporary file, no backup, no new chain.pem


def test_install_files_failure_while_writing_replaces_nothing(monkeypatch, tmp_path):
    before = old_set(tmp_path)
    real_write = os.write
    writes = []

    def full_disk(fd, data):
        writes.append(fd)
        if len(writes) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    calls = fail_rename_call(monkeypatch, 99)
    with pytest.raises(AcmeOptionError) as info:
        storage.install_files(new_set(tmp_path))
    assert info.value.option == "fullchain_pem"
    assert "No space left on device; free some space or raise the quota" in info.value.msg
    assert calls == []  # nothing renamed before every temporary file was complete
    assert {name: (tmp_path / name).read_bytes() for name in SET_FILES} == {name: entry[0] for name, entry in before.items()}
    assert sorted(os.listdir(tmp_path)) == sorted(SET_FILES)


def test_install_files_leaves_matching_files_alone(tmp_path):
    old_set(tmp_path)
    writes = new_set(tmp_path)
    writes[1] = storage.PlannedWrite(writes[1].path, b"old chain.pem", writes[1].option, 0o644)
    inode = os.stat(writes[1].path).st_ino
    assert storage.install_files(writes) == [True, False, True, True]
    assert os.stat(writes[1].path).st_ino == inode
    assert storage.install_files(writes) == [False, False, False, False]
    assert sorted(os.listdir(tmp_path)) == sorted(SET_FILES)


def test_install_files_writes_every_temporary_file_before_the_first_rename(monkeypatch, tmp_path):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(sorted(name for name in os.listdir(tmp_path) if name.endswith(".tmp")))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    storage.install_files(new_set(tmp_path))
    assert [len(names) for names in seen] == [4, 3, 2, 1]
