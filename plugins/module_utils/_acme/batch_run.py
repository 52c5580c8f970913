# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Many certificates in one module run (``acme_certificates``).

Each certificate goes through the same runs as the single-certificate modules (renewal
decision, ``OrderRun``, ``ValidationRun``, ``FinalizeRun``) under the lock of its own state
file, so idempotency, check mode, resumable state and atomic writes are the same. What the
batch adds: one client and account for all of them (one keep-alive session, one nonce pool,
one directory), a bounded number of certificates in flight at once, and isolation: a
certificate that fails is reported with its error and never stops the others, unless the CA
itself stops answering: after ``UNANSWERED_LIMIT`` certificates in a row could not reach it,
the batch starts no more and reports the rest as not attempted, their state kept for a rerun,
instead of spending ``request_timeout`` on each of them.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import check_wait_timeout, per_certificate_argument_spec
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import bind_lines, challenge_type, merge_dns_records
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeNetworkError, AcmeOptionError, unexpected_error_message
from ansible_collections.certfleet.acme.plugins.module_utils._acme.finalize_run import FinalizeRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_run import OrderRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import order_recorded
from ansible_collections.certfleet.acme.plugins.module_utils._acme.renewal import check_certificate
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import BatchResult, CertificateOutcome
from ansible_collections.certfleet.acme.plugins.module_utils._acme.selftest import check_self_test_bounds
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import CERTIFICATE_NAME, make_private_folders, state_lock
from ansible_collections.certfleet.acme.plugins.module_utils._acme.validate_run import ValidationRun

STEPS = ("order", "validate", "finalize")
# Certificates in a row that could not reach the CA before the batch starts no more of them.
UNANSWERED_LIMIT = 5
# For new orders; later steps use the type recorded with the order.
DEFAULT_CHALLENGE = "http-01"
# Options a certificate entry may set for itself (their argument spec); left out, the module option of the same name applies.
OVERRIDABLE: dict[str, dict[str, Any]] = per_certificate_argument_spec()


def check_steps(steps: list[str]) -> list[str]:
    """``steps`` must be a run of consecutive steps: order, validate, finalize."""
    if not steps:
        raise AcmeOptionError("steps", "steps is empty; give one or more of order, validate, finalize (in that order)")
    first = STEPS.index(steps[0])
    if list(steps) != list(STEPS[first : first + len(steps)]):
        raise AcmeOptionError(
            "steps",
            f"steps {', '.join(steps)} is not a run of consecutive steps; use for example [order], [validate, finalize] or [order, validate, finalize]",
        )
    return list(steps)


def certificate_params(params: dict[str, Any]) -> list[dict[str, Any]]:
    """One option set per certificate: the entry's own options over the module's, with the state file in ``state_dir``.

    Refuses what would make two certificates share a file or a name before anything is read.
    """
    entries = params["certificates"]
    if not entries:
        raise AcmeOptionError("certificates", "certificates is empty; give at least one certificate (name, identifiers, cert_path, private_key_path)")
    merged: list[dict[str, Any]] = []
    owners: dict[str, str] = {}
    for index, entry in enumerate(entries):
        name = entry["name"]
        if not CERTIFICATE_NAME.fullmatch(name):
            raise AcmeOptionError(
                "certificates",
                f"certificates[{index}].name {name!r} is not usable as a file name in state_dir; use letters, digits, '.', '_' and '-' (up to 128)",
            )
        cert = dict(params)
        cert.pop("certificates")
        for option in OVERRIDABLE:
            if entry.get(option) is not None:
                cert[option] = entry[option]
        for option in ("name", "identifiers", "cert_path", "chain_path", "fullchain_path", "private_key_path"):
            cert[option] = entry.get(option)
        # What the single-certificate modules take as options and a batch does not offer.
        cert.update(order_uri=None, replaces=None, cert_serial=None, csr_path=None, validate=True)
        cert["state_path"] = entry.get("state_path") or os.path.join(params["state_dir"], f"{name}.order.json")
        for option in ("name", "cert_path", "chain_path", "fullchain_path", "private_key_path", "state_path"):
            value = cert[option]
            if value is None:
                continue
            key = value if option == "name" else os.path.abspath(value)
            if key in owners:
                raise AcmeOptionError(
                    "certificates",
                    f"certificates[{index}] ({name}) uses {value} as {option}, which {owners[key]} uses already; "
                    "every certificate needs its own name and files",
                )
            owners[key] = f"certificates[{index}] ({name})"
        merged.append(cert)
    return merged


