# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The filters the roles use for their variable checks, their folder layout, their web nodes and the batch's report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.certfleet.acme.plugins.filter import roles as roles_module
from ansible_collections.certfleet.acme.plugins.filter.roles import (
    FilterModule,
    batch_result,
    certificate_files,
    credentials_file,
    credentials_slug,
    deploy_changes,
    kept_files,
    legacy_credentials,
    role_problems,
    web_nodes,
    with_certificate_files,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Credentials
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import CERTIFICATE_NAME

PREFIX = "certfleet_certificate_"


def settings(**changes: Any) -> dict[str, Any]:
    """A certificate role's variables that break no rule, with ``changes``."""
    good = {
        "name": "www",
        "identifiers": ["www.example.com"],
        "challenge": "http-01",
        "provider": "webroot",
        "webroot_hosts": ["web1"],
        "nsupdate_server": "",
        "custom_publish_tasks": None,
    }
    return {**good, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"challenge": "dns-01", "provider": "nsupdate", "nsupdate_server": "ns1.example.com", "webroot_hosts": []},
        {"challenge": "dns-persist-01", "provider": "nsupdate", "nsupdate_server": "ns1.example.com"},
        {"challenge": "dns-persist-01", "provider": "none", "webroot_hosts": []},
        {"challenge": "dns-01", "provider": "custom", "custom_publish_tasks": "/srv/publish.yml", "webroot_hosts": []},
        {"name": "shop.example.com_2-b"},
    ],
)
def test_variables_that_fit_together_break_no_rule(changes: dict[str, Any]) -> None:
    assert role_problems(settings(**changes), PREFIX) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"name": "../escape"},
            'certfleet_certificate_name "../escape" is not a plain file name: use letters, digits, ".", "_" and "-", '
            "starting with a letter or digit, at most 128 characters",
        ),
        ({"name": ".hidden"}, 'certfleet_certificate_name ".hidden" is not a plain file name'),
        # The batch's limit too (storage.CERTIFICATE_NAME): one rule for a certificate's name on every path.
        ({"name": "a" * 129}, f'certfleet_certificate_name "{"a" * 129}" is not a plain file name'),
        ({"name": "a/b"}, 'certfleet_certificate_name "a/b" is not a plain file name'),
        ({"name": ""}, 'certfleet_certificate_name "" is not a plain file name'),
        ({"identifiers": []}, "certfleet_certificate_identifiers is empty: give at least one DNS name or IP address"),
        (
            {"challenge": "dns-01"},
            "the webroot provider publishes http-01 tokens only, but certfleet_certificate_challenge is dns-01: "
            "set certfleet_certificate_provider to nsupdate or custom",
        ),
        (
            {"provider": "nsupdate", "nsupdate_server": "ns1.example.com"},
            "the nsupdate provider publishes TXT records (dns-01, dns-persist-01), but certfleet_certificate_challenge is http-01: "
            "set certfleet_certificate_provider to webroot or custom",
        ),
        (
            {"provider": "none", "challenge": "dns-01"},
            "the none provider publishes nothing, which suits only dns-persist-01 records put in place beforehand, "
            "but certfleet_certificate_challenge is dns-01: set certfleet_certificate_provider to nsupdate or custom",
        ),
        ({"webroot_hosts": []}, "the webroot provider needs certfleet_certificate_webroot_hosts: the hosts that serve the names"),
        (
            {"challenge": "dns-01", "provider": "nsupdate"},
            "the nsupdate provider needs certfleet_certificate_nsupdate_server: the primary DNS server of the zone",
        ),
        (
            {"provider": "custom", "custom_publish_tasks": ""},
            "the custom provider needs certfleet_certificate_custom_publish_tasks: the task file that publishes the proofs",
        ),
    ],
)
def test_each_broken_rule_is_named_alone_with_its_variable_and_the_way_out(changes: dict[str, Any], message: str) -> None:
    problems = role_problems(settings(**changes), PREFIX)

    assert len(problems) == 1
    assert problems[0].startswith(message)


def test_every_broken_rule_is_named_and_the_prefix_is_the_callers() -> None:
    problems = role_problems(
        {"name": "a b", "identifiers": [], "challenge": "dns-01", "provider": "webroot", "webroot_hosts": []},
        "certfleet_other_",
    )

    assert [problem.split(" ")[0:2] for problem in problems] == [
        ["certfleet_other_name", '"a'],
        ["certfleet_other_identifiers", "is"],
        ["the", "webroot"],
        ["the", "webroot"],
    ]
    assert all("certfleet_certificate_" not in problem for problem in problems)


