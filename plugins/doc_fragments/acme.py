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
      - The alias C(acme_directory) is the name community.crypto gives it.
    type: str
    default: letsencrypt_staging
    aliases: [acme_directory]
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
      - Seconds to wait for one HTTP answer from the CA. More than zero.
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
      - V(0) never waits, so the first 429 or 503 answer, or a read that timed out, fails the module.
        Negative values are refused.
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
      - Missing folders on its path are created with mode V(0700) when the file is first written; an existing folder is left as it is.
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

    # Mirrors argspec.py account_argument_spec() for modules that need no account but belong to the
    # acme action group (acme_certificate_info), so that its module_defaults apply to them.
    ACCOUNT_UNUSED = r"""
options:
  credentials_path:
    description:
      - Not used; this module needs no account. Accepted so that C(module_defaults) of the
        C(group/certfleet.acme.acme) action group, which usually set it, apply to this module too.
    type: path
  account_key_src:
    description:
      - Not used, like O(credentials_path).
    type: path
  account_key_content:
    description:
      - Not used, like O(credentials_path).
      - Never shown in the task output.
    type: str
  account_key_passphrase:
    description:
      - Not used, like O(credentials_path).
    type: str
  account_uri:
    description:
      - Not used, like O(credentials_path).
    type: str
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
      - Missing folders on its path are created with mode V(0700), owned by the user running the module (not in check mode);
        an existing folder is left as it is.
      - A file that group or others may read is still used, with a warning naming its mode;
        M(certfleet.acme.acme_account) rewrites it with mode V(0600) on its next run (not in check mode).
      - Exactly one of O(credentials_path), O(account_key_src) and O(account_key_content) is required;
        M(certfleet.acme.acme_account) also takes O(credentials_path) together with one of the other two, to import
        that key into the credentials file.
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
    # Used by acme_order, acme_challenge_proof, acme_finalize and acme_certificates, so it names no option
    # that one of them lacks (state_path is per certificate in acme_certificates).
    STATE_LOCK = r"""
options:
  lock_timeout:
    description:
      - Longest time in seconds to wait for another run working on the same certificate, that is on the same order
        state file (C(state_path) of M(certfleet.acme.acme_order), M(certfleet.acme.acme_challenge_proof) and
        M(certfleet.acme.acme_finalize); C(certificates[].state_path), or C(<state_dir>/<name>.order.json), of
        M(certfleet.acme.acme_certificates)).
      - While it works on a certificate, a run holds an exclusive lock (C(flock)) on the file C(<state file>.lock) next to
        the state file, so the runs of these modules on one certificate take turns, each for its whole run (a batch, for
        that certificate's steps); after waiting, a run reads what the other one left (the order it recorded, or no order
        once the certificate is written).
      - The lock file is created with mode V(0600) and never removed; do not remove it, which would let two runs work at once.
        The lock is released when the module ends, even when it is killed.
      - When the lock is still held after O(lock_timeout) seconds, the run fails, naming the state file and the lock file,
        and changes nothing; in M(certfleet.acme.acme_certificates) only that certificate fails and the others go on.
        V(0) tries once without waiting.
      - Without a state file (an C(order_uri) alone) nothing is locked, and concurrent runs are the playbook's business.
      - In check mode the lock is taken only when the lock file exists already, as check mode creates no file.
      - Only runs that see the same lock file take turns; runs on other hosts do so only when the state file is on a
        network file system whose C(flock) locks work across hosts.
    type: int
    default: 600
"""

    # Mirrors plugins/module_utils/_acme/argspec.py order_uri_argument_spec() (acme_challenge_proof, acme_finalize).
    ORDER_URI = r"""
