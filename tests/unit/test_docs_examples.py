# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The documentation's examples, checked without the test bed: each parses, each marker is known.

The docs_examples integration target runs them; this catches a broken block in seconds.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("docs_examples", ROOT / "tests/integration/targets/docs_examples/examples.py")
assert _SPEC is not None and _SPEC.loader is not None
examples = importlib.util.module_from_spec(_SPEC)
sys.modules["docs_examples"] = examples  # dataclasses look their module up there
_SPEC.loader.exec_module(examples)


def test_every_example_parses_and_every_marker_is_known():
    found = examples.all_examples(ROOT)
    assert examples.check(found) == []
    # Every module and the README have examples that run, not skips.
    runnable = {example.source for example in found if example.skip_reason is None}
    assert "README.md" in runnable
    assert {str(p.relative_to(ROOT)) for p in (ROOT / "plugins/modules").glob("acme_*.py")} <= runnable


def test_a_skip_needs_a_reason(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "roles").mkdir()
    (tmp_path / "plugins/modules").mkdir(parents=True)
    (tmp_path / "README.md").write_text("<!-- example: skip -->\n```yaml\n- hosts: all\n```\n", encoding="utf-8")
    problems = examples.check(examples.all_examples(tmp_path))
    assert problems == ["README.md:2: unknown marker 'skip'"]


def test_a_block_that_is_no_playbook_must_say_so(tmp_path):
    (tmp_path / "README.md").write_text("```yaml\nrenew_before_days: 0\n```\n", encoding="utf-8")
    found = examples.markdown_examples(tmp_path, "README.md")
    assert len(examples.check(found)) == 1 and "skip (why)" in examples.check(found)[0]


def play_of(text: str, marker: str = "") -> dict:
    return examples.as_playbook(examples.Example("README.md", 1, text, marker))[0]


def test_the_ca_names_and_paths_are_the_beds():
    play = play_of(
        "- name: Account\n"
        "  certfleet.acme.acme_account:\n"
        "    directory: letsencrypt\n"
        "    credentials_path: /etc/certfleet/letsencrypt.json\n"
        "    contacts: [mailto:ops@example.com]\n"
        "- name: Tokens\n"
        "  certfleet.acme.acme_webroot_tokens: {webroot: /var/www/html, proofs: []}\n"
        "  delegate_to: web2.example.com\n"
    )
    account, tokens = play["tasks"]
    assert play["hosts"] == "localhost"
    assert account["certfleet.acme.acme_account"] == {
        "directory": "{{ acme_directory }}",
        "credentials_path": "{{ example_root }}/etc/certfleet/letsencrypt.json",
        "contacts": ["mailto:ops@fleet.test"],
    }
    assert tokens["certfleet.acme.acme_webroot_tokens"]["webroot"] == "{{ hostvars[example_node | default(inventory_hostname)].fleet_webroot }}"
    assert tokens["vars"] == {"example_node": "web2.fleet.test"}
    # The default directory (staging) is the bed's too, unless the example's play sets one.
    assert play["module_defaults"]["group/certfleet.acme.acme"] == {"directory": "{{ acme_directory }}"}


def test_a_block_keeps_its_own_module_defaults_and_gets_the_beds_dns():
    play = play_of(
        "- name: Batch\n"
        "  module_defaults:\n"
        "    certfleet.acme.acme_nsupdate: {server: ns1.example.com, key_name: certfleet, port: 5353}\n"
        "  block:\n"
        "    - {name: Publish, certfleet.acme.acme_nsupdate: {records: []}}\n"
    )
    defaults = play["tasks"][0]["module_defaults"]["certfleet.acme.acme_nsupdate"]
    assert defaults == {"server": "{{ bind_server }}", "key_name": "{{ tsig_key_name }}", "port": 5353}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/etc/nginx/tls/www.example.com", "{{ fleet_tls_dir }}"),
        ("/etc/nginx/tls/apps.example.com", "{{ fleet_site_dirs.apps }}"),
        ("https://acme-v02.api.letsencrypt.org/directory", "{{ acme_directory }}"),
        ("/srv/certfleet/www/order.json", "{{ example_root }}/srv/certfleet/www/order.json"),
        ("{{ playbook_dir }}/publish.yml", "{{ playbook_dir }}/publish.yml"),
        ("*.apps.example.com", "*.apps.fleet.test"),
    ],
)
def test_substitutions(value, expected):
    assert examples.substitute(value) == expected


def test_continues_adds_tasks_to_the_play_before():
    before = examples.Example("README.md", 1, "- hosts: web\n  tasks:\n    - {name: One, ansible.builtin.ping: {}}\n", "")
    after = examples.Example("README.md", 9, "- {name: Two, ansible.builtin.ping: {}}\n", "continues", before=before)
    plays = examples.as_playbook(after)
    assert [task["name"] for task in plays[-1]["tasks"]] == ["One", "Two"]


def test_a_task_of_examples_marked_skip_is_left_out_and_the_next_one_kept():
    text = "- name: A\n  x: 1\n\n# example: skip (needs a vault)\n- name: B\n  y:\n    z: 2\n\n- name: C\n  w: 3\n"
    assert [task["name"] for task in yaml.safe_load(examples.without_skipped_tasks(text))] == ["A", "C"]


def module_tasks(node, found):
    """Every (module, options) of an example: tasks and module_defaults, in blocks too."""
    if isinstance(node, list):
        for item in node:
            module_tasks(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("certfleet.acme.acme_") and isinstance(value, dict):
                found.append((key.rsplit(".", 1)[1], value))
            elif isinstance(value, (list, dict)):
                module_tasks(value, found)
    return found


def every_example_text():
    """Every example's text: every block of every page (skipped ones, task files and host variables
    included), each module's EXAMPLES with its skipped tasks, and each filter's EXAMPLES."""
    for relative in examples.markdown_files(ROOT):
        for block in examples.markdown_blocks(ROOT, relative):
            yield block.name, block.text
    for relative in examples.module_files(ROOT):
        yield relative, examples.examples_text(ROOT, relative)[1]
    for path in sorted((ROOT / "plugins/filter").glob("*.yml")):
        yield str(path.relative_to(ROOT)), yaml.safe_load(path.read_text(encoding="utf-8"))["EXAMPLES"]


def test_every_option_an_example_gives_a_module_is_one_of_its_options():
    """Examples a test cannot run (skipped with a reason) still break here when an option is renamed."""
    import importlib

    wrong = []
    for name, text in every_example_text():
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        for module, options in module_tasks(data, []):
            spec = importlib.import_module(f"ansible_collections.certfleet.acme.plugins.modules.{module}").argument_spec()
            known = set(spec) | {alias for option in spec.values() for alias in option.get("aliases", [])}
            wrong += [f"{name}: {module} has no option {option}" for option in options if option not in known]
    assert wrong == []


def test_every_filter_an_example_uses_is_one_the_collection_offers():
    """Filter examples are not run on the bed; a renamed filter still breaks here."""
    from ansible_collections.certfleet.acme.plugins.filter.roles import FilterModule

    offered = set(FilterModule().filters())
    used = {(name, filter_name) for name, text in every_example_text() for filter_name in re.findall(r"\|\s*certfleet\.acme\.(\w+)", text)}
    assert len(used) >= 10  # the filters' own examples use each of them
    assert sorted(f"{name}: {filter_name}" for name, filter_name in used if filter_name not in offered) == []
