# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""argspec.py (and client.resolve_directory): options to a client and an account key."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.certfleet.acme.plugins.module_utils._acme import argspec
from ansible_collections.certfleet.acme.plugins.module_utils._acme.account import Credentials, save_credentials
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import DIRECTORY_PRESETS, resolve_directory
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key
from ansible_collections.certfleet.acme.plugins.module_utils._acme.version import COLLECTION_VERSION

LE = "https://acme-v02.api.letsencrypt.org/directory"
LE_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"


# -- resolve_directory ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, url",
    [
        ("letsencrypt", LE),
        ("letsencrypt_staging", LE_STAGING),
        ("pebble", "https://127.0.0.1:14000/dir"),
        (" letsencrypt ", LE),
        (None, LE_STAGING),  # the documented default
        ("", LE_STAGING),
        ("https://acme.example.org/directory", "https://acme.example.org/directory"),
        ("http://127.0.0.1:4001/directory", "http://127.0.0.1:4001/directory"),
    ],
)
def test_resolve_directory(value, url):
    assert resolve_directory(value) == url


def test_presets_are_the_documented_ones():
    assert DIRECTORY_PRESETS == {"letsencrypt": LE, "letsencrypt_staging": LE_STAGING, "pebble": "https://127.0.0.1:14000/dir"}


@pytest.mark.parametrize("value", ["letsencrypt-staging", "pebbel", "ftp://ca.example/dir", "https://", "/dir", "acme.example.org/directory"])
def test_resolve_directory_rejects(value):
    with pytest.raises(AcmeOptionError) as info:
        resolve_directory(value)
    assert info.value.option == "directory"
    assert repr(value) in info.value.msg or value in info.value.msg
    assert "letsencrypt_staging" in info.value.msg  # names the presets


# -- client_from_params -----------------------------------------------------------------


def params(**overrides):
    base = {"directory": "pebble", "ca_path": None, "validate_certs": True, "request_timeout": 10, "retry_timeout": 60}
    base.update(overrides)
    return base


def test_client_from_params_defaults():
    acme = argspec.client_from_params(params(directory=None))
    assert acme.directory_url == LE_STAGING
    assert acme.verify is True
    assert acme.request_timeout == 10.0 and acme.retry_timeout == 60.0
    assert acme.user_agent == f"certfleet.acme/{COLLECTION_VERSION}"


