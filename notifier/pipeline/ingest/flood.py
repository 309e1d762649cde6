"""A feed flood: one document that brings more new incidents than any real outage.

A broken or hostile feed (a 4.7 MB statuspage-json with 15,000 incidents, a page
that reset its ids) would otherwise become tens of thousands of alerts in one poll.
When one document adds more than `max_new_incidents_per_poll` new incidents, their
events are replaced by ONE `feed_flood` event naming the count and the provider. The
diff state still records every one of them (the poll commits it as usual), so none is
alerted later either: the next poll sees them as known.

The flood event's id is keyed by the document's hash, so re-deciding the same
document (a retried task, a crash before commit) gives the same id and downstream
dedup drops the copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from notifier.diff.events import event_id
from notifier.feeds.common import update_key
from notifier.models import (
    ChangeEvent,
    EventKind,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)
from notifier.text import one_line

FLOOD_INCIDENT_ID = "feed-flood"
DEFAULT_LIMIT = 50
_NEW = frozenset({EventKind.NEW_INCIDENT, EventKind.MAINTENANCE_SCHEDULED})
_SHOWN = 3  # titles quoted in the flood alert


def contain(
    events: Sequence[ChangeEvent], provider: str, name: str, limit: int, now: datetime,
    document: str,
) -> list[ChangeEvent]:  # fmt: skip
    """`events`, or, when more than `limit` incidents are new in them, the events of
    the incidents that were known already plus one flood event in place of the rest.
    `document` identifies the document (its hash) for a stable event id."""
    new = list(dict.fromkeys(e.incident_id for e in events if e.kind in _NEW))
    if len(new) <= max(limit, 1):
        return list(events)
    flooded = set(new)
    kept = [e for e in events if e.incident_id not in flooded]
    titles = [e.incident.title for e in events if e.kind in _NEW][:_SHOWN]
    return [*kept, flood_event(provider, name or provider, len(new), limit, titles, now, document)]


def flood_event(
    provider: str, name: str, count: int, limit: int, titles: Sequence[str], now: datetime,
    document: str,
) -> ChangeEvent:  # fmt: skip
    shown = "; ".join(one_line(t)[:120] for t in titles if one_line(t))
    body = (
        f"One document from {name}'s status feed added {count} new incidents at once, "
        f"more than max_new_incidents_per_poll ({limit}). They are recorded, not alerted "
        f"one by one: check the status page itself." + (f" The first: {shown}." if shown else "")
    )
    incident = Incident(
        provider=provider,
        id=FLOOD_INCIDENT_ID,
        title=f"Feed flood: {name} published {count} new incidents in one document",
        url=None,
        status=Status.INVESTIGATING,
        impact=Impact.MINOR,
        kind=IncidentKind.INCIDENT,
        started_at=now,
        updated_at=now,
        resolved_at=None,
        updates=(Update(at=now, status=Status.INVESTIGATING, body=body, key=update_key(now, 1)),),
    )
    return ChangeEvent(
        event_id=event_id(provider, FLOOD_INCIDENT_ID, EventKind.FEED_FLOOD, f"doc:{document}"),
        kind=EventKind.FEED_FLOOD,
        provider=provider,
        incident_id=FLOOD_INCIDENT_ID,
        detected_at=now,
        incident=incident,
        update=incident.updates[-1],
    )


__all__ = ["DEFAULT_LIMIT", "FLOOD_INCIDENT_ID", "contain", "flood_event"]
