# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The benchmark driver behind bench/run.sh (which starts the test bed and calls this).

For each N and each tool it issues N single-name certificates against the running Pebble with one
ansible-playbook run (bench/playbooks/issue.yml), checks every certificate, then runs the nightly
"is a renewal due?" path with nothing due (bench/playbooks/nightly.yml). For every run it records
the wall time of the ansible-playbook process, the requests Pebble logged during it (by endpoint)
and the time spent in each task (bench/callback_plugins/bench_timing.py). It prints tables and
writes results.json, results.csv and table.txt under the results folder.

Any certificate that is missing, has other names, another key or a chain that does not sign it
fails the run (exit status 1), as does any failed playbook, and so do request counts that cannot
be right (no newAccount for the registration, fewer newOrders or downloads than certificates):
the checks that a run sent no request of a kind would otherwise pass on a log they cannot read.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PLAYBOOKS = BENCH / "playbooks"
INVENTORY = BENCH / "inventory.yml"

SCHEMA_VERSION = 2

# The tools, in the order they run and are shown. "short" prefixes the certificate names.
TOOLS: dict[str, dict[str, Any]] = {
    "cc_two_step": {
        "short": "cc2",
        "label": "community.crypto acme_certificate (2 steps)",
        "needs_csr": True,
    },
    "cc_order": {
        "short": "cco",
        "label": "community.crypto order_create/validate/finalize",
        "needs_csr": True,
    },
    "certfleet": {
        "short": "cf",
        "label": "certfleet.acme modules",
        "needs_csr": False,
    },
    "certfleet_role": {
        "short": "cfr",
        "label": "certfleet.acme.certificate role",
        "needs_csr": False,
    },
    # All certificates in one acme_certificates task, over dns-persist-01 with the records published
    # beforehand (not timed, like the key and CSR of community.crypto): a renewal night needs no DNS write.
    "certfleet_batch": {
        "short": "cfb",
        "label": "acme_certificates batch, dns-persist-01",
        "needs_csr": False,
        "batch": True,
        "needs_records": True,
    },
    # The batch with the same proof publishing as every other tool: http-01 tokens added to and
    # removed from challtestsrv with one uri call each, between the batch's two acme_certificates tasks.
    "certfleet_batch_http01": {
        "short": "cfh",
        "label": "acme_certificates batch, http-01",
        "needs_csr": False,
        "batch": True,
    },
    # The batch role with its webroot provider: every token onto the three nginx nodes of the fleet
    # (one acme_webroot_tokens task per node), where Pebble fetches them: while it runs, challtestsrv
    # answers the bench names with the first node's address.
    "certfleet_batch_role": {
        "short": "cfw",
        "label": "certificates role, http-01 webroot",
        "needs_csr": False,
        "batch": True,
        "fleet_webroot": True,
    },
}
# The tools every other one is compared with: community.crypto's two ways, and our one-call-per-step path.
REFERENCES = ("cc_two_step", "cc_order", "certfleet")
# Certificates the batch works on at once (acme_certificates' workers option).
BATCH_WORKERS = 200
# Pebble keeps everything in memory, and on every new order it looks through all the authorizations
# it holds, under its store lock. The more orders it has seen, the more each newOrder scans, so later
# tools would pay more than earlier ones, and one run hung after about 2,400 orders (a lock
# cycle between that scan and the creation of challenges). A run that would take the CA past this
# many orders gets a fresh test bed and account first.
FRESH_CA_ORDERS = 2500
TESTBED = ROOT / "testbed" / "testbed.sh"
# The renewal phase makes every certificate due by its dates: 365 days before the end of a 90-day
# certificate is before its start.
RENEW_ALL_BEFORE_DAYS = 365
# Pebble logs this once for each order whose `replaces` it accepted (RFC 9773 section 5), after issuing.
REPLACED_LINE = re.compile(r"^Pebble \S+ \S+ Order \S+ has been marked as replaced in the DB$")

# Pebble's request paths, by the first part of the path, and the column each is counted in.
ENDPOINTS: list[tuple[str, str]] = [
    ("dir", "directory GET"),
    ("nonce", "newNonce HEAD/GET"),
    ("new-account", "newAccount (create or look up by key)"),
    ("account", "account URL (POST, look up or update)"),
    ("new-order", "newOrder"),
    ("authz", "authorization (fetch, poll or deactivate)"),
    ("challenge", "challenge answered"),
    ("finalize", "finalize"),
    ("order", "order fetch or poll"),
    ("cert", "certificate download"),
    ("renewal-info", "ARI renewalInfo GET"),
    ("other", "anything else"),
]
ENDPOINT_NAMES = [name for name, _description in ENDPOINTS]
_PATH_PREFIXES = [
    ("/dir", "dir"),
    ("/nonce-plz", "nonce"),
    ("/sign-me-up", "new-account"),
    ("/my-account/", "account"),
    ("/order-plz", "new-order"),
    ("/authZ/", "authz"),
    ("/chalZ/", "challenge"),
    ("/finalize-order/", "finalize"),
    ("/my-order/", "order"),
    ("/certZ/", "cert"),
]
# One line per request: "Pebble 2026/11/29 00:32:49 HEAD /nonce-plz -> calling handler()"
REQUEST_LINE = re.compile(r"^Pebble \S+ \S+ ([A-Z]+) (\S+) -> calling handler\(\)$")


