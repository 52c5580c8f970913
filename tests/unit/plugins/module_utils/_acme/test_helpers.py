# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The rule conftest.py enforces on every test: a scripted answer never asked for fails a passing test.

Run in a pytest of its own (the fixtures loaded as a plugin), so that the failures it provokes
stay there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

FIXTURES = "ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.conftest"

INNER_TESTS = '''
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import ScriptedAccount

DIR = "https://ca.example/dir"


def test_session_left_an_answer(session):
    session.add("GET", DIR, 200).add("GET", "https://ca.example/never-asked", 200)
    session.request("GET", DIR, headers={})


def test_account_left_an_answer():
    account = ScriptedAccount({"https://ca.example/order/1": [{}, {"status": "valid"}]}, "https://ca.example/acct/1")
    account.post("https://ca.example/order/1", None, context="Fetching the order")


def test_everything_asked_for(session):
    session.add("GET", DIR, 200)
    session.request("GET", DIR, headers={})


def test_failing_for_its_own_reason(session):
    session.add("GET", DIR, 200)
    assert 1 == 2
'''


def test_an_answer_never_asked_for_fails_a_passing_test_and_is_named(tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-p", FIXTURES, str(tmp_path)],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "1 failed, 3 passed, 2 errors" in out, out
    assert "ERROR test_inner.py::test_session_left_an_answer" in out
    assert "session: GET https://ca.example/never-asked -> 200" in out
    assert "ERROR test_inner.py::test_account_left_an_answer" in out
    assert "account: POST https://ca.example/order/1 -> {'status': 'valid'}" in out
    # A test that failed already is not also reported for the answers it never got to use.
    assert "FAILED test_inner.py::test_failing_for_its_own_reason" in out
    assert "ERROR test_inner.py::test_failing_for_its_own_reason" not in out
    assert "PASSED test_inner.py::test_everything_asked_for" in out
