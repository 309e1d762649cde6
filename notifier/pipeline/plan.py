"""From one change event to the alerts that still need delivering.

`process_event` annotates (never blocking: a failure is logged and the alerts go
out bare), routes, groups into threads and cascades, renders the text, and claims
each alert's dedup key. It returns the alerts claimed now plus those claimed earlier
but still pending, so re-running it after a crash re-enqueues rather than loses
them (delivery is idempotent per dedup key).

A channel that carries pages only (SMS, see `Channel.pages_only`) gets the
incident's first alert, the changes its own `events` list names, and the resolution
of anything it paged; everything else stays in the other channels' threads.

`ReplayPlanner` runs the same path offline with in-memory stores and a world it
learns from the events it is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from notifier.annotate.correlate import annotate, reference_time, upstream_candidates, with_history
from notifier.annotate.render import Cascade, render_text, trusted_link
from notifier.channels.kinds import channel_kind
from notifier.config.schema import Config
from notifier.models import (
    Alert,
    AlertKind,
    Annotation,
    ChangeEvent,
    EventKind,
    Incident,
    iso,
)
from notifier.route.grouping import (
    IncidentRef,
    InMemoryThreadStore,
    RouteKey,
    ThreadEntry,
    ThreadStore,
    decide,
    thread_key_for,
)
from notifier.route.match import FEED_EVENTS, Route, route_event
from notifier.store.alerts import AlertClaims, InMemoryAlertStore, dedup_key_for

log = logging.getLogger(__name__)

CASCADE_WINDOW = timedelta(hours=4)  # an upstream that began longer ago is not this cascade
OPENING_KINDS = frozenset({AlertKind.NEW, AlertKind.UPDATE, AlertKind.REOPENED})

_KINDS = {
    EventKind.NEW_INCIDENT: AlertKind.NEW,
    EventKind.RESOLVED: AlertKind.RESOLVED,
    EventKind.REOPENED: AlertKind.REOPENED,
    EventKind.MAINTENANCE_SCHEDULED: AlertKind.MAINTENANCE,
    EventKind.MAINTENANCE_STARTED: AlertKind.MAINTENANCE,
    EventKind.MAINTENANCE_COMPLETED: AlertKind.MAINTENANCE,
    EventKind.FEED_UNREACHABLE: AlertKind.FEED_HEALTH,
    EventKind.FEED_RECOVERED: AlertKind.FEED_HEALTH,
}


def alert_kind(event: ChangeEvent) -> AlertKind:
    return _KINDS.get(event.kind, AlertKind.UPDATE)


def process_event(
    event: ChangeEvent,
    config: Config,
    world: Sequence[Incident],
    threads: ThreadStore,
    alerts: AlertClaims,
    now: datetime,
    on_ready: Callable[[Alert], None] | None = None,
) -> list[Alert]:
    """Annotate, route, group, render and claim; return the alerts to deliver.

    `on_ready` sees each alert as soon as it is claimed, so a large fan-out can start
    delivering while the rest is still being planned."""
    threads = _Remembering(threads)
    annotations = safe_annotations(event, config, world, now)
    roots = cascade_roots(event, config, world, now)
    ref: IncidentRef = (event.provider, event.incident_id)
    # Routing asks every (subscriber, channel) whether the incident reached it: one
    # MGET per 500 instead of a GET each.
    threads.get_many([(s.name, c) for s in config.subscribers for c in s.channel_names()], ref)
    routes = route_event(event, config, now, lambda s, c: threads.get((s, c), ref) is not None)
    link = _link(event, config)
    out = []
    for route in routes:
        alert = _plan(event, route, config, annotations, roots, threads, link)
        if alert is None:
            continue
        if alerts.claim(alert):
            ready = alert
        else:  # claimed before: hand it on again only while it is still undelivered
            found, state = alerts.load(alert.dedup_key)
            if state != "pending":
                continue
            ready = found or alert
        out.append(ready)
        if on_ready is not None:
            on_ready(ready)
    return out


class _Remembering:
    """A ThreadStore that remembers its `get`s for one event: routing and grouping ask
    for the same thread entry, and a fan-out to 1,000 routes should not ask Redis twice."""

    def __init__(self, inner: ThreadStore) -> None:
        self.inner = inner
        self.seen: dict[tuple[RouteKey, IncidentRef], ThreadEntry | None] = {}

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None:
        if (route, incident) not in self.seen:
            self.seen[(route, incident)] = self.inner.get(route, incident)
        return self.seen[(route, incident)]

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> dict[RouteKey, ThreadEntry | None]:
        missing = [r for r in routes if (r, incident) not in self.seen]
        if missing:
            for route, entry in self.inner.get_many(missing, incident).items():
                self.seen[(route, incident)] = entry
        return {r: self.seen[(r, incident)] for r in routes}

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        stored = self.inner.open(route, incident, entry)
        self.seen[(route, incident)] = stored
        return stored

    def cascade(self, route: RouteKey, root: IncidentRef) -> str | None:
        return self.inner.cascade(route, root)

    def join_cascade(self, route: RouteKey, root: IncidentRef, thread_key: str) -> str:
        return self.inner.join_cascade(route, root, thread_key)

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        return self.inner.add_member(route, thread_key, name)


def safe_annotations(
    event: ChangeEvent, config: Config, world: Sequence[Incident], now: datetime
) -> tuple[Annotation, ...]:
    if event.kind in FEED_EVENTS:
        return ()
    try:
        return annotate(event, config, world, now)
    except Exception:  # annotations are a bonus; never let them block the alert
        log.exception("annotating %s failed; delivering without annotations", event.event_id)
        return ()


def cascade_roots(
    event: ChangeEvent, config: Config, world: Sequence[Incident], now: datetime
) -> list[IncidentRef]:
    """Active upstream incidents this one may be part of, best first."""
    if event.kind in FEED_EVENTS:
        return []
    try:
        others = [i for i in world if (i.provider, i.id) != (event.provider, event.incident_id)]
        found = upstream_candidates(event.incident, config.dependency_graph(), others, now)
    except Exception:
        log.exception("cascade lookup for %s failed; alerting on its own", event.event_id)
        return []
    ref = reference_time(event.incident, now)
    return [
        (c.incident.provider, c.incident.id)
        for c in found
        if c.incident.is_active and ref - reference_time(c.incident, now) <= CASCADE_WINDOW
    ]


def _plan(
    event: ChangeEvent,
    route: Route,
    config: Config,
    annotations: tuple[Annotation, ...],
    roots: list[IncidentRef],
    threads: ThreadStore,
    link: str | None,
) -> Alert | None:
    key: RouteKey = (route.subscriber.name, route.channel)
    ref: IncidentRef = (event.provider, event.incident_id)
    dedup = dedup_key_for(event.event_id, *key)
    own = thread_key_for(key, ref)
    kind = alert_kind(event)
    existing = threads.get(key, ref)
    first = existing is None or existing.opened_by == dedup
    if not first and _already_shown(event, existing):
        return None
    cascade = (
        _cascade_thread(threads, key, ref, roots, own) if first and kind in OPENING_KINDS else None
    )
    decision = decide(kind, existing, dedup, own, cascade, route.explicit)
    if decision.opens:
        shown = _latest_update_key(event)
        entry = ThreadEntry(decision.thread_key, dedup, decision.page, decision.attached_to, shown)
        stored = threads.open(key, ref, entry)
        if stored.opened_by != dedup:  # another worker opened it first: we are a follow-up
            decision = decide(kind, stored, dedup, own, None, route.explicit)
    name = config.provider_name(event.provider)
    members = threads.add_member(key, decision.thread_key, name) if decision.opens else []
    if _carries_only_pages(route.channel) and not decision.page:
        return None
    group = Cascade(members[0], tuple(members)) if decision.attached_to and members else None
    text = render_text(event, kind, name, annotations, group, link)
    return Alert(
        dedup_key=dedup,
        thread_key=decision.thread_key,
        kind=kind,
        subscriber=key[0],
        channel=key[1],
        event=event,
        annotations=annotations,
        page=decision.page,
        attached_to=decision.attached_to,
        hold_until=route.hold_until,
        text=text,
    )


def _carries_only_pages(channel: str) -> bool:
    kind = channel_kind(channel)
    return kind is not None and kind.pages_only


def _latest_update_key(event: ChangeEvent) -> str:
    update = event.update or (event.incident.updates[-1] if event.incident.updates else None)
    return update.key if update is not None else ""


def _already_shown(event: ChangeEvent, existing: ThreadEntry | None) -> bool:
    """The diff reports a new incident's update as `new_update` too; the opening alert
    showed it already."""
    if existing is None or event.kind is not EventKind.NEW_UPDATE or event.update is None:
        return False
    return bool(existing.shown_update) and event.update.key == existing.shown_update


def _cascade_thread(
    threads: ThreadStore, key: RouteKey, ref: IncidentRef, roots: list[IncidentRef], own: str
) -> str:
    """The thread this incident's cascade uses on this route (its own when it leads)."""
    chosen = next((t for r in roots if (t := threads.cascade(key, r)) is not None), None)
    if chosen is None and roots:
        chosen = threads.join_cascade(key, roots[0], own)  # we lead the upstream's cascade
    # our own dependants join the same thread; one of them may have registered us first
    mine = threads.join_cascade(key, ref, chosen or own)
    return chosen or mine


