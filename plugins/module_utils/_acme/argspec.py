# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Option groups shared by the modules, mirrored one to one by ``doc_fragments/acme.py``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Account, Credentials, load_credentials
from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import CHALLENGE_TYPES
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import (
    DEFAULT_DIRECTORY,
    AcmeClient,
    check_request_timeout,
    resolve_directory,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import DEFAULT_KEY_TYPE, PrivateKey, load_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.messages import Status
from ansible_collections.certfleet.acme.plugins.module_utils._acme.renewal import DEFAULT_RENEW_BEFORE_DAYS
from ansible_collections.certfleet.acme.plugins.module_utils._acme.session_cache import DEFAULT_MAX_AGE, SessionCache
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import DEFAULT_LOCK_TIMEOUT, open_to_others_warning, read_state

ACCOUNT_KEY_SOURCES = ["credentials_path", "account_key_src", "account_key_content"]
# Certificate keys an ACME CA certifies; Let's Encrypt refuses P-521, so it is not offered.
CERTIFICATE_KEY_TYPES = ["ec256", "ec384", "rsa2048", "rsa3072", "rsa4096"]
# Defaults stated once: the argument specs, the doc fragments (checked by a unit test) and the runs use these.
DEFAULT_REQUEST_TIMEOUT = 10
DEFAULT_RETRY_TIMEOUT = 60
DEFAULT_WAIT_TIMEOUT = 120


def server_argument_spec() -> dict[str, dict[str, Any]]:
    """Where the CA is and how far to trust and wait for it (doc fragment ``server``).

    ``acme_directory`` is community.crypto's name of ``directory`` (docs/migrating.md).
    """
    return {
        "directory": {"type": "str", "default": DEFAULT_DIRECTORY, "aliases": ["acme_directory"]},
        "ca_path": {"type": "path"},
        "validate_certs": {"type": "bool", "default": True},
        "request_timeout": {"type": "int", "default": DEFAULT_REQUEST_TIMEOUT},
        "retry_timeout": {"type": "int", "default": DEFAULT_RETRY_TIMEOUT},
        "session_cache": {"type": "path"},
        "session_cache_max_age": {"type": "int", "default": DEFAULT_MAX_AGE},
    }


def account_argument_spec() -> dict[str, dict[str, Any]]:
    """Which account signs the requests (doc fragment ``account``)."""
    return {
        "credentials_path": {"type": "path"},
        "account_key_src": {"type": "path"},
        "account_key_content": {"type": "str", "no_log": True},
        "account_key_passphrase": {"type": "str", "no_log": True},
        "account_uri": {"type": "str"},
    }


def state_lock_argument_spec() -> dict[str, dict[str, Any]]:
    """How long to wait for another run on the same certificate (doc fragment ``state_lock``)."""
    return {
        "lock_timeout": {"type": "int", "default": DEFAULT_LOCK_TIMEOUT},
    }


def order_uri_argument_spec() -> dict[str, dict[str, Any]]:
    """The order a later step works on, when no state file names it, or acme_order's result naming it (doc fragment ``order_uri``).

    acme_challenge_proof and acme_finalize; acme_order's ``order_uri`` means an order to resume instead of creating one.
    ``order`` is read by ``chain_options.derive_step_options``.
    """
    return {"order_uri": {"type": "str"}, "order": {"type": "dict"}}


def renewal_decision_argument_spec() -> dict[str, dict[str, Any]]:
    """When a certificate is due (doc fragment ``renewal``; acme_certificate_info, acme_certificates).

    The aliases are community.crypto's names of the same settings (acme_certificate, acme_certificate_renewal_info).
    """
    return {
        "renew_before_days": {"type": "int", "default": DEFAULT_RENEW_BEFORE_DAYS, "aliases": ["remaining_days"]},
        "renew_before_fraction": {"type": "float", "aliases": ["remaining_percentage"]},
        "ari": {"type": "bool", "default": True, "aliases": ["use_ari"]},
    }


def validation_argument_spec() -> dict[str, dict[str, Any]]:
    """How published proofs are checked before the CA is asked (doc fragment ``self_test``).

    Used by acme_challenge_proof and acme_certificates; bounds in ``selftest.check_self_test_bounds``.
    """
    return {
        "self_test": {"type": "bool", "default": True},
        "self_test_attempts": {"type": "int", "default": 10},
        "self_test_delay": {"type": "float", "default": 2},
        "http_nodes": {"type": "list", "elements": "str"},
        "dns_resolvers": {"type": "list", "elements": "str"},
    }


def certificate_files_argument_spec() -> dict[str, dict[str, Any]]:
    """The certificate's key and how its files are written (doc fragment ``certificate_files``; acme_finalize, acme_certificates)."""
    return {
        "key_type": {"type": "str", "choices": list(CERTIFICATE_KEY_TYPES), "default": DEFAULT_KEY_TYPE},
        "rotate_key": {"type": "bool", "default": False},
        "mode": {"type": "raw", "default": "0644"},
        "owner": {"type": "str"},
        "group": {"type": "str"},
        "preferred_chain": {"type": "str"},
    }


def wait_argument_spec() -> dict[str, dict[str, Any]]:
    """How long a run waits for the CA to validate, and again to issue (doc fragment ``wait``).

    Used by acme_challenge_proof, acme_finalize and acme_certificates; bound in ``check_wait_timeout``.
    """
    return {"wait_timeout": {"type": "int", "default": DEFAULT_WAIT_TIMEOUT}}


def order_choices_argument_spec() -> dict[str, dict[str, Any]]:
    """What a new order asks for and how its DNS proofs look (doc fragment ``order_choices``; acme_order, acme_certificates).

    ``challenge`` is not part of it: acme_order defaults it to http-01, while in acme_challenge_proof and
    acme_certificates an unset type means "the one recorded with the order".
    """
    return {
        "profile": {"type": "str"},
        "issuer_domain_name": {"type": "str"},
        "persist_policy_wildcard": {"type": "bool", "default": False},
        "persist_until": {"type": "int"},
        "dns_ttl": {"type": "int", "default": 60},
    }


def per_certificate_argument_spec() -> dict[str, dict[str, Any]]:
    """What one entry of acme_certificates' ``certificates`` may set for itself, over the module option of the same name.

    The same specs as the module options without their defaults, so that an entry that leaves one
    out is told apart from one that sets the default.
    """
    shared = {"challenge": {"type": "str", "choices": list(CHALLENGE_TYPES)}}
    shared.update(order_choices_argument_spec())
    shared.pop("dns_ttl")  # one TTL for the whole batch's dns_records
    return {name: {key: value for key, value in spec.items() if key != "default"} for name, spec in shared.items()}


def check_wait_timeout(params: Mapping[str, Any]) -> None:
    """``wait_timeout`` is zero (answer or finalize, then do not wait) or more seconds.

    Checked alike by validation, finalization and the batch before anything is sent.
    """
    if params["wait_timeout"] < 0:
        raise AcmeOptionError("wait_timeout", "wait_timeout must be zero or more seconds")


def account_module_argument_spec(**options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A module's whole spec: the server and account groups plus its own ``options``."""
    spec = server_argument_spec()
    spec.update(account_argument_spec())
    spec.update(options)
    return spec


def account_module_kwargs() -> dict[str, Any]:
    """``AnsibleModule`` keyword arguments that go with ``account_argument_spec``."""
    return {
        "mutually_exclusive": [ACCOUNT_KEY_SOURCES],
        "required_one_of": [ACCOUNT_KEY_SOURCES],
    }


def account_import_module_kwargs() -> dict[str, Any]:
    """``AnsibleModule`` keyword arguments of acme_account, which also takes ``credentials_path`` with a key to import into it.

    ``account_key_src`` and ``account_key_content`` still exclude each other; ``AccountRun.account_key`` does the import.
    """
    return {
        "mutually_exclusive": [ACCOUNT_KEY_SOURCES[1:]],
        "required_one_of": [ACCOUNT_KEY_SOURCES],
    }


def transport_warnings(directory_url: str, verify: bool | str) -> list[str]:
    """What a user must hear when nothing proves the CA is the CA: every answer it sends is then anyone's."""
    warnings = []
    if directory_url.lower().startswith("http://"):
        warnings.append(
            f"directory {directory_url} is plain http: anyone on the network path can answer as the CA (tokens, orders, "
            "certificates). Use the CA's https directory"
        )
    elif verify is False:
        warnings.append(
            "validate_certs is false: the ACME server's TLS certificate is not checked, so anyone on the network path can answer "
            "as the CA. Use it only for throwaway tests; for a private CA, set ca_path to the bundle that signs its certificate"
        )
    return warnings


def client_from_params(params: dict[str, Any], ansible_version: str = "", warn: Callable[[str], None] | None = None) -> AcmeClient:
    """One client for the run, with TLS trust exactly as the options say; ``warn`` hears when that trust is none."""
    directory_url = resolve_directory(params.get("directory"))
    ca_path = params.get("ca_path")
    if ca_path and not os.path.isfile(ca_path):
        raise AcmeOptionError("ca_path", f"ca_path {ca_path} is not a file; give the PEM bundle that signs the ACME server's certificate")
    if params.get("validate_certs") is False:
        verify: bool | str = False
    else:
        verify = ca_path or True
    if warn is not None:
        for text in transport_warnings(directory_url, verify):
            warn(text)
    request_timeout = params.get("request_timeout")
    request_timeout = DEFAULT_REQUEST_TIMEOUT if request_timeout is None else request_timeout
    check_request_timeout(request_timeout)
    retry_timeout = params.get("retry_timeout")
    retry_timeout = DEFAULT_RETRY_TIMEOUT if retry_timeout is None else retry_timeout
    if retry_timeout < 0:
        raise AcmeOptionError("retry_timeout", "retry_timeout must be zero (never wait) or more seconds")
    session_cache = None
    if params.get("session_cache"):
        max_age = params.get("session_cache_max_age")
        max_age = DEFAULT_MAX_AGE if max_age is None else max_age
        if max_age < 0:
            raise AcmeOptionError("session_cache_max_age", "session_cache_max_age must be zero (always fetch the directory) or more seconds")
        session_cache = SessionCache(params["session_cache"], directory_url, max_age=float(max_age))
    return AcmeClient(
        directory_url,
        verify=verify,
        request_timeout=float(request_timeout),
        retry_timeout=float(retry_timeout),
        user_agent_extra=f"ansible-core/{ansible_version}" if ansible_version else "",
        session_cache=session_cache,
    )


def load_account_key(params: dict[str, Any]) -> tuple[PrivateKey | None, Credentials | None, list[str]]:
    """The account key from ``account_key_content``, ``account_key_src`` or ``credentials_path``.

    Returns (key, credentials, warnings); key is None only for a credentials file
    that does not exist yet (``acme_account`` may create it).
    """
    passphrase = params.get("account_key_passphrase")
    if params.get("account_key_content"):
        key = load_private_key(params["account_key_content"], "account_key_content", passphrase, passphrase_option="account_key_passphrase")
        return key, None, []
    if params.get("account_key_src"):
        path = params["account_key_src"]
        state = read_state(path, "account_key_src")
        if not state.exists or state.content is None:
            raise AcmeOptionError(
                "account_key_src",
                f"account_key_src {path} does not exist; create a key there, or use credentials_path, which acme_account fills with a new key",
            )
        key = load_private_key(state.content, "account_key_src", passphrase, path=path, passphrase_option="account_key_passphrase")
        return key, None, open_to_others_warning("account_key_src", path, state.mode, "this collection never rewrites that file")
    credentials, warnings = load_credentials(params["credentials_path"])
    return (credentials.key if credentials else None), credentials, warnings


def account_from_params(params: dict[str, Any], client: AcmeClient, warn: Any = None) -> Account:
    """The registered account that signs this run's requests.

    Uses ``account_uri`` (option or credentials file) when known, so the run makes no
    lookup request; otherwise looks the key up once (``onlyReturnExisting``).
    """
    key, credentials, warnings = load_account_key(params)
    for warning in warnings:
        if warn:
            warn(warning)
    if key is None:
        raise AcmeOptionError(
            "credentials_path",
            f"credentials_path {params['credentials_path']} does not exist; create the account first with certfleet.acme.acme_account",
        )
    if credentials and credentials.directory and credentials.directory != client.directory_url:
        raise AcmeOptionError(
            "credentials_path",
            f"credentials_path {params['credentials_path']} belongs to {credentials.directory}, not {client.directory_url}; use one credentials file per CA",
        )
    account = Account(client, key, params.get("account_uri") or (credentials.account_uri if credentials else None))
    if account.uri is None:
        state = account.find()
        if state is None and credentials is not None:
            # acme_account saves a new key before registering it: a failed registration leaves such a file.
            raise AcmeOptionError(
                "credentials_path",
                f"credentials_path {params['credentials_path']} holds a key with no account at {client.directory_url} "
                "(its registration did not finish); run certfleet.acme.acme_account with it again",
            )
        if state is None:
            raise AcmeOptionError(
                "account_key_src" if params.get("account_key_src") else "account_key_content",
                f"no account exists for this key at {client.directory_url}; create it first with certfleet.acme.acme_account",
            )
        if state.status != Status.VALID:
            raise AcmeOptionError("account_uri", f"the account {state.uri} is {state.status}; it cannot order certificates")
    return account
