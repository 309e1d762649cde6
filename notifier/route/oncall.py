"""On-call rotations and the escalation clock. Pure: `now` is always passed in.

A rotation is the subscription file's `notifier.config.schema.oncall.Rotation`; this
module is the policy that reads it, as functions, so there is one `Rotation`
and one clock (the one paging uses).

A rotation hands off weekly at a local weekday and time in its own time zone, so
"Monday 09:00 Europe/Berlin" stays 09:00 local across DST changes. Weeks are
counted by local calendar date from an anchor week (the rotation's `start`,
default the week of 1970-01-05, a Monday: member 0 held it), which makes the
count independent of UTC offsets.

A page starts with whoever is on call and, unacknowledged after
`escalate_after`, goes to the next member in rotation order, and so on until
everyone has been paged once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from notifier.config.schema.fields import parse_weekday
from notifier.config.schema.oncall import Member, Rotation

DEFAULT_ESCALATE_AFTER = timedelta(minutes=10)
EPOCH_WEEK = date(1970, 1, 5)  # a Monday


def last_handoff(rotation: Rotation, now: datetime) -> datetime:
    """The most recent handoff at or before `now`, as an aware local datetime."""
    handoff = rotation.handoff
    tz = ZoneInfo(handoff.timezone)
    local = now.astimezone(tz)
    days_back = (local.weekday() - parse_weekday(handoff.weekday)) % 7
    day = local.date() - timedelta(days=days_back)
    turn = datetime.combine(day, handoff.time, tzinfo=tz)
    if turn > local:
        turn = datetime.combine(day - timedelta(days=7), handoff.time, tzinfo=tz)
    return turn


def on_call_index(rotation: Rotation, now: datetime) -> int:
    """Index in `rotation.members` of whoever is on call at `now`."""
    handoff_day = last_handoff(rotation, now).date()
    weekday = parse_weekday(rotation.handoff.weekday)
    start = rotation.start or EPOCH_WEEK
    # `start` may be any day of member 0's week: count from that week's handoff day.
    anchor = start - timedelta(days=(start.weekday() - weekday) % 7)
    weeks = (handoff_day - anchor).days // 7
    return weeks % len(rotation.members)


def on_call(rotation: Rotation, now: datetime) -> Member:
    """The member on call at `now` (weekly turns at the handoff, local time)."""
    return rotation.members[on_call_index(rotation, now)]


def escalation_order(rotation: Rotation, now: datetime) -> tuple[Member, ...]:
    """Everyone once, starting with whoever is on call at `now`."""
    start = on_call_index(rotation, now)
    return tuple(rotation.members[start:] + rotation.members[:start])


def escalate_after(rotation: Rotation) -> timedelta:
    """How long a page waits for an ack before the next member is paged."""
    minutes = rotation.escalate_after_minutes
    return timedelta(minutes=minutes) if minutes else DEFAULT_ESCALATE_AFTER


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
