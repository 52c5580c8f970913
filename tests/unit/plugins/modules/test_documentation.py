# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Every option is documented as the module takes it, and every shared option is documented once.

What a user reads (``ansible-doc``: DOCUMENTATION with its doc fragments merged in) must be what
the module accepts (``argument_spec()``): the same names, types, defaults, choices, elements and
required flags, suboptions included. Each doc fragment mirrors one argument spec group of
``argspec.py``, and an option that several modules take comes from one fragment in all of them,
unless the modules mean different things by its name (``DIFFERENT_MEANINGS``); those keep their own
descriptions, which must then differ.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import defaultdict
from typing import Any, Callable

import pytest
import yaml

from ansible_collections.certfleet.acme.plugins import modules as modules_package
from ansible_collections.certfleet.acme.plugins.doc_fragments.acme import ModuleDocFragment
from ansible_collections.certfleet.acme.plugins.module_utils._acme import argspec

MODULES = sorted(info.name for info in pkgutil.iter_modules(modules_package.__path__))
FRAGMENT_PREFIX = "certfleet.acme.acme."
# Each fragment that documents options, and the argument spec group it mirrors.
FRAGMENT_GROUPS: dict[str, Callable[[], dict[str, dict[str, Any]]]] = {
    "server": argspec.server_argument_spec,
    "account": argspec.account_argument_spec,
    "account_unused": argspec.account_argument_spec,
    "state_lock": argspec.state_lock_argument_spec,
    "order_uri": argspec.order_uri_argument_spec,
    "renewal": argspec.renewal_decision_argument_spec,
    "self_test": argspec.validation_argument_spec,
    "wait": argspec.wait_argument_spec,
    "certificate_files": argspec.certificate_files_argument_spec,
    "order_choices": argspec.order_choices_argument_spec,
}
# Names several modules take with a different meaning, so each documents its own (and says how it differs).
# acme_certificate_info takes the account options only so that the acme group's module_defaults apply to it.
UNUSED_ACCOUNT = "acme_certificate_info accepts it for the acme group's module_defaults and uses no account"
DIFFERENT_MEANINGS = {
    "account_key_content": UNUSED_ACCOUNT,
    "account_key_passphrase": UNUSED_ACCOUNT,
    "account_key_src": UNUSED_ACCOUNT,
    "account_uri": UNUSED_ACCOUNT,
    "credentials_path": UNUSED_ACCOUNT,
    "cert_path": "acme_certificate_info reads it, acme_order compares it with cert_serial, acme_finalize writes it",
    "challenge": "acme_order defaults to http-01; acme_challenge_proof and acme_certificates take the type recorded with the order",
    "group": "the certificate files of acme_finalize and acme_certificates; the token files of acme_webroot_tokens",
    "identifiers": "required names to order in acme_order; optional names to compare in acme_certificate_info",
    "key_type": "the account key of acme_account (P-521 allowed); certificate keys elsewhere",
    "mode": "the certificate files of acme_finalize and acme_certificates; the token files of acme_webroot_tokens",
    "order_uri": "acme_order resumes it instead of creating an order; the later steps work on it",
    "owner": "the certificate files of acme_finalize and acme_certificates; the token files of acme_webroot_tokens",
    "private_key_path": "acme_certificate_info only compares public keys; acme_finalize generates and writes the key",
    "state": "what acme_account, acme_nsupdate and acme_webroot_tokens make present or absent",
    "state_path": "acme_order records the order, acme_challenge_proof its validation, acme_finalize removes it",
}
# What a spec entry may hold; anything else would go unchecked here.
SPEC_KEYS = {"type", "default", "choices", "elements", "required", "no_log", "options", "aliases"}
DOC_KEYS = {"description", "type", "default", "choices", "elements", "required", "suboptions", "version_added", "aliases"}
# O(name) and RV(name) without a plugin: they must name an option or return value of the module showing them.
# (Markup naming another plugin, as in O(certfleet.acme.acme_order#module:state_path), has a '#' and is left out.)
OPTION_MARKUP = re.compile(r"\bO\(([a-z_][a-z0-9_]*)[^)#]*\)")
RETURN_MARKUP = re.compile(r"\bRV\(([a-z_][a-z0-9_]*)[^)#]*\)")


