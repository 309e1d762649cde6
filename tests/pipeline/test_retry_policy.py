"""When the next delivery attempt comes, and which number it has (pure)."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime, timedelta

import pytest

from notifier.channels.base import DeliveryError, NotYet
from notifier.pipeline.delivery.retry import (
    MAX_DELIVERY_RETRIES,
    MAX_RETRY_WAIT_S,
    TURN_CHECK_S,
    TURN_WAIT_MAX,
    OutOfTurn,
    is_last,
    next_try,
    turn_wait,
)
from notifier.store.delivery.alerts import Earlier
from notifier.store.delivery.status import AlertStatus

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


def pending(**kw: object) -> Earlier:
    return Earlier("e1/ops/slack", AlertStatus.PENDING, **kw)  # type: ignore[arg-type]


def test_a_reply_waits_for_the_earlier_one_while_it_is_pending() -> None:
    # Queued or being tried: look again shortly.
    assert turn_wait(pending(), (), None, NOW) == TURN_CHECK_S
    assert turn_wait(pending(running=True), (), None, NOW) == TURN_CHECK_S
    # Waiting for its retry: come back just after it.
    retry_at = NOW + timedelta(seconds=40)
    assert turn_wait(pending(retry_at=retry_at), (), None, NOW) == 40 + TURN_CHECK_S
    # A retry under way (its lock held) ends soon, whatever the watchdog entry says.
    assert turn_wait(pending(running=True, retry_at=retry_at), (), None, NOW) == TURN_CHECK_S


@pytest.mark.parametrize(
    "earlier",
    [
        None,  # the first of its thread
        Earlier("e1/ops/slack", AlertStatus.DELIVERED),  # also skipped, carried and printed ones
        Earlier("e1/ops/slack", AlertStatus.FAILED),  # for good: its fallback goes elsewhere
        Earlier("e1/ops/slack", None),  # its record expired
        pending(hold_until=NOW + timedelta(hours=7)),  # held for quiet hours
    ],
)
def test_a_reply_does_not_wait_for_an_earlier_one_that_is_done_held_or_gone(
    earlier: Earlier | None,
) -> None:
    assert turn_wait(earlier, (), None, NOW) is None


def test_a_reply_waits_for_an_earlier_one_whose_quiet_hours_are_over() -> None:
    assert turn_wait(pending(hold_until=NOW - timedelta(seconds=1)), (), None, NOW) == TURN_CHECK_S


def test_an_escalation_does_not_wait_for_the_held_alert_it_carries() -> None:
    assert turn_wait(pending(), ("e1/ops/slack",), None, NOW) is None


def test_a_reply_waits_at_most_the_longest_wait_from_its_first_wait() -> None:
    far = pending(retry_at=NOW + timedelta(minutes=14, seconds=59))
    since = NOW - TURN_WAIT_MAX + timedelta(seconds=30)
    assert turn_wait(far, (), since, NOW) == 30.0  # never past the end of the wait
    assert turn_wait(pending(), (), NOW - TURN_WAIT_MAX, NOW) is None
    assert turn_wait(pending(), (), NOW - TURN_WAIT_MAX - timedelta(hours=1), NOW) is None


def test_waiting_for_an_earlier_reply_is_not_an_attempt() -> None:
    wait = OutOfTurn("waiting for e1/ops/slack, earlier in its thread", retry_after=7.0)
    assert next_try(wait, 3, NOW) == (3, NOW + timedelta(seconds=7))
    assert isinstance(wait, NotYet) and not wait.permanent
    again = pickle.loads(pickle.dumps(wait))  # as Celery would carry it
    assert isinstance(again, OutOfTurn) and again.retry_after == 7.0
