"""The normalized model every stage speaks: plain, typed, immutable.

Parsers produce `FeedDocument`s of `Incident`s; the diff turns two states into
`ChangeEvent`s; routing turns an event into `Alert`s, one per (subscriber, channel).
All times are timezone-aware UTC datetimes. Everything here round-trips through
JSON with `to_jsonable` / the `*_from_dict` helpers, which is how Celery tasks and
Redis carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    UPDATE = "update"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"

    @property
    def is_closed(self) -> bool:
        return self in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.POSTMORTEM, Status.COMPLETED})


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"

    @property
    def rank(self) -> int:
        """Severity order for `min_impact` filters; maintenance ranks with none."""
        return {"none": 0, "maintenance": 0, "minor": 1, "major": 2, "critical": 3}[self.value]


class IncidentKind(StrEnum):
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"


class DocumentKind(StrEnum):
    """How absence from a document must be read (see the diff)."""

    HISTORY = "history"  # a window of recent incidents: leaving it means nothing
    ACTIVE = "active"  # only open incidents: leaving it means resolved


class EventKind(StrEnum):
    NEW_INCIDENT = "new_incident"
    NEW_UPDATE = "new_update"
    STATUS_CHANGED = "status_changed"
    IMPACT_CHANGED = "impact_changed"
    COMPONENTS_CHANGED = "components_changed"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    MAINTENANCE_SCHEDULED = "maintenance_scheduled"
    MAINTENANCE_STARTED = "maintenance_started"
    MAINTENANCE_COMPLETED = "maintenance_completed"
    FEED_UNREACHABLE = "feed_unreachable"
    FEED_RECOVERED = "feed_recovered"
    # One document brought more new incidents than max_new_incidents_per_poll: one
    # alert naming the count stands for all of them (pipeline.ingest.flood).
    FEED_FLOOD = "feed_flood"
    # Our own synthetic probes (`probes:` of a provider), not the status page: an
    # unconfirmed early warning, and its all-clear when no incident ever appeared.
    PROBE_FAILURE = "probe_failure"
    PROBE_RECOVERED = "probe_recovered"


@dataclass(frozen=True, slots=True)
class Update:
    """One update the provider posted. `key` is its identity within the incident.

    The key never depends on the body (an edited body is the same update) and is
    distinct for updates sharing a minute and a status. Parsers fill it with
    `notifier.feeds.common.assign_update_keys`.
    """

    at: datetime
    status: Status
    body: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    provider: str
    id: str
    title: str
    url: str | None
    status: Status
    impact: Impact
    kind: IncidentKind
    started_at: datetime | None
    updated_at: datetime | None
    resolved_at: datetime | None
    components: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    updates: tuple[Update, ...] = ()  # oldest first

    @property
    def is_active(self) -> bool:
        return not self.status.is_closed


@dataclass(frozen=True, slots=True)
class ServiceState:
    """One service as a status-only feed states it: a state, no incident id.

    `state` is the feed's own words, kept as written ("No known issues",
    "Impacted", a value never seen before). `impact` is `none` only for a state
    the parser knows to be healthy; an unknown state reads as degraded (`minor`
    or worse), never as healthy. `at` is the time the feed gives for this state
    (its start, or the document's stamp), None when it gives none. The diff turns
    a service that leaves its healthy state into a synthesized incident
    (`notifier.diff.synth`).
    """

    provider: str
    name: str  # the catalog's component name
    state: str
    impact: Impact
    at: datetime | None = None
    message: str = ""  # the feed's text for this state, if any
    url: str | None = None
    regions: tuple[str, ...] = ()
    # The feed's own incident id and title, when it gives them (Microsoft's posts):
    # used instead of a synthesized id, and the feed's word opens and closes at once.
    ref: str = ""
    title: str = ""
    components: tuple[str, ...] = ()  # affected components, when not just `name`

    @property
    def healthy(self) -> bool:
        return self.impact is Impact.NONE


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """What a parser read from one fetched document.

    `services` is filled by status-only formats (a state per service, no
    incidents); the diff synthesizes incidents from it.
    """

    format: str
    kind: DocumentKind
    incidents: tuple[Incident, ...]
    services: tuple[ServiceState, ...] = ()


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch when notifier was not watching a provider: from the last successful
    poll before (None: unknown) to the poll that saw what happened meanwhile."""

    start: datetime | None
    end: datetime


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change, exactly once. `event_id` is stable across re-diffs and replays.

    `late` marks news of an incident that began and ended while notifier was not
    looking (`gap` says when): reported in a catch-up, never paged. `note` is
    notifier's own words where the provider published none (an incident resolved
    because its status page stopped listing it); channels show it instead of an
    update's body.
    """

    event_id: str
    kind: EventKind
    provider: str
    incident_id: str
    detected_at: datetime  # the `now` of the poll that saw it
    incident: Incident  # the incident as it stood after the change
    update: Update | None = None  # for new_update and for changes caused by one
    previous: str | None = None  # "from" value for *_changed events
    current: str | None = None  # "to" value for *_changed events
    late: bool = False  # began and ended while we were not looking (see `gap`)
    gap: Gap | None = None  # for late events: when we were not looking
    note: str | None = None  # our own words where the provider gave none
    # A burst: the updates of this incident that the same poll saw before `update`,
    # oldest first, carried by this one event (one message lists them all).
    earlier: tuple[Update, ...] = ()
    first_seen: bool = False  # this event is also the incident's first sight


class AnnotationKind(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    COINCIDENT = "coincident"
    STATED_CAUSE = "stated_cause"
    PROBE = "probe"  # the provider's incident confirms our probe's early warning


@dataclass(frozen=True, slots=True)
class Annotation:
    kind: AnnotationKind
    text: str  # human sentence, e.g. "Possible upstream cause: Azure - '...'"
    reason: str  # why it was made, e.g. "openai depends on azure (catalog)"
    provider: str | None = None
    incident_id: str | None = None
    score: float = 0.0


class AlertKind(StrEnum):
    NEW = "new"
    UPDATE = "update"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    MAINTENANCE = "maintenance"
    FEED_HEALTH = "feed_health"
    FOLLOW_UP = "follow_up"  # new members of a cascade, to those paged for it
    CATCH_UP = "catch_up"  # what happened while notifier was not watching


@dataclass(frozen=True, slots=True)
class FoldedIncident:
    """One downstream incident that joined a cascade, as a follow-up names it."""

    provider: str  # display name
    incident_id: str
    impact: Impact
    components: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  # the subscriber's own services it affects
    upstream: str = ""  # display name of the cascade's likely cause


@dataclass(frozen=True, slots=True)
class Alert:
    """An event addressed to one subscriber's channel.

    `dedup_key` is unique per (incident, change, subscriber, channel); `thread_key`
    is shared by every alert of one incident to one subscriber's channel, or by the
    alerts folded into an upstream's cascade.
    """

    dedup_key: str
    thread_key: str
    kind: AlertKind
    subscriber: str
    channel: str
    event: ChangeEvent
    annotations: tuple[Annotation, ...] = ()
    page: bool = False  # True when this alert may page (SMS) rather than only thread
    attached_to: str | None = None  # thread_key of the upstream alert this folds into
    hold_until: datetime | None = None  # quiet hours: deliver no earlier than this
    # When attached: display names of the providers in the cascade thread so far,
    # first-come (the first leads it). Data for the channels to render, not text.
    cascade: tuple[str, ...] = ()
    group_paged_at: datetime | None = None  # when attached: when the group's lead was paged
    # A follow-up's or a catch-up's contents, filled in when it is sent (so it names
    # every member that joined until then); empty otherwise.
    folded: tuple[FoldedIncident, ...] = ()
    caught_up: tuple[ChangeEvent, ...] = ()
    # An escalation sent during quiet hours carries the earlier alert of its thread that
    # quiet hours still hold (its event); that one is then not sent on its own.
    carried: tuple[ChangeEvent, ...] = ()


# ---- JSON codec -------------------------------------------------------------


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 UTC ending in Z, second precision."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, enums, datetimes and tuples to plain JSON values."""
    if isinstance(obj, datetime):
        return iso(obj)
    if isinstance(obj, StrEnum):
        return obj.value
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, list | tuple):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def update_from_dict(d: dict[str, Any]) -> Update:
    at = parse_iso(d["at"])
    assert at is not None
    return Update(at=at, status=Status(d["status"]), body=d["body"], key=d.get("key", ""))