def test_client_from_params_preset_ca_path_and_timeouts(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    acme = argspec.client_from_params(params(ca_path=str(ca), request_timeout=3, retry_timeout=0), ansible_version="2.19.4")
    assert acme.directory_url == "https://127.0.0.1:14000/dir"
    assert acme.verify == str(ca)
    assert acme.request_timeout == 3.0 and acme.retry_timeout == 0.0
    assert acme.user_agent == f"certfleet.acme/{COLLECTION_VERSION} ansible-core/2.19.4"


def test_validate_certs_false_wins_over_ca_path(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    assert argspec.client_from_params(params(validate_certs=False)).verify is False
    assert argspec.client_from_params(params(validate_certs=False, ca_path=str(ca))).verify is False


def test_missing_ca_path(tmp_path):
    missing = str(tmp_path / "no-such-ca.pem")
    with pytest.raises(AcmeOptionError) as info:
        argspec.client_from_params(params(ca_path=missing))
    assert info.value.option == "ca_path"
    assert missing in info.value.msg


def test_ca_path_that_is_a_directory(tmp_path):
    with pytest.raises(AcmeOptionError) as info:
        argspec.client_from_params(params(ca_path=str(tmp_path)))
    assert info.value.option == "ca_path"


def test_bad_directory_names_the_option():
    with pytest.raises(AcmeOptionError) as info:
        argspec.client_from_params(params(directory="not a url"))
    assert info.value.option == "directory" and "not a url" in info.value.msg


@pytest.mark.parametrize("option", ["request_timeout", "retry_timeout"])
def test_negative_timeouts(option):
    with pytest.raises(AcmeOptionError) as info:
        argspec.client_from_params(params(**{option: -1}))
    assert info.value.option == option


# -- argument specs -------------------------------------------------------------------------


def test_argument_specs():
    server = argspec.server_argument_spec()
    assert server["directory"]["default"] == "letsencrypt_staging"
    assert server["validate_certs"] == {"type": "bool", "default": True}
    account = argspec.account_argument_spec()
    for secret in ("account_key_content", "account_key_passphrase"):
        assert account[secret].get("no_log") is True
    kwargs = argspec.account_module_kwargs()
    assert kwargs["mutually_exclusive"] == [["credentials_path", "account_key_src", "account_key_content"]]
    assert kwargs["required_one_of"] == kwargs["mutually_exclusive"]
    # acme_account alone takes credentials_path with a key to import into it.
    importing = argspec.account_import_module_kwargs()
    assert importing == {"mutually_exclusive": [["account_key_src", "account_key_content"]], "required_one_of": kwargs["required_one_of"]}


# -- load_account_key -------------------------------------------------------------------------


def test_load_account_key_from_content_and_src(tmp_path):
    key = generate_private_key("ec256")
    pem = key.private_pem()
    loaded, credentials, warnings = argspec.load_account_key({"account_key_content": pem.decode()})
    assert loaded.thumbprint() == key.thumbprint() and credentials is None and warnings == []
    src = tmp_path / "account.key"
    src.write_bytes(pem)
    loaded = argspec.load_account_key({"account_key_src": str(src)})[0]
    assert loaded.thumbprint() == key.thumbprint()


def test_load_account_key_src_open_to_others_is_warned_about(tmp_path):
    key = generate_private_key("ec256")
    src = tmp_path / "account.key"
    src.write_bytes(key.private_pem())
    os.chmod(src, 0o600)
    assert argspec.load_account_key({"account_key_src": str(src)})[2] == []
    os.chmod(src, 0o644)
    loaded, credentials, warnings = argspec.load_account_key({"account_key_src": str(src)})
    assert loaded.thumbprint() == key.thumbprint() and credentials is None
    assert len(warnings) == 1
    assert f"account_key_src {src} is readable by group or others (mode 0644)" in warnings[0]
    assert "chmod 0600" in warnings[0] and "never rewrites" in warnings[0]
    assert stat.S_IMODE(os.stat(src).st_mode) == 0o644  # warned about, not changed: the file is the user's


def test_load_account_key_src_encrypted_names_the_passphrase_option(tmp_path):
    src = tmp_path / "account.key"
    src.write_bytes(
        generate_private_key("ec256").crypto_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"s3cret")
        )
    )
    with pytest.raises(AcmeOptionError) as info:
        argspec.load_account_key({"account_key_src": str(src)})
    assert info.value.option == "account_key_src"
    assert f"account_key_src {src} is encrypted; give its passphrase in account_key_passphrase" in info.value.msg
    assert argspec.load_account_key({"account_key_src": str(src), "account_key_passphrase": "s3cret"})[0] is not None


def test_load_account_key_src_missing(tmp_path):
    with pytest.raises(AcmeOptionError) as info:
        argspec.load_account_key({"account_key_src": str(tmp_path / "nope.key")})
    assert info.value.option == "account_key_src" and "does not exist" in info.value.msg


def test_load_account_key_from_credentials(tmp_path):
    path = tmp_path / "acme.json"
    assert argspec.load_account_key({"credentials_path": str(path)}) == (None, None, [])
    key = generate_private_key("ec256")
    save_credentials(str(path), Credentials(key=key, account_uri="https://ca.example/acct/1"))
    loaded, credentials, warnings = argspec.load_account_key({"credentials_path": str(path)})
    assert loaded.thumbprint() == key.thumbprint()
    assert credentials.account_uri == "https://ca.example/acct/1" and warnings == []


@pytest.mark.parametrize(
    "options, words",
    [
        ({"validate_certs": False}, "validate_certs is false: the ACME server's TLS certificate is not checked"),
        ({"directory": "http://127.0.0.1:14000/dir"}, "directory http://127.0.0.1:14000/dir is plain http"),
    ],
)
def test_a_ca_nothing_authenticates_is_named_in_a_warning(options, words):
    heard = []
    argspec.client_from_params(params(**options), warn=heard.append)
    assert len(heard) == 1 and heard[0].startswith(words)


def test_a_verified_https_ca_gets_no_warning():
    heard = []
    argspec.client_from_params(params(), warn=heard.append)
    assert heard == []
