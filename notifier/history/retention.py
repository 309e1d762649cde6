"""The retention sweep: rows older than the retention setting (default two years) go.

Each table by its own time: an incident once it ended (or, never closed, was last
updated) before the cutoff; its updates, impacts and events by theirs; alerts,
delivery attempts, pages and silences by when they happened.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, delete, func, or_

from notifier.history import tables as t


def sweep(engine: Engine, cutoff: datetime) -> int:
    """Delete what ended before `cutoff`; how many rows went."""
    inc = t.incidents.c
    ended = func.coalesce(inc.resolved_at, inc.updated_at, inc.started_at)
    d = t.deliveries.c
    unended = and_(d.ended_at.is_(None), d.started_at < cutoff)
    statements = [
        delete(t.incidents).where(and_(ended.is_not(None), ended < cutoff)),
        delete(t.updates).where(t.updates.c.at < cutoff),
        delete(t.incident_impacts).where(t.incident_impacts.c.at < cutoff),
        delete(t.change_events).where(t.change_events.c.detected_at < cutoff),
        delete(t.alerts).where(t.alerts.c.claimed_at < cutoff),
        delete(t.deliveries).where(or_(d.ended_at < cutoff, unended)),
        delete(t.pages).where(t.pages.c.last_paged_at < cutoff),
        delete(t.page_escalations).where(t.page_escalations.c.at < cutoff),
        delete(t.silences).where(t.silences.c.ends_at < cutoff),
        delete(t.silence_mutes).where(t.silence_mutes.c.at < cutoff),
    ]
    gone = 0
    with engine.begin() as conn:
        for stmt in statements:
            gone += conn.execute(stmt).rowcount or 0
    return gone
