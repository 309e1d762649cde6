"""Which subscribers hear about an event, on which channel, and when. Pure.

`route_event(event, config, now, has_thread)` applies, per subscriber and channel:
provider and component/region filters (the provider's own component filter too),
`min_impact`, `events`, the maintenance policy and quiet hours.

Once an incident has reached a route (`has_thread(subscriber, channel)` is true),
later alerts of it only pass the `events` filter: a thread does not go silent
because the incident was downgraded, and its resolution always goes through — a
subscriber who got the page gets the all-clear, even during quiet hours (held
until they end in `suppress` mode rather than dropped).

An incident that first qualifies later in its life (impact raised to `major` for an
SMS route with `min_impact: major`) counts as new to that route, so an `events`
list with `new_incident` lets it through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notifier.annotate.graph import norm
from notifier.config.schema import Config
from notifier.config.schema.fields import ChannelName
from notifier.config.schema.subscribers import Filters, QuietHours, Subscriber
from notifier.models import ChangeEvent, EventKind, Impact, IncidentKind
from notifier.route.drops import QUIET_HOURS, DropHook, dropped

HasThread = Callable[[str, str], bool]

MAINTENANCE_EVENTS = frozenset(
    {
        EventKind.MAINTENANCE_SCHEDULED,
        EventKind.MAINTENANCE_STARTED,
        EventKind.MAINTENANCE_COMPLETED,
    }
)
START_AND_END = frozenset({EventKind.MAINTENANCE_STARTED, EventKind.MAINTENANCE_COMPLETED})
FEED_EVENTS = frozenset(
    {EventKind.FEED_UNREACHABLE, EventKind.FEED_RECOVERED, EventKind.FEED_FLOOD}
)
CLOSING_EVENTS = frozenset({EventKind.RESOLVED, EventKind.REOPENED})
PROBE_EVENTS = frozenset({EventKind.PROBE_FAILURE, EventKind.PROBE_RECOVERED})


@dataclass(frozen=True, slots=True)
class Route:
    subscriber: Subscriber
    channel: ChannelName
    continuing: bool  # an earlier alert of this incident reached this route
    explicit: bool  # the channel's own `events` list names this kind (it may page)
    hold_until: datetime | None = None  # quiet hours: deliver no earlier than this


def route_event(
    event: ChangeEvent,
    config: Config,
    now: datetime,
    has_thread: HasThread,
    on_drop: DropHook | None = None,
) -> list[Route]:
    """Every (subscriber, channel) that should hear about `event`, in file order.

    A route that quiet hours in `suppress` mode silence is said at INFO and counted
    through `on_drop` (`notifier.route.drops`)."""
    routes = []
    for sub in config.subscribers:
        for channel in sub.channel_names():
            continuing = has_thread(sub.name, channel)
            if not _passes(event, config, sub, channel, continuing):
                continue
            held = _quiet(event, sub, channel, continuing, now)
            if held is _DROP:
                dropped(event, QUIET_HOURS, f"{sub.name}/{channel}", on_drop)
                continue
            override = sub.channels_filters.get(channel)
            explicit = bool(override and override.events and event.kind in override.events)
            routes.append(Route(sub, channel, continuing, explicit, held))
    return routes


def _passes(
    event: ChangeEvent, config: Config, sub: Subscriber, channel: ChannelName, continuing: bool
) -> bool:
    f = sub.filters_for(channel)
    if f.providers is not None and event.provider not in f.providers:
        return False
    if not _maintenance_allows(event, sub):
        return False
    if _redundant(event, f):
        return False
    if event.kind is EventKind.PROBE_RECOVERED:
        return continuing  # the all-clear of a warning, only where the warning went
    if continuing:
        return event.kind in CLOSING_EVENTS or _kind_allowed(event, f, new_here=False)
    if event.kind in FEED_EVENTS:
        return _kind_allowed(event, f, new_here=False)
    if not _scope_allows(event, config, f):
        return False
    if _below(event, f):
        return False
    return _kind_allowed(event, f, new_here=True)


def _below(event: ChangeEvent, f: Filters) -> bool:
    """Under min_impact; maintenance is governed by the maintenance policy instead."""
    if _is_maintenance(event) or f.min_impact is None:
        return False
    return event.incident.impact.rank < Impact(f.min_impact).rank


def _redundant(event: ChangeEvent, f: Filters) -> bool:
    """A status change caused by an update is said by that update's own alert (the diff
    emits both), so it is dropped wherever `new_update` is routed too."""
    if event.kind is not EventKind.STATUS_CHANGED or event.update is None:
        return False
    return f.events is None or EventKind.NEW_UPDATE in f.events


def _is_maintenance(event: ChangeEvent) -> bool:
    return event.incident.kind is IncidentKind.MAINTENANCE or event.kind in MAINTENANCE_EVENTS


def _maintenance_allows(event: ChangeEvent, sub: Subscriber) -> bool:
    if not _is_maintenance(event) or sub.maintenance == "notify":
        return True
    if sub.maintenance == "ignore":
        return False
    return event.kind in START_AND_END


def _kind_allowed(event: ChangeEvent, f: Filters, new_here: bool) -> bool:
    if f.events is None or event.kind in f.events:
        return True
    # first alert of this incident on this route: it is news here whatever changed
    opening = event.kind not in CLOSING_EVENTS and not _is_maintenance(event)
    return new_here and opening and EventKind.NEW_INCIDENT in f.events


def _scope_allows(event: ChangeEvent, config: Config, f: Filters) -> bool:
    """Component and region filters; an incident that names none passes (feeds such as
    incident.io's summary.json list no components, and missing it would be worse)."""
    inc = event.incident
    provider = next((p for p in config.providers if p.id == event.provider), None)
    if (
        provider is not None
        and provider.components
        and not _overlaps(provider.components, inc.components)
    ):
        return False
    if f.components and not _overlaps(f.components, inc.components):
        return False
    return not (f.regions and not _overlaps(f.regions, inc.regions))


def _overlaps(wanted: list[str], have: tuple[str, ...]) -> bool:
    return not have or bool({norm(w) for w in wanted} & {norm(h) for h in have})


# ---- quiet hours -------------------------------------------------------------------

_DROP = datetime.min.replace(tzinfo=UTC)  # sentinel: suppressed


def _quiet(
    event: ChangeEvent, sub: Subscriber, channel: ChannelName, continuing: bool, now: datetime
) -> datetime | None:
    """None to send now, a UTC time to hold until, or _DROP."""
    qh = sub.quiet_hours
    if qh is None or (qh.channels is not None and channel not in qh.channels):
        return None
    if event.incident.impact is Impact.CRITICAL:
        return None  # critical always goes through
    end = quiet_until(qh, now)
    if end is None:
        return None
    if qh.mode == "hold" or (continuing and event.kind in CLOSING_EVENTS):
        return end
    return _DROP


def quiet_until(qh: QuietHours, now: datetime) -> datetime | None:
    """If `now` falls in the quiet hours, when they end (aware UTC); else None.

    Wall-clock arithmetic in the subscriber's zone, so 22:00-07:00 stays 22:00-07:00
    across DST changes (the night is an hour shorter or longer, as it is for them).
    """
    tz = ZoneInfo(qh.timezone)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    spans_midnight = qh.start > qh.end
    inside = (t >= qh.start or t < qh.end) if spans_midnight else (qh.start <= t < qh.end)
    if not inside:
        return None
    day = local.date() if t < qh.end else local.date() + timedelta(days=1)
    return datetime.combine(day, qh.end, tzinfo=tz).astimezone(UTC)
