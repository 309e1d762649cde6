"""When the next delivery attempt comes, and which number it has (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from notifier.channels.base import DeliveryError, NotYet
from notifier.pipeline.retry import MAX_DELIVERY_RETRIES, MAX_RETRY_WAIT_S, is_last, next_try

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
TRANSIENT = DeliveryError("slack: HTTP 503", permanent=False)


def wait_of(when: datetime) -> float:
    return (when - NOW).total_seconds()


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [
        (0, 2.5, 5.0),  # the first retry comes within seconds
        (1, 2.5, 10.0),
        (3, 2.5, 40.0),  # full jitter: anywhere from the floor to the doubling ceiling
        (12, 2.5, MAX_RETRY_WAIT_S),  # capped at 15 min
    ],
)
def test_a_failure_counts_and_backs_off_with_full_jitter(
    attempt: int, low: float, high: float
) -> None:
    random.seed(attempt)
    waits = []
    for _ in range(200):
        number, when = next_try(TRANSIENT, attempt, NOW)
        assert number == attempt + 1
        waits.append(wait_of(when))
    assert low <= min(waits) and max(waits) <= high
    assert max(waits) - min(waits) > (high - low) / 2  # spread out, not one instant


def test_the_vendors_retry_after_is_never_cut_short_and_is_spread_up_to_the_cap() -> None:
    random.seed(7)
    limited = DeliveryError("slack: rate limited", permanent=False, retry_after=30)
    tries = [next_try(limited, 2, NOW) for _ in range(200)]
    assert {number for number, _ in tries} == {3}
    waits = [wait_of(when) for _, when in tries]
    assert min(waits) >= 30 and max(waits) <= 45 and max(waits) - min(waits) > 7
    patience = DeliveryError("slack: rate limited", permanent=False, retry_after=86_400)
    assert next_try(patience, 2, NOW) == (3, NOW + timedelta(seconds=MAX_RETRY_WAIT_S))


def test_waiting_for_the_threads_first_message_is_not_an_attempt() -> None:
    wait = NotYet("waiting for the thread's first message", retry_after=5.0)
    assert next_try(wait, 7, NOW) == (7, NOW + timedelta(seconds=5))


def test_the_eighth_retry_is_the_last_attempt() -> None:
    assert not is_last(0) and not is_last(MAX_DELIVERY_RETRIES - 1)
    assert is_last(MAX_DELIVERY_RETRIES) and MAX_DELIVERY_RETRIES == 8
