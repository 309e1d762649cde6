"""When a delivery that failed for now is tried again, and when trying stops (pure).

Channels raise `DeliveryError` and never sleep; this is the one place that turns a
transient failure into the next attempt's number and time. The waiting itself is
`notifier.store.delivery.retries.RetryQueue`'s (in Redis, swept by beat), never a worker's.

It also says when a reply waits for the earlier reply of its thread (`turn_wait`):
replies appear in the order they were planned, even when the earlier one is retried.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from notifier.channels.base import DeliveryError, NotYet
from notifier.store.delivery.alerts import Earlier
from notifier.store.delivery.status import AlertStatus

MAX_RETRY_WAIT_S = 15 * 60  # the longest wait between two attempts
# Attempts after the first; the last one reports a failure instead of asking for more.
MAX_DELIVERY_RETRIES = 8
# Failures of our own infrastructure (Redis, the network), not a vendor's answer: the
# harness retries the task itself, and the reconcile sweep re-sends whatever slips through.
INFRASTRUCTURE: tuple[type[Exception], ...] = (redis.RedisError, OSError, TimeoutError)


def backoff(tries: int, base: float = 5.0, cap: float = MAX_RETRY_WAIT_S) -> float:
    """Full-jitter exponential backoff: spreads a burst of retries after an outage."""
    return random.uniform(base / 2, min(cap, base * 2**tries))


@dataclass
class NextAttempt:
    """The alert's own next attempt, its number (`notifier.store.delivery.retries`) read
    in the delivery's first round trip, with its lock: `deliver_alert` fills it in."""

    number: int = 0


def is_last(attempt: int) -> bool:
    """Attempt `attempt` (0 = the first) is the last: its failure is final."""
    return attempt >= MAX_DELIVERY_RETRIES


def next_try(
    exc: DeliveryError, attempt: int, now: datetime, base: float = 5.0
) -> tuple[int, datetime]:
    """The number and time of the try after attempt `attempt` (0 = the first) failed
    with the transient `exc`. A vendor's Retry-After is honoured (never earlier) and
    spread over half as long again, so a rate-limited fan-out does not return as one
    burst. A wait (`NotYet`) is not an attempt: the number stays, so waiting for a
    thread's first message through a long outage cannot use up the retry budget.
    Without a Retry-After the wait is `backoff(attempt, base)` (NOTIFIER_RETRY_BASE)."""
    if isinstance(exc, NotYet):
        return attempt, now + timedelta(seconds=min(exc.retry_after or 5.0, MAX_RETRY_WAIT_S))
    wait = exc.retry_after * random.uniform(1.0, 1.5) if exc.retry_after else backoff(attempt, base)
    return attempt + 1, now + timedelta(seconds=min(wait, MAX_RETRY_WAIT_S))


# A reply waits at most this long (from its first wait) for the earlier reply of its
# thread, then goes anyway: an earlier reply stuck on a vendor error must not silence
# the thread. Long enough for a retried reply's first six attempts (~5 min of backoff)
# and for a Retry-After of minutes.
TURN_WAIT_MAX = timedelta(minutes=15)
TURN_CHECK_S = 2.0  # how soon to look again while the earlier one is under way or queued


class OutOfTurn(NotYet):
    """An earlier alert of the same thread is still on its way: this one waits. Only
    this alert waits; the other alerts of a fan-out go on."""

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_turn, (self.message, self.retry_after))


def _rebuild_turn(message: str, retry_after: float) -> OutOfTurn:
    return OutOfTurn(message, retry_after=retry_after)


def turn_wait(
    earlier: Earlier | None, carried: Collection[str], waiting_since: datetime | None,
    now: datetime,
) -> float | None:  # fmt: skip
    """Seconds to wait for `earlier`, the alert planned just before this one in its
    thread, or None to go now.

    It waits while the earlier one is pending: being tried, queued, or waiting for its
    retry. It does not wait for one that is finished (delivered, skipped or carried,
    failed for good: its fallback goes by another channel), held for quiet hours (the
    later one is an escalation quiet hours do not hold), carried by this alert
    (`carried`: dedup keys), or whose record expired; nor, once it has waited
    `TURN_WAIT_MAX` since `waiting_since` (its first wait; None: this is the first).
    It looks again when the earlier one's retry is due, or `TURN_CHECK_S` from now."""
    if earlier is None or earlier.status is not AlertStatus.PENDING or earlier.dedup_key in carried:
        return None
    if earlier.hold_until is not None and earlier.hold_until > now:
        return None
    left = ((waiting_since or now) + TURN_WAIT_MAX - now).total_seconds()
    if left <= 0:
        return None
    wait = TURN_CHECK_S
    if not earlier.running and earlier.retry_at is not None and earlier.retry_at > now:
        wait = (earlier.retry_at - now).total_seconds() + TURN_CHECK_S
    return max(1.0, min(wait, left))