def incident_from_dict(d: dict[str, Any]) -> Incident:
    return Incident(
        provider=d["provider"],
        id=d["id"],
        title=d["title"],
        url=d.get("url"),
        status=Status(d["status"]),
        impact=Impact(d["impact"]),
        kind=IncidentKind(d["kind"]),
        started_at=parse_iso(d.get("started_at")),
        updated_at=parse_iso(d.get("updated_at")),
        resolved_at=parse_iso(d.get("resolved_at")),
        components=tuple(d.get("components", ())),
        regions=tuple(d.get("regions", ())),
        updates=tuple(update_from_dict(u) for u in d.get("updates", ())),
    )


def gap_from_dict(d: dict[str, Any] | None) -> Gap | None:
    if not d:
        return None
    end = parse_iso(d["end"])
    assert end is not None
    return Gap(start=parse_iso(d.get("start")), end=end)


def event_from_dict(d: dict[str, Any]) -> ChangeEvent:
    detected = parse_iso(d["detected_at"])
    assert detected is not None
    return ChangeEvent(
        event_id=d["event_id"],
        kind=EventKind(d["kind"]),
        provider=d["provider"],
        incident_id=d["incident_id"],
        detected_at=detected,
        incident=incident_from_dict(d["incident"]),
        update=update_from_dict(d["update"]) if d.get("update") else None,
        previous=d.get("previous"),
        current=d.get("current"),
        late=bool(d.get("late", False)),  # records stored before these fields lack them
        gap=gap_from_dict(d.get("gap")),
        note=d.get("note"),
        earlier=tuple(update_from_dict(u) for u in d.get("earlier", ())),
        first_seen=bool(d.get("first_seen", False)),
    )


