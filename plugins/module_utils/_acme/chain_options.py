# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Options a step of the module chain takes from the registered result of the step before it.

The chain acme_certificate_info -> acme_order -> acme_challenge_proof -> acme_finalize names each
fact once: acme_order's ``certificate`` is acme_certificate_info's result (the names, the
certificate file and its serial, its ARI certificate ID for ``replaces``, RFC 9773 section 5),
and the ``order`` of acme_challenge_proof and acme_finalize is acme_order's result (the order's
state file or URL, RFC 8555 section 7.1.3, and the certificate file the order renews).

A derived value fills an option left out. An option given as well must agree with it, or the run
fails naming both; only ``state_path``, which is derived as a default rather than a fact, is
simply overridden. A registered result passes through the user's hands, so its type and keys are
checked like any option, with a message naming the option.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.certs import normalise_serial
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import parse_identifiers, same_names

# acme_order's state file when only ``certificate`` says where the certificate is: beside it.
STATE_SUFFIX = ".order.json"
CERTIFICATE_MODULE = "certfleet.acme.acme_certificate_info"
ORDER_MODULE = "certfleet.acme.acme_order"
# The keys each registered result must have, with the types their values may have besides None.
CERTIFICATE_KEYS: dict[str, tuple[type, ...]] = {
    "cert_path": (str,),
    "exists": (bool,),
    "serial": (str,),
    "cert_id": (str,),
    "replaces": (str,),
    "identifiers": (list,),
    "wanted_identifiers": (list,),
    "reasons": (list,),
}
ORDER_KEYS: dict[str, tuple[type, ...]] = {"order_uri": (str,), "state_path": (str,), "cert_path": (str,)}


def registered_result(value: Any, option: str, module: str, keys: Mapping[str, tuple[type, ...]]) -> Mapping[str, Any] | None:
    """``value`` when it looks like the registered result of ``module``: a dict with ``keys`` of the right types.

    None when the option was left out. A skipped or failed task's result is refused: it holds no facts.
    """
    if value is None:
        return None
    fix = f"give the registered result of a {module} task that ran"
    if not isinstance(value, Mapping):
        raise AcmeOptionError(option, f"{option} must be the registered result of {module} (a dict), not a {type(value).__name__}; {fix}")
    if value.get("skipped"):
        raise AcmeOptionError(option, f"{option} is the result of a skipped task; run this task only when that one ran, or {fix}")
    if value.get("failed"):
        raise AcmeOptionError(option, f"{option} is the result of a failed task; {fix}")
    for key, types in keys.items():
        if key not in value:
            raise AcmeOptionError(option, f"{option} has no {key}: it is not the result of {module}; {fix}")
        if value[key] is not None and not isinstance(value[key], types):
            raise AcmeOptionError(option, f"{option}.{key} must be a {types[0].__name__} or null, not a {type(value[key]).__name__}; {fix}")
    return value


def take(params: dict[str, Any], option: str, derived: Any, source: str, same: Callable[[Any, Any], bool]) -> None:
    """Fill ``option`` with ``derived`` when it is left out; fail naming both when it is given and ``same`` says they differ."""
    if derived is None:
        return
    given = params.get(option)
    if given is None or given == "" or given == []:
        params[option] = derived
        return
    if not same(given, derived):
        raise AcmeOptionError(
            option,
            f"{option} {given!r} differs from {source} {derived!r}; leave {option} out to use {source}, or make them agree",
        )


def same_path(a: str, b: str) -> bool:
    """Two spellings of one file (``~``, ``..``, links to it)."""
    return os.path.realpath(os.path.expanduser(a)) == os.path.realpath(os.path.expanduser(b))


def same_serial(a: str, b: str) -> bool:
    return normalise_serial(str(a)) == normalise_serial(str(b))


def same_identifiers(a: list[str], b: list[str]) -> bool:
    return same_names(parse_identifiers(a), parse_identifiers(b))


def _certificate_names(certificate: Mapping[str, Any]) -> list[str] | None:
    """The names to order: those acme_certificate_info was told to want, else those of the certificate in place."""
    for key in ("wanted_identifiers", "identifiers"):
        names = certificate.get(key)
        if names:
            if not all(isinstance(name, str) for name in names):
                raise AcmeOptionError("certificate", f"certificate.{key} must be a list of names (strings)")
            return list(names)
    return None


def derive_order_options(params: dict[str, Any]) -> None:
    """acme_order: ``identifiers``, ``cert_path``, ``cert_serial``, ``replaces`` and ``state_path`` from ``certificate``.

    ``replaces`` (RFC 9773 section 5) is the result's own ``replaces`` (renewal.replaces_for, the rule of every path).
    """
    certificate = registered_result(params.get("certificate"), "certificate", CERTIFICATE_MODULE, CERTIFICATE_KEYS)
    if certificate is None:
        if params.get("identifiers") is None:  # an empty list is refused by parse_identifiers, naming it
            raise AcmeOptionError("identifiers", "give identifiers (the names to order), or certificate (the result of acme_certificate_info)")
        return
    names = _certificate_names(certificate)
    if names is None and params.get("identifiers") is None:
        raise AcmeOptionError(
            "identifiers",
            "certificate names no names (acme_certificate_info was given no identifiers and found no certificate); "
            "give identifiers to acme_certificate_info or to this task",
        )
    take(params, "identifiers", names, "certificate.wanted_identifiers", same_identifiers)
    take(params, "cert_path", certificate["cert_path"] or None, "certificate.cert_path", same_path)
    if certificate["exists"]:
        take(params, "cert_serial", certificate["serial"], "certificate.serial", same_serial)
        take(params, "replaces", certificate["replaces"], "certificate.replaces", lambda a, b: a == b)
    if not params.get("state_path") and certificate["cert_path"]:
        params["state_path"] = certificate["cert_path"] + STATE_SUFFIX


def derive_step_options(params: dict[str, Any], *, certificate_files: bool = False) -> None:
    """acme_challenge_proof and acme_finalize: ``state_path`` (or ``order_uri``) from ``order``; for acme_finalize
    (``certificate_files``) also ``cert_path``, the certificate the order renews.

    With a state file the order's URL is not taken: the file names it, and a rerun after the order
    was finished finds the file gone and the certificate in place.
    """
    order = registered_result(params.get("order"), "order", ORDER_MODULE, ORDER_KEYS)
    if order is None:
        return
    if order["state_path"]:
        take(params, "state_path", order["state_path"], "order.state_path", same_path)
    else:
        take(params, "order_uri", order["order_uri"], "order.order_uri", lambda a, b: a == b)
    if not params.get("state_path") and not params.get("order_uri"):
        raise AcmeOptionError("order", "order names neither a state_path nor an order_uri; give acme_order a state_path (or certificate)")
    if certificate_files and order["cert_path"]:
        _derive_cert_path(params, order["cert_path"])


def _derive_cert_path(params: dict[str, Any], cert_path: str) -> None:
    """The order's certificate is ``cert_path``, unless it is the full chain given as ``fullchain_path``."""
    fullchain = params.get("fullchain_path")
    if fullchain and same_path(fullchain, cert_path):
        return  # acme_certificate_info checked the full chain: nothing more to write
    take(params, "cert_path", cert_path, "order.cert_path", same_path)