class CaWatch:
    """Whether the CA still answers, as the batch's certificates find it, across worker threads."""

    def __init__(self, limit: int = UNANSWERED_LIMIT) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.in_a_row = 0
        self.last: AcmeNetworkError | None = None
        self.skipped = 0

    def ended(self, error: BaseException | None) -> None:
        """A certificate ended: with a network error (the CA did not answer), or otherwise."""
        with self.lock:
            if isinstance(error, AcmeNetworkError):
                self.in_a_row += 1
                self.last = error
            else:
                self.in_a_row = 0

    def given_up(self) -> AcmeNetworkError | None:
        """The last network error once ``limit`` certificates in a row could not reach the CA; counts a skipped one."""
        with self.lock:
            if self.in_a_row < self.limit or self.last is None:
                return None
            self.skipped += 1
            return self.last


class CertificateRun:
    """The steps of one certificate of the batch, in one worker thread."""

    def __init__(
        self, params: dict[str, Any], *, account: Callable[[], Account], steps: list[str], check_mode: bool, watch: CaWatch | None = None
    ) -> None:
        self.params = params
        self.account = account
        self.steps = steps
        self.check_mode = check_mode
        self.watch = watch or CaWatch()
        self.warnings: list[str] = []
        self.result = CertificateOutcome(name=params["name"])

    def warn(self, text: str) -> None:
        self.warnings.append(f"{self.params['name']}: {text}")

    def __call__(self) -> CertificateOutcome:
        unanswered = self.watch.given_up()
        if unanswered is not None:
            return self.not_attempted(unanswered)
        ended: BaseException | None = None
        try:
            if not self.check_mode:
                # Before the lock: without its folder, state_lock would take no lock at all.
                self.make_folder(self.params["state_path"], "state_path")
            with state_lock(self.params["state_path"], self.params["lock_timeout"], create=not self.check_mode):
                self.run()
        except AcmeError as error:
            ended = error
            fields = error.to_result()
            msg = fields.pop("msg")
            fields.pop("changed", None)
            self.failed(msg, fields)
        except Exception as error:  # one certificate's unforeseen failure must not take the others' results with it
            ended = error
            self.failed(unexpected_error_message(error), {"exception_type": type(error).__name__})
        self.watch.ended(ended)
        return self.result

    def not_attempted(self, unanswered: AcmeNetworkError) -> CertificateOutcome:
        """Nothing done for this certificate: the CA stopped answering; its state is kept for the rerun."""
        self.result.status, self.result.failed = "not_attempted", True
        self.result.msg = (
            f"not attempted: the CA stopped answering ({self.watch.limit} certificates in a row could not reach it; the last: "
            f"{unanswered.msg}). Nothing was sent for this certificate and its files and order state are as they were; "
            "run the batch again when the CA answers"
        )
        self.result.error = {"url": unanswered.url}
        return self.result

    def failed(self, msg: str, error: dict[str, Any]) -> None:
        self.result.status, self.result.failed, self.result.msg, self.result.error = "failed", True, msg, error

    def run(self) -> None:
        result = self.result
        if self.steps[0] == "order":
            if not self.order():
                return
        elif not order_recorded(None, self.params["state_path"]):
            # Nothing in flight: the order step found it not due, or never ran for it.
            result.status = "no_order"
            return
        if "validate" in self.steps:
            validated = ValidationRun(self.params, connect=self.account, warn=self.warn, check_mode=self.check_mode)()
            result.changed = result.changed or validated.changed
            result.status = "valid"
            result.order_uri = validated.order_uri or result.order_uri
        if "finalize" in self.steps:
            if not self.check_mode:
                self.make_folders()
            finalized = FinalizeRun(self.params, connect=self.account, warn=self.warn, check_mode=self.check_mode)()
            result.changed = result.changed or finalized.changed
            result.status = "issued"
            result.order_uri = finalized.order_uri or result.order_uri
            result.serial, result.not_after = finalized.serial, finalized.not_after

    def make_folders(self) -> None:
        """The folders of the certificate's files, created (mode 0700, they hold its key) when missing."""
        for option in ("cert_path", "chain_path", "fullchain_path", "private_key_path"):
            if self.params[option]:
                self.make_folder(self.params[option], option)

    def make_folder(self, path: str, option: str) -> None:
        """The folder of ``path``, created with mode 0700 when missing (each missing level, ``make_private_folders``)."""
        try:
            make_private_folders(os.path.dirname(os.path.abspath(path)), option)
        except AcmeOptionError as exc:
            raise AcmeOptionError("certificates", f"{self.params['name']}: cannot create the folder of {option} {path} ({exc.msg})") from None

    def order(self) -> bool:
        """The renewal decision, then the order when due; True when the next steps have an order to work on."""
        params = self.params
        result = self.result
        decision = check_certificate(params, client_factory=lambda: self.account().client, warn=self.warn, ari_when_due=False)
        result.reason, result.serial, result.not_after = decision.reason, decision.serial, decision.not_after
        # An order in flight is resumed even when the certificate is not due (any more); the
        # runs below read the state file themselves.
        if not decision.renewal_due and not order_recorded(None, params["state_path"]):
            result.status = "not_due"
            return False
        order_params = dict(params)
        # The renewal names the certificate it replaces by the one rule of every path (renewal.replaces_for).
        order_params.update(cert_serial=decision.serial, order_uri=None, replaces=decision.replaces, challenge=params["challenge"] or DEFAULT_CHALLENGE)
        if self.check_mode and not os.path.isdir(os.path.dirname(params["state_path"])):
            # state_dir is created by the real run; with nothing recorded yet the prediction is a new order.
            order_params["state_path"] = None
        ordered = OrderRun(order_params, connect=self.account, warn=self.warn, check_mode=self.check_mode)()
        result.changed = ordered.changed
        if ordered.superseded:
            result.status = "superseded"
            return False
        result.order_uri, result.status = ordered.order_uri, ordered.status
        proofs = [dict(proof, certificate=params["name"]) for proof in ordered.proofs]
        publishes = challenge_type(order_params["challenge"]).publishes
        result.http_proofs = proofs if publishes == "http" else []
        result.dns_proofs = proofs if publishes == "dns" else []
        if self.check_mode and ordered.created:
            result.status = "would_order"
            return False
        return len(self.steps) > 1


