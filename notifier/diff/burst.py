"""One poll, one message per incident: a burst of updates travels on one event.

The diff finds, per incident, a `new_incident`, one `new_update` per unseen update
and at most one status event (see `notifier.diff.engine`). When one poll sees several
of them (a slow poll, a feed that was unreachable for a while, a maintenance first
seen already done), `coalesce` makes them one event:

- its kind is the most telling one: `new_incident` (for maintenance, the lifecycle
  event: `maintenance_started` and friends, which the maintenance policy routes),
  else the lifecycle event (`resolved`, `reopened`, `maintenance_*`), else
  `new_update` (a `status_changed` an update caused folds into it, keeping its
  `previous` and `current`);
- it carries the newest update as `update`, and the ones before it, oldest first,
  as `earlier`; a status event's `previous`, `current` and `note` are kept;
- its `event_id` is the chosen event's own, so a re-diff still finds the same id;
- `first_seen` says it is also the incident's first sight (channels then say
  "began 16:24, completed 19:56 UTC, seen at 04:47" for one already over).

`impact_changed` and `components_changed` stay events of their own (an impact that
rises to critical pages), but when a message event of the same poll carries the
update that caused them, they no longer name it: each (incident, update) pair is in
at most one event that makes an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import groupby

from notifier.models import ChangeEvent, EventKind, IncidentKind, Update

MESSAGE_KINDS = frozenset(
    {
        EventKind.NEW_INCIDENT,
        EventKind.NEW_UPDATE,
        EventKind.STATUS_CHANGED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.MAINTENANCE_SCHEDULED,
        EventKind.MAINTENANCE_STARTED,
        EventKind.MAINTENANCE_COMPLETED,
    }
)
_STATUS_KINDS = MESSAGE_KINDS - {EventKind.NEW_INCIDENT, EventKind.NEW_UPDATE}
# Status events that lead a burst; a `status_changed` an update caused is said by that
# update (routes drop it where `new_update` goes), so it folds into the `new_update`.
_LEADING = _STATUS_KINDS - {EventKind.STATUS_CHANGED}


def coalesce_all(events: Sequence[ChangeEvent]) -> tuple[ChangeEvent, ...]:
    """One poll's events (each incident's together, as the diff orders them), with
    each incident's message events made one."""
    out: list[ChangeEvent] = []
    for _, group in groupby(events, key=_incident):
        out += coalesce(list(group))
    return tuple(out)


def _incident(event: ChangeEvent) -> tuple[str, str]:
    return event.provider, event.incident_id


def coalesce(events: Sequence[ChangeEvent]) -> list[ChangeEvent]:
    """One incident's events of one poll, with its message events made one (above)."""
    messages = [e for e in events if e.kind in MESSAGE_KINDS]
    rest = [e for e in events if e.kind not in MESSAGE_KINDS]
    if not messages:
        return list(events)
    merged = messages[0] if len(messages) == 1 else _merge(messages)
    carried = {u.key for u in (*merged.earlier, merged.update) if u is not None}
    rest = [replace(e, update=None) if _names(e, carried) else e for e in rest]
    return [merged, *rest]


def _merge(messages: list[ChangeEvent]) -> ChangeEvent:
    opening = next((e for e in messages if e.kind is EventKind.NEW_INCIDENT), None)
    status = next((e for e in messages if e.kind in _STATUS_KINDS), None)
    leading = status if status is not None and status.kind in _LEADING else None
    if opening is not None and not (
        leading is not None and opening.incident.kind is IncidentKind.MAINTENANCE
    ):
        primary = opening
    elif leading is not None:
        primary = leading
    else:
        primary = next(
            (e for e in reversed(messages) if e.kind is EventKind.NEW_UPDATE), messages[-1]
        )
    updates = _updates(messages)
    merged = replace(
        primary,
        update=updates[-1] if updates else primary.update,
        earlier=tuple(updates[:-1]),
        incident=messages[-1].incident,
        first_seen=any(e.first_seen for e in messages),
    )
    if status is not None and status is not primary:
        merged = replace(merged, previous=status.previous, current=status.current)
    return merged


def _updates(messages: list[ChangeEvent]) -> list[Update]:
    out: dict[str, Update] = {}
    for e in messages:
        for u in (*e.earlier, e.update):
            if u is not None:
                out.setdefault(u.key, u)
    return sorted(out.values(), key=lambda u: u.at)


def _names(event: ChangeEvent, keys: set[str]) -> bool:
    return event.update is not None and event.update.key in keys


__all__ = ["MESSAGE_KINDS", "coalesce", "coalesce_all"]
