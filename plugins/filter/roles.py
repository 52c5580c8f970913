# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Filters the collection's roles use instead of Jinja programs: the checks of their variables,
the layout of a certificate's folder, the web nodes a self-test goes through, a batch's report, and
what a deployment must change on a host.

Plain functions of plain data, so that the roles' rules are written, read and unit-tested once.
The documentation of each filter is in the YAML file of its name next to this one.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import DIRECTORY_PRESETS, resolve_directory
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import CERTIFICATE_NAME

# What each provider can publish (the challenge types whose proofs it can put in place).
PROVIDER_CHALLENGES = {
    "webroot": ("http-01",),
    "nsupdate": ("dns-01", "dns-persist-01"),
    # none publishes nothing, which only holds for records published once beforehand.
    "none": ("dns-persist-01",),
}

# One certificate's files in its folder <dir>/<name>/, the same for both roles: the order state
# file (and its lock, order.json.lock) are what make a batch and a single run take turns.
CERTIFICATE_FILES = {
    "private_key_path": "privkey.pem",
    "cert_path": "cert.pem",
    "chain_path": "chain.pem",
    "fullchain_path": "fullchain.pem",
    "state_path": "order.json",
}


def _name_problems(settings: Mapping[str, Any], prefix: str) -> list[str]:
    if "name" not in settings:
        return []
    name = settings["name"]
    if isinstance(name, str) and CERTIFICATE_NAME.fullmatch(name):
        return []
    return [
        f"{prefix}name {json.dumps(name)} is not a plain file name: use letters, digits, \".\", \"_\" and \"-\", "
        "starting with a letter or digit, at most 128 characters"
    ]


def _identifier_problems(settings: Mapping[str, Any], prefix: str) -> list[str]:
    if "identifiers" in settings and not settings["identifiers"]:
        return [f"{prefix}identifiers is empty: give at least one DNS name or IP address"]
    return []


def _challenge_problems(settings: Mapping[str, Any], prefix: str) -> list[str]:
    """The provider must be able to publish the challenge's proofs (RFC 8555 section 8.3, 8.4)."""
    provider = settings.get("provider")
    challenge = settings.get("challenge")
    if challenge is None or provider not in PROVIDER_CHALLENGES or challenge in PROVIDER_CHALLENGES[provider]:
        return []
    # The way out names the providers that can publish this challenge type, and custom, which can publish anything.
    others = [name for name, challenges in PROVIDER_CHALLENGES.items() if challenge in challenges and name != "none"]
    way_out = f"set {prefix}provider to {' or '.join(others + ['custom'])}"
    if provider == "webroot":
        return [f"the webroot provider publishes http-01 tokens only, but {prefix}challenge is {challenge}: {way_out}"]
    if provider == "nsupdate":
        return [f"the nsupdate provider publishes TXT records (dns-01, dns-persist-01), but {prefix}challenge is {challenge}: {way_out}"]
    return [
        f"the none provider publishes nothing, which suits only dns-persist-01 records put in place beforehand, "
        f"but {prefix}challenge is {challenge}: {way_out}"
    ]


def _provider_setting_problems(settings: Mapping[str, Any], prefix: str) -> list[str]:
    """Each provider's one setting without which it cannot publish anything."""
    provider = settings.get("provider")
    if provider == "webroot" and "webroot_hosts" in settings and not settings["webroot_hosts"]:
        return [f"the webroot provider needs {prefix}webroot_hosts: the hosts that serve the names"]
    if provider == "nsupdate" and "nsupdate_server" in settings and not settings["nsupdate_server"]:
        return [f"the nsupdate provider needs {prefix}nsupdate_server: the primary DNS server of the zone"]
    if provider == "custom" and "custom_publish_tasks" in settings and not settings["custom_publish_tasks"]:
        return [f"the custom provider needs {prefix}custom_publish_tasks: the task file that publishes the proofs"]
    return []


