"""Rotations and the escalation clock, with time injected (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifier.config.schema.fields import parse_time, parse_weekday
from notifier.config.schema.oncall import Member, Rotation
from notifier.route.oncall import (
    PageState,
    escalate_after,
    escalation_order,
    last_handoff,
    next_escalation,
    on_call,
)

ANA, BO, CY = (
    Member(name="ana", phone="+15550000001"),
    Member(name="bo", phone="+15550000002"),
    Member(name="cy", phone="+15550000003"),
)
BERLIN = ZoneInfo("Europe/Berlin")

ROTA = Rotation.model_validate(
    {
        "members": [ANA, BO, CY],
        "handoff": {"weekday": "monday", "time": "09:00", "timezone": "Europe/Berlin"},
        "start": date(2024, 1, 1),  # a Monday: ana's week
    }
)


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "who"),
    [
        # the anchor week, after the handoff
        (berlin(2024, 1, 1, 9, 0), ANA),
        # one minute before the first handoff belongs to the previous week (cy)
        (berlin(2024, 1, 1, 8, 59), CY),
        # the next Monday at 09:00 local: bo
        (berlin(2024, 1, 8, 9, 0), BO),
        # Sunday night of bo's week
        (berlin(2024, 1, 14, 23, 59), BO),
        # DST starts Sunday 2024-03-31: Monday 09:00 CEST is 07:00 UTC, not 08:00
        (datetime(2024, 4, 1, 7, 0, tzinfo=UTC), ROTA.members[13 % 3]),
        (datetime(2024, 4, 1, 6, 59, tzinfo=UTC), ROTA.members[12 % 3]),
        # DST ends Sunday 2024-10-27: Monday 09:00 CET is 08:00 UTC again
        (datetime(2024, 10, 28, 8, 0, tzinfo=UTC), ROTA.members[43 % 3]),
        (datetime(2024, 10, 28, 7, 59, tzinfo=UTC), ROTA.members[42 % 3]),
    ],
)
def test_who_is_on_call_follows_local_handoffs_across_dst(now: datetime, who: Member) -> None:
    assert on_call(ROTA, now) == who


def test_the_handoff_is_the_same_local_time_both_sides_of_dst() -> None:
    before = last_handoff(ROTA, datetime(2024, 3, 27, 12, tzinfo=UTC))
    after = last_handoff(ROTA, datetime(2024, 4, 3, 12, tzinfo=UTC))
    assert (before.hour, after.hour) == (9, 9)
    elapsed = after.astimezone(UTC) - before.astimezone(UTC)
    assert elapsed == timedelta(days=7) - timedelta(hours=1)  # the hour DST took


def test_the_escalation_order_starts_with_whoever_is_on_call() -> None:
    assert escalation_order(ROTA, berlin(2024, 1, 8, 12, 0)) == (BO, CY, ANA)


def test_a_page_escalates_after_ten_minutes_unless_the_rotation_says_otherwise() -> None:
    assert escalate_after(ROTA) == timedelta(minutes=10)
    quick = ROTA.model_copy(update={"escalate_after_minutes": 3})
    assert escalate_after(quick) == timedelta(minutes=3)


def test_a_rotation_without_a_start_counts_weeks_from_1970_01_05() -> None:
    epoch = ROTA.model_copy(update={"start": None})
    # 2024-01-01 is 2817 weeks after 1970-01-05
    assert on_call(epoch, berlin(2024, 1, 1, 9, 0)) == epoch.members[2817 % 3]


T = datetime(2024, 1, 8, 12, 0, tzinfo=UTC)
PAGE = PageState(order=(BO, CY, ANA), level=0, last_paged_at=T)


@pytest.mark.parametrize(
    ("page", "now", "expected"),
    [
        # nine minutes in: cy is next, not yet due
        (PAGE, T + timedelta(minutes=9), (1, CY, T + timedelta(minutes=10), False)),
        # ten minutes in: due
        (PAGE, T + timedelta(minutes=10), (1, CY, T + timedelta(minutes=10), True)),
        # after cy was paged at +10: ana at +20
        (
            PageState((BO, CY, ANA), 1, T + timedelta(minutes=10)),
            T + timedelta(minutes=25),
            (2, ANA, T + timedelta(minutes=20), True),
        ),
        # a custom delay
        (
            PageState((BO, CY), 0, T, escalate_after=timedelta(minutes=3)),
            T,
            (1, CY, T + timedelta(minutes=3), False),
        ),
    ],
)
def test_the_escalation_clock_names_the_next_member_and_when(
    page: PageState, now: datetime, expected: tuple[object, ...]
) -> None:
    step = next_escalation(page, now)
    assert step is not None
    assert (step.level, step.member, step.due_at, step.due) == expected


@pytest.mark.parametrize(
    "page",
    [
        # acknowledged: escalation stops
        PageState((BO, CY, ANA), 0, T, acked=True),
        # the incident resolved
        PageState((BO, CY, ANA), 0, T, resolved=True),
        # the last member was paged: nobody left
        PageState((BO, CY, ANA), 2, T),
        # a one-person rotation
        PageState((BO,), 0, T),
    ],
)
def test_there_is_no_escalation_when_it_is_over(page: PageState) -> None:
    assert next_escalation(page, T + timedelta(hours=1)) is None


@pytest.mark.parametrize(("text", "day"), [("monday", 0), ("Tue", 1), ("SUNDAY", 6), (3, 3)])
def test_weekdays_parse(text: str | int, day: int) -> None:
    assert parse_weekday(text) == day


def test_bad_weekdays_and_times_are_errors() -> None:
    with pytest.raises(ValueError):
        parse_weekday("funday")
    with pytest.raises(ValueError):
        parse_weekday(7)
    assert parse_time("07:30") == time(7, 30)
