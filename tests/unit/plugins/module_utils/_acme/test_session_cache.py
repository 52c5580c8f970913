# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The session cache: a second module run spends neither a directory request nor a newNonce."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeClient
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeProblem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.session_cache import CACHE_FORMAT, MAX_SPARE_NONCES, SessionCache
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import FakeClock

DIR = "https://ca.example/dir"
OTHER_DIR = "https://other.example/directory"
DIRECTORY = {
    "newNonce": "https://ca.example/new-nonce",
    "newAccount": "https://ca.example/new-acct",
    "newOrder": "https://ca.example/new-order",
}
ORDER = "https://ca.example/order/1"
JSON = {"Content-Type": "application/json"}


def wall_clock() -> FakeClock:
    """The shared fake clock, started at a wall-clock time (the cache keeps epoch seconds)."""
    return FakeClock(1_800_000_000.0)


# The clients a test made, as a module run's glue holds its client (module.ModuleGlue).
MADE: list[AcmeClient] = []


def client(session, path, clock=None, max_age=3600.0) -> AcmeClient:
    cache = SessionCache(str(path), DIR, max_age=max_age, clock=(clock or wall_clock()).time)
    made = AcmeClient(DIR, session=session, session_cache=cache)
    MADE.append(made)
    return made


def keep_sessions() -> None:
    """What the glue does at the end of a module run: each client keeps its session."""
    while MADE:
        MADE.pop().keep_session()


def post_as_get(acme: AcmeClient, key) -> None:
    acme.post(ORDER, None, key=key, kid="https://ca.example/acct/1", context="Fetching the order")


@pytest.fixture(autouse=True)
def no_leftover_sessions():
    yield
    MADE.clear()


@pytest.fixture
def account_key():
    from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key

    return generate_private_key("ec256")


@pytest.fixture
def nonce_of(jws_verify, account_key):
    return lambda sent: jws_verify(sent.jws, account_key.public_jwk())[0]["nonce"]


def test_second_run_sends_no_directory_and_no_new_nonce(session, tmp_path, account_key, nonce_of):
    cache = tmp_path / "session.json"
    session.add("GET", DIR, 200, JSON, DIRECTORY)
    session.add("HEAD", DIRECTORY["newNonce"], 200, {"Replay-Nonce": "nonce-1"}, b"")
    session.add("POST", ORDER, 200, dict(JSON, **{"Replay-Nonce": "nonce-2"}), {"status": "pending"})
    first = client(session, cache)
    post_as_get(first, account_key)
    keep_sessions()
    assert [s.method for s in session.sent] == ["GET", "HEAD", "POST"]
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    saved = json.loads(cache.read_text())
    assert saved["format"] == CACHE_FORMAT
    assert saved["servers"][DIR]["directory"] == DIRECTORY
    assert saved["servers"][DIR]["nonces"] == ["nonce-2"]

    session.add("POST", ORDER, 200, dict(JSON, **{"Replay-Nonce": "nonce-3"}), {"status": "pending"})
    second = client(session, cache)
    post_as_get(second, account_key)
    assert [s.method for s in session.sent[3:]] == ["POST"]
    assert nonce_of(session.sent[3]) == "nonce-2"
    # Taken nonces leave the file at once: a run in parallel cannot spend nonce-2 too.
    assert json.loads(cache.read_text())["servers"][DIR]["nonces"] == []
    keep_sessions()
    assert json.loads(cache.read_text())["servers"][DIR]["nonces"] == ["nonce-3"]


def test_stale_cached_nonce_costs_one_bad_nonce_answer(session, tmp_path, account_key, nonce_of):
    cache = tmp_path / "session.json"
    SessionCache(str(cache), DIR, clock=wall_clock().time).keep(DIRECTORY, ["forgotten"])
    problem = {"type": "urn:ietf:params:acme:error:badNonce", "detail": "JWS has an invalid anti-replay nonce"}
    session.add("POST", ORDER, 400, {"Content-Type": "application/problem+json", "Replay-Nonce": "fresh"}, problem)
    session.add("POST", ORDER, 200, dict(JSON, **{"Replay-Nonce": "after"}), {"status": "pending"})
    post_as_get(client(session, cache), account_key)
    assert [s.method for s in session.sent] == ["POST", "POST"]
    assert [nonce_of(s) for s in session.sent] == ["forgotten", "fresh"]


