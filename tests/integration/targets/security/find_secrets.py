#!/usr/bin/env python
"""Search the -vvv output of security.yml for secrets, in every form they could leak in.

Usage: find_secrets.py [--partial] OUTPUT WORK_DIR INTEGRATION_CONFIG. Exits 1 naming each kind
of secret found (never the secret itself), 0 when none is there. With --partial (the output of a
run that failed) missing key files and the controls below are skipped. The forms searched:

- any PEM armour line saying PRIVATE KEY;
- the EAB HMAC keys of the test bed (eab_hmac_key, eab_hmac_key2) as configured, and their
  decoded bytes as standard base64 (padded or not), base64url (padded or not) and hex;
- the test bed's TSIG secret, as configured;
- each private key the run wrote (the credentials file's account key, the certificate key):
  every line of its PEM body, the body in one piece, the DER as standard base64 and hex, and its
  private number (EC: the scalar; RSA: d and the primes) as JWK base64url, hex and decimal.

It also checks that the output is really the -vvv output of the run (module invocations with the
HMAC key masked, and the EAB kid in the clear), so an empty or quiet log cannot pass.
"""

from __future__ import annotations

import base64
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


def hmac_forms(value: str) -> list[str]:
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    standard = base64.b64encode(decoded).decode("ascii")
    return [value, standard, standard.rstrip("="), b64url(decoded), b64url(decoded, pad=True), decoded.hex(), decoded.hex().upper()]


def key_forms(pem: bytes) -> list[str]:
    key = serialization.load_pem_private_key(pem, password=None)
    body = [line for line in pem.decode("ascii").splitlines() if line and not line.startswith("-----")]
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forms = body + ["".join(body), base64.b64encode(der).decode("ascii"), der.hex()]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = [(key.private_numbers().private_value, (key.curve.key_size + 7) // 8)]
    elif isinstance(key, rsa.RSAPrivateKey):
        private = key.private_numbers()
        numbers = [(private.d, None), (private.p, None), (private.q, None)]
    else:
        raise SystemExit(f"find_secrets.py: unexpected key type {type(key).__name__}")
    for value, length in numbers:
        raw = int_bytes(value, length)
        forms += [b64url(raw), raw.hex(), str(value)]
    return forms


def main() -> int:
    args = sys.argv[1:]
    partial = args[:1] == ["--partial"]
    output_path, work_dir, config_path = args[1:4] if partial else args[:3]
    with open(output_path, encoding="utf-8", errors="replace") as handle:
        output = handle.read()
    with open(config_path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)

    secrets: dict[str, list[str]] = {}
    for name in ("eab_hmac_key", "eab_hmac_key2"):
        secrets[f"the EAB HMAC key {name}"] = hmac_forms(config[name])
    secrets["the TSIG secret"] = [config["tsig_key_secret"]]
    for kind, path in (("the account key (credentials file)", f"{work_dir}/account.json"), ("the certificate key", f"{work_dir}/cert.key")):
        if partial and not os.path.exists(path):
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        secrets[kind] = key_forms(json.loads(data)["privateKeyPem"].encode("ascii") if path.endswith(".json") else data)
    secrets = {kind: [form for form in forms if len(form) >= MIN_LENGTH] for kind, forms in secrets.items()}

    found = [
        f"{kind} appears in the -vvv output ({sum(form in output for form in forms)} form(s))"
        for kind, forms in secrets.items()
        if any(form in output for form in forms)
    ]
    if "PRIVATE KEY" in output:
        found.append("a PEM private key (PRIVATE KEY) appears in the -vvv output")

    # The search means something only if the output holds what -vvv prints about the modules.
    controls = {
        "no module invocation (is it -vvv output?)": '"invocation"' in output and '"module_args"' in output,
        "the HMAC key is not shown masked in the acme_account invocation": '"hmac_key": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output,
        "the EAB kid (not a secret) is missing": config["eab_kid"] in output,
        "no acme_finalize result with the certificate": '"fullchain_pem"' in output,
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
