# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The core's layers (docs/development.md): each file imports only its own layer or those below, without cycles.

A new file in ``_acme/`` fails here until it is given a layer; an import upwards (a wire
object reaching for the HTTP client, a run reaching for the module glue) or a cycle fails too.
"""

from __future__ import annotations

import ast
import os
from graphlib import CycleError, TopologicalSorter

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils import _acme

CORE = os.path.dirname(_acme.__file__)
LAYERS = [
    # 0: building blocks with no knowledge of ACME's objects
    {"errors", "encoding", "times", "version", "retry_after", "results", "identifiers", "storage", "keys", "jws"},
    # 1: wire objects: what the CA sends and what is published for it
    {"messages", "challenges", "certs"},
    # 2: the HTTP client and what it keeps between module runs
    {"session_cache", "client"},
    # 3: requests and checks on the CA, web roots and DNS servers
    {"account", "order_requests", "issuance_record", "renewal", "selftest", "webroot", "dnsupdate"},
    # 4: the runs, their options and their state file
    {"argspec", "chain_options", "order_state", "runs", "order_run", "validate_run", "finalize_run", "account_run", "batch_run"},
    # 5: the module glue, the only code that touches AnsibleModule
    {"module_glue", "task_exit"},
]
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}
CORE_PACKAGE = "ansible_collections.certfleet.acme.plugins.module_utils._acme"


def core_files() -> list[str]:
    return sorted(name[:-3] for name in os.listdir(CORE) if name.endswith(".py") and name != "__init__.py")


def imports_of(name: str) -> tuple[set[str], set[str]]:
    """The core files ``name`` imports, and the Ansible modules it imports."""
    with open(os.path.join(CORE, f"{name}.py"), encoding="utf-8") as source:
        tree = ast.parse(source.read())
    core: set[str] = set()
    ansible: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == CORE_PACKAGE:
                core.update(alias.name for alias in node.names)
            elif node.module.startswith(CORE_PACKAGE + "."):
                core.add(node.module.rsplit(".", 1)[1])
            elif node.module.startswith("ansible."):
                ansible.add(node.module)
        elif isinstance(node, ast.Import):
            ansible.update(alias.name for alias in node.names if alias.name.startswith("ansible."))
    return core, ansible


def test_every_core_file_has_a_layer():
    assert sorted(set(core_files()) - set(LAYER_OF)) == []
    assert sorted(set(LAYER_OF) - set(core_files())) == []


@pytest.mark.parametrize("name", core_files())
def test_imports_go_down_or_sideways_only(name):
    core = imports_of(name)[0]
    upwards = sorted(other for other in core if LAYER_OF[other] > LAYER_OF[name])
    assert upwards == [], f"{name} (layer {LAYER_OF[name]}) imports from a higher layer"


@pytest.mark.parametrize("name", core_files())
def test_only_the_glue_touches_ansible(name):
    ansible = imports_of(name)[1]
    if name == "module_glue":
        assert ansible, "module_glue is where AnsibleModule is used"
    else:
        assert sorted(ansible) == []


def test_no_import_cycles():
    graph = {name: imports_of(name)[0] for name in core_files()}
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:  # pragma: no cover - the failure message is the point
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")
