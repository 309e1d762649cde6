"""On-call rotations and the escalation clock. Pure: `now` is always passed in.

A rotation hands off weekly at a local weekday and time in its own time zone, so
"Monday 09:00 Europe/Berlin" stays 09:00 local across DST changes. Weeks are
counted by local calendar date from an anchor week (default the week of
1970-01-05, a Monday: member 0 held it), which makes the count independent of
UTC offsets.

A page starts with whoever is on call and, unacknowledged after
`escalate_after`, goes to the next member in rotation order, and so on until
everyone has been paged once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_ESCALATE_AFTER = timedelta(minutes=10)
EPOCH_WEEK = date(1970, 1, 5)  # a Monday


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Rotation:
    name: str
    members: tuple[Member, ...]
    handoff_weekday: int = 0  # Monday = 0
    handoff_time: time = time(9, 0)
    timezone: str = "UTC"
    escalate_after: timedelta = DEFAULT_ESCALATE_AFTER
    anchor: date = EPOCH_WEEK  # any date in the week member 0 held

    def last_handoff(self, now: datetime) -> datetime:
        """The most recent handoff at or before `now`, as an aware local datetime."""
        tz = ZoneInfo(self.timezone)
        local = now.astimezone(tz)
        days_back = (local.weekday() - self.handoff_weekday) % 7
        day = local.date() - timedelta(days=days_back)
        handoff = datetime.combine(day, self.handoff_time, tzinfo=tz)
        if handoff > local:
            handoff = datetime.combine(day - timedelta(days=7), self.handoff_time, tzinfo=tz)
        return handoff

    def on_call_index(self, now: datetime) -> int:
        handoff_day = self.last_handoff(now).date()
        anchor = self.anchor - timedelta(days=(self.anchor.weekday() - self.handoff_weekday) % 7)
        weeks = (handoff_day - anchor).days // 7
        return weeks % len(self.members)

    def on_call(self, now: datetime) -> Member:
        return self.members[self.on_call_index(now)]

    def escalation_order(self, now: datetime) -> tuple[Member, ...]:
        """Everyone once, starting with whoever is on call at `now`."""
        start = self.on_call_index(now)
        return self.members[start:] + self.members[:start]


@dataclass(frozen=True, slots=True)
class PageState:
    """What the escalation clock needs to know about one page."""

    order: tuple[Member, ...]  # escalation order fixed when the page started
    level: int  # index in `order` of the last member paged
    last_paged_at: datetime
    escalate_after: timedelta = DEFAULT_ESCALATE_AFTER
    acked: bool = False
    resolved: bool = False
    paged: tuple[str, ...] = field(default=())  # numbers paged so far


@dataclass(frozen=True, slots=True)
class EscalationStep:
    level: int
    member: Member
    due_at: datetime
    due: bool  # due_at has passed at the `now` it was computed for


def next_escalation(page: PageState, now: datetime) -> EscalationStep | None:
    """The next escalation of `page`, due or not; None when there is none left.

    None when the page was acknowledged, its incident resolved, or the last
    member of the order has been paged. Otherwise the step names who is next
    and when; `due` tells whether to page them now or check again at `due_at`.
    """
    if page.acked or page.resolved or page.level + 1 >= len(page.order):
        return None
    level = page.level + 1
    due_at = page.last_paged_at + page.escalate_after
    return EscalationStep(level, page.order[level], due_at, due=now >= due_at)


def parse_weekday(value: str | int) -> int:
    if isinstance(value, int):
        if not 0 <= value <= 6:
            raise ValueError(f"weekday {value} is not 0 (Monday) to 6 (Sunday)")
        return value
    name = value.strip().lower()
    for i, day in enumerate(WEEKDAYS):
        if day.startswith(name[:3]) and len(name) >= 3:
            return i
    raise ValueError(f"unknown weekday {value!r}")


def parse_time(value: str | time) -> time:
    if isinstance(value, time):
        return value
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def rotation_from_config(name: str, spec: Any) -> Rotation:
    """`oncall.rotations.<name>` (config_models.Rotation) as a pure `oncall.Rotation`."""
    minutes = getattr(spec, "escalate_after_minutes", None)
    return Rotation(
        name=name,
        members=tuple(Member(m.name, m.phone) for m in spec.members),
        handoff_weekday=parse_weekday(spec.handoff.weekday),
        handoff_time=spec.handoff.time,
        timezone=spec.handoff.timezone,
        escalate_after=timedelta(minutes=minutes) if minutes else DEFAULT_ESCALATE_AFTER,
        anchor=getattr(spec, "start", None) or EPOCH_WEEK,
    )