def role_problems(settings: Mapping[str, Any], prefix: str) -> list[str]:
    """Every rule of a role's variables that ``settings`` breaks, each naming the variable and the way out.

    ``settings`` holds the role's variables without their ``prefix`` (``name``, ``identifiers``,
    ``challenge``, ``provider``, ``webroot_hosts``, ``nsupdate_server``, ``custom_publish_tasks``);
    a rule about a key that is absent is not checked, so a role passes only what it has.
    """
    checks: list[Callable[[Mapping[str, Any], str], list[str]]] = [
        _name_problems,
        _identifier_problems,
        _challenge_problems,
        _provider_setting_problems,
    ]
    return [problem for check in checks for problem in check(settings, prefix)]


def certificate_files(name: str, directory: str) -> dict[str, str]:
    """The key, certificate, chain, full chain and order state file of certificate ``name`` under ``directory``."""
    folder = os.path.join(directory, name)
    return {option: os.path.join(folder, file_name) for option, file_name in CERTIFICATE_FILES.items()}


def kept_files(paths: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The files a user keeps (``certificate_files`` without the order state), as acme_finalize reports them unwritten."""
    return {option: {"path": path, "changed": False} for option, path in paths.items() if option != "state_path"}


def with_certificate_files(certificates: list[Mapping[str, Any]], directory: str) -> list[dict[str, Any]]:
    """Each certificate entry of a batch with the files of its ``name`` (``certificate_files``) added."""
    return [{**entry, **certificate_files(entry["name"], directory)} for entry in certificates]


# The one credentials file of certfleet.acme 0.1.0's roles, for whichever CA it was made at.
LEGACY_CREDENTIALS = "account.json"
# The folder of the credentials files, one per CA, under the roles' folder.
CREDENTIALS_FOLDER = "accounts"


def _directory_url(acme_directory: str) -> str:
    """The directory URL a preset name stands for, or the value itself when it is no valid directory
    (the modules refuse it with the message that names the option)."""
    try:
        return resolve_directory(acme_directory)
    except AcmeOptionError:
        return str(acme_directory).strip()


def credentials_slug(acme_directory: str) -> str:
    """A file name for the CA: its preset name, also when given as the preset's URL, otherwise host, port and path of its URL.

    ``https://acme.example.com:8443/acme/dir`` becomes ``acme.example.com_8443_acme_dir``: characters other than
    letters, digits, ``.`` and ``-`` become ``_``, and the name starts with a letter or digit.
    """
    url = _directory_url(acme_directory)
    for name, preset_url in DIRECTORY_PRESETS.items():
        if url == preset_url:
            return name
    without_scheme = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", url)
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", without_scheme.lower()).strip("._-")
    return slug[:120] or "directory"


def credentials_file(acme_directory: str, directory: str, found: Mapping[str, Any] | None = None) -> str:
    """The credentials file of the CA ``acme_directory`` under the roles' folder ``directory``: one file per CA.

    ``<directory>/accounts/<slug>.json`` (``credentials_slug``), so an account made at staging is never
    offered to production. ``found`` is what ``ansible.builtin.find`` returned when looking for a
    0.1.0 file ``<directory>/account.json`` of the same CA (``legacy_credentials``): when it found
    one, that file stays the account's, so an upgrade keeps its account rather than making a second.
    """
    matched = [entry["path"] for entry in (found or {}).get("files") or [] if isinstance(entry, Mapping) and entry.get("path")]
    if matched:
        return str(matched[0])
    return os.path.join(directory, CREDENTIALS_FOLDER, credentials_slug(acme_directory) + ".json")


def legacy_credentials(acme_directory: str, directory: str) -> dict[str, str]:
    """Where certfleet.acme 0.1.0's roles kept the credentials (``path``), and the line (``contains``, a regular
    expression for ``ansible.builtin.find``) that file holds when it belongs to the CA ``acme_directory``.

    The file's ``directory`` field is matched, never its key: the role learns which CA the file is
    for without reading the secret into a variable.
    """
    quoted = json.dumps(_directory_url(acme_directory))
    return {
        "path": os.path.join(directory, LEGACY_CREDENTIALS),
        "contains": rf'\s*"directory": {re.escape(quoted)},?\s*$',
    }


def web_nodes(hosts_vars: list[Mapping[str, Any]], port: int) -> list[str]:
    """Each web host as ``host:port`` for the http-01 self-test.

    A host's own ``certfleet_http_node`` wins; otherwise its ``ansible_host`` (or its inventory
    name) on ``port``.
    """
    nodes = []
    for host_vars in hosts_vars:
        node = host_vars.get("certfleet_http_node")
        if not node:
            node = f"{host_vars.get('ansible_host') or host_vars['inventory_hostname']}:{port}"
        nodes.append(str(node))
    return nodes


def batch_result(ordered: list[Mapping[str, Any]], finished: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One batch's report: each certificate's order-step result, replaced by its later step's where it has one.

    Keeps the batch's order. Merged by name through a dict: matching every pair of the two lists
    costs seconds at a thousand certificates.
    """
    latest = {entry["name"]: entry for entry in finished}
    merged = [latest.pop(entry["name"], entry) for entry in ordered] + list(latest.values())
    return {
        "certificates": merged,
        "failed_certificates": [entry["name"] for entry in merged if entry.get("failed")],
        "issued": [entry["name"] for entry in merged if entry.get("status") == "issued"],
        # As acme_certificates counts them: how many certificates ended in each status.
        "counts": dict(Counter(entry.get("status") for entry in merged)),
        "changed": any(entry.get("changed") for entry in merged),
    }


