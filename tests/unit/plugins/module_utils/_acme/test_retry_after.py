# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""retry_after.py: every form of ``Retry-After`` (RFC 9110 section 10.2.3), hostile ones included, and the three policies."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeResponse
from ansible_collections.certfleet.acme.plugins.module_utils._acme.retry_after import (
    ARI,
    LONGEST_RETRY_AFTER,
    POLLING,
    RATE_LIMITED,
    parse_retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, seconds", [("0", 0.0), ("7", 7.0), ("120", 120.0), (" 30 ", 30.0), ("86400", 86400.0)])
def test_retry_after_delay_seconds(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 01 Mar 2026 12:01:30 GMT",  # IMF-fixdate
        "Sunday, 01-Mar-26 12:01:30 GMT",  # obsolete RFC 850 form
        "Sun Mar  1 12:01:30 2026",  # obsolete asctime form
        "Sun, 01 Mar 2026 13:01:30 +0100",  # numeric zone, same instant
    ],
)
def test_retry_after_http_date_is_relative_to_now(value):
    assert parse_retry_after(value, now=NOW) == 90.0


def test_retry_after_http_date_from_format_datetime():
    value = format_datetime(NOW + timedelta(seconds=3600), usegmt=True)
    assert parse_retry_after(value, now=NOW) == 3600.0


def test_retry_after_in_the_past_is_zero():
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=NOW) == 0.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now=NOW) == 0.0


def test_retry_after_defaults_to_the_real_time():
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=600), usegmt=True)
    assert 590 <= parse_retry_after(soon) <= 600


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "12 s", "Sun, 99 Foo 2026", "0x10"])
def test_retry_after_garbage_is_none(value):
    assert parse_retry_after(value, now=NOW) is None


@pytest.mark.parametrize(
    "value",
    [
        "9" * 400,  # float() of it is inf; int() refuses past 4,300 digits
        "9" * 5000,
        "99999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",  # the last date an HTTP-date can name
        str(10**9),
    ],
)
def test_a_huge_retry_after_is_the_longest_wait_and_finite(value):
    seconds = parse_retry_after(value, now=NOW)
    assert seconds == LONGEST_RETRY_AFTER
    assert math.isfinite(seconds)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e400", "Sun, 01 Mar 99999 12:00:00 GMT", "\x00", "5\r\nX-Injected: 1"])
def test_non_finite_negative_and_broken_values_are_no_value(value):
    assert parse_retry_after(value, now=NOW) is None


def test_a_response_reads_an_http_date_from_when_it_arrived():
    arrived = NOW - timedelta(seconds=30)
    headers = CaseInsensitiveDict({"Retry-After": format_datetime(NOW + timedelta(seconds=60), usegmt=True)})
    assert AcmeResponse("https://ca.example/x", 503, headers, b"", {}, received_at=arrived).retry_after == 90.0
    assert AcmeResponse("https://ca.example/x", 200, CaseInsensitiveDict(), b"", {}).retry_after is None


@pytest.mark.parametrize(
    "policy, retry_after, fallback, waited",
    [
        (RATE_LIMITED, 0.0, 1.0, 1.0),  # zero: never a busy loop against the CA
        (RATE_LIMITED, 7.0, 1.0, 7.0),
        (RATE_LIMITED, None, 4.0, 4.0),  # no header: the caller's backoff
        (RATE_LIMITED, LONGEST_RETRY_AFTER, 1.0, LONGEST_RETRY_AFTER),  # retry_timeout decides, and names the time
        (POLLING, 0.0, 2.0, 0.5),
        (POLLING, 3.0, 2.0, 3.0),
        (POLLING, 3600.0, 2.0, 10.0),
        (POLLING, None, 2.0, 2.0),
        (ARI, 1.0, 21600.0, 60.0),  # RFC 9773 section 4.3: at least a minute
        (ARI, 10**6, 21600.0, 86400.0),  # and at most a day
        (ARI, None, 21600.0, 21600.0),
    ],
)
def test_each_policy_bounds_the_cas_value(policy, retry_after, fallback, waited):
    assert policy.wait(retry_after, fallback) == waited
