"""The change events of one incident: how each is built and identified.

`event_id` is a short hash (32 hex chars of SHA-256) over provider, incident id,
event kind, the causing update's key (or a stand-in when no update caused it)
and, for status/impact/components events, the target value. The same change,
re-diffed or replayed, always gets the same id. The rules these follow are the
diff's (`notifier.diff.engine`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from notifier.diff.facts import PollFacts, no_words_note
from notifier.models import ChangeEvent, EventKind, Incident, IncidentKind, Status, Update, iso

# Status events that carry the update which caused them instead of a `new_update` of
# it: a resolution or a reopen is one message, not two.
_CARRIERS = frozenset({EventKind.RESOLVED, EventKind.REOPENED})


def event_id(provider: str, incident_id: str, kind: EventKind, cause: str, target: str = "") -> str:
    """Stable id of one change (see the module docstring)."""
    raw = "\x1f".join((provider, incident_id, kind.value, cause, target))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def cause_of(inc: Incident, update: Update | None) -> str:
    """The identity of what caused a change: an update key, else the incident's stamp."""
    if update is not None:
        return update.key
    return f"at:{iso(inc.updated_at) or ''}"


def new_incident_events(inc: Incident, status: Status, now: datetime) -> list[ChangeEvent]:
    """A first-seen incident: `new_incident`, its updates, its lifecycle event if any."""
    events = [make_event(EventKind.NEW_INCIDENT, inc, now, "")]
    kind = _opening_kind(inc.kind, status)
    carried = _carried(kind, status, list(inc.updates)) if kind is not None else None
    lifecycle = None
    if kind is not None:
        cause = carried or (inc.updates[-1] if inc.updates else None)
        lifecycle = make_event(kind, inc, now, cause_of(inc, cause), update=cause, current=status)
    for u in inc.updates:
        if u is carried and lifecycle is not None:
            events.append(lifecycle)  # in its update's place, carrying it
        else:
            events.append(make_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u))
    if lifecycle is not None and carried is None:
        events.append(lifecycle)
    return [replace(e, first_seen=True) for e in events]


def change_events(
    prior: Incident,
    inc: Incident,
    status: Status,
    unseen: list[Update],
    now: datetime,
    facts: PollFacts,
    *,
    note: str | None = None,
    token: str | None = None,
) -> list[ChangeEvent]:
    """new_updates (oldest first), at most one status event, impact, components.

    A resolution or a reopen carries the update that caused it, in that update's
    place, instead of a separate new_update of it: one message, not two. A status
    event no update caused says `note` and is identified by `token` when given."""
    last = unseen[-1] if unseen else None
    kind = _status_kind(prior.status, status, inc.kind)
    carried = _carried(kind, status, unseen) if kind is not None else None
    status_event = None
    if kind is not None:
        # A resolution or reopen no update of its own caused carries none (an older
        # update is never shown as if it were the resolution).
        cause = carried if kind in _CARRIERS else last
        if kind is EventKind.RESOLVED and cause is None and note is None:
            note = no_words_note(facts, inc, now)
        status_event = make_event(
            kind, inc, now, token or cause_of(inc, cause or last), update=cause,
            previous=prior.status, current=status, note=note if cause is None else None,
        )  # fmt: skip
    events: list[ChangeEvent] = []
    for u in unseen:
        if u is carried and status_event is not None:
            events.append(status_event)
        else:
            events.append(make_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u))
    if status_event is not None and carried is None:
        events.append(status_event)
    token = cause_of(inc, last)
    if prior.impact != inc.impact:
        events.append(
            make_event(EventKind.IMPACT_CHANGED, inc, now, token, update=last,
                   previous=prior.impact.value, current=inc.impact.value)
        )  # fmt: skip
    before, after = ", ".join(sorted(prior.components)), ", ".join(sorted(inc.components))
    if before != after:
        events.append(
            make_event(EventKind.COMPONENTS_CHANGED, inc, now, token, update=last,
                   previous=before, current=after)
        )  # fmt: skip
    return events


def _carried(kind: EventKind, status: Status, updates: list[Update]) -> Update | None:
    """The update a resolution or reopen carries: the newest one that closed (or, for
    a reopen, opened) the incident; None for other kinds or when no update did."""
    if kind not in _CARRIERS:
        return None
    closing = status.is_closed
    for u in reversed(updates):
        if u.status is not Status.UPDATE and u.status.is_closed == closing:
            return u
    return None


def make_event(
    kind: EventKind,
    inc: Incident,
    now: datetime,
    cause: str,
    *,
    update: Update | None = None,
    previous: str | None = None,
    current: str | None = None,
    note: str | None = None,
) -> ChangeEvent:
    previous = previous.value if isinstance(previous, StrEnum) else previous
    current = current.value if isinstance(current, StrEnum) else current
    return ChangeEvent(
        event_id=event_id(inc.provider, inc.id, kind, cause, current or ""),
        kind=kind,
        provider=inc.provider,
        incident_id=inc.id,
        detected_at=now,
        incident=inc,
        update=update,
        previous=previous,
        current=current,
        note=note,
    )


def _status_kind(old: Status, new: Status, kind: IncidentKind) -> EventKind | None:
    if old == new:
        return None
    opened, closed = old.is_closed and not new.is_closed, new.is_closed and not old.is_closed
    if kind is IncidentKind.MAINTENANCE:
        if new is Status.SCHEDULED:
            return EventKind.MAINTENANCE_SCHEDULED
        if new is Status.IN_PROGRESS:
            return EventKind.MAINTENANCE_STARTED
        return EventKind.MAINTENANCE_COMPLETED if closed else EventKind.STATUS_CHANGED
    if closed:
        return EventKind.RESOLVED
    return EventKind.REOPENED if opened else EventKind.STATUS_CHANGED


def _opening_kind(kind: IncidentKind, status: Status) -> EventKind | None:
    """The lifecycle event a first-seen incident announces besides `new_incident`."""
    if kind is IncidentKind.MAINTENANCE:
        if status.is_closed:
            return EventKind.MAINTENANCE_COMPLETED
        if status in (Status.IN_PROGRESS, Status.VERIFYING):
            return EventKind.MAINTENANCE_STARTED
        return EventKind.MAINTENANCE_SCHEDULED
    return EventKind.RESOLVED if status.is_closed else None


__all__ = ["cause_of", "change_events", "event_id", "make_event", "new_incident_events"]