def test_rules_whose_variables_a_role_does_not_pass_are_not_checked() -> None:
    # The batch role has no single challenge, name or identifiers: only the provider's own setting counts.
    assert role_problems({"provider": "webroot", "webroot_hosts": ["web1"]}, "certfleet_certificates_") == []
    assert role_problems({"provider": "nsupdate", "nsupdate_server": None}, "certfleet_certificates_") == [
        "the nsupdate provider needs certfleet_certificates_nsupdate_server: the primary DNS server of the zone"
    ]


def test_a_certificates_files_are_in_its_own_folder() -> None:
    assert certificate_files("www", "/srv/certfleet") == {
        "private_key_path": "/srv/certfleet/www/privkey.pem",
        "cert_path": "/srv/certfleet/www/cert.pem",
        "chain_path": "/srv/certfleet/www/chain.pem",
        "fullchain_path": "/srv/certfleet/www/fullchain.pem",
        "state_path": "/srv/certfleet/www/order.json",
    }


def test_batch_entries_get_the_same_files_as_a_single_certificate_and_keep_their_options() -> None:
    entries = [{"name": "www", "identifiers": ["www.example.com"], "challenge": "dns-01"}, {"name": "api", "identifiers": ["api.example.com"]}]

    expanded = with_certificate_files(entries, "/srv/certfleet")

    assert expanded == [{**entry, **certificate_files(entry["name"], "/srv/certfleet")} for entry in entries]
    assert expanded[0]["challenge"] == "dns-01"
    assert expanded[1]["state_path"] == "/srv/certfleet/api/order.json"
    assert "state_path" not in entries[0]


def test_web_nodes_prefer_the_hosts_own_node_then_its_address_then_its_name() -> None:
    hosts = [
        {"inventory_hostname": "web1", "ansible_host": "127.0.0.2", "certfleet_http_node": "127.0.0.2:5002"},
        {"inventory_hostname": "web2", "ansible_host": "127.0.0.3"},
        {"inventory_hostname": "web3.example.com"},
        {"inventory_hostname": "web4", "certfleet_http_node": ""},
    ]

    assert web_nodes(hosts, 80) == ["127.0.0.2:5002", "127.0.0.3:80", "web3.example.com:80", "web4:80"]
    assert web_nodes([], 80) == []


def test_a_batch_report_takes_each_certificates_latest_result_in_the_batchs_order() -> None:
    ordered = [
        {"name": "a", "status": "pending", "changed": True, "failed": False},
        {"name": "b", "status": "not_due", "changed": False, "failed": False},
        {"name": "c", "status": "pending", "changed": True, "failed": False},
    ]
    finished = [
        {"name": "c", "status": "failed", "changed": False, "failed": True, "msg": "refused"},
        {"name": "a", "status": "issued", "changed": True, "failed": False},
    ]

    report = batch_result(ordered, finished)

    assert [entry["name"] for entry in report["certificates"]] == ["a", "b", "c"]
    assert [entry["status"] for entry in report["certificates"]] == ["issued", "not_due", "failed"]
    assert report["issued"] == ["a"]
    assert report["failed_certificates"] == ["c"]
    assert report["counts"] == {"issued": 1, "not_due": 1, "failed": 1}
    assert report["changed"] is True


def test_a_batch_with_nothing_due_reports_no_change() -> None:
    report = batch_result([{"name": "a", "status": "not_due", "changed": False, "failed": False}], [])

    assert report == {
        "certificates": [{"name": "a", "status": "not_due", "changed": False, "failed": False}],
        "failed_certificates": [],
        "issued": [],
        "counts": {"not_due": 1},
        "changed": False,
    }


def test_kept_files_have_acme_finalizes_shape_without_the_order_state() -> None:
    kept = kept_files(certificate_files("www", "/var/lib/certfleet"))

    assert kept == {
        "private_key_path": {"path": "/var/lib/certfleet/www/privkey.pem", "changed": False},
        "cert_path": {"path": "/var/lib/certfleet/www/cert.pem", "changed": False},
        "chain_path": {"path": "/var/lib/certfleet/www/chain.pem", "changed": False},
        "fullchain_path": {"path": "/var/lib/certfleet/www/fullchain.pem", "changed": False},
    }


