# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The options a step takes from the previous step's registered result: derived, compared, refused."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme.chain_options import derive_order_options, derive_step_options
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError

CERT = "/etc/ssl/www/cert.pem"
FULLCHAIN = "/etc/ssl/www/fullchain.pem"


def info(**changes: Any) -> dict[str, Any]:
    """An acme_certificate_info result for a certificate in place that is due, as a task registers it."""
    result: dict[str, Any] = {
        "changed": False,
        "failed": False,
        "cert_path": CERT,
        "wanted_identifiers": ["www.example.com", "example.com"],
        "exists": True,
        "renewal_due": True,
        "reason": "expiring",
        "reasons": ["expiring"],
        "serial": "4e0ac2b1f7d06bf7",
        "identifiers": ["www.example.com"],
        "cert_id": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
        "replaces": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
    }
    result.update(changes)
    return result


def order_params(**given: Any) -> dict[str, Any]:
    """acme_order's options as AnsibleModule hands them over: everything left out is None."""
    params: dict[str, Any] = {name: None for name in ("identifiers", "certificate", "cert_path", "cert_serial", "replaces", "state_path", "order_uri")}
    params.update(given)
    return params


def step_params(**given: Any) -> dict[str, Any]:
    params: dict[str, Any] = {name: None for name in ("order", "order_uri", "state_path", "cert_path", "fullchain_path")}
    params.update(given)
    return params


def order_result(**changes: Any) -> dict[str, Any]:
    """An acme_order result made with ``certificate``."""
    result: dict[str, Any] = {
        "changed": True,
        "order_uri": "https://ca.example/order/1",
        "state_path": CERT + ".order.json",
        "cert_path": CERT,
        "identifiers": ["www.example.com", "example.com"],
    }
    result.update(changes)
    return result


# -- acme_order's certificate ---------------------------------------------------------------------


def test_every_fact_of_the_certificate_is_taken_once() -> None:
    params = order_params(certificate=info())
    derive_order_options(params)
    assert params["identifiers"] == ["www.example.com", "example.com"]
    assert params["cert_path"] == CERT
    assert params["cert_serial"] == "4e0ac2b1f7d06bf7"
    assert params["replaces"] == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
    assert params["state_path"] == CERT + ".order.json"


def test_a_missing_certificate_gives_no_serial_and_no_replaces() -> None:
    params = order_params(certificate=info(exists=False, serial=None, cert_id=None, replaces=None, identifiers=[], reasons=["missing"]))
    derive_order_options(params)
    assert (params["cert_serial"], params["replaces"]) == (None, None)
    assert params["identifiers"] == ["www.example.com", "example.com"]
    assert params["state_path"] == CERT + ".order.json"


def test_a_certificate_of_another_ca_is_not_named_in_replaces() -> None:
    # acme_certificate_info reports no replaces for it (renewal.replaces_for): the order sends none.
    params = order_params(certificate=info(reasons=["ca_changed", "expiring"], replaces=None))
    derive_order_options(params)
    assert params["replaces"] is None
    assert params["cert_serial"] == "4e0ac2b1f7d06bf7"


def test_without_wanted_names_the_names_of_the_certificate_in_place_are_ordered() -> None:
    params = order_params(certificate=info(wanted_identifiers=None))
    derive_order_options(params)
    assert params["identifiers"] == ["www.example.com"]


def test_names_given_as_well_must_be_the_same_names() -> None:
    params = order_params(certificate=info(), identifiers=["EXAMPLE.com", "www.example.com"])
    derive_order_options(params)  # same names, other order and case
    assert params["identifiers"] == ["EXAMPLE.com", "www.example.com"]
    with pytest.raises(AcmeOptionError) as caught:
        derive_order_options(order_params(certificate=info(), identifiers=["www.example.com"]))
    assert caught.value.option == "identifiers"
    assert caught.value.msg == (
        "identifiers ['www.example.com'] differs from certificate.wanted_identifiers ['www.example.com', 'example.com']; "
        "leave identifiers out to use certificate.wanted_identifiers, or make them agree"
    )


def test_a_cert_path_or_serial_given_as_well_must_agree(tmp_path: Any) -> None:
    os.symlink("/etc/ssl/www", str(tmp_path / "link"))
    derive_order_options(order_params(certificate=info(), cert_path=str(tmp_path / "link" / "cert.pem"), cert_serial="4E:0A:C2:B1:F7:D0:6B:F7"))
    with pytest.raises(AcmeOptionError) as caught:
        derive_order_options(order_params(certificate=info(), cert_path="/etc/ssl/other/cert.pem"))
    assert caught.value.option == "cert_path"
    assert "certificate.cert_path '/etc/ssl/www/cert.pem'" in caught.value.msg
    with pytest.raises(AcmeOptionError) as caught:
        derive_order_options(order_params(certificate=info(), cert_serial="01"))
    assert caught.value.option == "cert_serial"


