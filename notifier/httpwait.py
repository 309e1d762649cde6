"""How long a server may make us wait: `Retry-After` read once, the same way for feeds
and every channel (RFC 9110: delta-seconds or an HTTP date).

A vendor's answer is untrusted: the wait must be a finite number and is capped at
`MAX_WAIT_S` (15 minutes). `inf`, `nan`, a year in seconds or a date far away all give
at most that; an unreadable value gives None (the caller's own backoff applies).
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime

MAX_WAIT_S = 900.0


def bounded(seconds: float | None) -> float | None:
    """`seconds` made finite and within [0, MAX_WAIT_S]; None stays None (nan too)."""
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_WAIT_S)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After value, capped at 15 minutes; None when absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()[:64]
    try:
        return bounded(float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    try:
        stamp = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return bounded(stamp - (time.time() if now is None else now))


__all__ = ["MAX_WAIT_S", "bounded", "retry_after"]
