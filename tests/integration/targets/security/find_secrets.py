#!/usr/bin/env python
"""Search the -vvv output of security.yml for secrets, in every form they could leak in.

Usage: find_secrets.py [--partial] OUTPUT WORK_DIR INTEGRATION_CONFIG. Exits 1 naming each kind
of secret found (never the secret itself), 0 when none is there. With --partial (the output of a
run that failed) missing key files and the controls below are skipped. The forms searched:

- any PEM armour line saying PRIVATE KEY;
- the EAB HMAC keys of the test bed (eab_hmac_key, eab_hmac_key2) as configured, and their
  decoded bytes as standard base64 (padded or not), base64url (padded or not) and hex;
- the test bed's TSIG secret, as configured;
- the account key's passphrase (secret-vars.yml in WORK_DIR, never on a command line);
- each private key the run wrote or used: the account keys in every credentials file
  (account*.json, the one from before the rollover included) and every *.key file (the
  certificate keys, the rollover's new key, the passphrase-protected account key decrypted):
  every line of its PEM body, the body in one piece, the DER as standard base64 and hex, and its
  private number (EC: the scalar; RSA: d and the primes) as JWK base64url, hex and decimal.

It also checks that the output is really the -vvv output of the run (module invocations with the
HMAC key, the TSIG secret and the passphrase masked, the EAB kid in the clear, the rollover and the
batch there), so an empty, quiet or partial log cannot pass.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import sys

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

MIN_LENGTH = 16  # shorter forms could match by chance


def b64url(data: bytes, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if pad else text.rstrip("=")


def int_bytes(value: int, length: int | None = None) -> bytes:
    return value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big")


def hmac_forms(value: str) -> dict[str, str]:
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    standard = base64.b64encode(decoded).decode("ascii")
    return {
        "as configured": value,
        "standard base64": standard,
        "standard base64 unpadded": standard.rstrip("="),
        "base64url": b64url(decoded),
        "base64url padded": b64url(decoded, pad=True),
        "hex": decoded.hex(),
        "HEX": decoded.hex().upper(),
    }


def key_forms(pem: bytes, passphrase: bytes | None = None) -> dict[str, str]:
    """Every form of the key worth searching for, by a name that says which form (never the form itself)."""
    key = serialization.load_pem_private_key(pem, password=passphrase if b"ENCRYPTED" in pem else None)
    body = [line for line in pem.decode("ascii").splitlines() if line and not line.startswith("-----")]
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forms = {f"PEM line {index} of {len(body)}": line for index, line in enumerate(body, 1)}
    forms.update({"PEM body in one piece": "".join(body), "PKCS#8 DER in base64": base64.b64encode(der).decode("ascii"), "PKCS#8 DER in hex": der.hex()})
    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = [("the EC scalar", key.private_numbers().private_value, (key.curve.key_size + 7) // 8)]
    elif isinstance(key, rsa.RSAPrivateKey):
        private = key.private_numbers()
        numbers = [("d", private.d, None), ("p", private.p, None), ("q", private.q, None)]
    else:
        raise SystemExit(f"find_secrets.py: unexpected key type {type(key).__name__}")
    for name, value, length in numbers:
        raw = int_bytes(value, length)
        forms.update({f"{name} as JWK base64url": b64url(raw), f"{name} in hex": raw.hex(), f"{name} in decimal": str(value)})
    # The tail of a PKCS#8 EC key is its public point: a PEM line made of it alone is public, and
    # shows up wherever the public key does (a module's public_key result), so it proves nothing.
    public_der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    public = "".join(line for line in public_pem.splitlines() if not line.startswith("-----")) + base64.b64encode(public_der).decode("ascii")
    return {name: form for name, form in forms.items() if form not in public and form not in public_der.hex()}


def main() -> int:
    args = sys.argv[1:]
    partial = args[:1] == ["--partial"]
    output_path, work_dir, config_path = args[1:4] if partial else args[:3]
    with open(output_path, encoding="utf-8", errors="replace") as handle:
        output = handle.read()
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)

    secrets: dict[str, dict[str, str]] = {}
    for name in ("eab_hmac_key", "eab_hmac_key2"):
        secrets[f"the EAB HMAC key {name}"] = hmac_forms(config[name])
    secrets["the TSIG secret"] = {"as configured": config["tsig_key_secret"]}
    with open(os.path.join(work_dir, "secret-vars.yml"), encoding="utf-8") as handle:
        passphrase = str(yaml.safe_load(handle)["account_passphrase"])
    secrets["the account key's passphrase"] = {"as configured": passphrase}
    expected = ["account.json", "account-before-rollover.json", "cert.key", "rollover.key", "protected.key", "batch.key"]
    paths = sorted(set(glob.glob(os.path.join(work_dir, "account*.json")) + glob.glob(os.path.join(work_dir, "*.key"))))
    missing = [name for name in expected if os.path.join(work_dir, name) not in paths]
    if missing and not partial:
        print(f"find_secrets.py: the run left no {', '.join(missing)} in {work_dir}: nothing to search for", file=sys.stderr)
        return 1
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        pem = json.loads(data)["privateKeyPem"].encode("ascii") if path.endswith(".json") else data
        secrets[f"the private key of {os.path.basename(path)}"] = key_forms(pem, passphrase.encode("utf-8"))
    secrets = {kind: {name: form for name, form in forms.items() if len(form) >= MIN_LENGTH} for kind, forms in secrets.items()}

    found = [
        f"{kind} appears in the -vvv output as: {', '.join(name for name, form in forms.items() if form in output)}"
        for kind, forms in secrets.items()
        if any(form in output for form in forms.values())
    ]
    if "PRIVATE KEY" in output:
        found.append("a PEM private key (PRIVATE KEY) appears in the -vvv output")

    # The search means something only if the output holds what -vvv prints about the modules.
    controls = {
        "no module invocation (is it -vvv output?)": '"invocation"' in output and '"module_args"' in output,
        "the HMAC key is not shown masked in the acme_account invocation": '"hmac_key": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output,
        "the EAB kid (not a secret) is missing": config["eab_kid"] in output,
        "no acme_finalize result with the certificate": '"fullchain_pem"' in output,
        "the TSIG secret is not shown masked in the acme_nsupdate invocation": '"key_secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output,
        "the passphrase is not shown masked": '"account_key_passphrase": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output,
        "no key rollover in the output": '"new_account_key_src"' in output,
        "no acme_certificates batch in the output": '"state_dir"' in output and '"issued"' in output,
    }
    problems = found + [f"control failed: {what}" for what, ok in controls.items() if not ok and not partial]
    for problem in problems:
        print(f"find_secrets.py: {problem}", file=sys.stderr)
    if problems:
        return 1
    counted = sum(len(forms) for forms in secrets.values())
    print(f"find_secrets.py: {len(output)} bytes of -vvv output, {counted} secret forms of {len(secrets)} secrets searched, none found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
