# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""docs/migrating.md: community.crypto's option names the modules take as aliases, and the before/after plays.

An alias is only given where community.crypto's option means exactly what ours does; this table is
the whole list, so an alias added without a line here (and in docs/migrating.md) fails. The two plays
of docs/migrating.md must be the files the migration integration target runs.
"""

from __future__ import annotations

import importlib
import pathlib
import pkgutil
from typing import Any

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.certfleet.acme.plugins import modules as modules_package

MODULES = sorted(info.name for info in pkgutil.iter_modules(modules_package.__path__))
SERVER = {"acme_directory": "directory"}
RENEWAL = {"remaining_days": "renew_before_days", "remaining_percentage": "renew_before_fraction", "use_ari": "ari"}
# module: {community.crypto's name: ours}; suboptions as "parent.name".
ALIASES: dict[str, dict[str, str]] = {
    "acme_account": {**SERVER, "contact": "contacts", "external_account_binding.key": "external_account_binding.hmac_key"},
    "acme_order": {**SERVER, "replaces_cert_id": "replaces"},
    "acme_challenge_proof": dict(SERVER),
    "acme_finalize": {
        **SERVER,
        "csr": "csr_path",
        "cert_dest": "cert_path",
        "dest": "cert_path",
        "chain_dest": "chain_path",
        "fullchain_dest": "fullchain_path",
    },
    "acme_certificate_info": {**SERVER, **RENEWAL, "certificate_path": "cert_path"},
    "acme_certificates": {**SERVER, **RENEWAL},
    "acme_webroot_tokens": {},
    "acme_nsupdate": {},
}
VALUES: dict[str, Any] = {
    "directory": "https://acme.example.com/directory",
    "contacts": ["mailto:ops@example.com"],
    "renew_before_days": 10,
    "renew_before_fraction": 0.25,
    "ari": False,
    "certificate_path": "/etc/ssl/example.com.crt",
}
MIGRATING = pathlib.Path(__file__).parents[4] / "docs" / "migrating.md"


def argument_spec(module: str) -> dict[str, Any]:
    return importlib.import_module(f"ansible_collections.certfleet.acme.plugins.modules.{module}").argument_spec()


def aliases_in(spec: dict[str, Any], prefix: str = "") -> dict[str, str]:
    found = {}
    for name, entry in spec.items():
        for alias in entry.get("aliases") or []:
            found[prefix + alias] = prefix + name
        if entry.get("options"):
            found.update(aliases_in(entry["options"], f"{prefix}{name}."))
    return found


def test_the_table_covers_every_module() -> None:
    assert sorted(ALIASES) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_the_aliases_are_the_table(module: str) -> None:
    assert aliases_in(argument_spec(module)) == ALIASES[module]


@pytest.mark.parametrize("module, alias, option", [(m, a, o) for m in MODULES for a, o in ALIASES[m].items() if "." not in a])
def test_an_alias_sets_the_option(module: str, alias: str, option: str) -> None:
    """Ansible's own argument validation puts a value given under the alias into the option."""
    spec = argument_spec(module)
    value = VALUES.get(option, "/etc/ssl/example.com.pem" if spec[option].get("type") == "path" else "some-value")
    required = {name: "/var/lib/certfleet/x" for name, entry in spec.items() if entry.get("required") and name != option}
    result = ArgumentSpecValidator(spec).validate({alias: value, **required})
    assert result.validated_parameters[option] == value


def test_the_eab_key_alias_sets_hmac_key() -> None:
    spec = argument_spec("acme_account")
    binding = {"kid": "kid-1", "key": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"}
    result = ArgumentSpecValidator(spec).validate({"external_account_binding": binding})
    assert result.validated_parameters["external_account_binding"]["hmac_key"] == binding["key"]


def test_migrating_md_names_every_alias() -> None:
    """docs/migrating.md maps community.crypto's options: each alias appears there as 'alias of'."""
    text = MIGRATING.read_text(encoding="utf-8")
    missing = sorted(
        {(alias.split(".")[-1], option.split(".")[-1]) for table in ALIASES.values() for alias, option in table.items()}
        - pairs_in(text)
    )
    assert missing == []


def pairs_in(text: str) -> set[tuple[str, str]]:
    """(alias, option) for each table row of docs/migrating.md that says "alias of `option`"."""
    pairs = set()
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and "alias of" in cells[1] and "`" in cells[0]:
            alias = cells[0].split("`")[1]
            option = cells[1].split("alias of", 1)[1].split("`")[1]
            pairs.add((alias, option))
    return pairs


TARGET = pathlib.Path(__file__).parents[3] / "integration" / "targets" / "migration"


def yaml_blocks(text: str) -> list[str]:
    """The text of every ```yaml block of a Markdown document."""
    blocks, current = [], None
    for line in text.splitlines(keepends=True):
        if current is None and line.strip() == "```yaml":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


@pytest.mark.parametrize("play", ["before.yml", "after.yml"])
def test_the_migration_target_runs_the_plays_of_migrating_md(play: str) -> None:
    """The before and after plays of docs/migrating.md are the files the migration target runs, byte for byte."""
    text = (TARGET / play).read_text(encoding="utf-8")
    assert text.startswith("---\n")
    assert text[len("---\n") :] in yaml_blocks(MIGRATING.read_text(encoding="utf-8"))
