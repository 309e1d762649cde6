"""From one change event to the alerts that still need delivering.

`process_event` annotates (never blocking: a failure is logged and the alerts go
out bare), routes, groups into threads and cascades, and claims each alert's dedup
key; each channel renders the alert when it sends it. It returns the alerts claimed
now plus those claimed earlier but still pending, so re-running it after a crash
re-enqueues rather than loses them (delivery is idempotent per dedup key).

A channel that carries pages only (SMS, see `Channel.pages_only`) gets the
incident's first alert, the changes its own `events` list names, and the resolution
of anything it paged; everything else stays in the other channels' threads. An
incident folded into a cascade that route was paged for is not dropped there: it
joins the group's next follow-up (`notifier.store.delivery.followups`), one per
`group_interval`, which names every incident that joined.

Quiet hours never hold an escalation. Quiet hours hold each alert on its own (its
`hold_until`), and critical ones are never held. When an incident whose opening
alert on a route is still held rises to critical, the escalation takes the opening
over: it pages at once (on SMS too, whatever its `events` list says of
`impact_changed`: the incident is news there), carries the held alert
(`Alert.carried`), which delivery then marks as folded so it is not sent later.
A critical member joining a follow-up batch held for quiet hours releases it.

`notifier.pipeline.replay.ReplayPlanner` runs the same path offline.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.annotate.correlate import (
    UpstreamCandidate,
    affected_services,
    annotate,
    event_upstreams,
)
from notifier.config.schema import Config
from notifier.models import (
    Alert,
    AlertKind,
    Annotation,
    AnnotationKind,
    ChangeEvent,
    EventKind,
    FoldedIncident,
    Impact,
    Incident,
    IncidentKind,
    parse_iso,
)
from notifier.pipeline.ingest.probes import confirmation
from notifier.pipeline.plan.remembering import RememberingThreads
from notifier.route.drops import DropHook
from notifier.route.grouping import Opening, ThreadRegistry, assign, cascade_roots
from notifier.route.match import FEED_EVENTS, PROBE_EVENTS, Route, route_event
from notifier.store.delivery.alerts import AlertClaims, AlertStore, dedup_key_for
from notifier.store.delivery.deferred import DeferredThreads
from notifier.store.delivery.followups import FollowUps
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import (
    IncidentRef,
    Prefetched,
    RedisThreadStore,
    RouteKey,
    ThreadEntry,
)

log = logging.getLogger(__name__)

_KINDS = {
    EventKind.NEW_INCIDENT: AlertKind.NEW,
    EventKind.RESOLVED: AlertKind.RESOLVED,
    EventKind.REOPENED: AlertKind.REOPENED,
    EventKind.MAINTENANCE_SCHEDULED: AlertKind.MAINTENANCE,
    EventKind.MAINTENANCE_STARTED: AlertKind.MAINTENANCE,
    EventKind.MAINTENANCE_COMPLETED: AlertKind.MAINTENANCE,
    EventKind.FEED_UNREACHABLE: AlertKind.FEED_HEALTH,
    EventKind.FEED_RECOVERED: AlertKind.FEED_HEALTH,
    EventKind.FEED_FLOOD: AlertKind.FEED_HEALTH,
    # A probe's early warning opens a thread like a new incident; its all-clear closes it.
    EventKind.PROBE_FAILURE: AlertKind.NEW,
    EventKind.PROBE_RECOVERED: AlertKind.RESOLVED,
}


def alert_kind(event: ChangeEvent) -> AlertKind:
    return _KINDS.get(event.kind, AlertKind.UPDATE)


def process_event(
    event: ChangeEvent,
    config: Config,
    world: Sequence[Incident],
    threads: ThreadRegistry,
    alerts: AlertClaims,
    now: datetime,
    *,
    pages_only: Collection[str],
    on_ready: Callable[[Alert], None] | None = None,
    followups: FollowUps | None = None,
    warnings: Mapping[str, Incident] | None = None,
    on_drop: DropHook | None = None,
    prefetched: Prefetched | None = None,
) -> list[Alert]:
    """Annotate, route, group and claim; return the alerts to deliver.

    `prefetched`: the threads of `every_route(config)` for the event's incident, read by
    the caller after nothing else could change them (with the provider's lock).

    `on_drop` counts what a rule decides to send nowhere (`notifier.route.drops`).

    `pages_only` names the routes that carry only pages and their resolutions
    (`notifier.channels.kinds.pages_only()`, read once per process).

    `followups` batches the incidents folded into a cascade for the routes that carry
    pages only; without it they are dropped there (as before follow-ups existed).

    `on_ready` sees each alert as soon as it is claimed, so a large fan-out can start
    delivering while the rest is still being planned.

    A late event (news of an incident that began and ended while notifier was not
    watching) makes no alert here: it never pages and never opens a thread of its
    own; `notifier.pipeline.plan.catchup` reports it in a catch-up.

    `warnings` holds the open early warnings of our probes, by provider (the synthetic
    incident of `notifier.pipeline.ingest.probes`): the provider's own incident joins the
    warning's thread, confirming it, instead of paging again."""
    if event.late:
        return []
    ref: IncidentRef = (event.provider, event.incident_id)
    deferred = (
        DeferredThreads(threads, alerts, ref)
        if isinstance(threads, RedisThreadStore) and isinstance(alerts, AlertStore)
        else None
    )
    if deferred is not None and prefetched is not None:
        deferred.seed(prefetched)
    threads = deferred if deferred is not None else RememberingThreads(threads)
    # One search for upstream incidents serves the annotations and the cascades.
    upstream = safe_upstreams(event, config, world, now)
    annotations = safe_annotations(event, config, world, now, upstream)
    roots = cascade_roots(event.incident, upstream, now)
    warning = confirms(event, warnings)
    if warning is not None:
        roots = [(warning.provider, warning.id), *roots]
        if event.kind is EventKind.NEW_INCIDENT:
            name = config.provider_name(event.provider)
            text = confirmation(name, event.incident, warning, now)
            note = Annotation(AnnotationKind.PROBE, text, f"probe warning {warning.id}",
                              warning.provider, warning.id)  # fmt: skip
            annotations = (note, *annotations)
    # Routing asks every (subscriber, channel) whether the incident reached it: one
    # MGET per 500 instead of a GET each.
    threads.get_many(every_route(config), ref)
    routes = route_event(
        event, config, now, lambda s, c: _reached(threads.get((s, c), ref), event, now), on_drop
    )
    routes = [r for r in routes if not _probe_muted(event, r, pages_only)]
    out = []
    folding = _Folding(config, roots, followups, now, pages_only, alerts)
    for route in routes:
        alert = _plan(event, route, config, annotations, roots, threads, folding)
        if alert is None:
            continue
        if deferred is not None:  # claimed with the rest of the chunk, in one round trip
            deferred.claim(alert)
            continue
        ready = _ready(alert, alerts.claim(alert), alerts)
        if ready is not None:
            out.append(ready)
            if on_ready is not None:
                on_ready(ready)
    for alert, won in deferred.flush() if deferred is not None else ():
        ready = _ready(alert, won, alerts)
        if ready is not None:
            out.append(ready)
            if on_ready is not None:
                on_ready(ready)
    return out


def every_route(config: Config) -> list[RouteKey]:
    """Every (subscriber, channel) of `config`: what routing asks about an incident."""
    return [(s.name, c) for s in config.subscribers for c in s.channel_names()]


def _ready(alert: Alert, claimed: bool, alerts: AlertClaims) -> Alert | None:
    """The alert to hand on: the one just claimed, or one claimed before while it is
    still undelivered (a re-run after a crash hands it on again); None when done."""
    if claimed:
        return alert
    found, state = alerts.load(alert.dedup_key)
    if state is not AlertStatus.PENDING:
        return None
    return _released(found, alert, alerts) if found is not None else alert


def escalates(event: ChangeEvent) -> bool:
    """The incident now stands at the impact quiet hours never hold (critical)."""
    return (
        event.incident.impact is Impact.CRITICAL
        and not event.late
        and event.kind not in FEED_EVENTS
    )


def held(entry: ThreadEntry, now: datetime) -> bool:
    """The route's opening alert is still held for quiet hours."""
    until = parse_iso(entry.held_until or None)
    return until is not None and until > now


def _reached(entry: ThreadEntry | None, event: ChangeEvent, now: datetime) -> bool:
    """Whether the incident reached the route: an opening still held for quiet hours
    has told nobody anything, so an escalation is news there."""
    if entry is None:
        return False
    return not (escalates(event) and held(entry, now))


def _released(found: Alert, alert: Alert, alerts: AlertClaims) -> Alert:
    """A follow-up batch held for quiet hours, joined by a member that is not held
    (critical): the batch goes when that member's would have."""
    if found.kind is not AlertKind.FOLLOW_UP or found.hold_until is None:
        return found
    if alert.hold_until is not None and alert.hold_until >= found.hold_until:
        return found
    released = dataclasses.replace(found, hold_until=alert.hold_until)
    return released if alerts.update_pending(released) else found


def confirms(event: ChangeEvent, warnings: Mapping[str, Incident] | None) -> Incident | None:
    """The open early warning this event's incident confirms, if any: an incident (not
    maintenance, not the warning itself) of the provider whose probe raised it."""
    warning = (warnings or {}).get(event.provider)
    if warning is None or event.kind in FEED_EVENTS or event.kind in PROBE_EVENTS:
        return None
    if event.incident.kind is not IncidentKind.INCIDENT or event.incident_id == warning.id:
        return None
    return warning


def _probe_muted(event: ChangeEvent, route: Route, pages_only: Collection[str]) -> bool:
    """A probe's unconfirmed warning pages (SMS) only routes whose `events` name it."""
    if event.kind is not EventKind.PROBE_FAILURE or route.channel not in pages_only:
        return False
    listed = route.subscriber.filters_for(route.channel).events or ()
    return EventKind.PROBE_FAILURE not in listed


def safe_upstreams(
    event: ChangeEvent, config: Config, world: Sequence[Incident], now: datetime
) -> list[UpstreamCandidate]:
    """The event's upstream candidates, best first; none for feed-health events or
    when the lookup fails (the alert then goes out on its own, unannotated upstream)."""
    if event.kind in FEED_EVENTS:
        return []
    try:
        return event_upstreams(event, config, world, now)
    except Exception:  # a bonus as well: never let it block the alert
        log.exception("upstream lookup for %s failed; alerting on its own", event.event_id)
        return []


def safe_annotations(
    event: ChangeEvent,
    config: Config,
    world: Sequence[Incident],
    now: datetime,
    upstream: Sequence[UpstreamCandidate],
) -> tuple[Annotation, ...]:
    if event.kind in FEED_EVENTS:
        return ()
    try:
        return annotate(event, config, world, now, upstream)
    except Exception:  # annotations are a bonus; never let them block the alert
        log.exception("annotating %s failed; delivering without annotations", event.event_id)
        return ()


def _plan(
    event: ChangeEvent,
    route: Route,
    config: Config,
    annotations: tuple[Annotation, ...],
    roots: list[IncidentRef],
    threads: ThreadRegistry,
    folding: _Folding,
) -> Alert | None:
    key: RouteKey = (route.subscriber.name, route.channel)
    ref: IncidentRef = (event.provider, event.incident_id)
    dedup = dedup_key_for(event.event_id, *key)
    kind = alert_kind(event)
    existing = threads.get(key, ref)
    first = existing is None or existing.opened_by == dedup
    if not first and _already_shown(event, existing):
        return None
    if existing is not None and not first and _takes_over(event, route, existing, folding.now):
        return _take_over(event, route, existing, dedup, annotations, threads, folding)
    opening = Opening(
        kind, dedup, route.explicit, config.provider_name(event.provider),
        _latest_update_key(event), folding.now, route.hold_until,
    )  # fmt: skip
    decision, members = assign(threads, key, ref, existing, opening, roots)
    if route.channel in folding.pages_only:
        if decision.attached_to and decision.opens:
            return folding.follow_up(event, route, decision.attached_to)
        if not decision.page:
            return None
        if decision.opens:
            folding.started(route, decision.thread_key)
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
        cascade=members if decision.attached_to else (),
        group_paged_at=_group_paged_at(threads, key, roots, decision.attached_to),
    )


