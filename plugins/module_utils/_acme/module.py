# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The one place where core exceptions become a failed task."""

from __future__ import annotations

from typing import Any, Callable

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import account_from_params, client_from_params
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import REQUESTS_IMPORT_ERROR, keep_sessions
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import CRYPTOGRAPHY_IMPORT_ERROR
from ansible_collections.certfleet.acme.plugins.module_utils._acme.outcome import exit_with
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import state_lock


def require_libraries(module: AnsibleModule) -> None:
    """Fail with install advice when a Python library the core needs is missing."""
    for name, error in (("cryptography", CRYPTOGRAPHY_IMPORT_ERROR), ("requests", REQUESTS_IMPORT_ERROR)):
        if error:
            module.fail_json(msg=missing_required_lib(name), exception=error)


def run_module(module: AnsibleModule, body: Callable[[], dict[str, Any]]) -> None:
    """Run ``body`` and exit with its result, or fail with the structured error it raised.

    Either way the run's session cache (option ``session_cache``) is updated first,
    except in check mode, which writes no file.
    """
    require_libraries(module)
    exit_with(module, body, lambda: _keep_sessions(module))


def _keep_sessions(module: AnsibleModule) -> None:
    if not module.check_mode:
        keep_sessions()


def core_run(module: AnsibleModule, run_class: Callable[..., Callable[[], dict[str, Any]]]) -> Callable[[], dict[str, Any]]:
    """A core run (``ValidationRun``, ``FinalizeRun``) for the module's options.

    The account is made only when the run needs the CA, with one client for the run.
    """

    def connect() -> Account:
        return account_from_params(module.params, client_from_params(module.params, ANSIBLE_VERSION, module.warn), module.warn)

    return run_class(module.params, connect=connect, warn=module.warn, check_mode=module.check_mode, diff=module._diff)


def with_state_lock(module: AnsibleModule, body: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """``body`` run while holding the lock of ``state_path`` (``storage.state_lock``), when it is given.

    For acme_order, acme_challenge_proof and acme_finalize: two runs on the same
    certificate take turns, each for its whole module run, so the second sees what the
    first recorded. With only ``order_uri`` nothing is locked. In check mode the lock is
    taken only when its file exists already (check mode creates no file): a prediction
    then waits for a real run in progress and reads the state it leaves.
    """

    def locked() -> dict[str, Any]:
        state_path = module.params.get("state_path")
        if not state_path:
            return body()
        with state_lock(state_path, module.params["lock_timeout"], create=not module.check_mode):
            return body()

    return locked
