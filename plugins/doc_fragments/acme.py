# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    # Mirrors plugins/module_utils/_acme/argspec.py server_argument_spec().
    SERVER = r"""
options:
  directory:
    description:
      - The ACME directory of the CA.
      - A preset name, V(letsencrypt), V(letsencrypt_staging) or V(pebble) (V(https://127.0.0.1:14000/dir)),
        or the URL of any RFC 8555 directory.
      - The default is Let's Encrypt's staging CA, whose certificates browsers do not trust;
        set V(letsencrypt) for production.
      - Set it once for all modules with C(module_defaults) and the C(group/certfleet.acme.acme) action group.
    type: str
    default: letsencrypt_staging
  ca_path:
    description:
      - PEM file with the CA certificates that sign the ACME server's own TLS certificate.
      - Needed for a private CA or a local Pebble; not needed for Let's Encrypt.
      - Overrides the E(REQUESTS_CA_BUNDLE) environment variable.
    type: path
  validate_certs:
    description:
      - Verify the ACME server's TLS certificate.
      - Set to V(false) only for throwaway tests; prefer O(ca_path).
    type: bool
    default: true
  request_timeout:
    description:
      - Seconds to wait for one HTTP answer from the CA.
    type: int
    default: 10
  retry_timeout:
    description:
      - Longest time in seconds one module run spends on answers 429 (rate limited) and 503 (busy) of the CA
        to any of its requests, that is waiting as their C(Retry-After) asks (seconds or an HTTP date; without one,
        1, 2, 4, ... seconds) and sending the request again.
      - A request that only reads (the directory, C(newNonce), ARI, fetching an order, authorization or certificate)
        and timed out or lost its connection is sent again the same way (1, 2, 4, ... seconds later), within the same
        time. A request that changes something at the CA (a new order, an answered challenge, a finalization) is never
        sent again after a timeout, since the CA may have acted on it.
      - Time spent on anything else, such as polling a validation or waiting for the lock, does not count.
      - When the CA asks for a wait that would go beyond it, the module fails at once, without sending the request
        again, naming the refused request and when to retry, also as C(retry_at) (UTC) in the failed result.
    type: int
    default: 60
  session_cache:
    description:
      - JSON file in which module runs leave the CA's directory and the last nonce they did not use,
        for the next module run to use instead of asking the CA again.
      - Saves the directory request and the C(newNonce) request of every module call after the first,
        two of the requests a certificate costs per module call.
      - Give the same path to every task that talks to the same CA; it may hold several CAs.
        Runs on one file take turns for the moment they read or update it, so parallel forks and playbooks may share it.
      - Holds no secret. A file that cannot be read or written is ignored; a stale nonce costs one
        C(badNonce) answer, which carries a fresh nonce.
      - Check mode reads the file but never writes it.
    type: path
  session_cache_max_age:
    description:
      - Seconds for which a directory recorded in O(session_cache) is used instead of fetching it again.
      - V(0) fetches the directory on every run (and still keeps nonces).
    type: int
    default: 86400
requirements:
  - python >= 3.9
  - cryptography >= 3.4
  - requests >= 2.25
"""

    # Descriptions of the attributes every module declares; modules add support and details.
    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying the CA's state or any file.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row with the same options, the second run reports no change and changes nothing.
"""

    # Mirrors plugins/module_utils/_acme/argspec.py account_argument_spec().
    ACCOUNT = r"""
options:
  credentials_path:
    description:
      - JSON credentials file holding the account key and account URL
        (C(privateKeyPem), C(publicKeyPem), C(acceptTerms), C(contacts), C(accountUri), C(directory)).
      - M(certfleet.acme.acme_account) creates it (mode V(0600)) with a new key when it does not exist;
        every other module reads the key and the account URL from it.
      - Keep it on a persistent path; in AWX execution environments the job's file system is thrown away.
      - A file that group or others may read is still used, with a warning naming its mode;
        M(certfleet.acme.acme_account) rewrites it with mode V(0600) on its next run (not in check mode).
      - Exactly one of O(credentials_path), O(account_key_src) and O(account_key_content) is required.
    type: path
  account_key_src:
    description:
      - PEM file with the account's private key (EC P-256, P-384, P-521 or RSA 2048 to 8192 bits).
      - A file that group or others may read is still used, with a warning naming its mode; the collection never
        writes this file, so C(chmod 0600) it yourself.
    type: path
  account_key_content:
    description:
      - The account's private key as PEM text, for example from a vault or an AWX credential.
      - Never shown in the task output.
    type: str
  account_key_passphrase:
    description:
      - Passphrase of an encrypted account key (O(account_key_src) or O(account_key_content)).
    type: str
  account_uri:
    description:
      - URL of the account. When given, modules skip the account lookup.
      - Read from the credentials file when O(credentials_path) is used.
    type: str
"""

    # Mirrors plugins/module_utils/_acme/argspec.py state_lock_argument_spec().
    STATE_LOCK = r"""
options:
  lock_timeout:
    description:
      - Longest time in seconds to wait for another run working on the same certificate, that is with the same O(state_path).
      - While it runs, the module holds an exclusive lock (C(flock)) on the file C(<state_path>.lock) next to O(state_path),
        so M(certfleet.acme.acme_order), M(certfleet.acme.acme_challenge_proof) and M(certfleet.acme.acme_finalize) runs on
        one certificate take turns, each for its whole run; after waiting, a run reads what the other one left (the order
        it recorded, or no order once the certificate is written).
      - The lock file is created with mode V(0600) and never removed; do not remove it, which would let two runs work at once.
        The lock is released when the module ends, even when it is killed.
      - When the lock is still held after O(lock_timeout) seconds, the module fails, naming O(state_path) and the lock file,
        and changes nothing. V(0) tries once without waiting.
      - Without O(state_path) (an O(order_uri) alone) nothing is locked, and concurrent runs are the playbook's business.
      - In check mode the lock is taken only when the lock file exists already, as check mode creates no file.
      - Only runs that see the same lock file take turns; runs on other hosts do so only when O(state_path) is on a
        network file system whose C(flock) locks work across hosts.
    type: int
    default: 600
"""