def _takes_over(event: ChangeEvent, route: Route, existing: ThreadEntry, now: datetime) -> bool:
    """An escalation, not held itself, of an incident whose own opening is still held."""
    return (
        route.hold_until is None
        and existing.attached_to is None  # a cascade member's escalation joins its group
        and escalates(event)
        and held(existing, now)
    )


def _take_over(
    event: ChangeEvent, route: Route, existing: ThreadEntry, dedup: str,
    annotations: tuple[Annotation, ...], threads: ThreadRegistry, folding: _Folding,
) -> Alert:  # fmt: skip
    """The escalation opens the route's thread and pages now, carrying the held alert
    (which delivery then marks folded). The route's entry names it as the opener, so
    later alerts wait for it, not for the held one, and no second escalation takes over."""
    key: RouteKey = (route.subscriber.name, route.channel)
    ref: IncidentRef = (event.provider, event.incident_id)
    found, state = folding.alerts.load(existing.opened_by)
    carried = (found.event,) if found is not None and state is AlertStatus.PENDING else ()
    entry = dataclasses.replace(
        existing, opened_by=dedup, paged=True, shown_update=_latest_update_key(event),
        held_until="",
    )  # fmt: skip
    threads.take_over(key, ref, entry)
    if route.channel in folding.pages_only:
        folding.started(route, existing.thread_key)
    return Alert(
        dedup_key=dedup, thread_key=existing.thread_key, kind=alert_kind(event),
        subscriber=key[0], channel=key[1], event=event, annotations=annotations, page=True,
        carried=carried,
    )  # fmt: skip


