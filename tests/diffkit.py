"""Builders for made-here incidents and documents used by the diff, state and poller tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from notifier.feeds.common import assign_update_keys
from notifier.models import (
    ChangeEvent,
    DocumentKind,
    FeedDocument,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)

T0 = datetime(2025, 4, 16, 12, 0, tzinfo=UTC)
PROVIDER = "acme"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def inc(
    iid: str,
    *updates: tuple[float, Status] | tuple[float, Status, str],
    status: Status | None = None,
    impact: Impact = Impact.MINOR,
    kind: IncidentKind = IncidentKind.INCIDENT,
    components: Sequence[str] = (),
    updated_at: datetime | None = None,
    title: str | None = None,
) -> Incident:
    """An incident whose updates are (minute offset, status[, body]), in posting order."""
    ups = assign_update_keys(
        Update(at=at(u[0]), status=u[1], body=u[2] if len(u) > 2 else f"{iid} {u[0]}")
        for u in updates
    )
    last = ups[-1] if ups else None
    final = status or (last.status if last else Status.INVESTIGATING)
    return Incident(
        provider=PROVIDER,
        id=iid,
        title=title or f"Incident {iid}",
        url=None,
        status=final,
        impact=impact,
        kind=kind,
        started_at=ups[0].at if ups else None,
        updated_at=updated_at or (last.at if last else None),
        resolved_at=last.at if last and final.is_closed else None,
        components=tuple(components),
        updates=ups,
    )


def doc(*incidents: Incident, kind: DocumentKind = DocumentKind.HISTORY) -> FeedDocument:
    return FeedDocument(format="test", kind=kind, incidents=tuple(incidents))


def kinds(events: Sequence[ChangeEvent]) -> list[tuple[str, str]]:
    return [(e.kind.value, e.incident_id) for e in events]


def summary_json(incidents: Sequence[Incident]) -> bytes:
    """A Statuspage /api/v2/summary.json body (made here) listing these open incidents."""

    def one(i: Incident) -> dict[str, object]:
        return {
            "id": i.id,
            "name": i.title,
            "status": i.status.value,
            "impact": i.impact.value,
            "shortlink": f"https://stspg.io/{i.id}",
            "created_at": (i.started_at or T0).isoformat(),
            "updated_at": (i.updated_at or T0).isoformat(),
            "started_at": (i.started_at or T0).isoformat(),
            "resolved_at": None,
            "incident_updates": [
                {
                    "id": f"{i.id}-{n}",
                    "status": u.status.value,
                    "body": u.body,
                    "created_at": u.at.isoformat(),
                    "display_at": u.at.isoformat(),
                    "updated_at": u.at.isoformat(),
                    "affected_components": None,
                }
                for n, u in reversed(list(enumerate(i.updates)))
            ],
            "components": [],
        }

    body = {
        "page": {"id": "acme", "name": "Acme", "url": "https://status.acme.test"},
        "status": {"indicator": "minor", "description": "Partially degraded"},
        "components": [],
        "incidents": [one(i) for i in incidents],
        "scheduled_maintenances": [],
    }
    return json.dumps(body).encode()