def _link(event: ChangeEvent, config: Config) -> str | None:
    try:
        providers = config.resolved_providers()
    except ValueError:  # a Config built without load_config may lack a feed
        return None
    feed_url = next((p.url for p in providers if p.id == event.provider), None)
    return trusted_link(event.incident.url, feed_url)


# ---- replay --------------------------------------------------------------------------


class ReplayPlanner:
    """`process_event` offline: in-memory stores, a world learned from the events seen."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.threads = InMemoryThreadStore()
        self.store = InMemoryAlertStore()
        self._world: dict[IncidentRef, Incident] = {}

    def observe(self, incident: Incident) -> None:
        """Teach the world an incident without alerting (e.g. a replay's first snapshot)."""
        ref = (incident.provider, incident.id)
        self._world[ref] = with_history(incident, self._world.get(ref))

    def alerts(self, event: ChangeEvent, now: datetime) -> list[dict[str, Any]]:
        """Replay lines for one event, as printed by `notifier replay`."""
        if event.kind not in FEED_EVENTS:
            self.observe(event.incident)
        planned = process_event(
            event, self.config, list(self._world.values()), self.threads, self.store, now
        )
        for alert in planned:
            self.store.set_state(alert.dedup_key, "delivered")  # a replay delivers at once
        return [replay_line(a, now) for a in planned]


def replay_line(alert: Alert, now: datetime) -> dict[str, Any]:
    """`at` is when the alert would go out: now, or the end of quiet hours."""
    return {
        "type": "alert",
        "at": iso(alert.hold_until or now),
        "subscriber": alert.subscriber,
        "channel": alert.channel,
        "provider": alert.event.provider,
        "incident_id": alert.event.incident_id,
        "kind": alert.kind.value,
        "dedup_key": alert.dedup_key,
        "thread_key": alert.thread_key,
        "annotations": [
            {
                "kind": a.kind.value,
                "provider": a.provider,
                "incident_id": a.incident_id,
                "text": a.text,
            }
            for a in alert.annotations
        ],
        "text": alert.text,
    }
