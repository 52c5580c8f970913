#!/usr/bin/python
# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_nsupdate
short_description: Publish or remove a batch's TXT records with one dynamic DNS update per zone
version_added: 0.2.0
description:
  - Sends the TXT records of O(records) to an authoritative DNS server as dynamic updates (RFC 2136) signed with a
    TSIG key (RFC 8945), grouped into one update message per zone however many records there are (a zone with
    more than 250 changes gets one message per 250).
  - Made for the RV(certfleet.acme.acme_certificates#module:dns_records) of a batch, and the
    RV(certfleet.acme.acme_order#module:dns_records) of one order, whose values for one name (an apex and its wildcard)
    come merged.
  - With O(state=present), adds each value the server does not show yet and leaves the other values of the name alone.
    With O(state=absent), deletes exactly the given values, so values published by others for the same name stay.
  - Asks the server for each name's current values first (over TCP, without recursion) and sends nothing for a zone
    that already is as asked.
  - Runs where the server can be reached, usually the controller; needs C(dnspython).
requirements:
  - dnspython >= 2.1
extends_documentation_fragment:
  - certfleet.acme.acme.attributes
attributes:
  check_mode:
    support: full
    details:
      - Asks the server what is there and reports what would be added or deleted; sends no update.
  diff_mode:
    support: none
    details:
      - RV(zones) lists, per zone, the values added or deleted.
  idempotent:
    support: full
    details:
      - A rerun finds every value in place (or gone) and sends no update.
options:
  server:
    description:
      - Address or host name of the authoritative DNS server that accepts the updates (the primary).
    type: str
    required: true
  port:
    description:
      - The server's DNS port.
    type: int
    default: 53
  key_name:
    description:
      - Name of the TSIG key the server's update policy grants.
      - Give O(key_name) and O(key_secret) together; without both, the updates are sent unsigned, for a server
        that allows updates by address (C(allow-update { 192.0.2.1; })). Signed updates are the safer choice.
    type: str
  key_secret:
    description:
      - The TSIG key's secret, base64 as C(tsig-keygen) writes it. Never shown in output.
    type: str
  key_algorithm:
    description:
      - The TSIG key's algorithm.
    type: str
    choices: [hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1, hmac-md5]
    default: hmac-sha256
  zone:
    description:
      - The zone every record is in. Without it, each record's zone is the one whose SOA the server shows for the name.
      - Give it when the server is not authoritative for the names themselves (a C(_acme-challenge) name delegated by
        CNAME is published in the zone the CNAME points to; pass that name).
    type: str
  records:
    description:
      - The records, each a dictionary with C(name), C(values) (a list of TXT values) and optionally C(ttl) (other keys
        are ignored), as RV(certfleet.acme.acme_certificates#module:dns_records) returns them. Entries with the same
        name are merged.
    type: list
    elements: dict
    required: true
  state:
    description:
      - V(present) adds the values; V(absent) deletes them.
    type: str
    choices: [present, absent]
    default: present
  ttl:
    description:
      - TTL of added values whose record gives none.
    type: int
    default: 60
  timeout:
    description:
      - Longest time in seconds to wait for each answer of the server.
    type: int
    default: 10
author:
  - certfleet.acme developers (@certfleet)
seealso:
  - module: certfleet.acme.acme_certificates
  - module: community.general.nsupdate
    description: One record per task, for everything else.
"""

EXAMPLES = r"""
- name: Make sure the account exists
  certfleet.acme.acme_account:
    directory: letsencrypt_staging
    credentials_path: /var/lib/certfleet/letsencrypt-staging.json
    contacts: [mailto:ops@example.com]
    terms_agreed: true

- name: An apex and its wildcard over dns-01, the whole batch in three ACME tasks
  module_defaults:
    certfleet.acme.acme_certificates:
      directory: letsencrypt_staging
      credentials_path: /var/lib/certfleet/letsencrypt-staging.json
      state_dir: /var/lib/certfleet/orders
      challenge: dns-01
      certificates:
        - name: apps
          identifiers: [apps.example.com, "*.apps.example.com"]
          cert_path: /var/lib/certfleet/apps/cert.pem
          fullchain_path: /var/lib/certfleet/apps/fullchain.pem
          private_key_path: /var/lib/certfleet/apps/privkey.pem
    certfleet.acme.acme_nsupdate:
      server: ns1.example.com
      key_name: acme-update
      key_secret: "{{ vault_tsig_secret }}"
  block:
    - name: Order every certificate that is due
      certfleet.acme.acme_certificates:
        steps: [order]
      register: ordered

    - name: Publish every value of the batch, one update per zone (both values of the apex's record)
      certfleet.acme.acme_nsupdate:
        records: "{{ ordered.dns_records }}"

    - name: Validate and finalize the batch
      certfleet.acme.acme_certificates:
        steps: [validate, finalize]

  always:
    - name: Remove exactly the values published above, leaving other values of the names alone
      certfleet.acme.acme_nsupdate:
        records: "{{ ordered.dns_records | default([]) }}"
        state: absent
"""

RETURN = r"""
zones:
  description:
    - Per zone that needed a change, the values added (O(state=present)) or deleted (O(state=absent)) by record name,
      and how many update messages were sent (0 in check mode).
  returned: always
  type: dict
  sample:
    example.com:
      added:
        _acme-challenge.example.com: [LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0, 9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI]
      deleted: {}
      messages: 1
messages:
  description: How many update messages were sent in all.
  returned: always
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.certfleet.acme.plugins.module_utils._acme.dnsupdate import (
    DNSPYTHON_IMPORT_ERROR,
    TSIG_ALGORITHMS,
    DnsUpdater,
    parse_records,
)
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import DnsUpdateResult
from ansible_collections.certfleet.acme.plugins.module_utils._acme.task_exit import exit_with


def argument_spec() -> dict[str, Any]:
    return {
        "server": {"type": "str", "required": True},
        "port": {"type": "int", "default": 53},
        "key_name": {"type": "str"},
        "key_secret": {"type": "str", "no_log": True},
        "key_algorithm": {"type": "str", "choices": list(TSIG_ALGORITHMS), "default": "hmac-sha256"},
        "zone": {"type": "str"},
        "records": {"type": "list", "elements": "dict", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "ttl": {"type": "int", "default": 60},
        "timeout": {"type": "int", "default": 10},
    }


def run(module: AnsibleModule) -> DnsUpdateResult:
    params = module.params
    if params["timeout"] <= 0:
        raise AcmeOptionError("timeout", "timeout must be more than zero seconds")
    records = parse_records(params["records"], params["ttl"])
    updater = DnsUpdater(params["server"], params["port"], params["key_name"], params["key_secret"], params["key_algorithm"], float(params["timeout"]))
    plans = updater.plan(records, present=params["state"] == "present", zone=params["zone"])
    zones: dict[str, Any] = {}
    messages = 0
    for changes in plans:
        sent = 0 if module.check_mode else updater.send(changes)
        messages += sent
        zones[changes.zone] = {"added": changes.add, "deleted": changes.delete, "messages": sent}
    return DnsUpdateResult(changed=bool(plans), zones=zones, messages=messages)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), required_together=[("key_name", "key_secret")], supports_check_mode=True)
    if DNSPYTHON_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("dnspython"), exception=DNSPYTHON_IMPORT_ERROR)
    exit_with(module, lambda: run(module))


if __name__ == "__main__":
    main()
