# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Every option of every module that can hold a secret is ``no_log``, nested options included.

Two ways to fail: an option named like a secret without ``no_log``, and a secret this test knows
that a module no longer marks (the list below is the documented set of secret options).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import pytest

from ansible_collections.certfleet.acme.plugins import modules as modules_package

MODULES = sorted(info.name for info in pkgutil.iter_modules(modules_package.__path__))
# Names that hold a secret: keys, passphrases, HMAC and TSIG secrets, passwords, tokens.
SECRET_NAME = re.compile(r"(secret|passphrase|password|hmac_key|key_content|token_value)")
# The secret options each module documents (docs/security.md), as dotted paths.
KNOWN_SECRETS = {
    "acme_account": {
        "account_key_content",
        "account_key_passphrase",
        "new_account_key_content",
        "new_account_key_passphrase",
        "external_account_binding.hmac_key",
    },
    "acme_certificate_info": {"private_key_passphrase", "account_key_content", "account_key_passphrase"},
    "acme_certificates": {"account_key_content", "account_key_passphrase"},
    "acme_challenge_proof": {"account_key_content", "account_key_passphrase"},
    "acme_finalize": {"account_key_content", "account_key_passphrase"},
    "acme_nsupdate": {"key_secret"},
    "acme_order": {"account_key_content", "account_key_passphrase"},
    "acme_webroot_tokens": set(),
}


def options(spec: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every option of ``spec`` by dotted path, suboptions included."""
    found: dict[str, dict[str, Any]] = {}
    for name, option in spec.items():
        path = f"{prefix}{name}"
        found[path] = option
        if isinstance(option.get("options"), dict):
            found.update(options(option["options"], f"{path}."))
    return found


def test_every_module_is_listed():
    assert MODULES == sorted(KNOWN_SECRETS)


@pytest.mark.parametrize("name", MODULES)
def test_every_secret_option_is_no_log(name):
    module = importlib.import_module(f"ansible_collections.certfleet.acme.plugins.modules.{name}")
    spec = options(module.argument_spec())
    named_like_a_secret = {path for path in spec if SECRET_NAME.search(path.rsplit(".", 1)[-1])}
    no_log = {path for path, option in spec.items() if option.get("no_log")}
    assert KNOWN_SECRETS[name] <= set(spec), f"{name} lost options this test knows: {KNOWN_SECRETS[name] - set(spec)}"
    assert named_like_a_secret | KNOWN_SECRETS[name] <= no_log, f"{name}: secret options without no_log: {(named_like_a_secret | KNOWN_SECRETS[name]) - no_log}"
    # no_log on what is not a secret hides what users need to see in -vvv output.
    assert no_log <= named_like_a_secret | KNOWN_SECRETS[name], f"{name}: no_log on options that are not secrets: {no_log - named_like_a_secret}"
