# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""CSRs (RFC 2986, RFC 8555 section 7.4) and certificates (RFC 5280) with ``cryptography``."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ansible_collections.certfleet.acme.plugins.module_utils._acme.encoding import b64url_encode
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import Identifier
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import PrivateKey, unsupported_key_reason
from ansible_collections.certfleet.acme.plugins.module_utils._acme.times import format_time

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import NameOID, SignatureAlgorithmOID
except ImportError:  # reported by module.require_libraries
    pass

# How far this host's clock may be off the CA's before a fresh certificate counts as not yet
# valid or expired: CAs backdate notBefore by a little, hosts drift by a little more.
CLOCK_SKEW = timedelta(minutes=5)

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


def directly_issued_by(cert_pem: str, issuer_pem: str) -> bool:
    """Whether ``issuer_pem`` signed ``cert_pem`` (its subject is the certificate's issuer, its key made the signature)."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    issuer = x509.load_pem_x509_certificate(issuer_pem.encode("ascii"))
    return _issued_by(cert, issuer)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """``verify_directly_issued_by`` (cryptography 40 and later), else the signature checked by key type."""
    verify = getattr(cert, "verify_directly_issued_by", None)
    if verify is None:
        return _signature_valid(cert, issuer)
    try:
        verify(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):  # wrong signature, names that do not chain, other key types
        return False
    return True


def _signature_valid(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """RFC 5280 section 4.1.1.3: ``issuer``'s key verifies the signature over ``cert``'s TBSCertificate.

    For a ``cryptography`` without ``verify_directly_issued_by``: RSA (PKCS#1 v1.5, or PSS
    with the salt as long as the hash, RFC 4055's usual choice), ECDSA, Ed25519 and Ed448.
    Any other key type is refused: a chain that cannot be checked is not installed.
    """
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    signature, data, digest = cert.signature, cert.tbs_certificate_bytes, cert.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey) and digest is not None:
            if cert.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
                key.verify(signature, data, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
            else:
                key.verify(signature, data, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and digest is not None:
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def chain_problem(chain: list[str]) -> str | None:
    """Why the chain as delivered (leaf first, RFC 8555 section 7.4.2) does not hold together; None when it does.

    Each certificate must be signed by the next one. The last one is not checked against
    anything: it is the CA's to anchor (a root sent along at the end is fine, self-signed).
    """
    certificates: list[x509.Certificate] = []
    for position, pem in enumerate(chain, 1):
        try:
            certificates.append(x509.load_pem_x509_certificate(pem.encode("ascii")))
        except ValueError:
            return f"certificate {position} of {len(chain)} is not a readable X.509 certificate"
    for position, (cert, issuer) in enumerate(zip(certificates, certificates[1:]), 1):
        if not _issued_by(cert, issuer):
            return (
                f"certificate {position} ({cert.subject.rfc4514_string() or 'no subject'}, issuer {cert.issuer.rfc4514_string()}) "
                f"is not signed by certificate {position + 1} ({issuer.subject.rfc4514_string() or 'no subject'})"
            )
    return None


def validity_problem(info: CertificateInfo, now: datetime | None = None, skew: timedelta = CLOCK_SKEW) -> str | None:
    """Why ``now`` is outside the certificate's validity (RFC 5280 section 4.1.2.5), allowing ``skew`` either way; None when inside."""
    now = now or datetime.now(timezone.utc)
    allowance = f"allowing {int(skew.total_seconds() // 60)} minutes of clock skew"
    span = f"valid from {format_time(info.not_before)} to {format_time(info.not_after)}"
    if info.not_before - skew > now:
        return f"it is {span}: not yet valid at {format_time(now)}, this host's time ({allowance}); check this host's clock and the CA's"
    if info.not_after + skew < now:
        return f"it is {span}: expired at {format_time(now)}, this host's time ({allowance}); check this host's clock and the CA's"
    return None
