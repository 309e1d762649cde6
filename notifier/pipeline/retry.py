"""When a delivery that failed for now is tried again, and when trying stops (pure).

Channels raise `DeliveryError` and never sleep; this is the one place that turns a
transient failure into the next attempt's number and time. The waiting itself is
`notifier.store.retries.RetryQueue`'s (in Redis, swept by beat), never a worker's.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import redis

from notifier.channels.base import DeliveryError, NotYet

MAX_RETRY_WAIT_S = 15 * 60  # the longest wait between two attempts
# Attempts after the first; the last one reports a failure instead of asking for more.
MAX_DELIVERY_RETRIES = 8
# Failures of our own infrastructure (Redis, the network), not a vendor's answer: the
# harness retries the task itself, and the reconcile sweep re-sends whatever slips through.
INFRASTRUCTURE: tuple[type[Exception], ...] = (redis.RedisError, OSError, TimeoutError)


def backoff(tries: int, base: float = 5.0, cap: float = MAX_RETRY_WAIT_S) -> float:
    """Full-jitter exponential backoff: spreads a burst of retries after an outage."""
    return random.uniform(base / 2, min(cap, base * 2**tries))


def is_last(attempt: int) -> bool:
    """Attempt `attempt` (0 = the first) is the last: its failure is final."""
    return attempt >= MAX_DELIVERY_RETRIES


def next_try(exc: DeliveryError, attempt: int, now: datetime) -> tuple[int, datetime]:
    """The number and time of the try after attempt `attempt` (0 = the first) failed
    with the transient `exc`. A vendor's Retry-After is honoured (never earlier) and
    spread over half as long again, so a rate-limited fan-out does not return as one
    burst. A wait (`NotYet`) is not an attempt: the number stays, so waiting for a
    thread's first message through a long outage cannot use up the retry budget."""
    if isinstance(exc, NotYet):
        return attempt, now + timedelta(seconds=min(exc.retry_after or 5.0, MAX_RETRY_WAIT_S))
    wait = exc.retry_after * random.uniform(1.0, 1.5) if exc.retry_after else backoff(attempt)
    return attempt + 1, now + timedelta(seconds=min(wait, MAX_RETRY_WAIT_S))