class BenchError(Exception):
    """A failed playbook or a wrong certificate: the run stops and says why."""


def endpoint_of(path: str) -> str:
    path = path.split("?", 1)[0]
    if "/renewalInfo" in path:
        return "renewal-info"
    for prefix, name in _PATH_PREFIXES:
        if prefix.endswith("/"):
            if path.startswith(prefix):
                return name
        elif path == prefix or path.startswith(prefix + "/"):
            return name
    return "other"


def count_requests(log_path: Path, start: int, end: int) -> tuple[dict[str, int], dict[str, int], int]:
    """Pebble's requests between two byte offsets of its log: by endpoint, by method+path kind, and
    the orders Pebble marked as replacing a certificate (``replaces``)."""
    with log_path.open("rb") as handle:
        handle.seek(start)
        chunk = handle.read(end - start).decode("utf-8", "replace")
    by_endpoint = dict.fromkeys(ENDPOINT_NAMES, 0)
    by_method: dict[str, int] = {}
    replaced = 0
    for line in chunk.splitlines():
        if REPLACED_LINE.match(line):
            replaced += 1
            continue
        match = REQUEST_LINE.match(line)
        if not match:
            continue
        method, path = match.groups()
        name = endpoint_of(path)
        by_endpoint[name] += 1
        key = f"{method} {name}"
        by_method[key] = by_method.get(key, 0) + 1
    return by_endpoint, dict(sorted(by_method.items())), replaced


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_certificates(tool: str, names: list[str], work: Path) -> dict[str, str]:
    """Every certificate exists, has exactly its name, the expected key and a chain that signs it.

    Returns the SHA-256 of each certificate file, to show later that the nightly run left them alone.
    """
    problems = []
    digests = {}
    for name in names:
        folder = work / name
        cert_path, chain_path, key_path = folder / "cert.pem", folder / "chain.pem", folder / "privkey.pem"
        missing = [p.name for p in (cert_path, chain_path, key_path) if not p.is_file()]
        if missing:
            problems.append(f"{name}: missing {', '.join(missing)} in {folder}")
            continue
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            issuer = x509.load_pem_x509_certificates(chain_path.read_bytes())[0]
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except ValueError as exc:
            problems.append(f"{name}: unreadable certificate, chain or key ({exc})")
            continue
        try:
            sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            sans = []
        if sans != [name]:
            problems.append(f"{name}: subjectAltName is {sans}, expected [{name!r}]")
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            problems.append(f"{name}: the key is not EC P-256")
        if cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ):
            problems.append(f"{name}: the certificate is not for {key_path}")
        try:
            cert.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError) as exc:
            problems.append(f"{name}: the first certificate of chain.pem did not issue it ({exc.__class__.__name__})")
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        if lifetime < datetime.timedelta(days=60):
            problems.append(f"{name}: lifetime {lifetime} (the 'default' profile was not applied; the nightly run would renew)")
        digests[name] = sha256_of(cert_path)
    if problems:
        raise BenchError(f"{tool}: {len(problems)} of {len(names)} certificates are wrong:\n  " + "\n  ".join(problems[:20]))
    return digests


