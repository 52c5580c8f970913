# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Fixtures of the unit tests of the ACME core; the fakes themselves live in helpers.py.

- ``session``: a ``ScriptedSession`` (a scripted ``requests.Session``).
- ``recorded(name)``: a recorded Pebble exchange and a session scripted to replay it.
- ``clock``: a ``FakeClock``.
- ``jws_verify``: ``verify_jws``, a JWS check with ``cryptography`` alone.
- ``problem``: builds a problem document response.
- ``frozen_now``: client.py's wall clock stopped at one whole second, for HTTP-dates in
  ``Retry-After`` and the ``retry_at`` the client names (the fake ``clock`` is monotonic time).

After every test that passed, each scripted session and account it made must have given every
answer it was scripted with: a test fails when the code under test stopped asking early.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, Callable

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme import client as client_module
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import (
    LIVE_SCRIPTS,
    FakeClock,
    FakeHTTPResponse,
    ScriptedSession,
    load_recorded,
    problem_response,
    replay_session,
    unused_answers,
    verify_jws,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keeps the outcome of each phase on the test item, for the check below."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"certfleet_{report.when}_report", report)


@pytest.fixture(autouse=True)
def every_scripted_answer_used(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a passing test whose scripts still hold answers (a failing test already says why)."""
    LIVE_SCRIPTS.clear()
    yield
    report = getattr(request.node, "certfleet_call_report", None)
    left = unused_answers()
    LIVE_SCRIPTS.clear()
    if report is not None and report.passed and left:
        pytest.fail("scripted answers never asked for:\n" + "\n".join(left), pytrace=False)


@pytest.fixture
def session() -> ScriptedSession:
    return ScriptedSession()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorded() -> Callable[[str], tuple[dict[str, Any], ScriptedSession]]:
    def load(name: str) -> tuple[dict[str, Any], ScriptedSession]:
        fixture = load_recorded(name)
        return fixture, replay_session(fixture)

    return load


@pytest.fixture
def jws_verify() -> Callable[[dict[str, str], dict[str, str]], tuple[dict[str, Any], Any]]:
    return verify_jws


@pytest.fixture
def problem() -> Callable[..., FakeHTTPResponse]:
    """Builds a problem document response (for ``ScriptedSession.insert``-style use)."""
    return problem_response


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime.datetime:
    """Stops the wall clock client.py reads (when an answer arrived, when to come back) at one instant.

    The fake ``clock`` only moves monotonic time; an HTTP-date measured against the real wall
    clock would make a test's expected wait depend on how fast the test ran.
    """
    instant = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)

    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
            return instant if tz is None else instant.astimezone(tz)

    monkeypatch.setattr(client_module, "datetime", Frozen)
    return instant
