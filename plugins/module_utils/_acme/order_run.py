# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Creating or resuming an order and building the proofs to publish (RFC 8555 sections 7.4 and 8).

The run behind ``acme_order``, and behind the order step of ``acme_certificates``.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account
from ansible_collections.certfleet.acme.plugins.module_utils._acme.certs import normalise_serial
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import (
    bind_lines,
    build_proof,
    challenge_type,
    check_challenge_fits,
    choose_issuer,
    merge_dns_records,
    persist_until_warning,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError, AcmeProblem, AcmeServerError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import (
    Identifier,
    parse_identifiers,
    same_names,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import (
    Authorization,
    Order,
    Status,
    check_authorization_identifiers,
    check_order_identifiers,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_requests import get_authorizations, get_order, new_order
from ansible_collections.certfleet.acme.plugins.module_utils._acme.order_state import OrderState, forget_order, load_order_state, save_order_state
from ansible_collections.certfleet.acme.plugins.module_utils._acme.renewal import load_certificate
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import OrderResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.runs import CoreRun
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import check_writable_directory


class OrderRun(CoreRun[Account]):
    """One ``acme_order`` run: create or resume the order for ``params`` and report the proofs to publish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wildcard_bases: set[str] = set()

    def __call__(self) -> OrderResult:
        params = self.params
        identifiers = self.checked_identifiers()
        renewed_by = self.renewed_meanwhile()
        if renewed_by is not None:
            return self.superseded(identifiers, renewed_by)
        account = self.connect()
        client = account.client
        if params["challenge"] == "dns-persist-01" and params["issuer_domain_name"]:
            # The CA's CAA identities are its issuer domain names: refuse a wrong one before ordering.
            caa = client.meta.get("caaIdentities")
            choose_issuer([str(name) for name in caa] if isinstance(caa, list) else [], params["issuer_domain_name"])

        order = self.resumable_order(account, identifiers, client.directory_url)
        before = {"order_uri": order.uri if order else None, "status": order.status if order else "absent"}
        created = order is None
        if order is None:
            if self.check_mode:
                return self.result(None, [], identifiers, created=True, before=before)
            order = self.create_order(account, identifiers)
        try:
            check_order_identifiers(order, identifiers)
            for url in [*order.authorizations, order.finalize]:
                client.check_origin(url, "Reading the order")
        except AcmeServerError:
            # A new order is refused before it is recorded, a resumed one is forgotten: the next run orders anew.
            if not created and not params["order_uri"] and params["state_path"] and not self.check_mode:
                forget_order(params["state_path"], "the CA's order was refused")
            raise
        recorded = self.record(order, identifiers, account)
        try:
            authorizations = get_authorizations(account, order)
            check_authorization_identifiers(order, authorizations, identifiers)
            if recorded is not None:
                # acme_challenge_proof answers the challenges from this record, without fetching them again.
                save_order_state(params["state_path"], recorded.with_seen("acme_order", order, authorizations))
            return self.result(order, authorizations, identifiers, created=created, before=before, account=account)
        except AcmeServerError:
            if recorded is not None:
                # An order the CA answered for with something unusable is not resumed: the next run orders anew.
                forget_order(params["state_path"], "the CA's order was refused")
            raise

    def checked_identifiers(self) -> list[Identifier]:
        """The names to order, and every option that can be checked before the CA is asked."""
        params = self.params
        identifiers = parse_identifiers(params["identifiers"])
        self.wildcard_bases = {i.base for i in identifiers if i.wildcard}
        check_challenge_fits(identifiers, params["challenge"])
        if params["dns_ttl"] < 0:
            raise AcmeOptionError("dns_ttl", "dns_ttl must be zero or more seconds")
        warning = persist_until_warning(params["persist_until"]) if params["challenge"] == "dns-persist-01" else None
        if warning:
            self.warn(warning)
        if params["state_path"]:
            # Checked now: finding out after the CA created the order would leave it unrecorded.
            check_writable_directory(params["state_path"], "state_path", create=not self.check_mode)
        return identifiers

    def create_order(self, account: Account, identifiers: list[Identifier]) -> Order:
        """Section 7.4 newOrder with the run's ``profile`` and ``replaces`` (dropped when the CA cannot take it)."""
        params = self.params
        replaces = params["replaces"]
        if replaces and "renewalInfo" not in account.client.directory:
            # RFC 9773 section 5: only a CA that offers ARI understands replaces; others may reject the order.
            self.warn("the CA does not offer ARI (no renewalInfo in its directory); replaces was not sent")
            replaces = None
        return new_order(
            account,
            identifiers,
            profile=params["profile"],
            replaces=replaces,
            on_replaces_refused=lambda problem: self.warn(
                f"the CA refused the order with replaces={replaces} ({problem.msg}); ordered without replaces, so this "
                "renewal is not marked as replacing that certificate (no ARI rate-limit exemption)"
            ),
        )

    def record(self, order: Order, identifiers: list[Identifier], account: Account) -> OrderState | None:
        """The order written to ``state_path`` (not in check mode), so that later runs resume it; None when not written."""
        params = self.params
        if not params["state_path"] or self.check_mode:
            return None
        recorded = OrderState(
            orderUri=order.uri,
            identifiers=[i.value for i in identifiers],
            challenge=params["challenge"],
            directory=account.client.directory_url,
            accountUri=account.require_uri(),
            profile=params["profile"],
            # acme_challenge_proof rebuilds the same dns-persist-01 records from these.
            extra={
                "issuer_domain_name": params["issuer_domain_name"],
                "persist_policy_wildcard": params["persist_policy_wildcard"],
                "persist_until": params["persist_until"],
            },
        )
        save_order_state(params["state_path"], recorded)
        return recorded

    def renewed_meanwhile(self) -> str | None:
        """The serial now in ``cert_path`` when it is another certificate than the ``cert_serial`` the renewal was decided on.

        Run under the lock of ``state_path``: a run that finished this certificate since the
        decision wrote its files and removed the state file while holding that lock. A file
        that is gone now is no renewal by anyone: the order goes ahead.
        """
        params = self.params
        if not params["cert_path"]:
            if params["cert_serial"]:
                raise AcmeOptionError("cert_serial", "cert_serial needs cert_path, the file whose serial it is")
            return None
        expected = normalise_serial(params["cert_serial"]) if params["cert_serial"] else None
        loaded = load_certificate(params["cert_path"])
        if loaded is None or loaded[0].serial == expected:
            return None
        return loaded[0].serial

    def superseded(self, identifiers: list[Identifier], serial: str) -> OrderResult:
        """The result when another run renewed the certificate after this one decided to: no order."""
        params = self.params
        self.warn(
            f"cert_path {params['cert_path']} holds serial {serial}, not {params['cert_serial'] or 'nothing'} as when the renewal was "
            "decided: another run renewed it meanwhile, so no order was created"
        )
        absent = {"order_uri": None, "status": "absent"}
        result = self.result(None, [], identifiers, created=False, before=absent)
        result.superseded = True
        result.status = None
        if result.diff is not None:
            result.diff["after"] = dict(absent)
        return result

    def resumable_order(self, account: Account, identifiers: list[Identifier], directory_url: str) -> Order | None:
        """The order to continue: ``order_uri``, else the one in ``state_path`` when it still fits."""
        params = self.params
        if params["order_uri"]:
            order = get_order(account, params["order_uri"])
            if not same_names(order.identifiers, identifiers):
                raise AcmeOptionError(
                    "order_uri",
                    f"order_uri {order.uri} is for {', '.join(i.value for i in order.identifiers)}, not "
                    f"{', '.join(i.value for i in identifiers)}; drop order_uri to create a new order",
                )
            return order
        if not params["state_path"]:
            return None
        recorded = load_order_state(params["state_path"])
        if recorded is None or recorded.directory != directory_url or recorded.accountUri != account.uri:
            return None
        if recorded.challenge != params["challenge"] or recorded.profile != params["profile"]:
            return None
        if sorted(recorded.identifiers) != sorted(i.value for i in identifiers):
            return None
        try:
            order = get_order(account, recorded.orderUri)
        except AcmeProblem as problem:
            if problem.status in (403, 404) or problem.has_type("malformed"):
                return None  # the CA forgot the order (expired and purged): start a new one
            raise
        return order if order.usable else None

    def proof_for(self, authz: Authorization, account: Account) -> tuple[dict[str, Any] | None, str | None]:
        """The proof to publish for a pending authorization, and the chosen challenge's URL."""
        params = self.params
        challenge = authz.challenge(params["challenge"])
        if challenge is None:
            if authz.status == Status.PENDING:
                raise AcmeOptionError(
                    "challenge",
                    f"the CA does not offer {params['challenge']} for {authz.identifier.value}; it offers "
                    f"{', '.join(authz.available_challenges) or 'nothing'}: choose one of them with challenge",
                )
            return None, None
        if authz.status != Status.PENDING:
            return None, challenge.url
        proof = build_proof(
            params["challenge"],
            authz.identifier,
            challenge.raw,
            account.key.thumbprint(),
            account.require_uri(),
            issuer_domain_name=params["issuer_domain_name"],
            # One dns-persist-01 record then serves an apex and its wildcard alike.
            policy_wildcard=params["persist_policy_wildcard"] or authz.identifier.base in self.wildcard_bases,
            persist_until=params["persist_until"],
        )
        return proof, challenge.url

    def result(
        self,
        order: Order | None,
        authorizations: list[Authorization],
        identifiers: list[Identifier],
        *,
        created: bool,
        before: dict[str, Any],
        account: Account | None = None,
    ) -> OrderResult:
        entries = []
        proofs = []
        for authz in authorizations:
            proof, challenge_uri = self.proof_for(authz, account) if account else (None, None)
            if proof:
                proofs.append(proof)
            failed = authz.failed_challenge
            entries.append(
                {
                    "identifier": authz.identifier.value,
                    "wildcard": authz.identifier.wildcard,
                    "status": authz.status,
                    "authorization_uri": authz.uri,
                    "available_challenges": authz.available_challenges,
                    "challenge_uri": challenge_uri,
                    "proof": proof,
                    "error": failed.error if failed else None,
                }
            )
        publishes = challenge_type(self.params["challenge"]).publishes
        dns_records = merge_dns_records(proofs if publishes == "dns" else [], self.params["dns_ttl"])
        after = {"order_uri": order.uri if order else None, "status": order.status if order else Status.PENDING}
        return OrderResult(
            changed=created,
            created=created,
            resumed=order is not None and not created,
            state_path=self.params["state_path"] or None,
            cert_path=self.params.get("cert_path") or None,
            order_uri=after["order_uri"],
            status=after["status"],
            identifiers=[i.value for i in identifiers],
            challenge=self.params["challenge"],
            authorizations=entries,
            http_proofs=proofs if publishes == "http" else [],
            dns_records=dns_records,
            bind=bind_lines(dns_records),
            expires=order.expires if order and order.expires else None,
            profile=order.profile if order and order.profile else None,
            diff={"before": before, "after": after} if self.diff else None,
        )