def test_an_explicit_state_path_wins_over_the_one_beside_the_certificate() -> None:
    params = order_params(certificate=info(), state_path="/var/lib/certfleet/www/order.json")
    derive_order_options(params)
    assert params["state_path"] == "/var/lib/certfleet/www/order.json"


def test_neither_identifiers_nor_certificate_is_refused() -> None:
    with pytest.raises(AcmeOptionError) as caught:
        derive_order_options(order_params())
    assert caught.value.option == "identifiers"
    derive_order_options(order_params(identifiers=["www.example.com"]))  # the chain written out in full still works
    derive_order_options(order_params(identifiers=[]))  # left to parse_identifiers: "identifiers is empty"


def test_a_certificate_result_without_any_name_is_refused() -> None:
    with pytest.raises(AcmeOptionError) as caught:
        derive_order_options(order_params(certificate=info(wanted_identifiers=None, identifiers=[], exists=False)))
    assert caught.value.option == "identifiers"
    assert "give identifiers to acme_certificate_info or to this task" in caught.value.msg


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("/etc/ssl/www/cert.pem", "must be the registered result of certfleet.acme.acme_certificate_info (a dict), not a str"),
        ({"skipped": True, "changed": False}, "is the result of a skipped task"),
        ({"failed": True, "msg": "boom"}, "is the result of a failed task"),
        ({"changed": False, "exists": True}, "has no cert_path: it is not the result of certfleet.acme.acme_certificate_info"),
        (info(cert_path=["a"]), "certificate.cert_path must be a str or null, not a list"),
        (info(exists="yes"), "certificate.exists must be a bool or null, not a str"),
        (info(wanted_identifiers=[1, 2]), "certificate.wanted_identifiers must be a list of names"),
    ],
)
def test_what_is_not_an_info_result_is_refused_naming_certificate(value: Any, words: str) -> None:
    with pytest.raises(AcmeOptionError) as caught:
        derive_order_options(order_params(certificate=value))
    assert caught.value.option == "certificate"
    assert words in caught.value.msg


# -- acme_challenge_proof's and acme_finalize's order ---------------------------------------------


def test_the_state_file_of_the_order_is_taken_and_not_its_url() -> None:
    params = step_params(order=order_result())
    derive_step_options(params)
    assert params["state_path"] == CERT + ".order.json"
    assert params["order_uri"] is None
    assert params["cert_path"] is None  # acme_challenge_proof writes no certificate


def test_without_a_state_file_the_url_of_the_order_is_taken() -> None:
    params = step_params(order=order_result(state_path=None, cert_path=None))
    derive_step_options(params, certificate_files=True)
    assert params["order_uri"] == "https://ca.example/order/1"
    assert params["cert_path"] is None


def test_an_order_of_check_mode_without_state_file_or_url_is_refused() -> None:
    with pytest.raises(AcmeOptionError) as caught:
        derive_step_options(step_params(order=order_result(state_path=None, order_uri=None, cert_path=None)))
    assert caught.value.option == "order"


def test_finalize_takes_the_certificate_file_of_the_order() -> None:
    params = step_params(order=order_result(), fullchain_path=FULLCHAIN)
    derive_step_options(params, certificate_files=True)
    assert params["cert_path"] == CERT
    assert params["fullchain_path"] == FULLCHAIN


def test_finalize_writes_no_cert_path_when_the_order_was_for_the_full_chain() -> None:
    params = step_params(order=order_result(cert_path=FULLCHAIN, state_path=FULLCHAIN + ".order.json"), fullchain_path=FULLCHAIN)
    derive_step_options(params, certificate_files=True)
    assert params["cert_path"] is None


def test_a_state_path_or_cert_path_given_as_well_must_agree() -> None:
    derive_step_options(step_params(order=order_result(), state_path=CERT + ".order.json", cert_path=CERT), certificate_files=True)
    with pytest.raises(AcmeOptionError) as caught:
        derive_step_options(step_params(order=order_result(), state_path="/var/lib/certfleet/other.json"))
    assert caught.value.option == "state_path"
    assert "order.state_path" in caught.value.msg
    with pytest.raises(AcmeOptionError) as caught:
        derive_step_options(step_params(order=order_result(), cert_path="/etc/ssl/other.pem"), certificate_files=True)
    assert caught.value.option == "cert_path"
    assert "order.cert_path" in caught.value.msg


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (["https://ca.example/order/1"], "must be the registered result of certfleet.acme.acme_order (a dict), not a list"),
        ({"skipped": True, "changed": False, "skip_reason": "Conditional result was False"}, "is the result of a skipped task"),
        ({"order_uri": "https://ca.example/order/1"}, "has no state_path: it is not the result of certfleet.acme.acme_order"),
        (order_result(state_path=7), "order.state_path must be a str or null, not a int"),
    ],
)
def test_what_is_not_an_order_result_is_refused_naming_order(value: Any, words: str) -> None:
    with pytest.raises(AcmeOptionError) as caught:
        derive_step_options(step_params(order=value))
    assert caught.value.option == "order"
    assert words in caught.value.msg
