"""Throwaway TLS material for the test bed.

Usage:
  gen_tls.py OUTDIR [IP]
      a CA and a server certificate for Pebble's HTTPS listeners (localhost, ::1, 127.0.0.1 and IP):
      OUTDIR/ca.pem, OUTDIR/cert.pem, OUTDIR/key.pem (0600)
  gen_tls.py --placeholder OUTDIR NAME
      a self-signed certificate a simulated fleet host serves before anything was deployed:
      OUTDIR/fullchain.pem, OUTDIR/cert.pem, OUTDIR/privkey.pem (0600), subject CN=NAME

The CA key is never written: nothing else may ever be signed by this CA, and clients only need
ca.pem to trust the ACME directory (the `ca_path` option of the modules).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]


def _write(path: Path, data: bytes, mode: int) -> None:
    # Created with its final mode so the key is never readable by others, not even briefly.
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main(outdir: Path, extra_ip: str | None = None) -> None:
    server_names = list(SERVER_NAMES)
    if extra_ip and ipaddress.ip_address(extra_ip) not in {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}:
        server_names.append(x509.IPAddress(ipaddress.ip_address(extra_ip)))
    outdir.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    # Backdated a little so a slightly skewed clock does not reject a certificate made seconds ago.
    not_before = now - datetime.timedelta(hours=1)
    not_after = now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"certfleet test bed CA {now:%Y%m%dT%H%M%S}")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(server_names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    _write(outdir / "ca.pem", ca_cert.public_bytes(pem), 0o644)
    _write(outdir / "cert.pem", cert.public_bytes(pem), 0o644)
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write(outdir / "key.pem", key_pem, 0o600)


def placeholder(outdir: Path, name: str) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    outdir.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    _write(outdir / "privkey.pem", key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)
    _write(outdir / "cert.pem", cert.public_bytes(pem), 0o644)
    _write(outdir / "fullchain.pem", cert.public_bytes(pem), 0o644)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--placeholder":
        placeholder(Path(args[1]), args[2])
    elif len(args) in (1, 2) and not args[0].startswith("-"):
        main(Path(args[0]), args[1] if len(args) == 2 else None)
    else:
        sys.exit(__doc__)
