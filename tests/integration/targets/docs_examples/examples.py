#!/usr/bin/env python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Every playbook example of the collection's documentation, found, made to fit the test bed, and run.

Examples are the ```yaml blocks of README.md, docs/*.md and roles/*/README.md, and the EXAMPLES of
every module. A block is a playbook (plays with ``hosts``) or a task list (run as one play on
localhost); a module's EXAMPLES are one task list. A comment on the line before a block says how
to run it, ``<!-- example: WORDS -->`` (in EXAMPLES: a first line ``# example: WORDS``):

- ``skip (reason)``: not a playbook on its own (a return value, a fragment); the reason is required;
- ``rerun unchanged``: run twice; the second run must change nothing;
- ``hosts PATTERN``: a task list for a play on those hosts instead of localhost;
- ``continues``: a task list that runs as more tasks of the last play of the block before it, as a
  reader who adds them to that playbook would;
- ``host_vars HOST``: host variables, set for HOST when the next block of the file runs;
- ``file NAME``: a task file, written as NAME beside the playbook of the next block of the file.

In EXAMPLES, ``# example: skip (reason)`` on the line before one task leaves that task out.

The examples are written for a real fleet (Let's Encrypt's staging CA, names under example.com,
/etc and /var paths, hosts in group ``web``); BY_OPTION, SUBSTITUTIONS and BED_DEFAULTS turn them
into the test bed's CA, zone, nodes and a scratch root, in one visible table. Nothing else about an
example is changed.

Usage: examples.py list ROOT | examples.py run ROOT CONFIG WORK [NAME-FILTER]
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MARKER = re.compile(r"<!--\s*example:\s*(?P<what>.*?)\s*-->\s*$")
EXAMPLES_MARKER = re.compile(r"^#\s*example:\s*(?P<what>.*)$")
FENCE = re.compile(r"^```ya?ml\n(?P<body>.*?)^```", re.S | re.M)
NGINX_FENCE = re.compile(r"^```nginx\n(?P<body>.*?)^```", re.S | re.M)

# (pattern, replacement), applied in order to every string of an example (after YAML parsing, so
# values stay values). Each line says why.
SUBSTITUTIONS: list[tuple[str, str]] = [
    # The CA: a Let's Encrypt URL becomes the bed's Pebble (its TLS CA comes from
    # REQUESTS_CA_BUNDLE, which the runner sets, so examples need no ca_path). The presets are
    # replaced only as the value of a ...directory option (BY_OPTION).
    (r"^https://acme-(?:staging-)?v02\.api\.letsencrypt\.org/directory$", "{{ acme_directory }}"),
    # A CA that requires external account binding is the bed's second Pebble (eab_kid, eab_hmac_key).
    (r"^https://acme\.example\.com/directory$", "{{ acme_eab_directory }}"),
    # The DNS server of the bed's BIND (by name, or by documentation address, RFC 5737).
    (r"^(?:ns1\.example\.com|192\.0\.2\.53)$", "{{ bind_server }}"),
    # Each web node's own document root and TLS server folders. A delegated task's node is its
    # delegate_to (the runner sets example_node from it).
    (r"^/var/www/html", "{{ hostvars[example_node | default(inventory_hostname)].fleet_webroot }}"),
    (r"^/etc/nginx/tls/(?:www\.)?example\.com$", "{{ fleet_tls_dir }}"),
    (r"^/etc/nginx/tls/(apps|api)\.example\.com$", r"{{ fleet_site_dirs.\1 }}"),
    # Names: the bed's zone is fleet.test (www and the apex resolve to every node).
    (r"\bexample\.com\b", "fleet.test"),
    # Every other system path lands in the example's scratch root.
    (r"(?<![\w.}/~-])/(etc|var|srv|opt)/", r"{{ example_root }}/\1/"),
]
# The folders a Debian host has, made in each example's scratch root; not the collection's own
# (/var/lib/certfleet, /etc/certfleet): those the modules and roles must create themselves.
SYSTEM_FOLDERS: list[tuple[str, int]] = [
    ("etc/ssl/certs", 0o755), ("etc/ssl/private", 0o710), ("etc/nginx", 0o755), ("var/lib", 0o755), ("srv", 0o755), ("opt", 0o755),
]  # fmt: skip
# What the bed needs in place of a real fleet's defaults, set in every play's module_defaults unless
# the example sets them itself: the default directory is Let's Encrypt's staging CA; DNS self-tests
# look for the zone's authoritative servers, which the system resolver does not know (the bed's
# BIND does); the bed's BIND answers on its own port, not 53. Names resolve as on a real fleet:
# examples run with an /etc/hosts of their own (bed_hosts) that maps the bed's names to its nodes.
BED_DEFAULTS: dict[str, dict[str, str]] = {
    "group/certfleet.acme.acme": {"directory": "{{ acme_directory }}"},
    "certfleet.acme.acme_challenge_proof": {"dns_resolvers": "{{ [fleet_dns] }}"},
    "certfleet.acme.acme_certificates": {"dns_resolvers": "{{ [fleet_dns] }}"},
    "certfleet.acme.acme_nsupdate": {"port": "{{ bind_port | int }}"},
}
# Runs a command with a file bind-mounted over /etc/hosts in a mount namespace of its own (root):
# the machine's /etc/hosts is not touched.
WITH_HOSTS = ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"']
PRESETS = re.compile(r"^letsencrypt(?:_staging)?$")
# Values replaced by the option they are given to: (key suffix, value pattern, replacement).
BY_OPTION: list[tuple[str, re.Pattern[str], str]] = [
    # Any preset CA is the bed's Pebble.
    ("directory", PRESETS, "{{ acme_directory }}"),
    # Any literal TSIG key name is the bed's key (its secret comes as vault_tsig_secret).
    ("key_name", re.compile(r"^[\w.-]+$"), "{{ tsig_key_name }}"),
]


@dataclass
class Example:
    """One example: where it is, what it is, and what its marker asks."""

    source: str
    line: int
    text: str
    marker: str
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    before: Example | None = None

    @property
    def name(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        match = re.fullmatch(r"skip\s*\((?P<reason>.+)\)", self.marker)
        return match.group("reason") if match else None

    @property
    def rerun_unchanged(self) -> bool:
        return self.marker == "rerun unchanged"

    @property
    def hosts(self) -> str:
        match = re.fullmatch(r"hosts\s+(?P<pattern>\S+)", self.marker)
        return match.group("pattern") if match else "localhost"

    @property
    def file_name(self) -> str | None:
        match = re.fullmatch(r"file\s+(?P<name>[\w.-]+)", self.marker)
        return match.group("name") if match else None

    @property
    def host_vars_of(self) -> str | None:
        match = re.fullmatch(r"host_vars\s+(?P<host>\S+)", self.marker)
        return match.group("host") if match else None


def markdown_files(root: Path) -> list[str]:
    """The documentation pages, relative to ``root``: README.md, docs/*.md and each role's README.md."""
    pages = ["README.md"] + sorted(str(p.relative_to(root)) for p in (root / "docs").glob("*.md"))
    return pages + sorted(str(p.relative_to(root)) for p in (root / "roles").glob("*/README.md"))


def markdown_blocks(root: Path, relative: str, fence: re.Pattern[str] = FENCE) -> list[Example]:
    """Every block of one markdown file that ``fence`` finds, each with the marker on the line before it."""
    text = (root / relative).read_text(encoding="utf-8")
    found = []
    for match in fence.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.match(before.strip())
        found.append(Example(relative, line, match.group("body"), marker.group("what") if marker else ""))
    return found


def markdown_examples(root: Path, relative: str) -> list[Example]:
    """The ```yaml examples of one markdown file, with the host variables and task files of the blocks before them."""
    found = markdown_blocks(root, relative)
    for previous, example in zip(found, found[1:]):
        if example.marker == "continues":
            example.before = previous
    for vars_block, following in zip(found, found[1:]):
        if vars_block.host_vars_of:
            host = substitute(vars_block.host_vars_of)
            following.host_vars[host] = substitute(yaml.safe_load(vars_block.text))
    for file_block, following in zip(found, found[1:]):
        if file_block.file_name:
            following.files[file_block.file_name] = file_block.text
            following.files.update(file_block.files)
    return [example for example in found if not example.host_vars_of and not example.file_name]


def examples_text(root: Path, relative: str) -> tuple[int, str]:
    """A module's EXAMPLES string as written (skipped tasks included), with its line."""
    tree = ast.parse((root / relative).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "EXAMPLES" for t in node.targets):
            return node.lineno, ast.literal_eval(node.value)
    raise ValueError(f"{relative} has no EXAMPLES")