def test_directory_older_than_max_age_is_fetched_again(session, tmp_path):
    cache = tmp_path / "session.json"
    clock = wall_clock()
    SessionCache(str(cache), DIR, clock=clock.time).keep(DIRECTORY, [])
    clock.now += 3601
    changed = dict(DIRECTORY, newOrder="https://ca.example/new-order-v2")
    session.add("GET", DIR, 200, JSON, changed)
    acme = client(session, cache, clock=clock, max_age=3600)
    assert acme.endpoint("newOrder") == changed["newOrder"]
    keep_sessions()
    entry = json.loads(cache.read_text())["servers"][DIR]
    assert entry["directory"] == changed and entry["fetched_at"] == clock.now


def test_fresh_directory_is_used_without_a_request(session, tmp_path):
    cache = tmp_path / "session.json"
    clock = wall_clock()
    SessionCache(str(cache), DIR, clock=clock.time).keep(DIRECTORY, [])
    clock.now += 3599
    acme = client(session, cache, clock=clock, max_age=3600)
    assert acme.endpoint("newOrder") == DIRECTORY["newOrder"]
    assert session.sent == []
    keep_sessions()
    # A directory read from the file is not written back: its age keeps counting from the fetch.
    assert json.loads(cache.read_text())["servers"][DIR]["fetched_at"] == clock.now - 3599


def test_max_age_zero_always_fetches(session, tmp_path):
    cache = tmp_path / "session.json"
    SessionCache(str(cache), DIR, clock=wall_clock().time).keep(DIRECTORY, [])
    session.add("GET", DIR, 200, JSON, DIRECTORY)
    client(session, cache, max_age=0.0).endpoint("newOrder")
    assert [s.method for s in session.sent] == ["GET"]


def test_servers_are_kept_apart(tmp_path):
    cache = tmp_path / "session.json"
    clock = wall_clock()
    SessionCache(str(cache), DIR, clock=clock.time).keep(DIRECTORY, ["for-ca"])
    other = SessionCache(str(cache), OTHER_DIR, clock=clock.time)
    assert other.take().directory is None and other.take().nonces == []
    mine = SessionCache(str(cache), DIR, clock=clock.time).take()
    assert mine.directory == DIRECTORY and mine.nonces == ["for-ca"]


def test_only_the_newest_spare_nonces_are_kept(tmp_path):
    cache = SessionCache(str(tmp_path / "session.json"), DIR, clock=wall_clock().time)
    cache.keep(None, [f"n{i}" for i in range(MAX_SPARE_NONCES + 3)])
    assert cache.take().nonces == [f"n{i}" for i in range(3, MAX_SPARE_NONCES + 3)]


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", json.dumps({"format": "something else", "servers": {}}).encode(), b"\xff\xfe"])
def test_foreign_or_broken_file_is_ignored_and_replaced(session, tmp_path, content):
    cache = tmp_path / "session.json"
    cache.write_bytes(content)
    session.add("GET", DIR, 200, JSON, DIRECTORY)
    client(session, cache).endpoint("newOrder")
    keep_sessions()
    assert json.loads(cache.read_text())["servers"][DIR]["directory"] == DIRECTORY


def test_cached_garbage_directory_is_fetched_again(session, tmp_path):
    cache = tmp_path / "session.json"
    cache.write_text(json.dumps({"format": CACHE_FORMAT, "servers": {DIR: {"directory": {"newNonce": 1}, "fetched_at": wall_clock().now}}}))
    session.add("GET", DIR, 200, JSON, DIRECTORY)
    assert client(session, cache).endpoint("newOrder") == DIRECTORY["newOrder"]
    assert [s.method for s in session.sent] == ["GET"]


