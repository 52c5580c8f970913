# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""The record of the CA that issued a certificate: read only when it can be trusted."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.certfleet.acme.plugins.module_utils._acme.issuance_record import (
    MAX_RECORD_BYTES,
    IssuanceRecord,
    load_record,
    planned_record,
    record_path,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import install_files

DIRECTORY = "https://ca.example/dir"
SERIAL = "4f2a"


@pytest.fixture
def cert_path(tmp_path):
    path = str(tmp_path / "cert.pem")
    with open(path, "w", encoding="ascii") as handle:
        handle.write("not read by the record\n")
    return path


def put(cert_path: str, content: bytes, mode: int = 0o644) -> None:
    with open(record_path(cert_path), "wb") as handle:
        handle.write(content)
    os.chmod(record_path(cert_path), mode)


def test_a_record_installed_with_the_certificate_reads_back(cert_path):
    record = IssuanceRecord(directory=DIRECTORY, serial=SERIAL, account_uri="https://ca.example/acct/1", certificate_uri="https://ca.example/cert/9")
    assert install_files([planned_record(cert_path, record)]) == [True]
    assert os.stat(record_path(cert_path)).st_mode & 0o7777 == 0o644
    assert load_record(cert_path, SERIAL) == record
    # Serials are compared as hex, whatever their case.
    assert load_record(cert_path, SERIAL.upper()) == record
    assert install_files([planned_record(cert_path, record)]) == [False]


def test_no_record_for_another_serial_or_none_at_all(cert_path):
    assert load_record(cert_path, SERIAL) is None
    put(cert_path, IssuanceRecord(directory=DIRECTORY, serial=SERIAL).to_json())
    assert load_record(cert_path, "4f2b") is None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        json.dumps({"version": 2, "directory": DIRECTORY, "serial": SERIAL}).encode(),
        json.dumps({"version": 1, "directory": "", "serial": SERIAL}).encode(),
        json.dumps({"version": 1, "directory": ["x"], "serial": SERIAL}).encode(),
        json.dumps({"version": 1, "directory": DIRECTORY, "serial": 17}).encode(),
        b"\xff\xfe",
    ],
)
def test_a_record_of_another_shape_is_no_record(cert_path, content):
    put(cert_path, content)
    assert load_record(cert_path, SERIAL) is None


def test_a_record_others_may_write_is_no_record(cert_path):
    put(cert_path, IssuanceRecord(directory=DIRECTORY, serial=SERIAL).to_json(), mode=0o664)
    assert load_record(cert_path, SERIAL) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_record_of_another_user_is_no_record(cert_path):
    put(cert_path, IssuanceRecord(directory=DIRECTORY, serial=SERIAL).to_json())
    os.chown(record_path(cert_path), 65534, -1)
    assert load_record(cert_path, SERIAL) is None


def test_a_link_a_fifo_or_a_huge_file_is_no_record(cert_path, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(IssuanceRecord(directory=DIRECTORY, serial=SERIAL).to_json())
    os.symlink(str(elsewhere), record_path(cert_path))
    assert load_record(cert_path, SERIAL) is None
    os.remove(record_path(cert_path))
    os.mkfifo(record_path(cert_path))
    assert load_record(cert_path, SERIAL) is None  # and it did not wait for a writer
    os.remove(record_path(cert_path))
    padded = IssuanceRecord(directory=DIRECTORY, serial=SERIAL).to_json() + b" " * MAX_RECORD_BYTES
    put(cert_path, padded)
    assert load_record(cert_path, SERIAL) is None
