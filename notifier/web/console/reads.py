"""What the console shows, read from Redis in a few round trips: each provider's state
and feed health, the incidents of a time window with their alerts, their links
(from the alerts' upstream annotations) and delivery ticks, and one incident's story.

Read-only. Times are aware UTC; `now` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis

from notifier.config.schema import Config
from notifier.feeds.errors import cause_words
from notifier.feeds.states import FeedState, feed_state
from notifier.models import (
    Alert,
    AnnotationKind,
    ChangeEvent,
    Impact,
    Incident,
    IncidentKind,
    Update,
    parse_iso,
)
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog, DeliveryRecord
from notifier.store.delivery.pages import Page, pages_of
from notifier.store.delivery.status import AlertStatus
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.providers import ProviderStore
from notifier.store.feeds.snapshot import IncidentState, ProviderState, first_time
from notifier.store.ops.metrics import poll_outcomes, poll_stats, raw_values
from notifier.store.ops.quarantine import Quarantined, QuarantineStore
from notifier.web.timeline import Bar, Link, Row, Tick, Window

Ref = tuple[str, str]  # (provider, incident id)

# What a finished delivery log outcome is called on the timeline.
NEAR = timedelta(days=1)
WENT_OUT = {
    AlertStatus.DELIVERED: "sent",
    AlertStatus.PRINTED: "printed",
    AlertStatus.FAILED: "failed",
}


@dataclass(frozen=True, slots=True)
class Related:
    provider: str
    name: str
    incident_id: str
    title: str


@dataclass(frozen=True, slots=True)
class ActiveIncident:
    incident: Incident
    upstream: tuple[Related, ...] = ()  # what likely caused it
    downstream: tuple[Related, ...] = ()  # what it likely caused


@dataclass(frozen=True, slots=True)
class ProviderView:
    id: str
    name: str
    state: str  # impact words, maintenance, operational; or the feed's (feeds.states)
    hash: dict[str, str]
    active: tuple[ActiveIncident, ...] = ()

    def at(self, name: str) -> datetime | None:
        return parse_iso(self.hash.get(name) or None)

    @property
    def cause(self) -> str:
        return cause_words(self.hash.get("cause") or None)


@dataclass(frozen=True, slots=True)
class FeedView:
    id: str
    name: str
    hash: dict[str, str]
    outcomes: dict[str, float]
    polls_timed: float
    poll_seconds: float

    def at(self, name: str) -> datetime | None:
        return parse_iso(self.hash.get(name) or None)

    @property
    def hit_rate(self) -> float | None:
        """Share of successful fetches the server answered 304 Not Modified."""
        fetched = sum(self.outcomes.get(o, 0.0) for o in ("not_modified", "unchanged", "changed"))
        return self.outcomes.get("not_modified", 0.0) / fetched if fetched else None

    @property
    def mean_latency(self) -> float | None:
        return self.poll_seconds / self.polls_timed if self.polls_timed else None

    @property
    def state(self) -> str:
        """The feed's state in the one word every surface uses (`notifier.feeds.states`)."""
        return feed_state(self.hash).value

    @property
    def error(self) -> str:
        """The last failure in plain words, or "" when the feed answers."""
        if not (self.hash.get("failures", "0") not in ("", "0") or self.hash.get("cause")):
            return ""
        words = cause_words(self.hash.get("cause") or None)
        detail = self.hash.get("last_error", "")
        return f"{words} ({detail})" if detail and detail not in words else words


@dataclass
class Delivery:
    alert: Alert
    state: AlertStatus
    record: DeliveryRecord | None
    page: Page | None = None


@dataclass
class IncidentStory:
    incident: Incident
    name: str
    updates: list[Update] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    upstream: list[Related] = field(default_factory=list)
    downstream: list[Related] = field(default_factory=list)


