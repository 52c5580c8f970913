# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Each module's ``RETURN`` documents exactly the keys its typed result has.

The result classes of ``results.py`` are what the runs return and what ``to_result`` turns
into the task result; a key added to one without the other fails here. Nested results
(a batch's certificates) are compared with their ``contains`` too.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import yaml

from ansible_collections.certfleet.acme.plugins import modules as modules_package
from ansible_collections.certfleet.acme.plugins.module_utils._acme import results

MODULES = sorted(info.name for info in pkgutil.iter_modules(modules_package.__path__))
RESULT_OF = {
    "acme_account": results.AccountResult,
    "acme_certificate_info": results.CertificateStatus,
    "acme_certificates": results.BatchResult,
    "acme_challenge_proof": results.ValidationResult,
    "acme_finalize": results.FinalizeResult,
    "acme_nsupdate": results.DnsUpdateResult,
    "acme_order": results.OrderResult,
    "acme_webroot_tokens": results.WebrootResult,
}
# Return keys whose elements are typed results of their own.
NESTED = {("acme_certificates", "certificates"): results.CertificateOutcome}


def documented(name: str) -> dict:
    module = importlib.import_module(f"ansible_collections.certfleet.acme.plugins.modules.{name}")
    return yaml.safe_load(module.RETURN) or {}


def test_every_module_has_a_result_class():
    assert MODULES == sorted(RESULT_OF)


@pytest.mark.parametrize("name", MODULES)
def test_return_documents_exactly_the_result_keys(name):
    # msg is documented where a successful run sets one (a check-mode prediction).
    docs = set(documented(name)) - results.STANDARD_KEYS
    keys = RESULT_OF[name].return_keys()
    assert sorted(docs - keys) == [], f"{name}: RETURN documents keys its result never has"
    assert sorted(keys - docs) == [], f"{name}: result keys missing from RETURN"


@pytest.mark.parametrize(("name", "key"), sorted(NESTED))
def test_nested_results_are_documented_as_contains(name, key):
    contains = documented(name)[key].get("contains") or {}
    keys = NESTED[(name, key)].return_keys() | {"changed", "msg"}
    assert sorted(set(contains) ^ keys) == []


def test_optional_keys_are_left_out_while_unset_and_standard_keys_are_never_documented():
    finalize = results.FinalizeResult(changed=True, serial="01").to_result()
    assert "not_after" not in finalize and "diff" not in finalize and "msg" not in finalize
    assert finalize["serial"] == "01" and finalize["changed"] is True
    assert "changed" not in results.FinalizeResult.return_keys()


def test_internal_fields_never_reach_the_task_result():
    outcome = results.CertificateOutcome(name="www", http_proofs=[{"token": "t"}])
    assert "http_proofs" not in outcome.to_result() and "http_proofs" not in results.CertificateOutcome.return_keys()
    assert outcome.to_result()["msg"] is None
    batch = results.BatchResult(certificates=[outcome]).to_result()
    assert batch["certificates"] == [outcome.to_result()]
