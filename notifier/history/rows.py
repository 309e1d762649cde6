"""Table rows made of the model: an incident, its updates, its impact at a time.

Shared by the outbox drain (live events) and the importer (a provider's own history),
so an incident reads the same whichever way it came in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifier.models import Incident

Row = dict[str, Any]
LIVE = "live"
IMPORTED = "import"


def incident_row(inc: Incident, source: str) -> Row:
    return {
        "provider": inc.provider, "incident_id": inc.id, "title": inc.title[:2000],
        "url": inc.url, "kind": inc.kind.value, "status": inc.status.value,
        "impact": inc.impact.value, "started_at": start_of(inc),
        "resolved_at": end_of(inc), "updated_at": inc.updated_at,
        "components": list(inc.components), "regions": list(inc.regions), "source": source,
    }  # fmt: skip


def update_rows(inc: Incident) -> list[Row]:
    return [
        {"provider": inc.provider, "incident_id": inc.id, "key": u.key or u.at.isoformat(),
         "at": u.at, "status": u.status.value, "body": u.body}
        for u in inc.updates
    ]  # fmt: skip


def impact_row(inc: Incident, at: datetime) -> Row:
    return {"provider": inc.provider, "incident_id": inc.id, "at": at, "impact": inc.impact.value}


def start_of(inc: Incident) -> datetime | None:
    """When it began: the provider's start, else its first update."""
    if inc.started_at is not None:
        return inc.started_at
    return min((u.at for u in inc.updates), default=None)


def end_of(inc: Incident) -> datetime | None:
    """When it ended (None while open): the provider's time, else its last update's."""
    if not inc.status.is_closed:
        return None
    if inc.resolved_at is not None:
        return inc.resolved_at
    return max((u.at for u in inc.updates), default=inc.updated_at)
