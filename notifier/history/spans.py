"""Incidents read back from the history as spans of time, each with its impact over time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select, tuple_

from notifier.history import tables as t
from notifier.history.db import utc

IMPACTS = ("critical", "major", "minor", "none")


@dataclass
class Span:
    provider: str
    incident_id: str
    title: str
    url: str | None
    start: datetime
    end: datetime | None  # None: still open
    impact: str  # the latest
    components: tuple[str, ...] = ()
    impacts: list[tuple[datetime, str]] = field(default_factory=list)  # oldest first

    def until(self, now: datetime) -> datetime:
        return self.end if self.end is not None else max(now, self.start)

    def minutes(self, now: datetime) -> float:
        return (self.until(now) - self.start).total_seconds() / 60

    def minutes_by_impact(self, now: datetime) -> dict[str, float]:
        """Minutes at each impact: each recorded impact from its time to the next."""
        changes = [(at, imp) for at, imp in self.impacts if at < self.until(now)]
        if not changes or changes[0][0] > self.start:
            first = changes[0][1] if changes else self.impact
            changes.insert(0, (self.start, first))
        out: dict[str, float] = defaultdict(float)
        for (at, imp), nxt in zip(changes, [*changes[1:], (self.until(now), "")], strict=True):
            begin = max(at, self.start)
            out[imp] += max(0.0, (nxt[0] - begin).total_seconds() / 60)
        return dict(out)

    def open_at(self, when: datetime) -> bool:
        return self.start <= when and (self.end is None or when < self.end)


def load_spans(
    conn: Connection, start: datetime, end: datetime,
    providers: Collection[str] | None = None, *, began_within: bool = True,
) -> list[Span]:  # fmt: skip
    """Incidents (not maintenance) that began in [start, end) or, with
    `began_within=False`, that were open at any time in it."""
    c = t.incidents.c
    where = [c.kind == "incident", c.started_at.is_not(None)]
    if began_within:
        where += [c.started_at >= start, c.started_at < end]
    else:
        where += [c.started_at < end, or_(c.resolved_at.is_(None), c.resolved_at >= start)]
    if providers is not None:
        where.append(c.provider.in_(sorted(providers)))
    rows = conn.execute(select(t.incidents).where(and_(*where)).order_by(c.started_at)).all()
    spans = [
        Span(r.provider, r.incident_id, r.title, r.url, utc(r.started_at) or start,
             utc(r.resolved_at), r.impact, tuple(r.components or ()))
        for r in rows
    ]  # fmt: skip
    _with_impacts(conn, spans)
    return spans


def _with_impacts(conn: Connection, spans: list[Span]) -> None:
    by_key = {(s.provider, s.incident_id): s for s in spans}
    keys = list(by_key)
    ic = t.incident_impacts.c
    for n in range(0, len(keys), 500):
        q = (
            select(ic.provider, ic.incident_id, ic.at, ic.impact)
            .where(tuple_(ic.provider, ic.incident_id).in_(keys[n : n + 500]))
            .order_by(ic.at)
        )
        for p, i, at, imp in conn.execute(q):
            when = utc(at)
            if when is not None:
                by_key[(p, i)].impacts.append((when, imp))