def run_batch(
    params: dict[str, Any],
    *,
    connect: Callable[[], Account],
    warn: Callable[[str], None],
    check_mode: bool,
) -> BatchResult:
    """The whole ``acme_certificates`` run: every certificate's steps, ``workers`` at a time."""
    steps = check_steps(params["steps"])
    if params["workers"] < 1:
        raise AcmeOptionError("workers", "workers must be 1 or more")
    # The bounds the validate and finalize steps check, once for the whole batch rather than once per certificate.
    check_self_test_bounds(params["self_test_attempts"], params["self_test_delay"])
    check_wait_timeout(params)
    certificates = certificate_params(params)
    if not check_mode:
        make_private_folders(params["state_dir"], "state_dir")

    account_lock = threading.Lock()
    shared: list[Account] = []
    refused: list[AcmeError] = []

    def account() -> Account:
        # Made once, by the first certificate that needs the CA; not at all when none does. When
        # it cannot be made (unknown account, unreachable CA), no certificate tries again.
        with account_lock:
            if refused:
                raise refused[0]
            if not shared:
                try:
                    made = connect()
                except AcmeError as error:
                    refused.append(error)
                    raise
                made.client.allow_concurrency(params["workers"])
                shared.append(made)
            return shared[0]

    watch = CaWatch()
    runs = [CertificateRun(cert, account=account, steps=steps, check_mode=check_mode, watch=watch) for cert in certificates]
    with ThreadPoolExecutor(max_workers=min(params["workers"], len(runs))) as pool:
        results = list(pool.map(lambda run: run(), runs))
    for run in runs:
        for text in run.warnings:
            warn(text)
    if watch.skipped:
        warn(f"the CA stopped answering: {watch.limit} certificates in a row could not reach it, so {watch.skipped} were not attempted (status not_attempted)")
    if refused:
        # Not one certificate's failure: the whole batch could not reach the CA with its account.
        raise refused[0]
    return summarize(results, params["dns_ttl"])


def summarize(results: list[CertificateOutcome], dns_ttl: int) -> BatchResult:
    """The batch's result: every certificate's, what to publish for all of them, and counts by status."""
    http_proofs = [proof for result in results for proof in result.http_proofs]
    # Merged over the whole batch: an apex in one certificate and its wildcard in another share a record.
    dns_records = merge_dns_records([proof for result in results for proof in result.dns_proofs], dns_ttl)
    return BatchResult(
        changed=any(result.changed for result in results),
        certificates=results,
        failed_certificates=[{"name": result.name, "msg": result.msg} for result in results if result.failed],
        counts=dict(Counter(result.status for result in results)),
        http_proofs=http_proofs,
        dns_records=dns_records,
        bind=bind_lines(dns_records),
    )
