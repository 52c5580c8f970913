# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The one way a module is wired to the core: its client, its account, its lock and how it ends.

Only this file (and ``task_exit.py`` for the modules that run on managed nodes) touches
``AnsibleModule``. A module builds its argument spec, makes a ``ModuleGlue`` and hands it
the core run; the glue makes the HTTP client once, when the run first needs the CA, and
owns it to the end of the module run, when it keeps the client's session for the next run.
"""

from __future__ import annotations

from typing import Any, Callable

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import account_from_params, client_from_params
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import REQUESTS_IMPORT_ERROR, AcmeClient
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import CRYPTOGRAPHY_IMPORT_ERROR
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import TaskResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import state_lock
from ansible_collections.certfleet.acme.plugins.module_utils._acme.task_exit import exit_with


def require_libraries(module: AnsibleModule) -> None:
    """Fail with install advice when a Python library the core needs is missing."""
    for name, error in (("cryptography", CRYPTOGRAPHY_IMPORT_ERROR), ("requests", REQUESTS_IMPORT_ERROR)):
        if error:
            module.fail_json(msg=missing_required_lib(name), exception=error)


class ModuleGlue:
    """One module run's connection to the CA: made on first use, once, and kept at the end."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self._client: AcmeClient | None = None
        self._account: Account | None = None

    def client(self) -> AcmeClient:
        """The run's one HTTP client, with TLS trust, timeouts and session cache as the options say."""
        if self._client is None:
            self._client = client_from_params(self.module.params, ANSIBLE_VERSION, self.module.warn)
        return self._client

    def account(self) -> Account:
        """The run's account on that client (credentials file or key, and its URI)."""
        if self._account is None:
            self._account = account_from_params(self.module.params, self.client(), self.module.warn)
        return self._account

    def run(self, body: Callable[[], TaskResult]) -> None:
        """Run ``body`` and exit with its result, or fail with the structured error it raised.

        Either way the client keeps its session (option ``session_cache``) first, except in
        check mode, which writes no file.
        """
        require_libraries(self.module)
        exit_with(self.module, body, self.close)

    def close(self) -> None:
        if self._client is not None and not self.module.check_mode:
            self._client.keep_session()

    def core_run(self, run_class: Callable[..., Callable[[], TaskResult]]) -> Callable[[], TaskResult]:
        """A run on an order (``OrderRun``, ``ValidationRun``, ``FinalizeRun``) for the module's options."""
        module = self.module
        return run_class(module.params, connect=self.account, warn=module.warn, check_mode=module.check_mode, diff=module._diff)


def run_order_step(
    module: AnsibleModule,
    run_class: Callable[..., Callable[[], TaskResult]],
    derive: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """acme_order, acme_challenge_proof and acme_finalize: their run, under the lock of ``state_path``.

    ``derive`` first fills the options the previous step's result gives (``chain_options``), so the
    lock is the one of the state file derived too.
    """
    glue = ModuleGlue(module)
    glue.run(with_state_lock(module, glue.core_run(run_class), derive))


def with_state_lock(
    module: AnsibleModule, body: Callable[[], TaskResult], derive: Callable[[dict[str, Any]], None] | None = None
) -> Callable[[], TaskResult]:
    """``body`` run while holding the lock of ``state_path`` (``storage.state_lock``), when it is given.

    For acme_order, acme_challenge_proof and acme_finalize: two runs on the same
    certificate take turns, each for its whole module run, so the second sees what the
    first recorded. With only ``order_uri`` nothing is locked. In check mode the lock is
    taken only when its file exists already (check mode creates no file): a prediction
    then waits for a real run in progress and reads the state it leaves.
    """

    def locked() -> TaskResult:
        if derive is not None:
            derive(module.params)
        state_path = module.params.get("state_path")
        if not state_path:
            return body()
        with state_lock(state_path, module.params["lock_timeout"], create=not module.check_mode):
            return body()

    return locked
