# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""CSRs, certificate parsing, chains and the ARI certificate identifier (RFC 9773 section 4.1)."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.certfleet.acme.plugins.module_utils._acme import certs
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import parse_identifiers
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import make_cert

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)


def test_csr_round_trip_keeps_every_name_and_the_key():
    key = generate_private_key("ec256")
    wanted = parse_identifiers(["www.example.com", "*.example.com", "192.0.2.7", "2001:db8::1"])
    der, names, public = certs.load_csr(certs.build_csr(key, wanted))
    assert sorted((i.type, i.value) for i in names) == sorted((i.type, i.value) for i in wanted)
    assert public == certs.key_public_der(key)
    csr = x509.load_der_x509_csr(der)
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "www.example.com"


def test_csr_with_only_ip_addresses_has_no_common_name():
    key = generate_private_key("rsa2048")
    csr = x509.load_der_x509_csr(certs.build_csr(key, parse_identifiers(["192.0.2.7"])))
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []


def test_load_csr_rejects_garbage_naming_the_option():
    with pytest.raises(AcmeOptionError) as info:
        certs.load_csr(b"not a csr")
    assert info.value.option == "csr_path"


@pytest.mark.parametrize(
    "data",
    [
        b"not a csr",
        b"-----BEGIN CERTIFICATE REQUEST-----\nQlJPS0VO\n-----END CERTIFICATE REQUEST-----\n",
        b"\x30\x03\x02\x01\x00",  # DER, but no CSR
    ],
    ids=["text", "broken-pem", "short-der"],
)
def test_load_csr_unreadable_names_the_path_and_the_fix(data):
    with pytest.raises(AcmeOptionError) as info:
        certs.load_csr(data, "csr_path", "/etc/ssl/www.csr")
    assert info.value.option == "csr_path"
    assert "csr_path /etc/ssl/www.csr does not hold a readable certificate signing request" in info.value.msg
    assert "openssl req -new" in info.value.msg
    assert "QlJPS0VO" not in info.value.msg


def csr_for(private_key, name="www.example.com"):
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(private_key, None if isinstance(private_key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )


@pytest.mark.parametrize(
    "make_key, words",
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), "RSA key of 1024 bits"),
        (lambda: ec.generate_private_key(ec.SECP256K1()), "secp256k1"),
        (ed25519.Ed25519PrivateKey.generate, "unsupported key type"),
    ],
    ids=["rsa1024", "secp256k1", "ed25519"],
)
def test_load_csr_refuses_a_key_no_acme_ca_certifies(make_key, words):
    """Refused before finalizing: a CA refusing the CSR may leave the order unusable."""
    with pytest.raises(AcmeOptionError) as info:
        certs.load_csr(csr_for(make_key()), "csr_path", "/etc/ssl/www.csr")
    assert info.value.option == "csr_path"
    assert "the CSR's key cannot be certified" in info.value.msg and words in info.value.msg