def module_example(root: Path, relative: str) -> Example:
    """A module's EXAMPLES as one task list, without the tasks marked skip."""
    line, text = examples_text(root, relative)
    marker = EXAMPLES_MARKER.match(text.strip().split("\n", 1)[0])
    return Example(relative, line, without_skipped_tasks(text), marker.group("what") if marker else "")


def module_files(root: Path) -> list[str]:
    """The modules, relative to ``root``."""
    return sorted(str(p.relative_to(root)) for p in (root / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")


SKIPPED_TASK = re.compile(r"(?m)^#\s*example:\s*skip\s*\((?P<reason>.+)\)\n(?:#.*\n)*- [^\n]*\n(?:  [^\n]*\n|\n)*")


def without_skipped_tasks(text: str) -> str:
    """EXAMPLES without the tasks marked ``# example: skip (reason)`` on the line before them.

    A task skipped this way needs what the bed cannot give (an account another tool registered);
    the reason says which test covers it instead.
    """
    return SKIPPED_TASK.sub("", text)


def all_examples(root: Path) -> list[Example]:
    """Every example of the collection, in a stable order."""
    found = [example for relative in markdown_files(root) for example in markdown_examples(root, relative)]
    return found + [module_example(root, relative) for relative in module_files(root)]


def substitute(data: Any, key: str = "") -> Any:
    """The example with the bed's CA, names, nodes and paths (BY_OPTION, then SUBSTITUTIONS)."""
    if isinstance(data, dict):
        return {substitute(k): substitute(v, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute(item, key) for item in data]
    if not isinstance(data, str):
        return data
    for suffix, value, replacement in BY_OPTION:
        if key.endswith(suffix) and value.match(data):
            return replacement
    for pattern, replacement in SUBSTITUTIONS:
        data = re.sub(pattern, replacement, data)
    return data


def as_playbook(example: Example) -> list[dict[str, Any]]:
    """The example as plays: a playbook as it is, a task list as one play on localhost."""
    data = substitute(yaml.safe_load(example.text))
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
        raise ValueError(f"{example.name}: neither a playbook nor a task list; mark it '<!-- example: skip (why) -->'")
    if example.before is not None:
        if any("hosts" in item for item in data):
            raise ValueError(f"{example.name}: continues the example before it, so it must be a task list")
        plays = as_playbook(example.before)
        plays[-1].setdefault("tasks", []).extend(data)
    elif all("hosts" in item for item in data):
        plays = data
    elif any("hosts" in item for item in data):
        raise ValueError(f"{example.name}: mixes plays and tasks")
    else:
        plays = [{"name": f"Example {example.name}", "hosts": example.hosts, "gather_facts": False, "tasks": data}]
    for play in plays:
        add_bed_defaults(play.setdefault("module_defaults", {}), everywhere=True)
        fit_tasks(walk_tasks(play))
    return plays


def fit_tasks(tasks: list[dict[str, Any]]) -> None:
    """The bed's module defaults in blocks, and the node of each delegated task as example_node."""
    for task in tasks:
        # A block's module_defaults for a module replace the play's for it, so they get them too.
        add_bed_defaults(task.get("module_defaults") or {}, everywhere=False)
        if "delegate_to" in task:
            task.setdefault("vars", {})["example_node"] = task["delegate_to"]


def add_bed_defaults(defaults: dict[str, Any], everywhere: bool) -> None:
    """BED_DEFAULTS into module_defaults: all of them (a play), or for the modules it names (a block)."""
    for module, options in BED_DEFAULTS.items():
        if everywhere or module in defaults:
            for option, value in options.items():
                defaults.setdefault(module, {}).setdefault(option, value)


def walk_tasks(node: Any) -> list[dict[str, Any]]:
    """Every task of a play, blocks included."""
    tasks: list[dict[str, Any]] = []
    for key in ("pre_tasks", "tasks", "post_tasks", "handlers", "block", "rescue", "always"):
        for task in node.get(key) or [] if isinstance(node, dict) else []:
            if isinstance(task, dict):
                tasks.append(task)
                tasks.extend(walk_tasks(task))
    return tasks


def check(examples: list[Example]) -> list[str]:
    """Problems that need no test bed: unparsable blocks, unknown markers, skips without reason."""
    problems = []
    for example in examples:
        if example.marker and example.skip_reason is None and example.marker not in ("rerun unchanged", "continues") and example.hosts == "localhost":
            problems.append(f"{example.name}: unknown marker {example.marker!r}")
        if example.skip_reason is None:
            try:
                as_playbook(example)
            except (ValueError, yaml.YAMLError) as error:
                problems.append(f"{example.name}: {error}")
    return problems


def bed_inventory(config: dict[str, Any], work: Path) -> Path:
    """The bed's fleet as the examples name it: localhost and group ``web`` of webN.fleet.test.

    Host variables stand in for what a real fleet would have by default: where a node's webroot
    and TLS server are, how its nginx is tested and reloaded, the bed's DNS port and resolver.
    Become is off: the bed's nodes are local folders of this user.
    """
    fleet = yaml.safe_load(Path(config["fleet_inventory"]).read_text(encoding="utf-8"))["all"]["children"]["web"]
    shared = dict(fleet.get("vars", {}), ansible_become=False)
    nodes = {}
    for host, variables in fleet["hosts"].items():
        node = dict(shared, **variables)
        node.update(
            ansible_host=node["fleet_address"],
            certfleet_webroot_path=node["fleet_webroot"],
            certfleet_deploy_config_test_command=node["fleet_nginx_test_command"],
            certfleet_deploy_reload_command=node["fleet_nginx_reload_command"],
            certfleet_deploy_verify_host=node["fleet_address"],
            certfleet_deploy_verify_port=node["fleet_tls_port"],
        )
        nodes[f"{host}.fleet.test"] = node
    controller = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False}
    # Role variables for every host: a role may run in a play on the web nodes (AWX slicing).
    roles = {
        # The roles' default folder is a system one: the scratch root stands in for it.
        "certfleet_certificate_dir": "{{ example_root }}/var/lib/certfleet",
        "certfleet_certificates_dir": "{{ example_root }}/var/lib/certfleet",
        # The roles' default CA is Let's Encrypt's staging CA: the bed's CA stands in for it.
        "certfleet_certificate_acme_directory": "{{ acme_directory }}",
        "certfleet_certificates_acme_directory": "{{ acme_directory }}",
        # Pebble picks a random profile when none is asked for; its short one would be due again at once.
        "certfleet_certificate_profile": "default",
        "certfleet_certificate_dns_resolvers": [config["fleet_dns"]],
        "certfleet_certificate_nsupdate_port": int(config["bind_port"]),
        "certfleet_certificates_dns_resolvers": [config["fleet_dns"]],
        "certfleet_certificates_nsupdate_port": int(config["bind_port"]),
    }
    inventory = {"all": {"hosts": {"localhost": controller}, "vars": roles, "children": {"web": {"hosts": nodes}}}}
    path = work / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


def bed_hosts(inventory: Path, work: Path) -> Path:
    """The machine's /etc/hosts plus the bed's names: the apex and www on every node, webN on its own."""
    nodes = yaml.safe_load(inventory.read_text(encoding="utf-8"))["all"]["children"]["web"]["hosts"]
    lines = [Path("/etc/hosts").read_text(encoding="utf-8").rstrip("\n")]
    for host, variables in nodes.items():
        lines.append(f"{variables['fleet_address']} {host} www.fleet.test fleet.test")
    path = work / "hosts"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def with_host_vars(inventory: Path, host_vars: dict[str, dict[str, Any]], scratch: Path) -> Path:
    """A copy of the inventory with an example's host variables added to its hosts."""
    data = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    nodes = data["all"]["children"]["web"]["hosts"]
    for host, variables in host_vars.items():
        if host not in nodes:
            raise ValueError(f"host_vars for {host}, which is not a web node of the bed ({', '.join(nodes)})")
        nodes[host].update(variables)
    path = scratch / "inventory.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run_example(example: Example, config_path: Path, inventory: Path, hosts: Path, work: Path) -> list[str]:
    """Runs one example (twice when it must rerun unchanged); returns its failures."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", example.name).strip("-")
    scratch = work / slug
    scratch.mkdir(mode=0o700)
    for folder, mode in SYSTEM_FOLDERS + [(f, 0o755) for f in os.environ.get("EXAMPLES_EXTRA_FOLDERS", "").split()]:
        (scratch / "root" / folder).mkdir(mode=mode, parents=True)
    for name, text in example.files.items():
        tasks = substitute(yaml.safe_load(text))
        fit_tasks(walk_tasks({"tasks": tasks}))
        (scratch / name).write_text(yaml.safe_dump(tasks, sort_keys=False), encoding="utf-8")
    playbook = scratch / "playbook.yml"
    playbook.write_text(yaml.safe_dump(as_playbook(example), sort_keys=False), encoding="utf-8")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    if example.host_vars:
        inventory = with_host_vars(inventory, example.host_vars, scratch)
    env = dict(os.environ, REQUESTS_CA_BUNDLE=config["acme_ca_path"], ANSIBLE_ROLES_PATH="", ANSIBLE_NOCOWS="1")
    command = WITH_HOSTS + [
        str(hosts),
        "ansible-playbook", "-i", str(inventory), "-e", f"@{config_path}",
        "-e", json.dumps({"example_root": str(scratch / "root"), "vault_tsig_secret": config["tsig_key_secret"]}),
        str(playbook),
    ]  # fmt: skip
    failures = []
    for attempt in ("run", "rerun") if example.rerun_unchanged else ("run",):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        (scratch / f"{attempt}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode != 0:
            failures.append(f"{example.name}: {attempt} failed (rc={result.returncode}):\n{result.stdout[-6000:]}{result.stderr[-3000:]}")
            break
        if attempt == "rerun" and re.search(r"changed=[1-9]", result.stdout):
            failures.append(f"{example.name}: the rerun changed something:\n{result.stdout[-4000:]}")
    return failures


def nginx_blocks(root: Path) -> list[tuple[str, str]]:
    """The ```nginx blocks of the documentation, as (file:line, text)."""
    return [(block.name, block.text) for relative in markdown_files(root) for block in markdown_blocks(root, relative, NGINX_FENCE)]


def check_nginx_block(name: str, text: str, node: dict[str, Any], work: Path) -> list[str]:
    """``nginx -t`` of one block in a server of its own, with the certificate paths of a bed node.

    A block of server directives goes into a ``server``, a ``server`` block into ``http``. Paths to a
    full chain, a key or a document root become the node's (its placeholder certificate, whose
    files the deploy role writes with the same names). Nothing is bound: ``-t`` only tests.
    """
    text = re.sub(r"\S+/fullchain\.pem", f"{node['fleet_tls_dir']}/fullchain.pem", text)
    text = re.sub(r"\S+/privkey\.pem", f"{node['fleet_tls_dir']}/privkey.pem", text)
    text = re.sub(r"(?m)^(\s*root\s+)/\S+;", rf"\g<1>{node['fleet_webroot']};", text)
    server = text if re.search(r"(?m)^\s*server\s*\{", text) else "server {\n" + text + "}\n"
    folder = work / re.sub(r"[^A-Za-z0-9]+", "-", name)
    folder.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\nhttp {{\n{server}}}\n", encoding="utf-8")
    result = subprocess.run(["nginx", "-t", "-q", "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
                            capture_output=True, text=True, check=False)  # fmt: skip
    return [] if result.returncode == 0 else [f"{name}: nginx -t refused it:\n{result.stderr}"]


def main(argv: list[str]) -> int:
    """``list``: each example and what will happen to it; ``run``: run them against the bed."""
    root = Path(argv[2])
    examples = all_examples(root)
    if len(argv) > 5:  # a filter: only the examples whose name starts with it
        examples = [e for e in examples if e.name.startswith(argv[5])]
    problems = check(examples)
    if argv[1] == "list":
        for example in examples:
            print(f"{example.name}: {'skip (' + example.skip_reason + ')' if example.skip_reason else 'run'}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if argv[1] != "run":
        return 0
    config_path, work = Path(argv[3]), Path(argv[4])
    wanted = [e for e in examples if e.skip_reason is None]
    inventory = bed_inventory(yaml.safe_load(config_path.read_text(encoding="utf-8")), work)
    hosts = bed_hosts(inventory, work)
    failures = []
    for example in wanted:
        print(f"== {example.name}", flush=True)
        failures.extend(run_example(example, config_path, inventory, hosts, work))
    node = next(iter(yaml.safe_load(inventory.read_text(encoding="utf-8"))["all"]["children"]["web"]["hosts"].values()))
    for name, text in nginx_blocks(root):
        if len(argv) <= 5 or name.startswith(argv[5]):
            print(f"== {name} (nginx -t)", flush=True)
            failures.extend(check_nginx_block(name, text, node, work))
    skipped = [e for e in examples if e.skip_reason]
    print(f"{len(wanted)} examples run, {len(failures)} failed; {len(skipped)} skipped with a reason")
    print("\n\n".join(failures), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