@pytest.mark.parametrize(
    ("acme_directory", "slug"),
    [
        ("letsencrypt", "letsencrypt"),
        ("letsencrypt_staging", "letsencrypt_staging"),
        (" pebble ", "pebble"),
        ("https://acme-v02.api.letsencrypt.org/directory", "letsencrypt"),
        ("https://acme-staging-v02.api.letsencrypt.org/directory", "letsencrypt_staging"),
        ("https://127.0.5.1:14000/dir", "127.0.5.1_14000_dir"),
        ("https://127.0.5.1:14001/dir", "127.0.5.1_14001_dir"),
        ("https://ACME.Example.com/acme/dir?x=1", "acme.example.com_acme_dir_x_1"),
        ("https://[2001:db8::1]:8443/dir", "2001_db8_1_8443_dir"),
    ],
)
def test_credentials_slug_is_the_preset_or_a_plain_name_of_the_url(acme_directory: str, slug: str) -> None:
    assert credentials_slug(acme_directory) == slug
    assert CERTIFICATE_NAME.fullmatch(slug)


def test_credentials_slug_of_a_very_long_url_stays_a_file_name() -> None:
    slug = credentials_slug("https://ca.example.com/" + "a" * 300)
    assert len(slug) <= 120 and CERTIFICATE_NAME.fullmatch(slug)


def test_credentials_file_is_one_per_ca() -> None:
    staging = credentials_file("letsencrypt_staging", "/var/lib/certfleet")
    production = credentials_file("letsencrypt", "/var/lib/certfleet")
    assert staging == "/var/lib/certfleet/accounts/letsencrypt_staging.json"
    assert production == "/var/lib/certfleet/accounts/letsencrypt.json"
    # Nothing found, or the find task skipped: the file of the CA.
    assert credentials_file("letsencrypt", "/var/lib/certfleet", found={"skipped": True, "changed": False}) == production
    assert credentials_file("letsencrypt", "/var/lib/certfleet", found={"files": [], "matched": 0}) == production


def test_credentials_file_keeps_the_0_1_0_file_found_for_the_ca() -> None:
    found = {"files": [{"path": "/var/lib/certfleet/account.json", "mode": "0600"}], "matched": 1}
    assert credentials_file("letsencrypt", "/var/lib/certfleet", found=found) == "/var/lib/certfleet/account.json"


def _credentials_lines(directory_url: str) -> list[str]:
    credentials = Credentials(key=generate_private_key("ec256"), account_uri="https://ca.example/acct/1", directory=directory_url)
    return credentials.to_json().decode("utf-8").splitlines(keepends=True)


def test_legacy_credentials_matches_the_directory_line_of_that_ca_only() -> None:
    legacy = legacy_credentials("letsencrypt_staging", "/var/lib/certfleet")
    assert legacy["path"] == "/var/lib/certfleet/account.json"
    pattern = re.compile(legacy["contains"])
    # ansible.builtin.find matches its pattern at the start of each line.
    staging = _credentials_lines("https://acme-staging-v02.api.letsencrypt.org/directory")
    production = _credentials_lines("https://acme-v02.api.letsencrypt.org/directory")
    longer = _credentials_lines("https://acme-staging-v02.api.letsencrypt.org/directory/more")
    assert [line for line in staging if pattern.match(line)] == ['  "directory": "https://acme-staging-v02.api.letsencrypt.org/directory",\n']
    assert not [line for line in production + longer if pattern.match(line)]


def test_legacy_credentials_of_a_url_takes_it_literally() -> None:
    pattern = re.compile(legacy_credentials("https://127.0.5.1:14000/dir", "/srv")["contains"])
    assert [line for line in _credentials_lines("https://127.0.5.1:14000/dir") if pattern.match(line)]
    assert not [line for line in _credentials_lines("https://127.0.5.1x14000/dir") if pattern.match(line)]


def test_every_filter_is_offered_under_its_documented_name() -> None:
    assert sorted(FilterModule().filters()) == [
        "batch_result",
        "certificate_files",
        "credentials_file",
        "deploy_changes",
        "kept_files",


        "legacy_credentials",
        "role_problems",
        "web_nodes",
        "with_certificate_files",
    ]


@pytest.mark.parametrize("name", sorted(FilterModule().filters()))
def test_every_filter_has_its_documentation_file(name: str) -> None:
    # ansible-doc finds a filter's documentation in the YAML file of its name next to the plugin.
    path = Path(roles_module.__file__).with_name(f"{name}.yml")

    documentation = yaml.safe_load(path.read_text())["DOCUMENTATION"]

    assert documentation["name"] == name
    assert documentation["options"]["_input"]["required"] is True