def test_missing_folder_is_made_0700(session, tmp_path):
    cache = tmp_path / "missing-dir" / "session.json"
    session.add("GET", DIR, 200, JSON, DIRECTORY)
    client(session, cache).endpoint("newOrder")
    keep_sessions()
    assert cache.exists()
    assert stat.S_IMODE((tmp_path / "missing-dir").stat().st_mode) == 0o700


def test_unwritable_place_is_ignored(session, tmp_path):
    (tmp_path / "plain").write_bytes(b"x")
    cache = tmp_path / "plain" / "missing-dir" / "session.json"
    session.add("GET", DIR, 200, JSON, DIRECTORY)
    client(session, cache).endpoint("newOrder")
    keep_sessions()
    assert not cache.exists()


def test_keep_without_anything_to_keep_creates_no_file(tmp_path):
    cache = tmp_path / "session.json"
    SessionCache(str(cache), DIR, clock=wall_clock().time).keep(None, [])
    assert not cache.exists()


def test_failed_run_still_keeps_its_nonce(session, tmp_path, account_key):
    cache = tmp_path / "session.json"
    SessionCache(str(cache), DIR, clock=wall_clock().time).keep(DIRECTORY, ["n1"])
    problem = {"type": "urn:ietf:params:acme:error:unauthorized", "detail": "no"}
    session.add("POST", ORDER, 403, {"Content-Type": "application/problem+json", "Replay-Nonce": "n2"}, problem)
    with pytest.raises(AcmeProblem):
        post_as_get(client(session, cache), account_key)
    keep_sessions()
    assert json.loads(cache.read_text())["servers"][DIR]["nonces"] == ["n2"]


def test_a_locked_file_is_skipped_not_waited_for_forever(session, tmp_path, monkeypatch):
    from ansible_collections.certfleet.acme.plugins.module_utils._acme import session_cache

    monkeypatch.setattr(session_cache, "LOCK_WAIT", 0.3)
    cache = tmp_path / "session.json"
    SessionCache(str(cache), DIR, clock=wall_clock().time).keep(DIRECTORY, ["n1"])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import fcntl, sys, time
                f = open(sys.argv[1], "r+")
                fcntl.flock(f, fcntl.LOCK_EX)
                print("locked", flush=True)
                time.sleep(30)
                """
            ),
            str(cache),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        session.add("GET", DIR, 200, JSON, DIRECTORY)
        client(session, cache).endpoint("newOrder")
        assert [s.method for s in session.sent] == ["GET"]
    finally:
        holder.kill()
        holder.wait()


def planted_cache(path) -> None:
    """A cache file as someone else could leave it: a directory of theirs and a nonce."""
    forged = {"newNonce": "https://evil.example/nonce", "newAccount": "https://evil.example/acct", "newOrder": "https://evil.example/order"}
    entry = {"directory": forged, "fetched_at": wall_clock().now, "nonces": ["planted"]}
    path.write_text(json.dumps({"format": CACHE_FORMAT, "servers": {DIR: entry}}))


def test_cache_file_others_may_write_is_ignored_and_left_alone(tmp_path):
    path = tmp_path / "cache.json"
    planted_cache(path)
    os.chmod(path, 0o666)
    before = path.read_bytes()
    cache = SessionCache(str(path), DIR, clock=wall_clock().time)
    found = cache.take()
    assert found.directory is None and found.nonces == []
    cache.keep(DIRECTORY, ["n1"])
    assert path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_cache_file_of_another_user_is_ignored(tmp_path):
    path = tmp_path / "cache.json"
    planted_cache(path)
    os.chmod(path, 0o600)
    os.chown(path, os.geteuid() + 4242, -1)
    found = SessionCache(str(path), DIR, clock=wall_clock().time).take()
    assert found.directory is None and found.nonces == []
