# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""version.py: the version in every User-Agent is the one galaxy.yml publishes."""

from __future__ import annotations

import os

import yaml

from ansible_collections.certfleet.acme.plugins.module_utils._acme.version import COLLECTION_VERSION

# tests/unit/plugins/module_utils/_acme/ -> the collection root is 5 levels up.
GALAXY_YML = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 5, "galaxy.yml")


def test_collection_version_matches_galaxy_yml():
    with open(GALAXY_YML, encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    assert galaxy["namespace"] == "certfleet" and galaxy["name"] == "acme"
    assert COLLECTION_VERSION == str(galaxy["version"])