def folded_from_dict(d: dict[str, Any]) -> FoldedIncident:
    return FoldedIncident(
        provider=d["provider"],
        incident_id=d["incident_id"],
        impact=Impact(d["impact"]),
        components=tuple(d.get("components", ())),
        services=tuple(d.get("services", ())),
        upstream=d.get("upstream", ""),
    )


def annotation_from_dict(d: dict[str, Any]) -> Annotation:
    return Annotation(
        kind=AnnotationKind(d["kind"]),
        text=d["text"],
        reason=d["reason"],
        provider=d.get("provider"),
        incident_id=d.get("incident_id"),
        score=float(d.get("score", 0.0)),
    )


def alert_from_dict(d: dict[str, Any], event: ChangeEvent | None = None) -> Alert:
    """An alert record; `event` is its event when the record only names it (`event_id`)."""
    return Alert(
        dedup_key=d["dedup_key"],
        thread_key=d["thread_key"],
        kind=AlertKind(d["kind"]),
        subscriber=d["subscriber"],
        channel=d["channel"],
        event=event if event is not None else event_from_dict(d["event"]),
        annotations=tuple(annotation_from_dict(a) for a in d.get("annotations", ())),
        page=bool(d.get("page", False)),
        attached_to=d.get("attached_to"),
        hold_until=parse_iso(d.get("hold_until")),
        cascade=tuple(d.get("cascade", ())),  # records stored before it have "text" instead
        group_paged_at=parse_iso(d.get("group_paged_at")),
        folded=tuple(folded_from_dict(f) for f in d.get("folded", ())),
        caught_up=tuple(event_from_dict(e) for e in d.get("caught_up", ())),
        carried=tuple(event_from_dict(e) for e in d.get("carried", ())),
    )


__all__ = [
    "Alert",
    "AlertKind",
    "Annotation",
    "AnnotationKind",
    "ChangeEvent",
    "DocumentKind",
    "EventKind",
    "FeedDocument",
    "FoldedIncident",
    "Gap",
    "Impact",
    "Incident",
    "IncidentKind",
    "Status",
    "Update",
    "alert_from_dict",
    "annotation_from_dict",
    "event_from_dict",
    "folded_from_dict",
    "gap_from_dict",
    "incident_from_dict",
    "iso",
    "parse_iso",
    "to_jsonable",
    "update_from_dict",
]