class Runner:
    """Runs the playbooks with one environment and keeps their logs and timings."""

    def __init__(self, args: argparse.Namespace, testbed: dict[str, Any], results: Path, work: Path) -> None:
        self.args = args
        self.testbed = testbed
        self.results = results
        self.work = work
        self.pebble_log = Path(testbed["fleet_log_dir"]) / "pebble.log"
        self.env = dict(os.environ)
        self.env.update(
            {
                # certfleet.acme from the build tree; community.crypto from the venv's ansible package.
                "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build"),
                "ANSIBLE_CALLBACK_PLUGINS": str(BENCH / "callback_plugins"),
                "ANSIBLE_CALLBACKS_ENABLED": "bench_timing",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "BENCH_PATH_ROOT": str(ROOT),
                "BENCH_PEBBLE_LOG": str(self.pebble_log),
                # community.crypto has no ca_path option: it verifies Pebble's listener through the
                # default trust store, which SSL_CERT_FILE replaces. certfleet.acme gets ca_path.
                "SSL_CERT_FILE": testbed["acme_ca_path"],
            }
        )
        self.env.pop("ANSIBLE_CONFIG", None)
        self.vars_file = work / "vars.json"
        self.common_vars = {
            "acme_directory": testbed["acme_directory"],
            "acme_ca_path": testbed["acme_ca_path"],
            "challtestsrv": testbed["challtestsrv"],
            "http01_node": testbed["http01_node"],
            "bench_creds_path": str(work / "account.json"),
            # certfleet.acme's modules share the directory and spare nonces through it (option session_cache);
            # empty when the timed run starts.
            "bench_session_cache": str(work / "acme-session.json"),
            "bench_account_key_path": str(work / "account.key"),
            "bench_profile": "default",
            "bench_dns_resolver": testbed["dns_resolver"],
            "bench_fleet_hosts": testbed["fleet_hosts"],
            "bench_fleet_http_port": testbed["fleet_http_port"],
            "bench_workers": BATCH_WORKERS,
        }

    def ca_cpu_seconds(self) -> float:
        """User + system CPU time Pebble has used so far (/proc/<pid>/stat), 0.0 when it cannot be read."""
        try:
            pid = (Path(self.testbed["fleet_log_dir"]).parent / "run" / "pebble.pid").read_text(encoding="utf-8").strip()
            fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rpartition(")")[2].split()
        except (OSError, ValueError):
            return 0.0
        # Fields 14 and 15 of the man page (utime, stime); the split starts at field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def write_vars(self, extra: dict[str, Any]) -> Path:
        data = dict(self.common_vars, **extra)
        self.vars_file.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return self.vars_file

    def playbook(self, label: str, playbook: str, extra: dict[str, Any], timeout: float) -> dict[str, Any]:
        """One timed ansible-playbook run; returns wall time, Pebble's requests and the task timings."""
        log_path = self.results / "logs" / f"{label}.log"
        timing_path = self.results / "timing" / f"{label}.json"
        vars_file = self.write_vars(extra)
        cmd = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(INVENTORY),
            str(PLAYBOOKS / playbook),
            "-e",
            f"@{vars_file}",
        ]
        env = dict(self.env, BENCH_TIMING_FILE=str(timing_path))
        start_offset = self.pebble_log.stat().st_size
        ca_cpu_start = self.ca_cpu_seconds()
        started = time.monotonic()
        with log_path.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            killer = threading.Timer(timeout, proc.kill)
            killer.start()
            # wait4, not wait: its ru_maxrss is the peak resident memory of the largest process of the run
            # (ansible-playbook, a fork, or the module), the figure the memory target is about.
            _pid, status, usage = os.wait4(proc.pid, 0)
            killer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode == -9 and time.monotonic() - started >= timeout:
                raise BenchError(f"{label}: ansible-playbook ran longer than {timeout:.0f} s; see {log_path}")
        wall = time.monotonic() - started
        ca_cpu = self.ca_cpu_seconds() - ca_cpu_start
        end_offset = self.pebble_log.stat().st_size
        if proc.returncode != 0:
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            raise BenchError(f"{label}: ansible-playbook failed (exit {proc.returncode}); last lines of {log_path}:\n" + "\n".join(tail))
        by_endpoint, by_method, replaced = count_requests(self.pebble_log, start_offset, end_offset)
        timing = json.loads(timing_path.read_text(encoding="utf-8")) if timing_path.is_file() else {}
        return {
            "wall_seconds": round(wall, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            # CPU time of ansible-playbook and everything it waited for (forks, modules), and of Pebble.
            "tool_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "ca_cpu_seconds": round(ca_cpu, 2),
            "requests": by_endpoint,
            "requests_by_method": by_method,
            "requests_total": sum(by_endpoint.values()),
            "replaced_orders": replaced,
            "timing": timing,
            "log": str(log_path.relative_to(ROOT)) if log_path.is_relative_to(ROOT) else str(log_path),
        }


def batch_lists(names: list[str], work: Path) -> dict[str, Any]:
    """The batch tools' certificates, made here: a playbook has its list in the inventory, and
    building 1,000 entries with Jinja took 0.9 s of the timed run.

    ``bench_batch_certificates`` for acme_certificates, with the files in work/<name>/ where
    verify_certificates looks; ``bench_batch_role_list`` for the certificates role, which puts each
    certificate's files into <its dir>/<name>/ itself.
    """
    certificates = []
    for name in names:
        folder = work / name
        certificates.append(
            {
                "name": name,
                "identifiers": [name],
                "cert_path": str(folder / "cert.pem"),
                "chain_path": str(folder / "chain.pem"),
                "fullchain_path": str(folder / "fullchain.pem"),
                "private_key_path": str(folder / "privkey.pem"),
            }
        )
    return {
        "bench_batch_certificates": certificates,
        "bench_batch_role_list": [{"name": name, "identifiers": [name]} for name in names],
    }


def names_for(tool: str, n: int, run_id: str) -> list[str]:
    return [f"{TOOLS[tool]['short']}-n{n}-{i:03d}.{run_id}.bench.test" for i in range(1, n + 1)]


def challtestsrv_post(testbed: dict[str, Any], path: str, body: dict[str, Any]) -> None:
    """One call of challtestsrv's management API (the test bed's own loopback URL)."""
    request = urllib.request.Request(f"{testbed['challtestsrv']}{path}", data=json.dumps(body).encode("utf-8"), method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the test bed's own loopback URL
        answer.read()


def publish_persist_records(testbed: dict[str, Any], names: list[str], account_uri: str) -> dict[str, Any]:
    """The dns-persist-01 record of every name, in challtestsrv's DNS (which BIND forwards bench.test to).

    The value is what acme_certificates builds for Pebble (draft-ietf-acme-dns-persist: the CA's issuer
    domain name and the account URI). Not timed as issuance: such records are published once, long before.
    """
    started = time.monotonic()
    for name in names:
        challtestsrv_post(testbed, "/set-txt", {"host": f"_validation-persist.{name}.", "value": f"pebble.letsencrypt.org; accounturi={account_uri}"})
    return {"wall_seconds": round(time.monotonic() - started, 3), "requests_total": 0}


def answer_names_with(testbed: dict[str, Any], address: str) -> None:
    """The address challtestsrv's DNS gives every name it has no record for (the bench names)."""
    challtestsrv_post(testbed, "/set-default-ipv4", {"ip": address})


def per_cert(value: float, n: int) -> float:
    return value / n if n else 0.0


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Each row's time and requests divided by those of the community.crypto rows with the same N."""
    for row in rows:
        for ref in REFERENCES:
            base = next((r for r in rows if r["tool"] == ref and r["n"] == row["n"]), None)
            time_ratio = req_ratio = None
            if base is not None:
                if base["wall_seconds"] > 0:
                    time_ratio = round(row["wall_seconds"] / base["wall_seconds"], 3)
                if base["requests_total"] > 0:
                    req_ratio = round(row["requests_total"] / base["requests_total"], 3)
            row[f"time_ratio_vs_{ref}"] = time_ratio
            row[f"requests_ratio_vs_{ref}"] = req_ratio


def step_profile(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The task timings and requests of a run, per certificate, with the certificate names taken out."""
    steps = []
    for task in row.get("timing", {}).get("tasks", []):
        name = re.sub(r"\S+\.bench\.test", "<name>", task["name"])
        requests = dict.fromkeys(ENDPOINT_NAMES, 0)
        for kind, count in task.get("requests", {}).items():
            path = kind.partition(" ")[2]
            requests[endpoint_of(path)] += count
        steps.append(
            {
                "task": name,
                "action": task["action"],
                "path": task["path"],
                "runs_per_cert": round(per_cert(task["runs"], row["n"]), 2),
                "seconds_per_cert": round(per_cert(task["seconds"], row["n"]), 3),
                "requests_per_cert": round(per_cert(sum(requests.values()), row["n"]), 2),
                "requests_per_cert_by_endpoint": {e: round(per_cert(c, row["n"]), 2) for e, c in requests.items() if c},
            }
        )
    return steps


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def fmt_count(value: float) -> str:
    return f"{value:.2f}" if value != int(value) else f"{int(value)}"


def render_tables(data: dict[str, Any]) -> str:
    out = io.StringIO()
    short = {
        "dir": "dir",
        "nonce": "nonce",
        "new-account": "newAcct",
        "account": "acct",
        "new-order": "newOrd",
        "authz": "authz",
        "challenge": "chal",
        "finalize": "final",
        "order": "order",
        "cert": "cert",
        "renewal-info": "ari",
        "other": "other",
    }

    def section(title: str, rows: list[dict[str, Any]], with_prep: bool) -> None:
        out.write(f"\n{title}\n")
        head = f"{'tool':<48} {'N':>4} {'wall s':>8} {'s/cert':>7}"
        if with_prep:
            head += f" {'prep s':>7}"
        head += f" {'req/cert':>8} {'peak MB':>7} {'cpu s':>6} {'CA cpu':>6}"
        head += f"  {'time vs cc2':>11} {'time vs cco':>11} {'time vs cf':>10} {'req vs cc2':>10} {'req vs cco':>10}"
        out.write(head + "\n" + "-" * len(head) + "\n")
        for row in rows:
            line = f"{row['label']:<48} {row['n']:>4} {row['wall_seconds']:>8.1f} {row['seconds_per_cert']:>7.2f}"
            if with_prep:
                prep = row.get("prep_seconds")
                line += f" {prep:>7.1f}" if prep is not None else f" {'-':>7}"
            line += (
                f" {row['requests_per_cert']:>8.1f} {row.get('peak_rss_mb') or 0:>7.0f}"
                f" {row.get('tool_cpu_seconds') or 0:>6.1f} {row.get('ca_cpu_seconds') or 0:>6.1f}"
                f"  {fmt_ratio(row['time_ratio_vs_cc_two_step']):>11} {fmt_ratio(row['time_ratio_vs_cc_order']):>11}"
                f" {fmt_ratio(row['time_ratio_vs_certfleet']):>10}"
                f" {fmt_ratio(row['requests_ratio_vs_cc_two_step']):>10} {fmt_ratio(row['requests_ratio_vs_cc_order']):>10}"
            )
            out.write(line + "\n")
        out.write(f"\n{title.split(' (')[0]}: ACME requests per certificate by endpoint (Pebble's log)\n")
        head = f"{'tool':<48} {'N':>4} " + " ".join(f"{short[e]:>7}" for e in ENDPOINT_NAMES) + f" {'total':>7}"
        out.write(head + "\n" + "-" * len(head) + "\n")
        for row in rows:
            per = row["requests_per_cert_by_endpoint"]
            cells = " ".join(f"{fmt_count(per[e]):>7}" for e in ENDPOINT_NAMES)
            out.write(f"{row['label']:<48} {row['n']:>4} {cells} {fmt_count(row['requests_per_cert']):>7}\n")

    base = data["baseline"]
    out.write(
        f"Benchmark {data['run_id']}: Pebble {data['versions']['pebble']}, ansible-core {data['versions']['ansible_core']}, "
        f"community.crypto {data['versions']['community_crypto']}, certfleet.acme {data['versions']['certfleet_acme']} "
        f"({data['versions']['certfleet_commit']})\n"
        f"Machine: {data['machine']['cpus']} CPUs ({data['machine']['cpu_model']}), {data['machine']['ram_gib']} GiB RAM, "
        f"load average {data['machine']['loadavg_start']} at start, {data['machine'].get('loadavg_end', '?')} at the end\n"
        f"Start-up of an ansible-playbook run of the same play with no certificate: {base['wall_seconds']:.1f} s "
        "(included once in every wall time below)\n"
    )
    if data.get("task_cost"):
        out.write("\nCost of one task (module start-up, no ACME request), seconds per run:\n")
        for task in data["task_cost"]:
            out.write(f"  {task['seconds_per_run']:>6.3f} s  {task['action']}  ({task['runs']} runs; {task['requests']} requests to the CA)\n")
    section("Issuance (one ansible-playbook run per tool and N; prep = key + CSR beforehand, not in wall s)", data["issue"], True)
    section("Nightly run with nothing due (one ansible-playbook run per tool and N)", data["nightly"], False)
    if data.get("renew"):
        section(
            "Renewal with every certificate due (the issuance run again, renew_before_days "
            f"{RENEW_ALL_BEFORE_DAYS}; each order replaces the certificate before it)",
            data["renew"],
            False,
        )
    largest = max((row["n"] for row in data["issue"]), default=0)
    for row in data["issue"]:
        if row["n"] != largest:
            continue
        out.write(f"\nWhere the time goes, {row['label']}, N={largest}: per certificate, by task (runs, seconds, ACME requests)\n")
        for step in row["steps_per_cert"]:
            if step["seconds_per_cert"] < 0.03 and not step["requests_per_cert"]:
                continue
            by = ", ".join(f"{short[e]} {fmt_count(c)}" for e, c in step["requests_per_cert_by_endpoint"].items())
            requests = f"{fmt_count(step['requests_per_cert'])} ({by})" if by else "0"
            task = step["task"].replace("certfleet.acme.certificate : ", "role: ")
            out.write(f"  x{step['runs_per_cert']:<4g} {step['seconds_per_cert']:>6.3f} s  {task[:64]:<64}  {requests}\n")
    out.write(
        "\nRatios: this tool's wall time (or requests) divided by community.crypto's for the same N; cc2 = acme_certificate in two steps, "
        "cco = the order_create/validate/finalize modules, cf = certfleet.acme's modules one certificate per call. "
        "peak MB = the peak resident memory of the largest process of the run. cpu s = CPU seconds of ansible-playbook, its forks "
        "and modules; CA cpu = CPU seconds of Pebble during the run (2 CPUs: their sum can reach twice the wall time).\n"
    )
    return out.getvalue()


def write_csv(path: Path, data: dict[str, Any]) -> None:
    fields = ["phase", "tool", "label", "n", "wall_seconds", "seconds_per_cert", "prep_seconds", "requests_total", "requests_per_cert", "peak_rss_mb"]
    fields += ["tool_cpu_seconds", "ca_cpu_seconds"]
    fields += [f"time_ratio_vs_{r}" for r in REFERENCES] + [f"requests_ratio_vs_{r}" for r in REFERENCES]
    fields += [f"req_{e}" for e in ENDPOINT_NAMES]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for phase in ("issue", "nightly", "renew"):
            for row in data.get(phase, []):
                flat = dict(row, phase=phase)
                for e in ENDPOINT_NAMES:
                    flat[f"req_{e}"] = row["requests"][e]
                writer.writerow(flat)


def machine_info() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": model,
        "ram_gib": ram_gib,
        "loadavg_start": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def collection_version(env: dict[str, str], name: str) -> str:
    """The version ansible-playbook resolves for a collection (the first one on the search path)."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-galaxy"), "collection", "list", name, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        found = json.loads(proc.stdout)
    except ValueError:
        return "unknown"
    for _path, collections in found.items():
        if name in collections:
            return str(collections[name].get("version", "unknown"))
    return "unknown"


def versions(env: dict[str, str]) -> dict[str, str]:
    from ansible.release import __version__ as ansible_core

    pebble = os.path.basename(os.path.realpath(ROOT / ".cache" / "pebble" / "current"))
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "ansible_core": ansible_core,
        "community_crypto": collection_version(env, "community.crypto"),
        "certfleet_acme": collection_version(env, "certfleet.acme"),
        "certfleet_commit": commit or "unknown",
        "pebble": pebble,
        "python": sys.version.split()[0],
    }


def build_row(tool: str, n: int, run: dict[str, Any]) -> dict[str, Any]:
    row = {"tool": tool, "label": TOOLS[tool]["label"], "n": n}
    row.update(run)
    row["seconds_per_cert"] = round(per_cert(run["wall_seconds"], n), 3)
    row["requests_per_cert"] = round(per_cert(run["requests_total"], n), 2)
    row["requests_per_cert_by_endpoint"] = {e: round(per_cert(c, n), 2) for e, c in run["requests"].items()}
    row["steps_per_cert"] = step_profile(row)
    return row


def register_account(runner: Runner, label: str) -> None:
    """The one account of the timed runs (not timed), and its URL for community.crypto."""
    account = runner.playbook(label, "account.yml", {}, timeout=120)
    # Every check that a run sent no request of some kind ("the nightly run created no order",
    # "task-cost: no module talked to the CA") counts lines of Pebble's log. If that log lost
    # those lines or changed their format, each count would read 0 and each check would pass.
    # The registration sends a newAccount for certain: seen here, the counts mean something.
    if account["requests"]["new-account"] < 1:
        raise BenchError(
            f"{label}: no newAccount request found in {runner.pebble_log} between the offsets of the registration "
            f"({account['requests_total']} requests counted): the log's format may have changed, and every request count would read 0"
        )
    runner.common_vars["bench_account_uri"] = (runner.work / "account.json.uri").read_text(encoding="utf-8").strip()
    print(f"bench: account registered ({account['requests_total']} requests), not timed", flush=True)


def fresh_ca(runner: Runner, label: str, orders: int) -> None:
    """A fresh test bed (see FRESH_CA_ORDERS) and a new account on it.

    The bed keeps its addresses and file paths, so the runner's variables stay valid; its secrets
    are new, and runner.testbed gets them.
    """
    print(f"bench: the CA has seen {orders} orders; a fresh test bed and account for {label} (not timed)", flush=True)
    with (runner.results / "logs" / f"fresh-ca-{label}.log").open("wb") as out:
        subprocess.run([str(TESTBED), "restart"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)
    runner.testbed = yaml.safe_load(subprocess.run([str(TESTBED), "vars"], cwd=ROOT, capture_output=True, check=True).stdout)
    for stale in ("account.json", "account.json.uri", "account.key", "acme-session.json"):
        (runner.work / stale).unlink(missing_ok=True)
    register_account(runner, f"account-{label}")


def issue_run(runner: Runner, tool: str, label: str, extra: dict[str, Any], timeout: float) -> dict[str, Any]:
    """issue.yml for one tool; the webroot tool's names point at the fleet's first nginx meanwhile."""
    testbed = runner.testbed
    if TOOLS[tool].get("fleet_webroot"):
        answer_names_with(testbed, testbed["fleet_hosts"][0]["address"])
    try:
        return runner.playbook(label, "issue.yml", extra, timeout)
    finally:
        if TOOLS[tool].get("fleet_webroot"):
            answer_names_with(testbed, testbed["http01_node"].rsplit(":", 1)[0])


def check_issue_counted(tool: str, n: int, issue: dict[str, Any]) -> None:
    """N new certificates need at least N newOrder requests and N downloads in Pebble's log.

    Fewer means the requests of this run were not all counted (a log window or format problem),
    and the per-certificate figures of the row would be too low.
    """
    orders, downloads = issue["requests"]["new-order"], issue["requests"]["cert"]
    if orders < n or downloads < n:
        raise BenchError(f"{tool}: {n} certificates issued, but Pebble's log shows {orders} newOrder requests and {downloads} downloads for the run")


def renew_all(runner: Runner, tool: str, extra: dict[str, Any], timeout: float, digests: dict[str, str]) -> dict[str, Any]:
    """The renewal night: the issuance run (``extra``) again with every certificate due by its dates.

    Every certificate must be replaced by a new, correct one, and Pebble must have accepted each
    order as the ARI renewal of the certificate before (``replaces``).
    """
    names = extra["bench_names"]
    n = len(names)
    print(f"bench: {tool} N={n}: renewing every certificate ...", flush=True)
    renew = issue_run(runner, tool, f"renew-{tool}-n{n}", dict(extra, bench_renew_before_days=RENEW_ALL_BEFORE_DAYS), timeout)
    renewed = verify_certificates(tool, names, Path(extra["bench_dir"]))
    unchanged = [name for name in names if renewed[name] == digests[name]]
    if unchanged:
        raise BenchError(f"{tool}: the renewal run left {len(unchanged)} certificates as they were, e.g. {unchanged[0]}")
    replaced = renew["replaced_orders"]
    # Pebble issue #550: it looks a `replaces` serial whose first byte is 0x80 or more up without
    # the 0x00 that DER (and RFC 9773 section 4.1) puts in front, and answers 500. The module then
    # orders again without `replaces` and warns; those renewals are counted, not hidden.
    log_text = (ROOT / renew["log"]).read_text(encoding="utf-8", errors="replace")
    refused = len(re.findall(r"refused the order with replaces=.*could not find order resulting in the given certificate serial number", log_text))
    if renew["requests"]["new-order"] != n + refused or replaced != n - refused:
        raise BenchError(
            f"{tool}: the renewal run made {renew['requests']['new-order']} orders, {replaced} marked by Pebble as replacing a certificate "
            f"and {refused} refused by Pebble issue #550; expected {n} renewals"
        )
    row = build_row(tool, n, renew)
    row["replaces_refused_by_pebble_550"] = refused
    print(
        f"bench: {tool} N={n}: {n} certificates renewed ({replaced} as ARI replacements, {refused} without: Pebble #550), "
        f"{renew['wall_seconds']:.1f} s, {row['requests_per_cert']:.1f} requests each",
        flush=True,
    )
    return row


def run(args: argparse.Namespace) -> int:
    testbed = yaml.safe_load(Path(args.testbed_vars).read_text(encoding="utf-8"))
    run_id = datetime.datetime.now(datetime.timezone.utc).strftime("r%Y%m%d%H%M%S").lower()
    results = Path(args.results).resolve() / run_id
    work = Path(args.work).resolve() / run_id
    for path in (results / "logs", results / "timing", work):
        path.mkdir(parents=True, exist_ok=True)
    runner = Runner(args, testbed, results, work)
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "run_id": run_id,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "ns": args.n,
        "tools": args.tools,
        "pebble_environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith("PEBBLE_")},
        "testbed_net": testbed.get("testbed_net"),
        "acme_directory": testbed["acme_directory"],
        "machine": machine_info(),
        "versions": versions(runner.env),
        "endpoints": dict(ENDPOINTS),
    }
    print(f"bench: run {run_id}; results in {results}", flush=True)

    register_account(runner, "account")

    empty = work / "empty"
    empty.mkdir()
    baseline = runner.playbook("baseline", "issue.yml", {"bench_tool": "certfleet", "bench_names": [], "bench_dir": str(empty)}, timeout=120)
    data["baseline"] = {"wall_seconds": baseline["wall_seconds"], "requests_total": baseline["requests_total"]}
    print(f"bench: ansible-playbook start-up with no certificate: {baseline['wall_seconds']:.1f} s", flush=True)

    data["task_cost"] = []
    if args.task_cost_runs:
        cost = runner.playbook(
            "task-cost", "task_cost.yml", {"bench_task_cost_runs": args.task_cost_runs, "bench_dir": str(empty)}, timeout=60 + 30 * args.task_cost_runs
        )
        if cost["requests"]["new-order"] or cost["requests"]["renewal-info"]:
            raise BenchError("task-cost: a module that should not talk to the CA did")
        for task in cost["timing"].get("tasks", []):
            if task["action"] == "ansible.builtin.include_tasks":
                continue
            data["task_cost"].append(
                {
                    "action": task["action"],
                    "runs": task["runs"],
                    "seconds_per_run": round(per_cert(task["seconds"], task["runs"]), 3),
                    "requests": sum(task["requests"].values()),
                }
            )
        order = ["ansible.builtin.ping", "ansible.builtin.uri", "community.crypto.acme_certificate_renewal_info", "certfleet.acme.acme_certificate_info"]
        data["task_cost"].sort(key=lambda t: order.index(t["action"]) if t["action"] in order else len(order))
        summary = ", ".join(f"{t['action']} {t['seconds_per_run']:.2f} s" for t in data["task_cost"])
        print(f"bench: one task costs: {summary}", flush=True)

    data["issue"], data["nightly"], data["renew"] = [], [], []
    orders_since_start = 0
    for n in args.n:
        for tool in args.tools:
            # The batch tools issue, then renew every certificate.
            expected_orders = n * (2 if TOOLS[tool].get("batch") else 1)
            fresh = orders_since_start > 0 and orders_since_start + expected_orders > FRESH_CA_ORDERS
            if fresh:
                fresh_ca(runner, f"{tool}-n{n}", orders_since_start)
                orders_since_start = 0
            names = names_for(tool, n, run_id)
            tool_work = work / tool / f"n{n}"
            tool_work.mkdir(parents=True)
            if tool not in ("certfleet_role", "certfleet_batch_role"):
                # The folders the files go to; the roles make their own.
                for name in names:
                    (tool_work / name).mkdir()
            extra = {"bench_tool": tool, "bench_names": names, "bench_dir": str(tool_work)}
            if TOOLS[tool].get("batch"):
                extra.update(batch_lists(names, tool_work))
            timeout = 120 + 60 * n
            prep = None
            if TOOLS[tool]["needs_csr"]:
                prep = runner.playbook(f"prep-{tool}-n{n}", "prepare.yml", extra, timeout)
            if TOOLS[tool].get("needs_records"):
                prep = publish_persist_records(runner.testbed, names, runner.common_vars["bench_account_uri"])
            print(f"bench: {tool} N={n}: issuing ...", flush=True)
            issue = issue_run(runner, tool, f"issue-{tool}-n{n}", extra, timeout)
            digests = verify_certificates(tool, names, tool_work)
            check_issue_counted(tool, n, issue)
            row = build_row(tool, n, issue)
            row["fresh_ca"] = fresh
            orders_since_start += issue["requests"]["new-order"]
            row["prep_seconds"] = prep["wall_seconds"] if prep else None
            row["prep_requests_total"] = prep["requests_total"] if prep else None
            data["issue"].append(row)
            print(
                f"bench: {tool} N={n}: {n} certificates checked, {issue['wall_seconds']:.1f} s, {row['requests_per_cert']:.1f} requests each; nightly ...",
                flush=True,
            )
            nightly = runner.playbook(f"nightly-{tool}-n{n}", "nightly.yml", extra, timeout)
            changed = [name for name in names if sha256_of(tool_work / name / "cert.pem") != digests[name]]
            if changed:
                raise BenchError(f"{tool}: the nightly run replaced {len(changed)} certificates that were not due, e.g. {changed[0]}")
            if nightly["requests"]["new-order"]:
                raise BenchError(f"{tool}: the nightly run created {nightly['requests']['new-order']} orders with nothing due")
            data["nightly"].append(build_row(tool, n, nightly))
            if TOOLS[tool].get("batch"):
                renewed = renew_all(runner, tool, extra, timeout, digests)
                orders_since_start += renewed["requests"]["new-order"]
                data["renew"].append(renewed)
    add_ratios(data["issue"])
    add_ratios(data["nightly"])
    add_ratios(data["renew"])
    data["machine"]["loadavg_end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    data["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    table = render_tables(data)
    (results / "results.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    write_csv(results / "results.csv", data)
    (results / "table.txt").write_text(table, encoding="utf-8")
    latest = results.parent / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_id)
    print(table)
    print(f"bench: wrote {results / 'results.json'}, results.csv and table.txt (also {latest})")
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value}: N must be at least 1")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("n", nargs="*", type=positive_int, default=[10, 30, 100], help="certificates per tool and run (default: 10 30 100)")
    parser.add_argument("--testbed-vars", required=True, help="YAML from `testbed/testbed.sh vars` of the running bed")
    parser.add_argument("--results", default=str(BENCH / "results"), help="where results/<run id>/ goes")
    parser.add_argument("--work", default=str(ROOT / "build" / "bench"), help="where the certificates go while the bench runs")
    parser.add_argument("--tools", nargs="+", choices=list(TOOLS), default=list(TOOLS), help="which tools to run (default: all, in this order)")
    parser.add_argument("--task-cost-runs", type=int, default=10, help="rounds of the per-task cost measurement (0: skip it)")
    parser.add_argument("--keep-work", action="store_true", help="keep the certificates, keys and state files after the run")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
