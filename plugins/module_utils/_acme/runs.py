# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""What every core run shares: its options, how it reaches the CA, and how it starts over from the CA.

The runs themselves have a file each: ``order_run`` (acme_order), ``validate_run``
(acme_challenge_proof), ``finalize_run`` (acme_finalize), ``account_run`` (acme_account) and
``batch_run`` (acme_certificates, which runs the first three for each certificate).
"""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_requests import Poller
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import StaleRecord

ResultT = TypeVar("ResultT")
# What a run connects to: the account for the order runs, the bare client for acme_account.
ConnectionT = TypeVar("ConnectionT")


class CoreRun(Generic[ConnectionT]):
    """One module run of the core (acme_order, acme_challenge_proof, acme_finalize, acme_account, and each step of a batch).

    ``params`` are the module's options; ``connect`` returns what the run talks to the CA
    with, called only when the CA is needed (the module glue makes it once); ``warn``
    receives warnings for the task. Calling the run returns its typed result
    (``results.py``) or raises ``AcmeError``.
    """

    def __init__(
        self,
        params: dict[str, Any],
        *,
        connect: Callable[[], ConnectionT],
        warn: Callable[[str], None],
        check_mode: bool = False,
        diff: bool = False,
    ) -> None:
        self.params = params
        self.connect = connect
        self.warn = warn
        self.check_mode = check_mode
        self.diff = diff


class RecordedOrderRun(CoreRun[Account]):
    """A run on an existing order (acme_challenge_proof, acme_finalize), named by ``order_uri`` or ``state_path``."""

    def poller(self, timeout: float, what: str) -> Poller:
        """The bounded wait of this run's polling (RFC 8555 section 7.5.1); tests replace it to drive a fake clock."""
        return Poller(timeout, what)

    @staticmethod
    def from_record_or_ca(attempt: Callable[[bool], ResultT]) -> ResultT:
        """``attempt(True)`` starts from the state file's record; when the CA refuses what it sent
        from it (``StaleRecord``), ``attempt(False)`` starts again from what the CA says."""
        try:
            return attempt(True)
        except StaleRecord:
            return attempt(False)