def load_module(name: str) -> Any:
    return importlib.import_module(f"ansible_collections.certfleet.acme.plugins.modules.{name}")


def fragment(name: str) -> dict[str, Any]:
    text = getattr(ModuleDocFragment, name.upper(), None)
    assert isinstance(text, str), f"no doc fragment {FRAGMENT_PREFIX}{name} in plugins/doc_fragments/acme.py"
    return yaml.safe_load(text)


def fragment_names() -> list[str]:
    return sorted(attr.lower() for attr, value in vars(ModuleDocFragment).items() if attr.isupper() and isinstance(value, str))


def module_fragments(doc: dict[str, Any]) -> list[str]:
    names = doc.get("extends_documentation_fragment") or []
    assert all(name.startswith(FRAGMENT_PREFIX) for name in names), names
    return [name[len(FRAGMENT_PREFIX) :] for name in names]


def documented_options(name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The options ansible-doc shows for module ``name`` and, by option, where each is described ('' = the module)."""
    doc = yaml.safe_load(load_module(name).DOCUMENTATION)
    options = dict(doc.get("options") or {})
    source = dict.fromkeys(options, "")
    for fragment_name in module_fragments(doc):
        for option, entry in (fragment(fragment_name).get("options") or {}).items():
            # ansible would let the module's own entry win; a shared option described twice is what this test forbids.
            assert option not in source, f"{name}: {option} is described by {source[option] or 'the module'} and by fragment {fragment_name}"
            options[option] = entry
            source[option] = fragment_name
    return options, source


def mismatches(spec: dict[str, dict[str, Any]], docs: dict[str, dict[str, Any]], where: str) -> list[str]:
    """Every difference between an argument spec and the documented options, suboptions included."""
    problems = []
    for option in sorted(set(spec) | set(docs)):
        path = f"{where}{option}"
        if option not in docs:
            problems.append(f"{path}: taken but not documented")
            continue
        if option not in spec:
            problems.append(f"{path}: documented but not taken")
            continue
        taken, shown = spec[option], docs[option]
        problems += [f"{path}: spec key {key} is not checked here" for key in set(taken) - SPEC_KEYS]
        problems += [f"{path}: doc key {key} is not checked here" for key in set(shown) - DOC_KEYS]
        if not shown.get("description"):
            problems.append(f"{path}: no description")
        expected = {
            "type": taken.get("type", "str"),
            "default": taken.get("default"),
            "choices": taken.get("choices"),
            "elements": taken.get("elements"),
            "required": taken.get("required", False),
            "aliases": taken.get("aliases"),
        }
        seen = {
            "type": shown.get("type", "str"),
            "default": shown.get("default"),
            "choices": shown.get("choices"),
            "elements": shown.get("elements"),
            "required": shown.get("required", False),
            "aliases": shown.get("aliases"),
        }
        for key in expected:
            if expected[key] != seen[key]:
                problems.append(f"{path}: {key} is {expected[key]!r} in the argument spec but {seen[key]!r} in the docs")
        if "options" in taken or "suboptions" in shown:
            problems += mismatches(taken.get("options") or {}, shown.get("suboptions") or {}, f"{path}.")
    return problems


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_are_the_argument_spec(name: str) -> None:
    options = documented_options(name)[0]
    assert mismatches(load_module(name).argument_spec(), options, f"{name}: ") == []


@pytest.mark.parametrize("name", sorted(FRAGMENT_GROUPS))
def test_each_fragment_mirrors_its_argument_spec_group(name: str) -> None:
    assert mismatches(FRAGMENT_GROUPS[name](), fragment(name)["options"], f"{FRAGMENT_PREFIX}{name}: ") == []


def test_every_fragment_with_options_has_its_group() -> None:
    with_options = {name for name in fragment_names() if fragment(name).get("options")}
    assert with_options == set(FRAGMENT_GROUPS)


def test_every_fragment_with_options_is_used() -> None:
    used = {name for module in MODULES for name in module_fragments(yaml.safe_load(load_module(module).DOCUMENTATION))}
    assert set(FRAGMENT_GROUPS) <= used


def shared_options() -> dict[str, dict[str, tuple[str, Any]]]:
    """Top-level options that more than one module takes: by name, each module's (source, entry)."""
    found: dict[str, dict[str, tuple[str, Any]]] = defaultdict(dict)
    for module in MODULES:
        options, source = documented_options(module)
        for option, entry in options.items():
            found[option][module] = (source[option], entry)
    return {option: by_module for option, by_module in found.items() if len(by_module) > 1}


def test_a_shared_option_is_described_once_unless_its_meanings_differ() -> None:
    problems = []
    for option, by_module in sorted(shared_options().items()):
        sources = {pair[0] for pair in by_module.values()}
        if option in DIFFERENT_MEANINGS:
            own = [entry["description"] for source, entry in by_module.values() if not source]
            described = own + [fragment(source)["options"][option]["description"] for source in sources if source]
            if len(described) != len({yaml.safe_dump(description) for description in described}):
                problems.append(f"{option}: {DIFFERENT_MEANINGS[option]}, yet two of its descriptions are the same text")
        elif len(sources) != 1 or "" in sources:
            places = ", ".join(f"{module} ({by_module[module][0] or 'its own'})" for module in sorted(by_module))
            problems.append(f"{option} is taken by {places}: describe it once, in one doc fragment")
    assert problems == []


def test_the_list_of_different_meanings_holds_only_shared_options() -> None:
    assert set(DIFFERENT_MEANINGS) <= set(shared_options())


def test_a_shared_option_is_secret_in_every_module_or_in_none() -> None:
    no_log: dict[str, set[bool]] = defaultdict(set)
    for module in MODULES:
        for option, entry in load_module(module).argument_spec().items():
            no_log[option].add(bool(entry.get("no_log")))
    assert {option for option, flags in no_log.items() if len(flags) > 1} == set()


@pytest.mark.parametrize("name", sorted(FRAGMENT_GROUPS))
def test_a_fragment_names_only_what_every_module_using_it_has(name: str) -> None:
    """A fragment is shown on every page that extends it: O() and RV() there must exist on each of them."""
    text = getattr(ModuleDocFragment, name.upper())
    for module in MODULES:
        loaded = load_module(module)
        if name not in module_fragments(yaml.safe_load(loaded.DOCUMENTATION)):
            continue
        options = documented_options(module)[0]
        returns = set(yaml.safe_load(loaded.RETURN) or {})
        assert set(OPTION_MARKUP.findall(text)) - set(options) == set(), f"{name} names options {module} lacks"
        assert set(RETURN_MARKUP.findall(text)) - returns == set(), f"{name} names return values {module} lacks"


def test_the_checker_sees_a_difference() -> None:
    """The comparison is not vacuous: each kind of drift is reported."""
    spec = {"a": {"type": "int", "default": 1}, "b": {"type": "list", "elements": "str", "options": {"c": {"type": "str", "choices": ["x"]}}}}
    docs = {
        "a": {"description": "A.", "type": "int", "default": 2},
        "b": {"description": "B.", "type": "list", "elements": "str", "suboptions": {"c": {"description": "C.", "type": "str", "choices": ["y"]}}},
        "d": {"description": "D.", "type": "str"},
    }
    assert mismatches(spec, docs, "") == [
        "a: default is 1 in the argument spec but 2 in the docs",
        "b.c: choices is ['x'] in the argument spec but ['y'] in the docs",
        "d: documented but not taken",
    ]
