"""Each vendor's record for a period, per provider and per component.

- incidents: those that began in the period (maintenance is not an incident);
- minutes at each impact: each incident's whole duration, split where its impact
  changed (an open incident counts up to now);
- time to resolve: median and p90 (nearest rank) of the resolved ones, in minutes;
- the longest incident;
- upstream share: of the incidents, how many began while a provider it depends on
  (the dependency graph, transitively) had an incident open;
- the delivery record per incident: who was told, on which channel, when, the
  acknowledgement, and the time from the provider's first update to the page.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, tuple_

from notifier.history import tables as t
from notifier.history.db import utc
from notifier.history.period import Period
from notifier.history.spans import IMPACTS, Span, load_spans
from notifier.store.delivery.status import AlertStatus

ALL = ""  # the component of a provider's all-components row


@dataclass
class Stats:
    provider: str
    component: str  # ALL: every component
    incidents: int
    minutes: dict[str, float]  # impact -> minutes
    resolve_median: float | None  # minutes
    resolve_p90: float | None
    longest: str  # incident id
    longest_title: str
    longest_minutes: float
    upstream_open: int  # began while an upstream had one open
    upstream_share: float | None


@dataclass
class Told:
    subscriber: str
    channel: str
    kind: str
    outcome: str
    at: datetime | None
    acked_by: str | None = None
    acked_at: datetime | None = None
    paged: bool = False
    after_first_update: float | None = None  # minutes from the provider's first update


@dataclass
class Record:
    provider: str
    incident_id: str
    title: str
    start: datetime
    end: datetime | None
    minutes: float
    first_update: datetime | None
    upstreams_open: list[str] = field(default_factory=list)  # "azure/abc123"
    told: list[Told] = field(default_factory=list)


@dataclass
class Report:
    period: Period
    now: datetime
    stats: list[Stats]
    records: list[Record]


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def build(
    engine: Engine, period: Period, now: datetime, upstreams: Mapping[str, Collection[str]],
    providers: Collection[str] | None = None,
) -> Report:  # fmt: skip
    """The report of `period`; `upstreams` maps a provider to those it depends on."""
    with engine.connect() as conn:
        spans = load_spans(conn, period.start, period.end, providers)
        ups = {u for s in spans for u in upstreams.get(s.provider, ())}
        above = load_spans(conn, period.start, period.end, ups, began_within=False) if ups else []
        records = [_record(s, now, upstreams, above) for s in spans]
        _with_deliveries(conn, records)
    by_provider: dict[str, list[tuple[Span, Record]]] = defaultdict(list)
    for span, rec in zip(spans, records, strict=True):
        by_provider[span.provider].append((span, rec))
    stats: list[Stats] = []
    for provider in sorted(by_provider):
        pairs = by_provider[provider]
        stats.append(_stats(provider, ALL, pairs, now))
        for comp in sorted({c for s, _ in pairs for c in s.components}):
            stats.append(_stats(provider, comp, [p for p in pairs if comp in p[0].components], now))
    return Report(period, now, stats, records)


def _record(
    s: Span, now: datetime, upstreams: Mapping[str, Collection[str]], above: list[Span]
) -> Record:
    mine = set(upstreams.get(s.provider, ()))
    open_ = [f"{u.provider}/{u.incident_id}" for u in above
             if u.provider in mine and u.open_at(s.start)]  # fmt: skip
    return Record(s.provider, s.incident_id, s.title, s.start, s.end, s.minutes(now), None, open_)


def _stats(provider: str, comp: str, pairs: list[tuple[Span, Record]], now: datetime) -> Stats:
    minutes: dict[str, float] = dict.fromkeys(IMPACTS, 0.0)
    for span, _ in pairs:
        for imp, m in span.minutes_by_impact(now).items():
            minutes[imp] = minutes.get(imp, 0.0) + m
    resolved = [s.minutes(now) for s, _ in pairs if s.end is not None]
    longest = max(pairs, key=lambda p: p[0].minutes(now))[0]
    upstream = sum(1 for _, r in pairs if r.upstreams_open)
    return Stats(
        provider, comp, len(pairs), {k: round(v, 1) for k, v in minutes.items()},
        round(statistics.median(resolved), 1) if resolved else None,
        round(v, 1) if (v := p90(resolved)) is not None else None,
        longest.incident_id, longest.title, round(longest.minutes(now), 1),
        upstream, round(upstream / len(pairs), 3) if pairs else None,
    )  # fmt: skip


def _with_deliveries(conn: Connection, records: list[Record]) -> None:
    """Fill each record's first update time and the alerts it made, with their pages."""
    by_key = {(r.provider, r.incident_id): r for r in records}
    keys = list(by_key)
    u, a, pg = t.updates.c, t.alerts.c, t.pages.c
    for n in range(0, len(keys), 500):
        chunk = keys[n : n + 500]
        q = (
            select(u.provider, u.incident_id, func.min(u.at))
            .where(tuple_(u.provider, u.incident_id).in_(chunk))
            .group_by(u.provider, u.incident_id)
        )
        for p, i, first in conn.execute(q):
            by_key[(p, i)].first_update = utc(first)
        q2 = (
            select(a.provider, a.incident_id, a.subscriber, a.channel, a.kind, a.outcome,
                   a.claimed_at, a.finished_at, pg.acked_by, pg.acked_at, pg.first_paged_at)
            .select_from(t.alerts.outerjoin(t.pages, pg.dedup_key == a.dedup_key))
            .where(tuple_(a.provider, a.incident_id).in_(chunk))
            .order_by(a.claimed_at)
        )  # fmt: skip
        for row in conn.execute(q2):
            rec = by_key[(row.provider, row.incident_id)]
            when = utc(row.first_paged_at) or utc(row.finished_at) or utc(row.claimed_at)
            lag = None
            if when is not None and rec.first_update is not None:
                lag = round((when - rec.first_update).total_seconds() / 60, 1)
            rec.told.append(Told(
                row.subscriber, row.channel, row.kind, row.outcome or AlertStatus.PENDING, when,
                row.acked_by, utc(row.acked_at), row.first_paged_at is not None, lag,
            ))  # fmt: skip
