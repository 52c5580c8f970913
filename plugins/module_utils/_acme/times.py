# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Times as the modules return them (RFC 3339 in UTC) and as CAs send them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

_RFC3339_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def format_time(value: datetime) -> str:
    """ISO 8601 / RFC 3339 in UTC, e.g. ``2026-03-01T12:00:00Z``.

    Whole seconds unless the value has a fraction (an ARI window from a CA that sends
    milliseconds), which is kept without trailing zeros: ``2026-03-01T12:00:00.25Z``.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def ceil_second(value: datetime) -> datetime:
    """The next whole second at or after ``value``."""
    if value.microsecond:
        return value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def parse_rfc3339(text: Any) -> datetime:
    """An RFC 3339 ``date-time`` (any offset, any number of fractional digits) as an aware UTC datetime.

    Written out because ``datetime.fromisoformat`` on Python 3.9 and 3.10 accepts neither
    ``Z`` nor the nine fractional digits that Go servers (Pebble, Boulder) send.
    """
    match = _RFC3339_RE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    microsecond = int(((match.group(7) or "") + "000000")[:6])
    zone = match.group(8)
    if zone in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    # RFC 3339 allows a leap second (:60); datetime does not.
    leap = second == 60
    try:
        value = datetime(year, month, day, hour, minute, 59 if leap else second, microsecond, tzinfo=tz)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date and time") from None
    if leap:
        value += timedelta(seconds=1)
    return value.astimezone(timezone.utc)
