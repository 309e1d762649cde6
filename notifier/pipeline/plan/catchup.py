"""Late news becomes one catch-up per subscriber, channel and gap; never a page.

The diff flags `late` the events of incidents that began and ended while notifier
was not watching a provider (`ChangeEvent.gap` says when). They never go through
the incident planner (no thread of their own, no page). Instead `plan_catch_ups`
takes all the late events of one poll, which arrive together in one `process`
call, and makes one alert of kind `catch_up` per (subscriber, channel, provider,
gap): "While notifier was not watching GitHub (Jun 3 06:40 – Jun 7 06:38 UTC) it
had 3 incidents: …". Routing decides who hears of an incident (its filters and
quiet hours, as for any news), and channels that carry pages only (SMS) get none.
Each catch-up is claimed once, under a key made of the provider and the gap, so a
re-planned poll finds the one claimed before.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from notifier.config.schema import Config
from notifier.models import Alert, AlertKind, ChangeEvent, iso
from notifier.route.drops import LATE_NEWS_NEVER_PAGES, DropHook, dropped
from notifier.route.match import route_event
from notifier.store.delivery.alerts import AlertClaims, dedup_key_for
from notifier.store.delivery.status import AlertStatus

_Group = tuple[str, str, str]  # (subscriber, channel, catch_up_id)


def catch_up_id(event: ChangeEvent) -> str:
    """The identity of an event's catch-up: its provider and gap (in place of an event id)."""
    gap = event.gap
    start, end = (iso(gap.start) or "", iso(gap.end) or "") if gap else ("", "")
    return f"catch-up:{event.provider}:{start}:{end}"


def plan_catch_ups(
    events: Sequence[ChangeEvent],
    config: Config,
    alerts: AlertClaims,
    now: datetime,
    *,
    pages_only: Collection[str],
    on_drop: DropHook | None = None,
) -> list[Alert]:
    """The catch-up alerts for one poll's late events that still need delivering:
    claimed now, or claimed before and still pending. Late news whose only routes
    carry pages reaches nobody: said at INFO and counted through `on_drop`."""
    members: dict[_Group, dict[str, ChangeEvent]] = {}
    holds: dict[_Group, datetime | None] = {}
    for event in events:
        if not event.late:
            continue
        routes = route_event(event, config, now, lambda _s, _c: False, on_drop)
        if routes and all(r.channel in pages_only for r in routes):
            where = ", ".join(f"{r.subscriber.name}/{r.channel}" for r in routes)
            dropped(event, LATE_NEWS_NEVER_PAGES, where, on_drop)
        for route in routes:
            if route.channel in pages_only:
                continue  # late news never pages
            key: _Group = (route.subscriber.name, route.channel, catch_up_id(event))
            # the incident's latest event holds all it had: its updates, its end
            members.setdefault(key, {})[event.incident_id] = event
            holds[key] = _later(holds.get(key), route.hold_until)
    out = []
    for key, by_incident in members.items():
        subscriber, channel, gid = key
        caught = tuple(sorted(by_incident.values(), key=_began))
        hold = holds[key]
        alert = Alert(
            dedup_key=dedup_key_for(gid, subscriber, channel),
            thread_key=f"{subscriber}/{channel}/{gid}",
            kind=AlertKind.CATCH_UP,
            subscriber=subscriber,
            channel=channel,
            event=caught[0],
            caught_up=caught,
            hold_until=hold if hold is not None and hold > now else None,
        )
        if alerts.claim(alert):
            out.append(alert)
            continue
        found, state = alerts.load(alert.dedup_key)
        if state is AlertStatus.PENDING:
            out.append(found or alert)
    return out


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _began(event: ChangeEvent) -> tuple[datetime, str]:
    inc = event.incident
    start = inc.started_at or (inc.updates[0].at if inc.updates else event.detected_at)
    return start, inc.id


__all__ = ["catch_up_id", "plan_catch_ups"]