options:
  order_uri:
    description:
      - URL of the order, as returned by M(certfleet.acme.acme_order) in RV(certfleet.acme.acme_order#module:order_uri).
      - One of O(order_uri) and O(state_path) is required. When both are given, O(order_uri) names the order and
        O(state_path) only provides what M(certfleet.acme.acme_order) recorded with it; a state file that records this
        same order is used as with O(state_path) alone.
      - Given with O(state_path), it still finds the order once another run on the same O(state_path) has finished it
        and removed the file (a batch and the certificate role on one certificate); the run then works from the order as
        the CA has it.
    type: str
  order:
    description:
      - The registered result of M(certfleet.acme.acme_order), instead of repeating what it was given. Its
        RV(certfleet.acme.acme_order#module:state_path) fills O(state_path) (or, without a state file, its
        RV(certfleet.acme.acme_order#module:order_uri) fills O(order_uri)); for M(certfleet.acme.acme_finalize), its
        RV(certfleet.acme.acme_order#module:cert_path) also fills C(cert_path), unless that file is the C(fullchain_path)
        given (M(certfleet.acme.acme_certificate_info) was pointed at the full chain).
      - An option given as well must name the same file or order, or the task fails naming both.
      - The result is checked first; a skipped or failed task's result, or something that is not the result of
        M(certfleet.acme.acme_order), fails naming O(order).
    type: dict
"""

    # Mirrors plugins/module_utils/_acme/argspec.py renewal_decision_argument_spec()
    # (acme_certificate_info, acme_certificates).
    RENEWAL = r"""
options:
  renew_before_days:
    description:
      - A certificate is due for renewal when fewer than this many days are left before it expires.
      - Between V(0) and V(100000).
      - The alias C(remaining_days) is community.crypto's name; its default there is different (10 days in C(acme_certificate)).
    type: int
    default: 30
    aliases: [remaining_days]
  renew_before_fraction:
    description:
      - A certificate is also due when less than this fraction of its lifetime (C(not_after - not_before)) is left,
        for example V(0.33) for the last third.
      - Meant for short-lived certificates, for which a number of days does not fit; with a 6-day certificate and
        V(0.33), renewal is due when less than about 2 days are left.
      - Between 0 and 1 (both excluded). Whichever of this and O(renew_before_days) comes first decides.
      - The alias C(remaining_percentage) is community.crypto's name; it is a fraction there too.
    type: float
    aliases: [remaining_percentage]
  ari:
    description:
      - Ask the CA's C(renewalInfo) resource (RFC 9773, ACME Renewal Information) for the renewal window it suggests for
        the certificate; the certificate is due once that window has begun.
      - Uses O(directory), O(ca_path), O(validate_certs), O(request_timeout) and O(retry_timeout).
      - Not asked for a certificate that has expired (RFC 9773 section 4.3) nor for one without an Authority Key
        Identifier (it has no ARI certificate ID; a warning says so).
      - M(certfleet.acme.acme_certificate_info) asks even when another reason makes the certificate due, so that it
        reports every reason. M(certfleet.acme.acme_certificates) does not ask for a certificate that is due anyway
        (its names or key changed, or it expires within O(renew_before_days)), because the window could only add a
        reason, and sends the certificate's ARI ID as C(replaces) with its renewal order. So a renewal there costs no
        request more than a first issuance, and a certificate not due costs one ARI request.
    type: bool
    default: true
    aliases: [use_ari]
"""

    # Mirrors plugins/module_utils/_acme/argspec.py validation_argument_spec() (acme_challenge_proof, acme_certificates).
    SELF_TEST = r"""
options:
  self_test:
    description:
      - Check that each proof is published, as the CA will look for it, before its challenge is answered.
      - When a self-test of an order fails, none of its challenges is answered, and the task (in
        M(certfleet.acme.acme_certificates), that certificate) fails saying, for each identifier, what was expected and
        what was seen.
      - Turn it off only when the module cannot see the proofs the way the CA does (for example a split-horizon DNS);
        a failed validation cannot be retried on the same order.
    type: bool
    default: true
  self_test_attempts:
    description:
      - How many times to look for each proof before giving up (to wait for DNS propagation or a deployment).
      - Each lookup waits at most O(request_timeout) seconds for an answer. At least V(1).
    type: int
    default: 10
  self_test_delay:
    description:
      - Seconds to wait between two attempts of a self-test. Zero or more.
    type: float
    default: 2
  http_nodes:
    description:
      - Web nodes to fetch each V(http-01) proof from, each C(host) or C(host:port) (C([2001:db8::1]:port) for IPv6),
        with the C(Host) header of the name. Every node must serve the proof, since the CA may reach any of them.
      - Without it, the proof is fetched from C(http://<name>/) as the CA would.
      - Redirects are followed as a CA follows them (RFC 8555 section 8.3), at most 10, to http or https on ports 80
        and 443, and only to the same name (on the same node, with O(http_nodes)); a redirect elsewhere fails the
        self-test, naming where it pointed. Set O(self_test=false) for setups that send the challenge path to a
        central host. At most 8 KiB of each answer is read, and none of it is put into the task result.
    type: list
    elements: str
  dns_resolvers:
    description:
      - DNS servers to ask for V(dns-01) and V(dns-persist-01) records, each C(host) or C(host:port)
        (C([2001:db8::1]:port) for IPv6). Every server must show every value.
      - Without it, the authoritative servers of the record's zone are asked directly, following CNAMEs,
        so that no resolver's cache hides a fresh record.
    type: list
    elements: str
"""

    # Mirrors plugins/module_utils/_acme/argspec.py wait_argument_spec() (acme_challenge_proof, acme_finalize,
    # acme_certificates); its bound is argspec.check_wait_timeout().
    WAIT = r"""
options:
  wait_timeout:
    description:
      - Longest time in seconds to wait for the CA, each time a run waits for it.
        M(certfleet.acme.acme_challenge_proof) waits, after answering the challenges, for the CA to validate them.
        M(certfleet.acme.acme_finalize) waits, after sending the CSR, for the CA to issue the certificate (while the order
        is V(processing)). M(certfleet.acme.acme_certificates) waits up to this long for each certificate's validation,
        and again for its issuance.
      - Meanwhile the order is polled as the CA's C(Retry-After) asks (kept between 0.5 and 10 seconds), or without one
        after 0.5, 1, 2 and 4 seconds, then every 5 seconds.
      - When it passes, the task (in M(certfleet.acme.acme_certificates), the certificate) fails, naming what it waited
        for; a rerun resumes waiting without answering a challenge or finalizing again.
      - V(0) does not wait at all, so the run fails as above unless the CA is already done. Negative values are refused.
    type: int
    default: 120
"""

    # Mirrors plugins/module_utils/_acme/argspec.py certificate_files_argument_spec() (acme_finalize, acme_certificates).
    # The key and certificate paths are not in it: acme_finalize has them as options, acme_certificates per certificate.
    CERTIFICATE_FILES = r"""
options:
  key_type:
    description:
      - Type of the certificate keys generated, for a key file that does not exist yet (C(private_key_path) of
        M(certfleet.acme.acme_finalize), C(certificates[].private_key_path) of M(certfleet.acme.acme_certificates))
        and for O(rotate_key=true).
      - Ignored for an existing key. Let's Encrypt does not accept P-521 certificate keys, so it is not offered here
        (M(certfleet.acme.acme_account) offers it for account keys).
    type: str
    choices: [ec256, ec384, rsa2048, rsa3072, rsa4096]
    default: ec256
  rotate_key:
    description:
      - Generate a new key for each certificate issued instead of reusing its key file.
      - The old key stays in its file until the new certificate is downloaded and checked; until then the new key waits
        in C(<private_key_path>.next) (mode V(0600)), so an interrupted run can be resumed.
      - Applies to a V(ready) order only; for an order that was already finalized, the key the certificate was issued
        for is used.
      - Needs a key file; a CSR of one's own (C(csr_path) of M(certfleet.acme.acme_finalize)) brings its own key.
    type: bool
    default: false
  mode:
    description:
      - Permissions of the certificate, chain and full chain files, as an octal string such as V('0644').
      - Private keys are always written with mode V(0600).
    type: raw
    default: '0644'
  owner:
    description:
      - User (name or id) that owns every file written, the key included.
    type: str
  group:
    description:
      - Group (name or id) of every file written, the key included.
    type: str
  preferred_chain:
    description:
      - Common name of the root (or top intermediate) to prefer when the CA offers alternate chains
        (C(Link) headers with C(rel=alternate)).
      - A chain matches when its topmost certificate's issuer, or one of its CA certificates, has this common name.
      - When no chain matches, the default chain is used with a warning.
    type: str
"""

    # Mirrors plugins/module_utils/_acme/argspec.py order_choices_argument_spec() (acme_order, acme_certificates).
    ORDER_CHOICES = r"""
options:
  profile:
    description:
      - Certificate profile to ask for (the directory's C(meta.profiles)), for example V(shortlived) or V(tlsserver).
      - In M(certfleet.acme.acme_certificates), for the certificates that do not name their own (C(certificates[].profile)).
    type: str
  issuer_domain_name:
    description:
      - For V(dns-persist-01), the CA's issuer domain name to put in the records; must be one of the
        challenge's C(issuer-domain-names). Defaults to the CA's first.
      - In M(certfleet.acme.acme_certificates), for the certificates that do not name their own.
    type: str
  persist_policy_wildcard:
    description:
      - For V(dns-persist-01), add C(policy=wildcard) to every record so it also authorizes wildcards.
        Wildcard identifiers always get it.
      - In M(certfleet.acme.acme_certificates), for the certificates that do not say otherwise.
    type: bool
    default: false
  persist_until:
    description:
      - For V(dns-persist-01), a UNIX time after which the CA must no longer accept the record (C(persistUntil)).
      - The module warns when it is less than 30 days away.
      - In M(certfleet.acme.acme_certificates), for the certificates that do not name their own.
    type: int
  dns_ttl:
    description:
      - TTL in seconds of each entry of RV(dns_records) and of each line of RV(bind). Zero or more.
    type: int
    default: 60
"""
