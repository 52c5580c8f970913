# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""storage.state_lock and module.with_state_lock: one run at a time per certificate.

The other run is a real second process holding a real ``flock`` on the lock file;
nothing about locking is faked.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.certfleet.acme.plugins.doc_fragments.acme import ModuleDocFragment
from ansible_collections.certfleet.acme.plugins.module_utils._acme import argspec, module_glue
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.module_glue import with_state_lock
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import LOCK_POLL_INTERVAL, lock_path_for, state_lock
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import FakeClock

# Takes the lock (blocking), says so, and keeps it until its stdin is closed.
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""

# Exit 0 when the lock could be taken at once, 3 when another holder has it.
PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(3)
"""


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class Holder:
    """Another process holding the lock file, as a concurrent playbook run would."""

    def __init__(self, lock_path: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, lock_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.strip() == "held", "the holder process did not get the lock"

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=10)
            self.process.stdout.close()


@pytest.fixture
def holders():
    started: list[Holder] = []

    def start(lock_path: str) -> Holder:
        holder = Holder(lock_path)
        started.append(holder)
        return holder

    yield start
    for holder in started:
        holder.release()


def locked_elsewhere(lock_path: str) -> bool:
    """Whether a fresh process is refused the lock right now."""
    code = subprocess.run([sys.executable, "-c", PROBE, lock_path], check=False, timeout=30).returncode
    assert code in (0, 3)
    return code == 3


@pytest.fixture
def state_path(tmp_path):
    return str(tmp_path / "order.json")


@pytest.fixture
def open_umask():
    saved = os.umask(0)
    yield
    os.umask(saved)


def test_lock_file_is_next_to_the_state_file_and_private(state_path, open_umask):
    with state_lock(state_path, 5) as taken:
        assert taken == state_path + ".lock" == lock_path_for(state_path)
        assert mode_of(taken) == 0o600  # not 0666 despite the umask of 0
        assert locked_elsewhere(taken)
    assert not os.path.exists(state_path), "the lock never creates the state file"


def test_lock_file_mode_with_a_restrictive_umask(state_path):
    saved = os.umask(0o277)
    try:
        with state_lock(state_path, 5) as taken:
            assert mode_of(taken) == 0o600
    finally:
        os.umask(saved)


def test_released_and_kept_after_the_run(state_path):
    with state_lock(state_path, 5) as taken:
        pass
    assert os.path.exists(taken), "the lock file must never be deleted"
    assert not locked_elsewhere(taken)


def test_released_when_the_run_fails(state_path):
    with pytest.raises(RuntimeError):
        with state_lock(state_path, 5):
            raise RuntimeError("the module failed")
    assert os.path.exists(lock_path_for(state_path))
    assert not locked_elsewhere(lock_path_for(state_path))


def test_existing_lock_file_is_reused_as_it_is(state_path):
    lock_path = lock_path_for(state_path)
    with open(lock_path, "w", encoding="ascii") as handle:
        handle.write("x")
    os.chmod(lock_path, 0o600)
    inode = os.stat(lock_path).st_ino
    with state_lock(state_path, 5):
        assert os.stat(lock_path).st_ino == inode
    assert os.stat(lock_path).st_ino == inode


def test_times_out_while_another_process_holds_it(state_path, holders):
    lock_path = lock_path_for(state_path)
    holders(lock_path)
    start = time.monotonic()
    with pytest.raises(AcmeError) as info:
        with state_lock(state_path, 1):
            pytest.fail("the lock was taken while another process held it")
    waited = time.monotonic() - start
    assert 1 <= waited < 10
    message = info.value.msg
    assert "Another run is working on the same certificate" in message
    assert state_path in message
    assert lock_path in message
    assert "waiting 1." in message
    assert "lock_timeout" in message
    assert info.value.fields["state_path"] == state_path
    assert info.value.fields["lock_path"] == lock_path
    assert info.value.fields["waited"] >= 1
    assert os.path.exists(lock_path), "a timeout must not remove the lock file"
    assert locked_elsewhere(lock_path), "the other process still holds it"


def test_zero_timeout_tries_once(state_path, holders):
    holders(lock_path_for(state_path))
    start = time.monotonic()
    with pytest.raises(AcmeError, match="Another run is working on the same certificate"):
        with state_lock(state_path, 0):
            pass
    assert time.monotonic() - start < 1


def test_waits_until_the_other_process_releases(state_path, holders):
    """The other process lets go while this run waits (during its first pause): the next try takes the lock."""
    lock_path = lock_path_for(state_path)
    holder = holders(lock_path)
    clock = FakeClock(on_wait={1: holder.release})
    with state_lock(state_path, 30, clock=clock.time, sleep=clock.sleep) as taken:
        assert taken == lock_path
        assert holder.process.poll() is not None, "the lock was taken before the other process let it go"
        assert locked_elsewhere(lock_path)
    assert clock.waits == [LOCK_POLL_INTERVAL]
    assert os.path.exists(lock_path)


def test_check_mode_creates_no_lock_file(state_path):
    with state_lock(state_path, 5, create=False) as taken:
        assert taken is None
    assert not os.path.exists(lock_path_for(state_path))


def test_check_mode_waits_for_an_existing_lock(state_path, holders):
    holders(lock_path_for(state_path))
    with pytest.raises(AcmeError, match="Another run is working on the same certificate"):
        with state_lock(state_path, 0.5, create=False):
            pass


def test_missing_directory_takes_no_lock_in_check_mode(tmp_path):
    state_path = str(tmp_path / "missing" / "order.json")
    with state_lock(state_path, 5, create=False) as taken:
        assert taken is None
    assert not os.path.exists(tmp_path / "missing")


def test_state_path_that_is_a_directory_takes_no_lock(tmp_path):
    state_path = tmp_path / "order.json"
    state_path.mkdir()
    with pytest.raises(AcmeOptionError) as info:
        with state_lock(str(state_path), 5):
            pass
    assert info.value.option == "state_path" and "is a directory; give a file path" in info.value.msg
    assert not os.path.exists(lock_path_for(str(state_path)))


def test_lock_file_in_a_directory_this_user_cannot_write(tmp_path, monkeypatch):
    """Root passes any mode check; the open itself is made to fail as in an immutable or read-only directory."""
    state_path = str(tmp_path / "order.json")
    real_open, real_access = os.open, os.access

    def refusing_open(path, flags, *args, **kwargs):
        if os.fspath(path) == lock_path_for(state_path):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    monkeypatch.setattr(os, "access", lambda path, mode: False if os.fspath(path) == str(tmp_path) else real_access(path, mode))
    with pytest.raises(AcmeOptionError) as info:
        with state_lock(state_path, 5):
            pass
    assert info.value.option == "state_path"
    assert f"cannot create its lock file {lock_path_for(state_path)}: cannot write in {tmp_path}" in info.value.msg


def test_negative_timeout_names_the_option(state_path):
    with pytest.raises(AcmeOptionError) as info:
        with state_lock(state_path, -1):
            pass
    assert info.value.option == "lock_timeout"
    assert not os.path.exists(lock_path_for(state_path))


def test_lock_file_that_cannot_be_opened(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root opens any file")
    state_path = str(tmp_path / "order.json")
    lock_path = lock_path_for(state_path)
    with open(lock_path, "w", encoding="ascii"):
        pass
    os.chmod(lock_path, 0o400)
    with pytest.raises(AcmeOptionError) as info:
        with state_lock(state_path, 5):
            pass
    assert info.value.option == "state_path"
    assert lock_path in info.value.msg


# -- with_state_lock: what the three modules run -----------------------------------------------


def fake_module(check_mode: bool = False, **params):
    values = {"state_path": None, "order_uri": None, "lock_timeout": 600}
    values.update(params)
    return SimpleNamespace(params=values, check_mode=check_mode)


def test_module_body_runs_under_the_lock(state_path):
    seen = []

    def body():
        seen.append(locked_elsewhere(lock_path_for(state_path)))
        return {"changed": False}

    assert with_state_lock(fake_module(state_path=state_path), body)() == {"changed": False}
    assert seen == [True]
    assert not locked_elsewhere(lock_path_for(state_path))


def test_module_body_waits_for_the_other_run_and_then_reads_its_state(state_path, holders, monkeypatch):
    holder = holders(lock_path_for(state_path))

    def other_run_finishes():
        with open(state_path, "w", encoding="ascii") as handle:
            handle.write("written by the other run")
        holder.release()

    # The other run finishes while this one waits for the lock (its first pause), never before it asked.
    clock = FakeClock(on_wait={1: other_run_finishes})
    monkeypatch.setattr(module_glue, "state_lock", functools.partial(state_lock, clock=clock.time, sleep=clock.sleep))
    result = with_state_lock(fake_module(state_path=state_path, lock_timeout=30), lambda: {"seen": open(state_path, encoding="ascii").read()})()
    assert result == {"seen": "written by the other run"}
    assert len(clock.waits) == 1


def test_module_with_order_uri_only_locks_nothing(tmp_path):
    module = fake_module(order_uri="https://ca.test/order/1")
    assert with_state_lock(module, lambda: {"ok": True})() == {"ok": True}
    assert list(tmp_path.iterdir()) == []


def test_module_in_check_mode_creates_no_lock_file(state_path):
    module = fake_module(check_mode=True, state_path=state_path)
    assert with_state_lock(module, lambda: {"ok": True})() == {"ok": True}
    assert not os.path.exists(lock_path_for(state_path))


def test_module_timeout_fails_with_the_message(state_path, holders):
    holders(lock_path_for(state_path))
    ran = []
    with pytest.raises(AcmeError) as info:
        with_state_lock(fake_module(state_path=state_path, lock_timeout=0), lambda: ran.append(1) or {})()
    assert ran == []
    assert lock_path_for(state_path) in info.value.to_result()["msg"]


# -- option and documentation ----------------------------------------------------------------


def test_lock_timeout_option_matches_its_doc_fragment():
    spec = argspec.state_lock_argument_spec()
    documented = yaml.safe_load(ModuleDocFragment.STATE_LOCK)["options"]
    assert spec == {"lock_timeout": {"type": "int", "default": 600}}
    assert set(documented) == set(spec)
    assert documented["lock_timeout"]["type"] == spec["lock_timeout"]["type"]
    assert documented["lock_timeout"]["default"] == spec["lock_timeout"]["default"]
