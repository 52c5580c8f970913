# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""CSRs (RFC 2986, RFC 8555 section 7.4) and certificates (RFC 5280) with ``cryptography``."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import b64url_encode
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import PrivateKey, unsupported_key_reason

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
except ImportError:  # reported by module.require_libraries
    pass

_PEM_CERT_RE = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def build_csr(key: PrivateKey, identifiers: list[Identifier]) -> bytes:
    """A DER CSR whose subjectAltName lists every identifier (CN: the first DNS name that fits)."""
    names: list[x509.GeneralName] = []
    for identifier in identifiers:
        if identifier.type == "ip":
            names.append(x509.IPAddress(ipaddress.ip_address(identifier.value)))
        else:
            names.append(x509.DNSName(identifier.value))
    builder = x509.CertificateSigningRequestBuilder().add_extension(x509.SubjectAlternativeName(names), critical=False)
    common_name = next((i.value for i in identifiers if i.type == "dns" and len(i.value) <= 64), None)
    builder = builder.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []))
    csr = builder.sign(key.crypto_key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER)


def _san_identifiers(extensions: x509.Extensions) -> list[Identifier]:
    try:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    result = [Identifier("dns", name.lower()) for name in san.get_values_for_type(x509.DNSName)]
    result += [Identifier("ip", address.compressed) for address in san.get_values_for_type(x509.IPAddress)]
    return result


def load_csr(data: bytes, option: str = "csr_path", path: str | None = None) -> tuple[bytes, list[Identifier], bytes]:
    """Parse a PEM or DER CSR: (DER, its identifiers, its public key in DER).

    Everything a CA would refuse at finalization is refused here first, naming ``option``:
    a refused finalization can leave the order unusable (RFC 8555 section 7.4).
    """
    subject = f"{option} {path}" if path else option
    try:
        csr = x509.load_pem_x509_csr(data) if b"-----BEGIN" in data else x509.load_der_x509_csr(data)
        signature_valid = csr.is_signature_valid
        identifiers = _san_identifiers(csr.extensions)
    except (ValueError, UnsupportedAlgorithm):
        raise AcmeOptionError(
            option,
            f"{subject} does not hold a readable certificate signing request (PEM or DER); make one with openssl req -new or community.crypto.openssl_csr",
        ) from None
    if not signature_valid:
        raise AcmeOptionError(option, f"{subject}: the CSR's signature does not verify; make the CSR again with its private key")
    try:
        problem = unsupported_key_reason(csr.public_key())
    except (ValueError, UnsupportedAlgorithm):
        problem = "a key type this host's cryptography cannot read"
    if problem:
        raise AcmeOptionError(option, f"{subject}: the CSR's key cannot be certified: {problem}; make the CSR again with such a key")
    if not identifiers:
        cn = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        identifiers = [Identifier("dns", str(cn[0].value).lower())] if cn else []
    public = csr.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return csr.public_bytes(serialization.Encoding.DER), identifiers, public


@dataclass
class CertificateInfo:
    """What users check about a certificate."""

    serial: str
    not_before: datetime
    not_after: datetime
    identifiers: list[Identifier]
    issuer: str
    subject: str
    public_key_der: bytes
    aki: str | None
    der: bytes

    def days_left(self, now: datetime | None = None) -> float:
        now = now or datetime.now(timezone.utc)
        return (self.not_after - now).total_seconds() / 86400

    @property
    def lifetime_seconds(self) -> float:
        return (self.not_after - self.not_before).total_seconds()


def split_pem_chain(pem: str) -> list[str]:
    """Every certificate of a PEM bundle, normalised to end in a newline."""
    return [match.group(0).strip() + "\n" for match in _PEM_CERT_RE.finditer(pem)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def certificate_info(pem: str | bytes) -> CertificateInfo:
    """Parse the first certificate of ``pem``."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    cert = x509.load_pem_x509_certificate(data)
    not_before = getattr(cert, "not_valid_before_utc", None) or _aware(cert.not_valid_before)
    not_after = getattr(cert, "not_valid_after_utc", None) or _aware(cert.not_valid_after)
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        aki = None
    return CertificateInfo(
        serial=format(cert.serial_number, "x"),
        not_before=not_before,
        not_after=not_after,
        identifiers=_san_identifiers(cert.extensions),
        issuer=cert.issuer.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
        public_key_der=cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        aki=aki.hex() if aki else None,
        der=cert.public_bytes(serialization.Encoding.DER),
    )


def normalise_serial(text: str) -> str:
    """A serial as ``CertificateInfo.serial`` spells it (lowercase hex, no leading zeros) from any usual spelling.

    Accepts ``0A:1B:..`` (openssl), ``0x0a1b``, upper or lower case; raises ``AcmeOptionError`` naming
    ``cert_serial`` for anything that is not hexadecimal.
    """
    digits = text.strip().lower().replace(":", "")
    if digits.startswith("0x"):
        digits = digits[2:]
    if not digits or any(c not in "0123456789abcdef" for c in digits):
        raise AcmeOptionError("cert_serial", f"cert_serial {text!r} is not a serial number in hexadecimal, such as acme_certificate_info returns")
    return format(int(digits, 16), "x")


def ari_cert_id(pem: str | bytes) -> str | None:
    """RFC 9773 section 4.1: base64url(AKI keyIdentifier) '.' base64url(serial DER bytes)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    cert = x509.load_pem_x509_certificate(data)
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None
    if not aki:
        return None
    serial = cert.serial_number
    # The serial's DER INTEGER content octets: big-endian, with a leading zero when the top bit is set.
    serial_bytes = serial.to_bytes((serial.bit_length() + 8) // 8, "big")
    return f"{b64url_encode(aki)}.{b64url_encode(serial_bytes)}"


# -- helpers of acme_finalize ----------------------------------------------------


def key_public_der(key: PrivateKey) -> bytes:
    """The SubjectPublicKeyInfo (DER) of a private key, to compare with a certificate's or a CSR's."""
    return key.crypto_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _common_names(name: x509.Name) -> list[str]:
    return [str(attribute.value) for attribute in name.get_attributes_for_oid(NameOID.COMMON_NAME)]


def chain_top_issuer(chain: list[str]) -> str | None:
    """The issuer common name of the topmost certificate of a chain (what ``preferred_chain`` names)."""
    if not chain:
        return None
    names = _common_names(x509.load_pem_x509_certificate(chain[-1].encode("ascii")).issuer)
    return names[0] if names else None


def chain_matches(chain: list[str], name: str) -> bool:
    """Whether ``name`` is the issuer CN of the chain's topmost certificate or the subject CN of one of its CA certificates.

    ``chain`` is leaf first, as downloaded; the leaf itself never matches.
    """
    if not chain:
        return False
    if chain_top_issuer(chain) == name:
        return True
    return any(name in _common_names(x509.load_pem_x509_certificate(pem.encode("ascii")).subject) for pem in chain[1:])


def directly_issued_by(cert_pem: str, issuer_pem: str) -> bool | None:
    """Whether ``issuer_pem`` signed ``cert_pem``; None when this ``cryptography`` (< 40) cannot tell."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    issuer = x509.load_pem_x509_certificate(issuer_pem.encode("ascii"))
    verify = getattr(cert, "verify_directly_issued_by", None)
    if verify is None:
        return None
    from cryptography.exceptions import InvalidSignature

    try:
        verify(issuer)
    except (InvalidSignature, ValueError, TypeError):  # wrong signature, names that do not chain, other key types
        return False
    return True
