"""Check that every role's meta/argument_specs.yml and defaults/main.yml say the same thing.

For the `main` entry point of each role under roles/:
- every variable in defaults/main.yml is documented in argument_specs, and the other way round
  unless the option is required (a required variable has no default);
- the default in argument_specs equals the one in defaults/main.yml (an option without one there
  must default to null);
- every public variable starts with certfleet_<role>_;
- no description holds Jinja (`{{`, `{%`): Ansible templates the whole spec when it validates
  a role's variables, so a description naming `groups['web']` fails every play whose inventory
  has no `web` group, before the role's first task.

Usage: check-role-specs.py ROLES_DIR. Prints each mismatch; exits 1 when there is any.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def check_role(role: Path) -> list[str]:
    problems = []
    specs_file = role / "meta" / "argument_specs.yml"
    defaults_file = role / "defaults" / "main.yml"
    if not specs_file.is_file():
        return [f"{role.name}: no meta/argument_specs.yml"]
    options = (yaml.safe_load(specs_file.read_text()) or {}).get("argument_specs", {}).get("main", {}).get("options", {})
    defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.is_file() else {}
    prefix = f"certfleet_{role.name}_"

    for name in sorted(set(options) | set(defaults)):
        where = f"{role.name}: {name}"
        descriptions = (options.get(name) or {}).get("description") or []
        for text in [descriptions] if isinstance(descriptions, str) else descriptions:
            if "{{" in str(text) or "{%" in str(text):
                problems.append(f"{where}: the description holds Jinja, which Ansible templates when it validates the role's variables: {text!r}")
        if not name.startswith(prefix):
            problems.append(f"{where}: public variables must start with {prefix}")
        if name not in options:
            problems.append(f"{where}: in defaults/main.yml but not documented in meta/argument_specs.yml")
            continue
        spec = options[name]
        if name not in defaults:
            if not spec.get("required"):
                problems.append(f"{where}: optional in meta/argument_specs.yml but missing from defaults/main.yml")
            continue
        if spec.get("required"):
            problems.append(f"{where}: required in meta/argument_specs.yml yet defaults/main.yml gives it a value")
            continue
        if spec.get("default") != defaults[name]:
            problems.append(f"{where}: default {spec.get('default')!r} in meta/argument_specs.yml but {defaults[name]!r} in defaults/main.yml")
    return problems


def main(roles_dir: Path) -> int:
    roles = sorted(path for path in roles_dir.iterdir() if path.is_dir()) if roles_dir.is_dir() else []
    problems = [problem for role in roles for problem in check_role(role)]
    for problem in problems:
        print(problem)
    print(f"check-role-specs: {len(roles)} role(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
