# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Finalizing an order and installing its certificate (RFC 8555 sections 7.4 and 7.4.2), for acme_finalize.

One run checks every destination before anything is sent, picks (or generates, or
rotates through the ``.next`` pending key) the certificate key, checks a given CSR,
finalizes, polls and downloads, chooses the preferred chain among the alternates
(section 7.4.2, ``Link: rel="alternate"``), verifies the leaf's key and names and the
chain, installs the files as one set (all of them or none) and removes
the state file only when every file is written. It also reports the state between two
renewals ("nothing in flight") and, in check mode, what the real run would do.
"""

from __future__ import annotations

import os
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.argspec import check_wait_timeout
from ansible_collections.certfleet.acme.plugins.module_utils._acme.certs import (
    CertificateInfo,
    build_csr,
    certificate_info,
    chain_matches,
    chain_problem,
    chain_top_issuer,
    key_public_der,
    load_csr,
    split_pem_chain,
    validity_problem,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier, parse_identifiers, same_names
from ansible_collections.certfleet.acme.plugins.module_utils._acme.issuance_record import IssuanceRecord, planned_record
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import (
    PrivateKey,
    generate_private_key,
    load_private_key,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Order, Status, check_order_identifiers
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_requests import download_certificate, finalize, poll_order
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import (
    OrderState,
    find_order,
    forget_order,
    load_order_state,
    order_recorded,
    sent_from_record,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import FinalizeResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.runs import RecordedOrderRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import (
    PRIVATE_MODE,
    PlannedWrite,
    atomic_write,
    check_writable_directory,
    install_files,
    parse_mode,
    read_state,
    resolve_group,
    resolve_owner,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.times import format_time

# A key the certificate of an order finalized earlier may be for: (key, PEM, whether it is the rotated one).
KeyCandidate = tuple[PrivateKey, bytes, bool]

# File options in the order they are put in place (as one set, see write_files): the certificate
# last, so that even a crash between two renames never leaves a new certificate without its key.
WRITE_ORDER = ("private_key_path", "chain_path", "fullchain_path", "cert_path")
PENDING_KEY_SUFFIX = ".next"


def snapshot(info: CertificateInfo | None) -> dict[str, Any]:
    """Serial and end of validity of a certificate, for ``--diff``."""
    if info is None:
        return {"serial": None, "not_after": None}
    return {"serial": info.serial, "not_after": format_time(info.not_after)}


def destinations(params: dict[str, Any]) -> dict[str, str]:
    """File options given, by option name, in write order (the certificate last)."""
    return {option: params[option] for option in WRITE_ORDER if params.get(option)}


def leaf_option(params: dict[str, Any]) -> str:
    """The file option whose first certificate is the leaf: ``cert_path``, or ``fullchain_path`` when only it is given.

    The record of the issuance (``<path>.acme.json``) goes beside that file, and a certificate
    already there is what a rerun compares with.
    """
    return "cert_path" if params.get("cert_path") else "fullchain_path"


def pending_key_path(private_key_path: str) -> str:
    """Where a rotated key waits until its certificate is downloaded and checked."""
    return private_key_path + PENDING_KEY_SUFFIX


def check_options(params: dict[str, Any]) -> None:
    """Options that cannot work together, and two options naming the same file."""
    if params["rotate_key"] and not params["private_key_path"]:
        raise AcmeOptionError("rotate_key", "rotate_key needs private_key_path; a CSR from csr_path brings its own key")
    if not params.get("cert_path") and not params.get("fullchain_path"):
        raise AcmeOptionError("cert_path", "give cert_path (the certificate alone), fullchain_path (the certificate and its chain) or both")
    check_wait_timeout(params)
    seen: dict[str, str] = {}
    paths = dict(destinations(params))
    if params["csr_path"]:
        paths["csr_path"] = params["csr_path"]
    if params["state_path"]:
        paths["state_path"] = params["state_path"]
    for option, path in paths.items():
        real = os.path.realpath(path)
        if real in seen:
            raise AcmeOptionError(option, f"{option} {path} is the same file as {seen[real]}; give each file its own path")
        seen[real] = option


def check_destinations(paths: dict[str, str], *, create: bool) -> None:
    """Fail naming the option before anything is sent or written when a file could not be written.

    Missing folders are made (mode 0700: they hold the key) when ``create``, predicted otherwise (check mode).
    """
    for option, path in paths.items():
        check_writable_directory(path, option, create=create)
        read_state(path, option)  # an existing file must be readable to compare with


def file_contents(chain: list[str], key_pem: bytes | None, mode: int) -> dict[str, tuple[bytes, int]]:
    """Content and mode of each file option: the leaf, the rest of the chain, both, and the key (0600)."""
    leaf = chain[0]
    rest = "".join(chain[1:])
    contents: dict[str, tuple[bytes, int]] = {
        "chain_path": (rest.encode("ascii"), mode),
        "fullchain_path": ((leaf + rest).encode("ascii"), mode),
        "cert_path": (leaf.encode("ascii"), mode),
    }
    if key_pem is not None:
        contents["private_key_path"] = (key_pem, PRIVATE_MODE)
    return contents


class FinalizeRun(RecordedOrderRun):
    """One run: find the order, finalize it if needed (RFC 8555 section 7.4), download, check, write."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = 0
        self.uid: int | None = None
        self.gid: int | None = None
        self.key_generated = False
        self.key_rotated = False
        self.finalized = False
        self.alternates = 0
        self.preferred_found: bool | None = None
        self.csr_identifiers: list[Identifier] = []

    # -- options and destinations ----------------------------------------------

    def destinations(self) -> dict[str, str]:
        """File options given, by option name, in write order."""
        return destinations(self.params)

    # -- the certificate currently on disk ---------------------------------------

    def current_certificate(self) -> CertificateInfo | None:
        """The certificate at cert_path (or the first of fullchain_path without it), or None when there is none (or not a certificate)."""
        option = leaf_option(self.params)
        state = read_state(self.params[option], option)
        if not state.exists or not state.content:
            return None
        try:
            return certificate_info(state.content)
        except ValueError:
            return None  # not a certificate (yet): it will be replaced

    def nothing_in_flight(self, current: CertificateInfo, cert_text: str) -> FinalizeResult:
        """No order recorded and a certificate present: the state between two renewals."""
        chain_pem = ""
        if self.params["chain_path"]:
            chain_state = read_state(self.params["chain_path"], "chain_path")
            chain_pem = chain_state.content.decode("ascii", "replace") if chain_state.content else ""
        for option, path in self.destinations().items():
            if not os.path.exists(path):
                self.warn(f"{option} {path} does not exist; it is written with the next certificate")
        parts = split_pem_chain(cert_text) or [cert_text]
        leaf = parts[0]
        chain = split_pem_chain(chain_pem) or parts[1:]  # a full chain brings its own
        result = self.result(
            order=None,
            identifiers=current.identifiers,
            info=current,
            chain=[leaf] + chain,
            files={option: False for option in self.destinations()},
            state_removed=False,
            before=snapshot(current),
        )
        result.msg = f"No order in flight (state_path {self.params['state_path']} does not exist); the certificate at {leaf_option(self.params)} is left as is"
        return result

    # -- keys ---------------------------------------------------------------------

    def read_key(self, path: str, option: str, account: Account) -> tuple[PrivateKey, bytes] | None:
        """A certificate key on disk; never the account key (RFC 8555 section 11.1)."""
        state = read_state(path, option)
        if not state.exists or state.content is None:
            return None
        try:
            key = load_private_key(state.content, option, path=path)
        except AcmeOptionError as error:
            # Never replaced: the file may be a key the user cares about, in a format this module cannot read.
            error.msg += "; the file was left as it is: fix it, or point private_key_path at a new file to have a key generated"
            error.args = (error.msg,)
            raise
        if key.same_key_as(account.key):
            raise AcmeOptionError(
                option,
                f"{option} {path} holds the account key; a certificate needs a key of its own. "
                "Point private_key_path at another file (it is generated when missing)",
            )
        if state.mode is not None and state.mode & 0o077 and option == "private_key_path":
            self.warn(f"private_key_path {path} is readable by group or others (mode {state.mode:04o}); the module rewrites it with mode 0600")
        return key, state.content

    def pending_key_path(self) -> str:
        return pending_key_path(self.params["private_key_path"])

    # -- chains -------------------------------------------------------------------

    def pick_chain(self, account: Account, pem: str, alternates: list[str]) -> list[str]:
        """The default chain, or the first alternate (RFC 8555 section 7.4.2) that matches ``preferred_chain``."""
        chain = split_pem_chain(pem)
        if not chain:
            return chain  # refused by the caller, which knows the order
        self.alternates = len(alternates)
        preferred = self.params["preferred_chain"]
        if not preferred:
            return chain
        if chain_matches(chain, preferred):
            self.preferred_found = True
            return chain
        for url in alternates:
            alternate_pem = download_certificate(account, url)[0]
            alternate = split_pem_chain(alternate_pem)
            if alternate and alternate[0] == chain[0] and chain_matches(alternate, preferred):
                self.preferred_found = True
                return alternate
        self.preferred_found = False
        offered = [chain_top_issuer(chain) or "?"]
        self.warn(
            f"preferred_chain {preferred!r} matches none of the {1 + len(alternates)} chain(s) the CA offers "
            f"(default chain issued by {offered[0]!r}); using the default chain"
        )
        return chain

    # -- the run ---------------------------------------------------------------------

    def __call__(self) -> FinalizeResult:
        params = self.params
        check_options(params)
        self.mode = parse_mode(params["mode"])
        self.uid = resolve_owner(params["owner"])
        self.gid = resolve_group(params["group"])
        destinations = self.destinations()
        checked = dict(destinations)
        if params["rotate_key"]:
            checked["private_key_path"] = self.pending_key_path()  # same directory, written first
        check_destinations(checked, create=not self.check_mode)
        current = self.current_certificate()
        before = snapshot(current)

        if params["state_path"] and not params["order_uri"] and load_order_state(params["state_path"]) is None and current:
            cert_state = read_state(params[leaf_option(params)], leaf_option(params))
            return self.nothing_in_flight(current, (cert_state.content or b"").decode("ascii", "replace"))

        csr_der: bytes | None = None
        csr_public: bytes | None = None
        if params["csr_path"]:
            csr_der, csr_public = self.read_csr()

        if self.check_mode and not order_recorded(params["order_uri"], params["state_path"]):
            return self.would_finalize(None, None, destinations, before)

        account = self.connect()
        return self.from_record_or_ca(lambda trust_record: self.complete(account, destinations, before, csr_der, csr_public, trust_record=trust_record))

    def complete(
        self,
        account: Account,
        destinations: dict[str, str],
        before: dict[str, Any],
        csr_der: bytes | None,
        csr_public: bytes | None,
        *,
        trust_record: bool,
    ) -> FinalizeResult:
        """Finalize (unless done before), download, check and write: the part of the run that needs the CA."""
        params = self.params
        # A rotated key waiting in .next means an earlier run may have finalized already: ask the CA.
        trust_record = trust_record and not (params["private_key_path"] and os.path.exists(self.pending_key_path()))
        seen = ("acme_challenge_proof", Status.READY) if trust_record else None
        order, order_state = find_order(account, params["order_uri"], params["state_path"], seen=seen)
        self.check_order(order, order_state, account, csr_der, csr_public)
        key, key_pem, candidates = self.certificate_keys(order, account)
        if order.status == Status.READY:
            if self.check_mode:
                return self.would_finalize(order, order_state, destinations, before)
            if key is not None and key_pem is not None:
                self.save_new_key_early(key_pem)
                csr_der = build_csr(key, order.identifiers)
            with sent_from_record(order.recorded):
                order = finalize(account, order, csr_der or b"")
            self.finalized = True
        order = self.issued(order, account)
        chain, info = self.download(order, account)
        if key is None:
            key, key_pem = self.key_of_certificate(order, info, candidates)
        self.verify(order, chain, info, key_public_der(key) if key is not None else csr_public)
        record = IssuanceRecord(directory=account.client.directory_url, serial=info.serial, account_uri=account.uri, certificate_uri=order.certificate)
        files = self.write_files(destinations, chain, key_pem, record)
        state_removed = self.remove_state(order, order_state)
        return self.result(
            order=order,
            identifiers=order.identifiers,
            info=info,
            chain=chain,
            files=files,
            state_removed=state_removed,
            before=before,
        )

    def check_order(self, order: Order, order_state: OrderState | None, account: Account, csr_der: bytes | None, csr_public: bytes | None) -> None:
        """The order is for the names asked for, matches the CSR, and can still lead to a certificate (RFC 8555 section 7.1.6)."""
        if order_state is not None and order_state.orderUri == order.uri:
            # The CSR is built from the order's names: they must be the ones acme_order asked for.
            check_order_identifiers(order, parse_identifiers(order_state.identifiers, "state_path"))
        if csr_public is not None:
            self.check_csr(order, csr_der, csr_public, account)
        if order.status == Status.PENDING:
            raise AcmeError(
                f"The order {order.uri} is pending: not every name is validated yet; validate first with certfleet.acme.acme_challenge_proof (validate: true)",
                order_uri=order.uri,
                status=order.status,
            )
        if order.status == Status.INVALID or not order.usable:
            problem = order.error or {}
            detail = problem.get("detail") or problem.get("type") or "the CA gave no reason"
            raise AcmeError(
                f"The order {order.uri} is {order.status}: {detail}; start a new order with certfleet.acme.acme_order",
                order_uri=order.uri,
                status=order.status,
                problem=order.error,
            )

    def certificate_keys(self, order: Order, account: Account) -> tuple[PrivateKey | None, bytes | None, list[KeyCandidate]]:
        """The key to make the CSR with (a ready order), or the candidates (key, pem, rotated) a finalized order's certificate may be for."""
        params = self.params
        candidates: list[KeyCandidate] = []
        if not params["private_key_path"]:
            return None, None, candidates
        existing = self.read_key(params["private_key_path"], "private_key_path", account)
        if order.status == Status.READY:
            if existing is not None and not params["rotate_key"]:
                return existing[0], existing[1], candidates
            key = generate_private_key(params["key_type"])
            # A second attempt (StaleRecord) finds the key the first one generated and saved.
            self.key_generated = self.key_generated or existing is None
            self.key_rotated = existing is not None and not self.key_generated
            return key, key.private_pem(), candidates
        if existing is not None:
            candidates.append((existing[0], existing[1], False))
        pending = self.read_key(self.pending_key_path(), "private_key_path", account)
        if pending is not None:
            candidates.append((pending[0], pending[1], True))
        return None, None, candidates

    def issued(self, order: Order, account: Account) -> Order:
        """The order once the CA issued its certificate (polled while processing, RFC 8555 section 7.4), else the CA's reason."""
        if order.status == Status.PROCESSING:
            order = poll_order(account, order, self.poller(float(self.params["wait_timeout"]), f"the CA to issue the certificate of {order.uri}"))
        if order.status != Status.VALID or not order.certificate:
            problem = order.error or {}
            raise AcmeError(
                f"The order {order.uri} ended {order.status} instead of valid: {problem.get('detail') or problem.get('type') or 'the CA gave no reason'}",
                order_uri=order.uri,
                status=order.status,
                problem=order.error,
            )
        return order

    def download(self, order: Order, account: Account) -> tuple[list[str], CertificateInfo]:
        """The chain to install (RFC 8555 section 7.4.2) and its leaf, refused when the CA sent no readable certificate."""
        pem, alternates = download_certificate(account, order.certificate or "")
        chain = self.pick_chain(account, pem, alternates)
        if not chain:
            raise self.refused(order, f"The certificate the CA sent for the order {order.uri} holds no PEM certificate")
        try:
            return chain, certificate_info(chain[0])
        except ValueError:
            raise self.refused(order, f"The certificate the CA sent for the order {order.uri} is not a readable X.509 certificate") from None

    def key_of_certificate(self, order: Order, info: CertificateInfo, candidates: list[KeyCandidate]) -> tuple[PrivateKey | None, bytes | None]:
        """Which of the candidate keys an order finalized earlier was for (the kept key, or a rotated one waiting in .next)."""
        path = self.params["private_key_path"]
        if candidates:
            match = next((c for c in candidates if key_public_der(c[0]) == info.public_key_der), None)
            if match is None:
                raise self.refused(
                    order,
                    f"The certificate of the order {order.uri} is for a key that is neither private_key_path "
                    f"{path} nor a pending rotated key; start a new order with certfleet.acme.acme_order",
                )
            key, key_pem, self.key_rotated = match
            return key, key_pem
        if path:
            raise AcmeError(
                f"The order {order.uri} was finalized with a key this run does not have (private_key_path "
                f"{path} does not exist); start a new order with certfleet.acme.acme_order",
                order_uri=order.uri,
            )
        return None, None

    def read_csr(self) -> tuple[bytes, bytes]:
        path = self.params["csr_path"]
        state = read_state(path, "csr_path")
        if not state.exists or not state.content:
            raise AcmeOptionError("csr_path", f"csr_path {path} does not exist or is empty; give the file of the CSR (PEM or DER)")
        csr_der, self.csr_identifiers, public = load_csr(state.content, "csr_path", path)
        return csr_der, public

    def check_csr(self, order: Order, csr_der: bytes | None, csr_public: bytes, account: Account) -> None:
        path = self.params["csr_path"]
        if csr_public == key_public_der(account.key):
            raise AcmeOptionError(
                "csr_path", f"csr_path {path} is signed with the account key; a certificate needs a key of its own: make the CSR with another key"
            )
        if not same_names(self.csr_identifiers, order.identifiers):
            raise AcmeOptionError(
                "csr_path",
                f"csr_path {path} names {', '.join(sorted(i.value for i in self.csr_identifiers)) or 'nothing'}, but the order "
                f"{order.uri} is for {', '.join(sorted(i.value for i in order.identifiers))}; the names must be the same",
            )

    def save_new_key_early(self, key_pem: bytes) -> None:
        """Keep a new key on disk before its CSR goes out, so an interrupted run can finish.

        A missing key goes straight to private_key_path (no old key to protect); a rotated key
        waits beside it in ``.next`` until its certificate is downloaded and checked.
        """
        if self.key_generated:
            atomic_write(self.params["private_key_path"], key_pem, option="private_key_path", mode=PRIVATE_MODE, uid=self.uid, gid=self.gid)
        elif self.key_rotated:
            atomic_write(self.pending_key_path(), key_pem, option="private_key_path", mode=PRIVATE_MODE, uid=self.uid, gid=self.gid)

    def refused(self, order: Order, msg: str) -> AcmeServerError:
        """What the CA sent for ``order`` that this run must not install (its URL, the order's in the result)."""
        error = AcmeServerError(f"{msg}; nothing was written", url=order.certificate or order.uri)
        error.fields["order_uri"] = order.uri
        return error

    def verify(self, order: Order, chain: list[str], info: CertificateInfo, expected_public: bytes | None) -> None:
        """Check what the CA sent (RFC 8555 section 7.4.2) before any file is touched.

        The leaf must be for this run's key (or the CSR's), name exactly the order's
        identifiers (which ``complete`` compared with those asked for before finalizing), and
        be valid now (within ``CLOCK_SKEW``); each certificate of the chain must be signed by the next.
        """
        if expected_public is not None and info.public_key_der != expected_public:
            raise self.refused(order, f"The certificate of the order {order.uri} is not for the key of this run's CSR")
        names = ", ".join(sorted(i.value for i in info.identifiers)) or "no name"
        if not same_names(info.identifiers, order.identifiers):
            raise self.refused(order, f"The certificate names {names}, but the order is for {', '.join(sorted(i.value for i in order.identifiers))}")
        problem = validity_problem(info)
        if problem:
            raise self.refused(order, f"The certificate the CA sent for the order {order.uri} cannot be used: {problem}")
        problem = chain_problem(chain)
        if problem:
            raise self.refused(order, f"The chain the CA sent for the order {order.uri} does not hold together: {problem}")
        if len(chain) == 1 and self.params["chain_path"]:
            self.warn("The CA sent the certificate without a chain; chain_path is written empty")

    def write_files(self, destinations: dict[str, str], chain: list[str], key_pem: bytes | None, record: IssuanceRecord) -> dict[str, bool]:
        """Install key, chain, fullchain and certificate as one set (``storage.install_files``).

        Either every file changes or none does: a rotated key never lands beside the old
        certificate, nor a new certificate beside the old key. Files already right are left alone.
        The record of the issuing CA (``issuance_record``) goes in the same set, last.
        """
        contents = file_contents(chain, key_pem, self.mode)
        writes = [
            PlannedWrite(path, contents[option][0], option, contents[option][1], self.uid, self.gid)
            for option, path in destinations.items()
            if option in contents
        ]
        leaf = leaf_option(self.params)
        writes.append(planned_record(destinations[leaf], record, leaf))
        if self.check_mode:
            changed = [write.needed() for write in writes]
        else:
            changed = install_files(writes)
        files = {write.option: flag for write, flag in zip(writes[:-1], changed[:-1])}
        if "private_key_path" in files and (self.key_generated or self.key_rotated):
            files["private_key_path"] = True  # generated this run (possibly written before finalizing)
        if self.params["private_key_path"] and not self.check_mode:
            self.remove_pending_key()
        return files

    def remove_pending_key(self) -> None:
        try:
            os.unlink(self.pending_key_path())
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.warn(f"could not remove the used rotated key {self.pending_key_path()}: {exc.strerror}")

    def remove_state(self, order: Order, order_state: OrderState | None) -> bool:
        """Remove the state file of this order once every file is written (the order is done)."""
        path = self.params["state_path"]
        if not path or order_state is None or order_state.orderUri != order.uri:
            return False
        if self.check_mode:
            return True
        return forget_order(path, "every file is written")

    def would_finalize(self, order: Order | None, order_state: OrderState | None, destinations: dict[str, str], before: dict[str, Any]) -> FinalizeResult:
        """Check mode: what the real run would do (order None: acme_order ran in check mode too)."""
        self.finalized = True
        key_path = self.params["private_key_path"]
        if key_path and not os.path.exists(key_path):
            self.key_generated = True
        result = self.result(
            order=order,
            identifiers=order.identifiers if order else [],
            info=None,
            chain=[],
            files={option: True for option in destinations},
            state_removed=order is not None and order_state is not None and order_state.orderUri == order.uri,
            before=before,
        )
        if order is None:
            result.msg = "No order yet (acme_order ran in check mode): the real run would finalize it and write the files"
        return result

    def result(
        self,
        *,
        order: Order | None,
        identifiers: list[Identifier],
        info: CertificateInfo | None,
        chain: list[str],
        files: dict[str, bool],
        state_removed: bool,
        before: dict[str, Any],
    ) -> FinalizeResult:
        result = FinalizeResult(
            changed=any(files.values()) or state_removed or self.finalized,
            order_uri=order.uri if order else None,
            status=order.status if order else None,
            finalized=self.finalized,
            identifiers=[i.value for i in identifiers],
            serial=info.serial if info else None,
            alternates=self.alternates,
            preferred_chain_found=self.preferred_found,
            key_generated=self.key_generated,
            key_rotated=self.key_rotated,
            state_removed=state_removed,
            files={option: {"path": self.params[option], "changed": changed_file} for option, changed_file in files.items()},
        )
        if info is not None:
            leaf = chain[0] if chain else ""
            rest = "".join(chain[1:])
            result.not_before = format_time(info.not_before)
            result.not_after = format_time(info.not_after)
            result.issuer = info.issuer
            result.chain_issuer = chain_top_issuer(chain) if chain else None
            result.cert_pem, result.chain_pem, result.fullchain_pem = leaf, rest, leaf + rest
        if self.diff:
            after = snapshot(info) if info is not None else {"serial": "(new certificate)", "not_after": None}
            result.diff = {"before": before, "after": after}
        return result