def _group_paged_at(
    threads: ThreadRegistry, key: RouteKey, roots: list[IncidentRef], group: str | None
) -> datetime | None:
    """When the cascade this alert joins was paged on its route, if its lead is the best
    upstream (the usual cascade) and paged; else None (the alert then names no time)."""
    if group is None or not roots:
        return None
    entry = threads.get(key, roots[0])
    if entry is None or entry.thread_key != group or not entry.paged:
        return None
    return parse_iso(entry.opened_at or None)


@dataclass(frozen=True)
class _Folding:
    """What one event needs to fold into the follow-ups of the routes that carry pages only."""

    config: Config
    roots: list[IncidentRef]
    store: FollowUps | None
    now: datetime
    pages_only: Collection[str]
    alerts: AlertClaims

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.config.group_interval)

    def started(self, route: Route, thread_key: str) -> None:
        """A page opened a thread that may lead a cascade: its follow-ups wait an interval."""
        if self.store is not None:
            self.store.started(thread_key, self.now, self.interval)

    def follow_up(self, event: ChangeEvent, route: Route, group: str) -> Alert | None:
        """The follow-up of `group` that this incident joins (claimed once per batch)."""
        if self.store is None:
            return None
        inc = event.incident
        upstream = self.config.provider_name(self.roots[0][0]) if self.roots else ""
        member = FoldedIncident(
            self.config.provider_name(event.provider), inc.id, inc.impact, inc.components,
            tuple(affected_services(self.config, inc)), upstream,
        )  # fmt: skip
        joined = self.store.join(group, member, event.event_id, self.now, self.interval)
        due = max(joined.due, route.hold_until or joined.due)
        return Alert(
            dedup_key=joined.batch,
            thread_key=group,  # the pager finds the group's page, and who was paged, by it
            kind=AlertKind.FOLLOW_UP,
            subscriber=route.subscriber.name,
            channel=route.channel,
            event=event,
            page=True,
            hold_until=due if due > self.now else None,
        )


def _latest_update_key(event: ChangeEvent) -> str:
    update = event.update or (event.incident.updates[-1] if event.incident.updates else None)
    return update.key if update is not None else ""


_SHOWN_BY_OPENER = frozenset({EventKind.NEW_UPDATE, EventKind.IMPACT_CHANGED})


def _already_shown(event: ChangeEvent, existing: ThreadEntry | None) -> bool:
    """The opening alert showed this already: the diff reports a new incident's update
    as `new_update` too, and an impact change comes with the update that caused it
    (the opener, planned in the same poll, showed the incident at its new impact)."""
    if existing is None or event.kind not in _SHOWN_BY_OPENER:
        return False
    if event.update is not None:
        key = event.update.key
    elif event.kind is EventKind.IMPACT_CHANGED:
        # its update travels on the poll's message event (`notifier.diff.burst`)
        key = _latest_update_key(event)
    else:
        return False
    return bool(existing.shown_update) and key == existing.shown_update
