# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The collection's version, sent in every ``User-Agent`` (kept equal to galaxy.yml by a unit test)."""

from __future__ import annotations

COLLECTION_VERSION = "0.2.0"