WANTED = [
    {"name": "privkey.pem", "src": "privkey.pem", "mode": "0600"},
    {"name": "cert.pem", "src": "cert.pem", "mode": "0644"},
    {"name": "combined.pem", "src": None, "mode": 0o600},
]
SOURCES = {"privkey.pem": "k" * 40, "cert.pem": "c" * 40}
COMBINED = "b" * 40


def installed(name: str, checksum: str, mode: str, **changes: Any) -> dict[str, Any]:
    """A file as ansible.builtin.find reports it."""
    entry = {"path": f"/etc/nginx/tls/{name}", "checksum": checksum, "isdir": False, "mode": mode}
    entry.update(uid=0, gid=0, pw_name="root", gr_name="root")
    return {**entry, **changes}


def test_a_first_deployment_installs_every_file_as_the_connecting_user() -> None:
    changes = deploy_changes(WANTED, [], SOURCES, COMBINED)

    assert [entry["name"] for entry in changes["pending"]] == ["privkey.pem", "cert.pem", "combined.pem"]
    assert {(entry["owner"], entry["group"]) for entry in changes["pending"]} == {(None, None)}
    assert changes["drift"] == [] and changes["folders"] == []


def test_only_a_changed_file_is_installed_keeping_the_owner_of_the_file_it_replaces() -> None:
    found = [
        installed("privkey.pem", "k" * 40, "0600"),
        installed("cert.pem", "0" * 40, "0644", uid=33, gid=44),
        installed("combined.pem", COMBINED, "0600"),
    ]

    changes = deploy_changes(WANTED, found, SOURCES, COMBINED)

    assert changes["pending"] == [{"name": "cert.pem", "src": "cert.pem", "mode": "0644", "owner": "33", "group": "44"}]
    assert changes["drift"] == []


def test_the_owner_and_group_asked_for_win_over_the_replaced_files() -> None:
    changes = deploy_changes(WANTED[:1], [installed("privkey.pem", "0" * 40, "0600", uid=33)], SOURCES, None, "www-data", "ssl-cert")

    assert changes["pending"][0]["owner"] == "www-data"
    assert changes["pending"][0]["group"] == "ssl-cert"


@pytest.mark.parametrize(
    ("have", "owner", "group"),
    [
        ({"mode": "0640"}, None, None),
        ({"uid": 33, "pw_name": "www-data"}, "root", None),
        ({"gid": 44, "gr_name": "ssl-cert"}, None, "root"),
    ],
)
def test_right_content_with_another_mode_owner_or_group_is_drift_not_a_new_upload(have: dict[str, Any], owner: Any, group: Any) -> None:
    found = [{**installed("privkey.pem", "k" * 40, "0600"), **have}]

    changes = deploy_changes(WANTED[:1], found, SOURCES, None, owner, group)

    assert changes["pending"] == []
    assert changes["drift"] == [WANTED[0]]


def test_owner_and_group_match_by_name_or_number() -> None:
    found = [installed("privkey.pem", "k" * 40, "0600", uid=33, pw_name="www-data", gid=44, gr_name="ssl-cert")]

    assert deploy_changes(WANTED[:1], found, SOURCES, None, "33", "ssl-cert") == {"pending": [], "drift": [], "folders": []}
    assert deploy_changes(WANTED[:1], found, SOURCES, None, "www-data", "44") == {"pending": [], "drift": [], "folders": []}


def test_a_mode_given_as_yaml_reads_0600_unquoted_counts_as_octal() -> None:
    found = [installed("combined.pem", COMBINED, "0600")]

    assert deploy_changes(WANTED[2:], found, SOURCES, COMBINED) == {"pending": [], "drift": [], "folders": []}


def test_a_mode_that_is_no_octal_number_is_always_drift() -> None:
    wanted = [{"name": "cert.pem", "src": "cert.pem", "mode": "u=rw"}]

    assert deploy_changes(wanted, [installed("cert.pem", "c" * 40, "0600")], SOURCES)["drift"] == wanted


def test_a_folder_in_the_place_of_a_file_is_named() -> None:
    folder = {"path": "/etc/nginx/tls/cert.pem", "isdir": True, "mode": "0755", "uid": 0, "gid": 0}

    changes = deploy_changes(WANTED[1:2], [folder], SOURCES)

    assert changes["folders"] == ["cert.pem"]