def _mode_matches(wanted: Any, have: Any) -> bool:
    """Whether the octal mode wanted (``"0640"``, or an int as YAML reads 0640) is the mode a host reported."""
    text = wanted if isinstance(wanted, str) else f"{wanted:o}"
    return re.fullmatch(r"[0-7]{3,4}", text) is not None and int(text, 8) == int(str(have), 8)


def _attributes_match(wanted: Mapping[str, Any], have: Mapping[str, Any], owner: str | None, group: str | None) -> bool:
    """Mode, owner and group of an installed file as wanted (an unset owner or group is whatever it is)."""
    return (
        _mode_matches(wanted["mode"], have["mode"])
        and (not owner or owner in (have.get("pw_name"), str(have.get("uid"))))
        and (not group or group in (have.get("gr_name"), str(have.get("gid"))))
    )


def deploy_changes(
    files: list[Mapping[str, Any]],
    found: list[Mapping[str, Any]],
    source_checksums: Mapping[str, str],
    combined_checksum: str | None = None,
    owner: str | None = None,
    group: str | None = None,
) -> dict[str, list[Any]]:
    """What a deployment must do on one host: the files to install, those to fix, and folders in the way.

    ``files`` are the wanted files (``name``, ``src``, ``mode``) in the order they are swapped in;
    ``found`` what ``ansible.builtin.find`` reported in the destination (``path``, ``checksum``,
    ``isdir``, ``mode``, ``uid``, ``gid``, ``pw_name``, ``gr_name``). A file's content must have the
    SHA-1 of its ``src`` in ``source_checksums``, or ``combined_checksum`` for the combined file (no
    ``src``). A file whose content differs is ``pending``, with the owner and group to upload it
    with (without ``owner``/``group``: those of the file it replaces); one whose content is right
    but mode, owner or group is not is ``drift``; a name taken by a folder is in ``folders``.
    """
    installed = {os.path.basename(entry["path"]): entry for entry in found}
    changes: dict[str, list[Any]] = {"pending": [], "drift": [], "folders": []}
    for wanted in files:
        have = installed.get(wanted["name"], {})
        if have.get("isdir"):
            changes["folders"].append(wanted["name"])
        checksum = source_checksums[wanted["src"]] if wanted["src"] else combined_checksum
        if have.get("checksum", "") != checksum:
            keep = {"owner": str(have["uid"]), "group": str(have["gid"])} if have else {"owner": None, "group": None}
            changes["pending"].append({**wanted, "owner": owner or keep["owner"], "group": group or keep["group"]})
        elif not _attributes_match(wanted, have, owner, group):
            changes["drift"].append(wanted)
    return changes


class FilterModule:
    """certfleet.acme's filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "role_problems": role_problems,
            "certificate_files": certificate_files,
            "kept_files": kept_files,
            "with_certificate_files": with_certificate_files,
            "web_nodes": web_nodes,
            "credentials_file": credentials_file,
            "legacy_credentials": legacy_credentials,
            "batch_result": batch_result,
            "deploy_changes": deploy_changes,
        }