class Reader:
    def __init__(self, client: redis.Redis, prefix: str, config: Config | None) -> None:
        self.client, self.prefix, self.config = client, prefix, config
        self.state = ProviderStore(client, prefix)
        self.events = EventStore(client, prefix)
        self.alerts = AlertStore(client, prefix)
        self.log = DeliveryLog(client, prefix)

    # ---- providers -------------------------------------------------------------

    def provider_ids(self) -> list[str]:
        """The watched providers (the config's order), then any others Redis knows."""
        ids = [p.id for p in self.config.providers] if self.config else []
        found = sorted(
            key.decode().removeprefix(f"{self.prefix}:provider:")
            for key in self.client.scan_iter(match=f"{self.prefix}:provider:*", count=500)
            if not key.endswith(b":lock")
        )
        return list(dict.fromkeys([*ids, *found]))

    def name(self, provider: str) -> str:
        return self.config.provider_name(provider) if self.config else provider

    def overview(self) -> dict[str, tuple[dict[str, str], ProviderState | None]]:
        return self.state.overview(self.provider_ids())

    def providers(self, now: datetime) -> list[ProviderView]:
        overview = self.overview()
        active = {
            pid: [k.snapshot for k in state.incidents.values() if _open(k, now)]
            for pid, (_, state) in overview.items()
            if state is not None
        }
        refs = [(i.provider, i.id) for incs in active.values() for i in incs]
        links = self.links(self.alerts_of(refs))
        by_ref = {(i.provider, i.id): i for incs in active.values() for i in incs}
        out = []
        for pid, (h, _) in overview.items():
            incs = sorted(active.get(pid, []), key=lambda i: (-i.impact.rank, i.id))
            views = tuple(self._active(i, links, by_ref) for i in incs)
            out.append(ProviderView(pid, self.name(pid), provider_state(h, incs), h, views))
        return out

    def _active(
        self, inc: Incident, links: Sequence[Link], known: dict[Ref, Incident]
    ) -> ActiveIncident:
        ref = (inc.provider, inc.id)
        up = tuple(self._related(lk.upstream, known) for lk in links if lk.downstream == ref)
        down = tuple(self._related(lk.downstream, known) for lk in links if lk.upstream == ref)
        return ActiveIncident(inc, up, down)

    def _related(self, ref: Ref, known: dict[Ref, Incident]) -> Related:
        inc = known.get(ref)
        return Related(ref[0], self.name(ref[0]), ref[1], inc.title if inc else "")

    def quarantine(self, now: datetime, limit: int = 20) -> tuple[int, list[Quarantined]]:
        """How many events and alerts are in quarantine, and the newest `limit` of them."""
        store = QuarantineStore(self.client, self.prefix)
        return sum(store.counts(now).values()), store.listed(now, limit)[:limit]

    def feeds(self) -> list[FeedView]:
        values = raw_values(self.client, self.prefix)
        outcomes, timed = poll_outcomes(values), poll_stats(values)
        return [
            FeedView(pid, self.name(pid), h, outcomes.get(pid, {}), *timed.get(pid, (0.0, 0.0)))
            for pid, (h, _) in self.overview().items()
        ]

    # ---- the timeline ------------------------------------------------------------

    def timeline(self, window: Window, now: datetime) -> tuple[
        list[Row], list[Bar], list[Link], list[Tick]
    ]:  # fmt: skip
        overview = self.overview()
        rows = [Row(pid, self.name(pid)) for pid in overview]
        bars = []
        for _, state in overview.values():
            for known in state.incidents.values() if state else ():
                bar = bar_of(known)
                if bar is not None and _overlaps(bar, window, now):
                    bars.append(bar)
        alerts = self.alerts_of([(b.provider, b.incident_id) for b in bars])
        records = self.log.get_many(
            [a.dedup_key for a, _ in alerts], {a.dedup_key: a for a, _ in alerts}
        )
        return rows, bars, self.links(alerts), ticks_of(alerts, records)

    def alerts_of(self, refs: Sequence[Ref]) -> list[tuple[Alert, AlertStatus]]:
        """Every alert claimed for the incidents `refs`, with its state (shrunk ones too)."""
        return self.alerts.of_incidents(refs)

    @staticmethod
    def links(alerts: Iterable[tuple[Alert, AlertStatus]]) -> list[Link]:
        """Upstream → downstream, as the alerts' annotations named them, once each."""
        found: dict[tuple[Ref, Ref], Link] = {}
        for alert, _ in alerts:
            down = (alert.event.provider, alert.event.incident_id)
            for a in alert.annotations:
                if a.kind is AnnotationKind.UPSTREAM and a.provider and a.incident_id:
                    up = (a.provider, a.incident_id)
                    found.setdefault((up, down), Link(up, down))
        return sorted(found.values(), key=lambda lk: (lk.upstream, lk.downstream))

    # ---- one incident --------------------------------------------------------------

    def story(self, provider: str, incident_id: str) -> IncidentStory | None:
        state = self.state.load_state(provider)
        known = state.incidents.get(incident_id) if state else None
        events = self.events.events_of(provider, incident_id)
        incident = known.snapshot if known else (events[-1].incident if events else None)
        if incident is None:
            return None
        alerts = self.alerts_of([(provider, incident_id)])
        keys = [a.dedup_key for a, _ in alerts]
        records = self.log.get_many(keys, {a.dedup_key: a for a, _ in alerts})
        pages = pages_of(self.client, self.prefix, keys)
        deliveries = [Delivery(a, s, records.get(a.dedup_key), pages.get(a.dedup_key))
                      for a, s in alerts]  # fmt: skip
        deliveries.sort(key=lambda d: (d.alert.event.detected_at, d.alert.subscriber,
                                       d.alert.channel, d.alert.dedup_key))  # fmt: skip
        story = IncidentStory(incident, self.name(provider), updates_of(incident, events),
                              events, deliveries)  # fmt: skip
        ref = (provider, incident_id)
        for link in self.links(alerts):
            if link.downstream == ref:
                story.upstream.append(self._related(link.upstream, {}))
        # the incidents this one likely caused: their alerts name it as upstream; only
        # those that began within a day of it are looked at (two round trips in all)
        start, end = first_time(incident), incident.resolved_at or incident.updated_at
        nearby: dict[Ref, Incident] = {}
        for pid, (_, other) in self.overview().items():
            for k in other.incidents.values() if other else ():
                t = first_time(k.snapshot)
                if (pid, k.snapshot.id) != ref and start and t and _near(t, start, end):
                    nearby[(pid, k.snapshot.id)] = k.snapshot
        for link in self.links(self.alerts_of(list(nearby))):
            if link.upstream == ref and link.downstream in nearby:
                story.downstream.append(self._related(link.downstream, nearby))
        return story