def test_load_csr_refuses_a_signature_that_does_not_verify():
    der = bytearray(csr_for(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    der[-1] ^= 0x01  # the last byte of the RSA signature
    with pytest.raises(AcmeOptionError) as info:
        certs.load_csr(bytes(der), "csr_path")
    assert info.value.option == "csr_path" and "signature does not verify" in info.value.msg


def test_ari_cert_id_matches_the_rfc_9773_example():
    # RFC 9773 section 4.1: AKI keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4,
    # serial 00:87:65:43:21 -> "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".
    key = ec.generate_private_key(ec.SECP256R1())
    aki = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
    pem = make_cert("leaf", "CA", key.public_key(), key, ca=False, serial=0x87654321, aki=aki)
    assert certs.ari_cert_id(pem) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


def test_ari_cert_id_without_authority_key_identifier_is_none():
    key = ec.generate_private_key(ec.SECP256R1())
    assert certs.ari_cert_id(make_cert("self", "self", key.public_key(), key, ca=True)) is None


def test_certificate_info_reads_what_users_check():
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName("a.example.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    ten_days = datetime.timedelta(days=10)
    pem = make_cert("a.example.test", "Issuer X", key.public_key(), key, ca=False, serial=0xABC, sans=sans, lifetime=ten_days, not_before=NOW)
    info = certs.certificate_info(pem)
    assert info.serial == "abc"
    assert info.not_before == NOW and info.not_after == NOW + datetime.timedelta(days=10)
    assert [(i.type, i.value) for i in info.identifiers] == [("dns", "a.example.test"), ("ip", "127.0.0.1")]
    assert info.issuer == "CN=Issuer X"
    assert info.days_left(NOW) == pytest.approx(10)
    assert info.lifetime_seconds == 10 * 86400


def test_split_pem_chain_and_chain_matching():
    root, inter, leaf = (ec.generate_private_key(ec.SECP256R1()) for _key in range(3))
    intermediate = make_cert("Inter X", "Root R1", inter.public_key(), root, ca=True)
    leaf_pem = make_cert("leaf", "Inter X", leaf.public_key(), inter, ca=False)
    bundle = leaf_pem.rstrip() + "\n\n" + intermediate
    chain = certs.split_pem_chain(bundle)
    assert chain == [leaf_pem, intermediate]
    assert certs.chain_top_issuer(chain) == "Root R1"
    assert certs.chain_matches(chain, "Root R1") and certs.chain_matches(chain, "Inter X")
    assert not certs.chain_matches(chain, "leaf") and not certs.chain_matches([], "Root R1")
    assert certs.directly_issued_by(leaf_pem, intermediate) is True
    other = ec.generate_private_key(ec.SECP256R1())
    impostor = make_cert("Inter X", "Root R1", other.public_key(), other, ca=True)
    assert certs.directly_issued_by(leaf_pem, impostor) is False


def three_level_chain(signer_keys=None):
    """Leaf, intermediate and self-signed root (PEMs, leaf first); ``signer_keys`` overrides who signs which."""
    root, inter, leaf = (ec.generate_private_key(ec.SECP256R1()) for _key in range(3))
    signers = signer_keys or {}
    return [
        make_cert("leaf.example.test", "Inter X", leaf.public_key(), signers.get("leaf", inter), ca=False, sans=["leaf.example.test"]),
        make_cert("Inter X", "Root R1", inter.public_key(), signers.get("inter", root), ca=True),
        make_cert("Root R1", "Root R1", root.public_key(), root, ca=True),
    ]


def test_chain_problem_accepts_a_chain_ending_in_its_root():
    chain = three_level_chain()
    assert certs.chain_problem(chain) is None
    assert certs.chain_problem(chain[:2]) is None
    assert certs.chain_problem(chain[:1]) is None


def test_chain_problem_finds_the_link_that_does_not_sign():
    stranger = ec.generate_private_key(ec.SECP256R1())
    chain = three_level_chain({"inter": stranger})
    assert certs.chain_problem(chain) == "certificate 2 (CN=Inter X, issuer CN=Root R1) is not signed by certificate 3 (CN=Root R1)"
    assert certs.chain_problem(chain[:2]) is None  # the leaf itself is signed by the intermediate
    assert certs.chain_problem([chain[0], "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]) == (
        "certificate 2 of 2 is not a readable X.509 certificate"
    )


@pytest.mark.parametrize("kind", ["ec", "rsa", "ed25519"])
def test_signature_check_by_key_type_without_verify_directly_issued_by(kind):
    """The path for a cryptography older than 40: the issuer's key checks the signature itself."""
    make_key = {
        "ec": lambda: ec.generate_private_key(ec.SECP384R1()),
        "rsa": lambda: rsa.generate_private_key(65537, 2048),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
    }[kind]
    issuer_key, other_key, leaf_key = make_key(), make_key(), ec.generate_private_key(ec.SECP256R1())
    issuer = x509.load_pem_x509_certificate(make_cert("Inter Y", "Root", issuer_key.public_key(), issuer_key, ca=True).encode())
    impostor = x509.load_pem_x509_certificate(make_cert("Inter Y", "Root", other_key.public_key(), other_key, ca=True).encode())
    leaf = x509.load_pem_x509_certificate(make_cert("leaf", "Inter Y", leaf_key.public_key(), issuer_key, ca=False).encode())
    renamed = x509.load_pem_x509_certificate(make_cert("leaf", "Inter Z", leaf_key.public_key(), issuer_key, ca=False).encode())
    assert certs._signature_valid(leaf, issuer) is True
    assert certs._signature_valid(leaf, impostor) is False  # same name, another key
    assert certs._signature_valid(renamed, issuer) is False  # right key, names that do not chain


def test_validity_problem_allows_five_minutes_of_skew():
    key = ec.generate_private_key(ec.SECP256R1())
    info = certs.certificate_info(make_cert("a", "CA", key.public_key(), key, ca=False, lifetime=datetime.timedelta(days=10), not_before=NOW))
    assert certs.validity_problem(info, NOW) is None
    assert certs.validity_problem(info, NOW - datetime.timedelta(minutes=4)) is None
    assert certs.validity_problem(info, NOW - datetime.timedelta(minutes=6)) == (
        "it is valid from 2026-11-28T12:00:00Z to 2026-12-08T12:00:00Z: not yet valid at 2026-11-28T11:54:00Z, "
        "this host's time (allowing 5 minutes of clock skew); check this host's clock and the CA's"
    )
    assert certs.validity_problem(info, NOW + datetime.timedelta(days=10, minutes=4)) is None
    assert certs.validity_problem(info, NOW + datetime.timedelta(days=10, minutes=6)) == (
        "it is valid from 2026-11-28T12:00:00Z to 2026-12-08T12:00:00Z: expired at 2026-12-08T12:06:00Z, "
        "this host's time (allowing 5 minutes of clock skew); check this host's clock and the CA's"
    )


@pytest.mark.parametrize(
    "text, expected",
    [("4e0ac2b1f7d06bf7", "4e0ac2b1f7d06bf7"), ("4E:0A:C2:B1", "4e0ac2b1"), ("0x00ff", "ff"), (" 00:0A ", "a"), ("0", "0")],
)
def test_normalise_serial_accepts_usual_spellings(text, expected):
    assert certs.normalise_serial(text) == expected


@pytest.mark.parametrize("text", ["", "0x", "not-a-serial", "12 34", "ff-ee"])
def test_normalise_serial_refuses_what_is_not_hex(text):
    with pytest.raises(AcmeOptionError) as caught:
        certs.normalise_serial(text)
    assert caught.value.option == "cert_serial"
