"""The files of docs/scheduling.md, taken from the page and made to run against the test bed.

Usage: python scheduling.py COMMAND ARGS (runme.sh calls each step):

  extract DOC PATH MAP OUT          the code block of DOC whose first line is "# PATH" (the page names
                                    each file it shows that way), with every path prefix of MAP (a JSON
                                    object) replaced, written to OUT
  cron FILE UNIT                    check the cron file: variable lines, one job line with five time
                                    fields in range, the user (the service UNIT's User=), a command
                                    without %; print the job as JSON
  run-cron FILE HOME                run the job's command as cron would: SHELL -c COMMAND in HOME with
                                    only cron's own variables and the file's; print what it printed
                                    (what cron would mail), exit with its exit code
  run-service UNIT HOME             run the service's ExecStart= as systemd would: its Environment=,
                                    WorkingDirectory=, UMask= and systemd's default PATH, nothing else
  inventory DOC_INVENTORY CONFIG FLEET OUT COLLECTION
                                    the page's inventory with the bed's CA, names and web nodes
  onnode-vars CONFIG PLAY HOST OUT  extra variables that point the page's on-node play at HOST
  recap OUTPUT EXPECT HOSTS...      the last PLAY RECAP of OUTPUT: every host listed, none failed or
                                    unreachable; EXPECT "changed" (every host changed) or "unchanged"
  serial CERT | served ADDRESS PORT the serial of a certificate file, or of the one served there
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import ssl
import subprocess
import sys

import yaml
from cryptography import x509

SYSTEMD_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
CRON_FIELDS = (  # name, lowest, highest, names allowed
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def fail(message: str) -> None:
    sys.exit("scheduling.py: " + message)


def extract(doc: str, path: str, mapping: str, out: str) -> None:
    with open(doc, encoding="utf-8") as handle:
        text = handle.read()
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```$", text, re.M | re.S)
    found = [block for block in blocks if re.match(r"# " + re.escape(path) + r"(\s|:|$)", block)]
    if len(found) != 1:
        fail(f"{doc} has {len(found)} code blocks starting with '# {path}', not one")
    block = found[0]
    # Longest prefix first, so /opt/certfleet/venv is replaced before a shorter /opt/certfleet.
    for old, new in sorted(json.loads(mapping).items(), key=lambda item: -len(item[0])):
        block = block.replace(old, new)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(block)


def cron_field(name: str, low: int, high: int, names: tuple, text: str) -> None:
    for item in text.split(","):
        base, _sep, step = item.partition("/")
        if step and not (step.isdigit() and 0 < int(step) <= high):
            fail(f"cron {name} field {text!r}: bad step {step!r}")
        if base == "*":
            continue
        for value in base.split("-", 1):
            if value.lower() in names:  # jan is 1, sun is 0
                number = names.index(value.lower()) + (1 if name == "month" else 0)
            elif value.isdigit():
                number = int(value)
            else:
                fail(f"cron {name} field {text!r}: {value!r} is neither a number nor a name")
            if not low <= number <= high:
                fail(f"cron {name} field {text!r}: {number} is outside {low}-{high}")


def parse_cron(path: str) -> dict:
    env, jobs = {}, []
    with open(path, encoding="utf-8") as handle:
        for line in handle.read().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            variable = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
            if variable and not re.match(r"^[0-9*@]", line):
                value = variable.group(2).strip()
                if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                env[variable.group(1)] = value
                continue
            jobs.append(line)
    if len(jobs) != 1:
        fail(f"{path} has {len(jobs)} job lines, not one")
    parts = jobs[0].split(None, 6)
    if len(parts) != 7:
        fail(f"{path}: the job line needs five time fields, a user and a command")
    for (name, low, high, names), field in zip(CRON_FIELDS, parts):
        cron_field(name, low, high, names, field)
    if not re.match(r"^[a-z_][a-z0-9_-]*$", parts[5]):
        fail(f"{path}: {parts[5]!r} is not a user name")
    if re.search(r"(?<!\\)%", parts[6]):
        fail(f"{path}: the command has a %, which cron turns into a line break")
    return {"env": env, "schedule": parts[:5], "user": parts[5], "command": parts[6]}


def parse_unit(path: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # keys are case-sensitive in systemd
    # Environment= may be repeated: keep each line (configparser would keep the last one only).
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    environment = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("Environment=")]
    unit.read_string(re.sub(r"^Environment=.*\n", "", text, flags=re.M))
    unit.set("Service", "Environment", json.dumps(environment))
    return unit


def check_cron(path: str, unit_path: str) -> None:
    job = parse_cron(path)
    user = parse_unit(unit_path).get("Service", "User")
    if job["user"] != user:
        fail(f"the cron job runs as {job['user']!r}, the service as {user!r}: the page's two must agree")
    print(json.dumps(job))


def run(argv: list, env: dict, cwd: str, umask: int | None = None) -> None:
    if umask is not None:
        os.umask(umask)  # inherited by the command; this process ends right after it
    result = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    sys.stdout.write(result.stdout.decode("utf-8", "replace"))
    sys.exit(result.returncode)


def run_cron(path: str, home: str) -> None:
    job = parse_cron(path)
    env = {"HOME": home, "LOGNAME": job["user"], "USER": job["user"], "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    env.update(job["env"])
    run([env["SHELL"], "-c", job["command"]], env, home)


def run_service(path: str, home: str) -> None:
    service = parse_unit(path)["Service"]
    if service.get("Type") != "oneshot":
        fail("the service must be Type=oneshot: the timer starts one run")
    command = service["ExecStart"]
    if "%" in command or command[:1] in "-@+!:|":
        fail(f"ExecStart {command!r}: no prefixes or % specifiers expected")
    env = {"PATH": SYSTEMD_DEFAULT_PATH, "HOME": home, "LOGNAME": service["User"], "USER": service["User"]}
    for line in json.loads(service["Environment"]):
        for assignment in shlex.split(line):
            key, _sep, value = assignment.partition("=")
            env[key] = value
    umask = int(service["UMask"], 8) if "UMask" in service else None
    run(shlex.split(command), env, service["WorkingDirectory"], umask)


def load_yaml(path: str):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def role_variables(collection: str, role: str) -> set:
    specs = load_yaml(os.path.join(collection, "roles", role, "meta", "argument_specs.yml"))
    return set(specs["argument_specs"]["main"]["options"])


def check_names(variables: dict, collection: str) -> None:
    """Every role variable the page sets must be one the role knows (a typo would be ignored)."""
    for prefix, role in (("certfleet_certificate_", "certificate"), ("certfleet_deploy_", "deploy")):
        known = role_variables(collection, role)
        unknown = sorted(name for name in variables if name.startswith(prefix) and name not in known)
        if unknown:
            fail(f"the page sets {unknown}, which certfleet.acme.{role} does not know")


def overlay(variables: dict, replace: dict, add: dict, where: str) -> None:
    missing = sorted(set(replace) - set(variables))
    if missing:
        fail(f"the page's {where} lacks {missing}: the test replaces those with the bed's")
    variables.update(replace)
    variables.update(add)


def inventory(doc_inventory: str, config_path: str, fleet_path: str, out: str, collection: str) -> None:
    page, config, fleet = load_yaml(doc_inventory), load_yaml(config_path), load_yaml(fleet_path)
    top, web = page["all"]["vars"], page["all"]["children"]["web"]
    check_names(top, collection)
    check_names(web["vars"], collection)
    src = f"{top['certfleet_certificate_dir']}/{top['certfleet_certificate_name']}"
    if web["vars"]["certfleet_deploy_src_dir"] != src:
        fail(f"certfleet_deploy_src_dir is not the certificate's folder {src}")
    overlay(top, {
        "certfleet_certificate_identifiers": [config["fleet_lb_name"]],
        "certfleet_certificate_acme_directory": config["acme_directory"],
    }, {
        "certfleet_certificate_acme_ca_path": config["acme_ca_path"],
        # Pebble picks a random profile otherwise, and its six-day one would be due again at once.
        "certfleet_certificate_profile": "default",
        "certfleet_certificate_self_test_delay": 1,
    }, "inventory's all.vars")
    bed_web = fleet["all"]["children"]["web"]
    web["vars"].pop("ansible_user", None)  # the bed's nodes are local
    overlay(web["vars"], {
        "ansible_become": False,
        "certfleet_webroot_path": "{{ fleet_webroot }}",
        "certfleet_deploy_dest_dir": "{{ fleet_tls_dir }}",
        "certfleet_deploy_verify_server_name": config["fleet_lb_name"],
    }, dict(bed_web["vars"], **{
        "certfleet_http_node": "{{ fleet_address }}:{{ fleet_http_port }}",
        "certfleet_deploy_config_test_command": "{{ fleet_nginx_test_command }}",
        "certfleet_deploy_reload_command": "{{ fleet_nginx_reload_command }}",
        "certfleet_deploy_verify_host": "{{ fleet_address }}",
        "certfleet_deploy_verify_port": "{{ fleet_tls_port }}",
        "certfleet_deploy_verify_retries": 20,
        "certfleet_deploy_verify_delay": 1,
    }), "inventory's web vars")
    web["hosts"] = bed_web["hosts"]
    with open(out, "w", encoding="utf-8") as handle:
        yaml.safe_dump(page, handle)


def onnode_vars(config_path: str, play_path: str, host: str, out: str) -> None:
    config, play = load_yaml(config_path), load_yaml(play_path)
    node = next(item for item in config["fleet_hosts"] if item["name"] == host)
    roles = [role for role in play[0]["roles"] if role["role"] == "certfleet.acme.certificate"]
    if len(roles) != 1:
        fail("the on-node play must run certfleet.acme.certificate once")
    variables = dict(roles[0]["vars"])
    check_names(variables, os.environ["CERTFLEET_COLLECTION"])
    tls_dir = node["tls_dir"]
    # The bed's nginx serves <node>/tls/{fullchain,privkey}.pem: the role's <dir>/<name>/ is made that.
    overlay(variables, {
        "certfleet_certificate_name": os.path.basename(tls_dir),
        "certfleet_certificate_identifiers": [f"{host}.{config['fleet_zone']}"],
        "certfleet_certificate_dir": os.path.dirname(tls_dir),
        "certfleet_certificate_acme_directory": config["acme_directory"],
        "certfleet_certificate_webroot_path": node["webroot"],
    }, {
        "certfleet_certificate_acme_ca_path": config["acme_ca_path"],
        "certfleet_certificate_profile": "default",
        "certfleet_certificate_self_test_delay": 1,
        "certfleet_http_node": f"{node['address']}:{config['fleet_http_port']}",
        "ansible_become": False,
    }, "on-node play")
    with open(out, "w", encoding="utf-8") as handle:
        yaml.safe_dump(variables, handle)


def recap(output_path: str, expect: str, hosts: list) -> None:
    with open(output_path, encoding="utf-8") as handle:
        text = handle.read()
    start = text.rfind("PLAY RECAP")
    if start < 0:
        fail(f"no PLAY RECAP in {output_path}")
    rows = {m.group(1): [int(m.group(i)) for i in (2, 3, 4, 5)] for m in RECAP.finditer(text[start:])}
    if sorted(rows) != sorted(hosts):
        fail(f"the recap lists {sorted(rows)}, expected {sorted(hosts)}")
    for host, (_ok, changed, unreachable, failed) in rows.items():
        if unreachable or failed:
            fail(f"{host}: unreachable={unreachable} failed={failed}")
        if (changed == 0) != (expect == "unchanged"):
            fail(f"{host}: changed={changed}, expected {expect}")


def serial(path: str) -> None:
    with open(path, "rb") as handle:
        print(x509.load_pem_x509_certificate(handle.read()).serial_number)


def served(address: str, port: str) -> None:
    """The serial of the certificate served at ADDRESS:PORT (no SNI: the server's default)."""
    pem = ssl.get_server_certificate((address, int(port)))
    print(x509.load_pem_x509_certificate(pem.encode("ascii")).serial_number)


def main(argv: list) -> None:
    commands = {
        "extract": extract, "cron": check_cron, "run-cron": run_cron, "run-service": run_service,
        "inventory": inventory, "onnode-vars": onnode_vars, "serial": serial, "served": served,
        "recap": lambda path, expect, *hosts: recap(path, expect, list(hosts)),
    }
    if len(argv) < 2 or argv[1] not in commands:
        fail(__doc__)
    commands[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