def provider_state(h: dict[str, str], active: Sequence[Incident]) -> str:
    """The provider's state in one word: its feed's (`notifier.feeds.states`: unknown,
    failing, unreachable, unreadable) unless the feed is ok; then the worst impact of
    its open incidents, maintenance, or operational."""
    feed = feed_state(h)
    if feed is not FeedState.OK:
        return feed.value
    incidents = [i for i in active if i.kind is IncidentKind.INCIDENT]
    if incidents:
        worst = max(incidents, key=lambda i: i.impact.rank).impact
        return worst.value if worst.rank > 0 else "minor"
    if any(i.kind is IncidentKind.MAINTENANCE or i.impact is Impact.MAINTENANCE for i in active):
        return "maintenance"
    return "operational"


def _open(known: IncidentState, now: datetime) -> bool:
    snap = known.snapshot
    if not snap.is_active or known.absent_resolved_at is not None:
        return False
    # a maintenance counts while it is in progress, not while it is only scheduled
    return snap.kind is IncidentKind.INCIDENT or snap.status.value in ("in_progress", "verifying")


def bar_of(known: IncidentState) -> Bar | None:
    snap = known.snapshot
    start = first_time(snap)
    if start is None:
        return None
    end = None
    if not snap.is_active or known.absent_resolved_at is not None:
        end = known.absent_resolved_at or snap.resolved_at or snap.updated_at or start
    impact = "maintenance" if snap.kind is IncidentKind.MAINTENANCE else snap.impact.value
    return Bar(snap.provider, snap.id, snap.title, impact, start, max(end, start) if end else None)


def _near(t: datetime, start: datetime, end: datetime | None) -> bool:
    return start - NEAR <= t <= (end or start) + NEAR


def _overlaps(bar: Bar, window: Window, now: datetime) -> bool:
    return bar.start <= window.end and (bar.end or now) >= window.start


def ticks_of(
    alerts: Iterable[tuple[Alert, AlertStatus]], records: dict[str, DeliveryRecord]
) -> list[Tick]:
    """A tick for each alert whose delivery finished as sent, printed or failed."""
    out = []
    for alert, _ in alerts:
        rec = records.get(alert.dedup_key)
        at = parse_iso(rec.updated_at) if rec and rec.updated_at else None
        if rec is None or at is None or rec.outcome is None or rec.outcome not in WENT_OUT:
            continue
        ev = alert.event
        out.append(Tick(ev.provider, ev.incident_id, alert.channel, alert.subscriber, at,
                        WENT_OUT[rec.outcome]))  # fmt: skip
    return out


def updates_of(incident: Incident, events: Sequence[ChangeEvent]) -> list[Update]:
    """Every update seen of an incident, each once, oldest first: the snapshot keeps
    only the newest, the event records hold the rest."""
    seen: dict[tuple[str, str], Update] = {}
    sources: list[Update] = []
    for e in events:
        sources += e.incident.updates
        if e.update is not None:
            sources.append(e.update)
    sources += incident.updates
    for u in sources:
        seen.setdefault((u.key or u.at.isoformat(), u.status.value), u)
    return sorted(seen.values(), key=lambda u: u.at)
