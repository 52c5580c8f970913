# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Which CA issued a certificate: a small record written beside it, so a change of CA renews it.

A certificate does not say which ACME directory it came from, and a staging certificate looks
like any other to the renewal decision. acme_finalize (and the batch, which runs it) writes
``<cert_path>.acme.json`` in the same set of files as the certificate; the renewal decision
compares its directory with the one the run uses and reports ``ca_changed`` when they differ.

The record is a hint, not a secret, and it is read as untrusted input: only a regular file of
this user that nobody else may write, of bounded size, holding a JSON object of the expected
shape, for the serial of the certificate beside it. Anything else is no record, and the
decision falls back to the other reasons.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass

from ansible_collections.certfleet.acme.plugins.module_utils._acme.storage import PlannedWrite

RECORD_SUFFIX = ".acme.json"
RECORD_VERSION = 1
RECORD_MODE = 0o644
MAX_RECORD_BYTES = 16 * 1024


@dataclass(frozen=True)
class IssuanceRecord:
    """The directory (RFC 8555 section 7.1.1) that issued the certificate with ``serial``."""

    directory: str
    serial: str
    account_uri: str | None = None
    certificate_uri: str | None = None

    def to_json(self) -> bytes:
        document = {
            "version": RECORD_VERSION,
            "directory": self.directory,
            "serial": self.serial,
            "accountUri": self.account_uri,
            "certificateUri": self.certificate_uri,
        }
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def record_path(cert_path: str) -> str:
    return cert_path + RECORD_SUFFIX


def planned_record(cert_path: str, record: IssuanceRecord, option: str = "cert_path") -> PlannedWrite:
    """The record as one more file of the set acme_finalize installs, beside the file ``option`` names; owned by the user who runs it."""
    return PlannedWrite(record_path(cert_path), record.to_json(), option, RECORD_MODE, None, None)


def load_record(cert_path: str, serial: str) -> IssuanceRecord | None:
    """The record beside ``cert_path`` when it can be trusted and is for ``serial``; None otherwise."""
    try:
        fd = os.open(record_path(cert_path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022 or info.st_size > MAX_RECORD_BYTES:
            return None
        content = os.read(fd, MAX_RECORD_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return parse_record(content, serial)


def parse_record(content: bytes, serial: str) -> IssuanceRecord | None:
    """A record of this collection's format for ``serial``, or None."""
    try:
        document = json.loads(content.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("version") != RECORD_VERSION:
        return None
    directory, recorded_serial = document.get("directory"), document.get("serial")
    if not isinstance(directory, str) or not directory or not isinstance(recorded_serial, str) or recorded_serial.lower() != serial.lower():
        return None
    account_uri, certificate_uri = document.get("accountUri"), document.get("certificateUri")
    return IssuanceRecord(
        directory=directory,
        serial=recorded_serial,
        account_uri=account_uri if isinstance(account_uri, str) else None,
        certificate_uri=certificate_uri if isinstance(certificate_uri, str) else None,
    )
