# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""``Retry-After`` (RFC 9110 section 10.2.3): one parser, and the three ways a run honours it.

The header is input from the CA like any other: it may be delay-seconds, an HTTP-date, or
nonsense (a negative number, a word, a number with thousands of digits, a date in year
9999). ``parse_retry_after`` turns every form into a finite number of seconds between 0 and
``LONGEST_RETRY_AFTER``, or None when there is no usable value. What a run then waits is
decided by one named ``RetryAfterPolicy`` per use:

- ``RATE_LIMITED``: a 429 or 503 answer (RFC 8555 section 6.6), bounded by the run's
  ``retry_timeout`` (the client says when to come back instead of waiting past it);
- ``POLLING``: an order or authorization that is still being worked on (RFC 8555 sections
  7.4 and 7.5.1), bounded by ``wait_timeout``;
- ``ARI``: when to ask for a renewal window again (RFC 9773 section 4.3).
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import datetime, timezone

# Longer than any rate limit a CA documents (Let's Encrypt's longest is a week); a value beyond
# it, or one too large to be a number at all, is read as this.
LONGEST_RETRY_AFTER = 30 * 24 * 3600.0
_DELAY_SECONDS = re.compile(r"[0-9]+")
# More digits than this are beyond LONGEST_RETRY_AFTER anyway, and Python refuses to convert
# strings of more than 4,300 digits to int.
_MAX_DIGITS = 12


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` value, within 0 to ``LONGEST_RETRY_AFTER``; None when absent or unusable.

    Delay-seconds are whole non-negative numbers; an HTTP-date in the past means now
    (RFC 9110 section 10.2.3). A negative number, a fraction or a word is no value at all.
    """
    if value is None:
        return None
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        return LONGEST_RETRY_AFTER if len(text) > _MAX_DIGITS else min(float(text), LONGEST_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(0.0, seconds), LONGEST_RETRY_AFTER)


@dataclass(frozen=True)
class RetryAfterPolicy:
    """How one use honours the CA's ``Retry-After``: never shorter than ``shortest``, never longer than ``longest``.

    ``shortest`` keeps a zero or past value from turning into a busy loop against the CA;
    ``longest`` keeps one answer from holding a run longer than that use allows.
    """

    use: str
    shortest: float
    longest: float

    def wait(self, retry_after: float | None, fallback: float) -> float:
        """Seconds to wait: the CA's value within this policy's bounds, or ``fallback`` without one."""
        if retry_after is None:
            return fallback
        return min(max(retry_after, self.shortest), self.longest)


# The run's retry_timeout bounds what is actually waited; past it, the CA's time is reported.
RATE_LIMITED = RetryAfterPolicy("a 429 or 503 answer", shortest=1.0, longest=LONGEST_RETRY_AFTER)
# Polls honour the CA's pace but never sleep past 10 s at once: wait_timeout bounds the total, and
# a CA that asks for an hour on a pending order would otherwise outlast every task.
POLLING = RetryAfterPolicy("polling an order or authorization", shortest=0.5, longest=10.0)
# RFC 9773 section 4.3: keep it within reasonable limits, for instance one minute to one day.
ARI = RetryAfterPolicy("the next renewal-window check", shortest=60.0, longest=86400.0)
