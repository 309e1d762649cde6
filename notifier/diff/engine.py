"""The diff: what changed between what we knew and the document just fetched.

`diff(previous, current, now)` is pure: no clock, no I/O. It returns the change
events, in a deterministic order, and the new `ProviderState` to store.

Rules (each one is a test in tests/test_diff*.py):

- First poll (`previous is None`) is a baseline: incidents already closed are
  remembered silently; incidents still open get the full events below.
- A new incident gives `new_incident`, then one `new_update` per update it
  already has (oldest first), then its lifecycle event when it has one:
  `resolved` for a closed incident; for maintenance `maintenance_scheduled`,
  `maintenance_started` (in progress / verifying) or `maintenance_completed`.
- A known incident gives one `new_update` per update key not seen before, then
  at most one status event, then `impact_changed`, then `components_changed`.
  The status event is: `resolved` (open → closed), `reopened` (closed → open),
  for maintenance `maintenance_scheduled` / `maintenance_started` /
  `maintenance_completed` *instead of* `status_changed`, else `status_changed`.
- A `resolved` or `reopened` carries the update that caused it (its own text,
  time and status) in that update's place: there is no separate `new_update` of
  it, so a resolution or a reopen is one message.
- Status `update` (Statuspage Atom's label for an update that changed nothing)
  never replaces a real status: the diff compares *effective* statuses (the
  newest real one) and `ProviderState` remembers those. Each update keeps the
  status it was posted with.
- Time never goes backwards. Update keys are never forgotten, so an edited body
  or a stale copy posts nothing. Status, impact and components change only when
  the document is fresher than what we believe: it carries an unseen update, or
  its `updated_at` is later (with neither updates nor `updated_at`, we take it
  at face value).
- History windows (`DocumentKind.HISTORY`): leaving means nothing; coming back
  is not new.
- Nothing is silently skipped: after the first poll, every incident and update
  that appears for the first time makes an event.
- Late news: a closed incident we never knew whose last update is over 24 hours
  old (`LATE_NEWS`), or older than our last successful poll (which would have
  shown it had it been posted on time: a backfilled incident), began and ended
  while we could not see it (a gap between polls, downtime, an unreachable feed,
  a provider posting days late). Its event is flagged `late`, with the `gap` (the
  last successful poll before, this poll), for one catch-up message, never a page.
- Active lists (`DocumentKind.ACTIVE`): an open incident that leaves the list is
  resolved (maintenance: completed) when its history lookup (`PollContext.lookups`,
  done by the poll stage) shows it closed: in the provider's final words. Else it
  is resolved on absence only at the second successful poll in a row that lacks
  it, with notifier's own `note` ("No longer listed on X's status page as of
  23:40 UTC; no final update was published"), never an older update re-quoted;
  `final_words` posts the final update once if a later lookup finds it. Listed
  open again after that resolution, it is `reopened`, once.
- Knowledge of an incident is pruned 30 days after it left the document.
- Status-only documents (`FeedDocument.services`) are turned into incidents
  first, with a short hysteresis (`notifier.diff.synth`); from then on they are
  incidents like any other.

A burst is one message: `DiffResult.messages` makes the message events of one
incident in one poll (its `new_incident`, `new_update`s and status event) one event
(`notifier.diff.burst`), carrying the updates in order; so a maintenance's start or
completion, like a resolution, travels on one event. The pipeline plans from
`messages`; `events` keeps one event per fact, as the rules above state them.

Order: incidents by (start time, id); within one, the order above.

`event_id` is a short hash (32 hex chars of SHA-256) over provider, incident id,
event kind, the causing update's key (or a stand-in when no update caused it)
and, for status/impact/components events, the target value. The same change,
re-diffed or replayed, always gets the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from notifier.diff.burst import coalesce_all
from notifier.diff.synth import synthesize
from notifier.feeds.common import assign_update_keys
from notifier.models import (
    ChangeEvent,
    DocumentKind,
    EventKind,
    FeedDocument,
    Gap,
    Incident,
    IncidentKind,
    Status,
    Update,
    iso,
)
from notifier.store.feeds.snapshot import (
    RETENTION,
    IncidentState,
    ProviderState,
    compact,
    first_time,
)

_EPOCH = datetime.min.replace(tzinfo=UTC)
# A closed incident first seen this long after its last update is late news: reported
# (flagged `late`, for a catch-up message) but never paged.
LATE_NEWS = timedelta(hours=24)
# An open incident is resolved on absence from an active list only when this many
# successful polls in a row lacked it: one missing poll may be a CDN glitch or a
# half-rendered page.
ABSENCES_TO_RESOLVE = 2
# Status events that carry the update which caused them instead of a `new_update` of
# it: a resolution or a reopen is one message, not two.
_CARRIERS = frozenset({EventKind.RESOLVED, EventKind.REOPENED})


@dataclass(frozen=True, slots=True)
class PollContext:
    """What the poll stage knows besides the document; every field is optional.

    `lookups` holds the history lookups of incidents that left an active list in
    this poll: the incident as the provider's history shows it, or None when the
    history was unreachable or lacks it. An id not in it was not looked up.
    """

    name: str = ""  # the provider's display name, for notifier's own words ("": its id)
    last_ok: datetime | None = None  # the last successful poll before (default: the state's)
    lookups: Mapping[str, Incident | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DiffResult:
    """`events`: every change, one per fact (the rules above); `messages`: the same,
    one per incident and poll (`notifier.diff.burst`), which is what the pipeline plans
    alerts from."""

    events: tuple[ChangeEvent, ...]
    state: ProviderState

    @property
    def messages(self) -> tuple[ChangeEvent, ...]:
        return coalesce_all(self.events)


def event_id(provider: str, incident_id: str, kind: EventKind, cause: str, target: str = "") -> str:
    """Stable id of one change (see the module docstring)."""
    raw = "\x1f".join((provider, incident_id, kind.value, cause, target))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def diff(
    previous: ProviderState | None,
    current: FeedDocument,
    now: datetime,
    context: PollContext | None = None,
) -> DiffResult:
    """Events from `previous` to `current`, and the state to store next."""
    prev = previous or ProviderState()
    ctx = context or PollContext()
    # Status-only feeds: service states become incidents first (memory in `prev.services`).
    synthesis = synthesize(prev.services, current.services, now)
    if synthesis.incidents:
        current = replace(current, incidents=current.incidents + synthesis.incidents)
    gap = Gap(ctx.last_ok or prev.polled_at, now)
    listed: dict[str, Incident] = {}
    for inc in current.incidents:
        listed.setdefault(inc.id, _keyed(inc))
    floor = prev.floor if previous is not None else _baseline_floor(current.kind, listed.values())
    batches: list[tuple[tuple[datetime, str], list[ChangeEvent]]] = []
    states: dict[str, IncidentState] = {}
    for inc in listed.values():
        known = prev.incidents.get(inc.id)
        if known is None:
            state, events = _first_sight(inc, previous is None, now, gap)
        else:
            state, events = _listed(known, inc, now, ctx)
        states[inc.id] = state
        batches.append((_order(inc), events))
    for iid, known in prev.incidents.items():
        if iid not in listed:
            kept, events = _unlisted(known, current.kind, now, ctx)
            if kept is not None:
                states[iid] = kept
            batches.append((_order(known.snapshot), events))
    batches.sort(key=lambda b: b[0])
    ordered = tuple(e for _, batch in batches for e in batch)
    after = ProviderState(polled_at=now, floor=floor, incidents=states, services=synthesis.memory)
    return DiffResult(ordered, after)


@dataclass(frozen=True, slots=True)
class FinalWords:
    """What a later history lookup of an incident resolved on absence gave: the
    updates to post (`events`), the state to store, and whether to stop looking."""

    events: tuple[ChangeEvent, ...]
    state: ProviderState
    settled: bool

    @property
    def messages(self) -> tuple[ChangeEvent, ...]:
        return coalesce_all(self.events)


def final_words(
    state: ProviderState, incident_id: str, found: Incident | None, now: datetime
) -> FinalWords:
    """Post the provider's final update of an incident we resolved on absence, once.

    `found` is the incident as the provider's history shows it now (None: unreachable
    or not there). Its unseen updates become `new_update`s in the incident's thread;
    never a second `resolved`. Settled when posted, when the history shows it closed
    with nothing new (the provider published no final words), or when we no longer
    await anything (listed again, pruned).
    """
    known = state.incidents.get(incident_id)
    if known is None or not known.awaiting_final:
        return FinalWords((), state, True)
    if found is None:
        return FinalWords((), state, False)
    found = _keyed(found)
    status = effective_status(found, known.snapshot.status)
    if not status.is_closed:
        return FinalWords((), state, False)  # its history lags behind: look again later
    unseen = [u for u in found.updates if u.key not in known.seen]
    inc = replace(found, status=status)
    events = tuple(_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u) for u in unseen)
    seen = known.seen | {u.key for u in found.updates}
    snapshot = _remember(inc, status) if unseen else known.snapshot
    kept = replace(known, snapshot=snapshot, seen=seen, awaiting_final=False)
    incidents = {**state.incidents, incident_id: kept}
    return FinalWords(events, replace(state, incidents=incidents), True)


# ---- one incident ----------------------------------------------------------------


def _first_sight(
    inc: Incident, baseline: bool, now: datetime, gap: Gap
) -> tuple[IncidentState, list[ChangeEvent]]:
    status = effective_status(inc, None)
    state = IncidentState(_remember(inc, status), frozenset(u.key for u in inc.updates))
    # Events carry the real status, so no channel ever shows Atom's "Update" label as one.
    events = _new_incident(replace(inc, status=status), status, now)
    if not status.is_closed:
        return state, events
    if baseline:
        return state, []
    if not _late(inc, now, gap):
        return state, events
    # Over before we could have seen it (a gap between polls, or posted after the
    # time it names): late news, for a catch-up, not a page.
    return state, [replace(e, late=True, gap=gap) for e in events]


def _late(inc: Incident, now: datetime, gap: Gap) -> bool:
    """A closed incident first seen now is late news when it ended over `LATE_NEWS`
    ago, or before our last successful poll (which would have shown it, had it been
    published on time: a backfilled incident)."""
    last = _last_time(inc)
    if last is None:
        return False
    return last <= now - LATE_NEWS or (gap.start is not None and last <= gap.start)


def _listed(
    known: IncidentState, inc: Incident, now: datetime, ctx: PollContext
) -> tuple[IncidentState, list[ChangeEvent]]:
    prior = known.snapshot
    status = effective_status(inc, prior.status)
    unseen = [u for u in inc.updates if u.key not in known.seen]
    # Resolved because the list dropped it, now listed open again: a reopen, said once.
    relisted = known.absent_resolved_at is not None and not status.is_closed
    if not (unseen or relisted or _newer_stamp(prior, inc)):
        if known.gone_at is None and not known.missing:
            return known, []  # listed as before: nothing to remember (most of every poll)
        return replace(known, gone_at=None, missing=0), []
    seen = known.seen | {u.key for u in inc.updates}
    inc = replace(inc, status=status)
    note = token = None
    if relisted and not unseen:
        note = f"Listed again as open on {_possessive(ctx, inc)} status page at {_clock(now)}."
        token = f"relisted:{iso(known.absent_resolved_at)}"
    events = _changes(prior, inc, status, unseen, now, ctx, note=note, token=token)
    return IncidentState(_remember(inc, status), seen), events


def _unlisted(
    known: IncidentState, kind: DocumentKind, now: datetime, ctx: PollContext
) -> tuple[IncidentState | None, list[ChangeEvent]]:
    if known.gone_at is not None and known.gone_at <= now - RETENTION:
        return None, []  # pruned
    gone = known.gone_at or now
    prior = known.snapshot
    if kind is not DocumentKind.ACTIVE or not prior.is_active:
        if known.gone_at == gone and not known.missing:
            return known, []  # left a history window earlier: nothing new to remember
        return replace(known, gone_at=gone, missing=0), []
    found = ctx.lookups.get(prior.id)
    if found is not None and effective_status(found, prior.status).is_closed:
        return _confirmed(known, _keyed(found), gone, now, ctx)
    missing = known.missing + 1
    if missing < ABSENCES_TO_RESOLVE:
        return replace(known, gone_at=gone, missing=missing), []
    maintenance = prior.kind is IncidentKind.MAINTENANCE
    closed = Status.COMPLETED if maintenance else Status.RESOLVED
    after = replace(prior, status=closed, resolved_at=gone)
    last = prior.updates[-1].key if prior.updates else iso(prior.updated_at) or ""
    event = _event(
        EventKind.MAINTENANCE_COMPLETED if maintenance else EventKind.RESOLVED,
        after,
        now,
        f"absent:{last}@{iso(gone)}",
        previous=prior.status.value,
        current=closed.value,
        note=_unlisted_note(ctx, prior, gone),
    )
    return IncidentState(after, known.seen, gone, now, awaiting_final=True), [event]


def _confirmed(
    known: IncidentState, found: Incident, gone: datetime, now: datetime, ctx: PollContext
) -> tuple[IncidentState, list[ChangeEvent]]:
    """Left the active list, and its history shows it closed: resolved, in the
    provider's own final words when it published any we have not posted."""
    prior = known.snapshot
    status = effective_status(found, prior.status)
    unseen = [u for u in found.updates if u.key not in known.seen]
    inc = replace(found, status=status)
    note = None if any(u.status.is_closed for u in unseen) else _unlisted_note(ctx, prior, gone)
    events = _changes(prior, inc, status, unseen, now, ctx, note=note)
    seen = known.seen | {u.key for u in found.updates}
    return IncidentState(_remember(inc, status), seen, gone), events


# ---- events ----------------------------------------------------------------------


def _new_incident(inc: Incident, status: Status, now: datetime) -> list[ChangeEvent]:
    events = [_event(EventKind.NEW_INCIDENT, inc, now, "")]
    kind = _opening_kind(inc.kind, status)
    carried = _carried(kind, status, list(inc.updates)) if kind is not None else None
    lifecycle = None
    if kind is not None:
        cause = carried or (inc.updates[-1] if inc.updates else None)
        lifecycle = _event(kind, inc, now, _cause(inc, cause), update=cause, current=status)
    for u in inc.updates:
        if u is carried and lifecycle is not None:
            events.append(lifecycle)  # in its update's place, carrying it
        else:
            events.append(_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u))
    if lifecycle is not None and carried is None:
        events.append(lifecycle)
    return [replace(e, first_seen=True) for e in events]


def _changes(
    prior: Incident,
    inc: Incident,
    status: Status,
    unseen: list[Update],
    now: datetime,
    ctx: PollContext,
    *,
    note: str | None = None,
    token: str | None = None,
) -> list[ChangeEvent]:
    """new_updates (oldest first), at most one status event, impact, components.

    A resolution or a reopen carries the update that caused it, in that update's
    place, instead of a separate new_update of it: one message, not two. A status
    event no update caused says `note` and is identified by `token` when given."""
    last = unseen[-1] if unseen else None
    kind = _status_kind(prior.status, status, inc.kind)
    carried = _carried(kind, status, unseen) if kind is not None else None
    status_event = None
    if kind is not None:
        # A resolution or reopen no update of its own caused carries none (an older
        # update is never shown as if it were the resolution).
        cause = carried if kind in _CARRIERS else last
        if kind is EventKind.RESOLVED and cause is None and note is None:
            note = _no_words_note(ctx, inc, now)
        status_event = _event(
            kind, inc, now, token or _cause(inc, cause or last), update=cause,
            previous=prior.status, current=status, note=note if cause is None else None,
        )  # fmt: skip
    events: list[ChangeEvent] = []
    for u in unseen:
        if u is carried and status_event is not None:
            events.append(status_event)
        else:
            events.append(_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u))
    if status_event is not None and carried is None:
        events.append(status_event)
    token = _cause(inc, last)
    if prior.impact != inc.impact:
        events.append(
            _event(EventKind.IMPACT_CHANGED, inc, now, token, update=last,
                   previous=prior.impact.value, current=inc.impact.value)
        )  # fmt: skip
    before, after = ", ".join(sorted(prior.components)), ", ".join(sorted(inc.components))
    if before != after:
        events.append(
            _event(EventKind.COMPONENTS_CHANGED, inc, now, token, update=last,
                   previous=before, current=after)
        )  # fmt: skip
    return events


def _carried(kind: EventKind, status: Status, updates: list[Update]) -> Update | None:
    """The update a resolution or reopen carries: the newest one that closed (or, for
    a reopen, opened) the incident; None for other kinds or when no update did."""
    if kind not in _CARRIERS:
        return None
    closing = status.is_closed
    for u in reversed(updates):
        if u.status is not Status.UPDATE and u.status.is_closed == closing:
            return u
    return None


def _event(
    kind: EventKind,
    inc: Incident,
    now: datetime,
    cause: str,
    *,
    update: Update | None = None,
    previous: str | None = None,
    current: str | None = None,
    note: str | None = None,
) -> ChangeEvent:
    previous = previous.value if isinstance(previous, StrEnum) else previous
    current = current.value if isinstance(current, StrEnum) else current
    return ChangeEvent(
        event_id=event_id(inc.provider, inc.id, kind, cause, current or ""),
        kind=kind,
        provider=inc.provider,
        incident_id=inc.id,
        detected_at=now,
        incident=inc,
        update=update,
        previous=previous,
        current=current,
        note=note,
    )


def _status_kind(old: Status, new: Status, kind: IncidentKind) -> EventKind | None:
    if old == new:
        return None
    opened, closed = old.is_closed and not new.is_closed, new.is_closed and not old.is_closed
    if kind is IncidentKind.MAINTENANCE:
        if new is Status.SCHEDULED:
            return EventKind.MAINTENANCE_SCHEDULED
        if new is Status.IN_PROGRESS:
            return EventKind.MAINTENANCE_STARTED
        return EventKind.MAINTENANCE_COMPLETED if closed else EventKind.STATUS_CHANGED
    if closed:
        return EventKind.RESOLVED
    return EventKind.REOPENED if opened else EventKind.STATUS_CHANGED


def _opening_kind(kind: IncidentKind, status: Status) -> EventKind | None:
    """The lifecycle event a first-seen incident announces besides `new_incident`."""
    if kind is IncidentKind.MAINTENANCE:
        if status.is_closed:
            return EventKind.MAINTENANCE_COMPLETED
        if status in (Status.IN_PROGRESS, Status.VERIFYING):
            return EventKind.MAINTENANCE_STARTED
        return EventKind.MAINTENANCE_SCHEDULED
    return EventKind.RESOLVED if status.is_closed else None


# ---- helpers ---------------------------------------------------------------------


def effective_status(inc: Incident, prior: Status | None) -> Status:
    """The incident's real status. `update` labels an update that changed nothing
    (Statuspage Atom/RSS), so it never replaces a real status: take the newest
    update with a real one, else what we believed, else the kind's first status."""
    if inc.status is not Status.UPDATE:
        return inc.status
    for u in reversed(inc.updates):
        if u.status is not Status.UPDATE:
            return u.status
    if prior is not None:
        return prior
    return Status.SCHEDULED if inc.kind is IncidentKind.MAINTENANCE else Status.INVESTIGATING


def _remember(inc: Incident, status: Status) -> Incident:
    return replace(compact(inc), status=status)


def _possessive(ctx: PollContext, inc: Incident) -> str:
    name = " ".join((ctx.name or inc.provider).split())
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _clock(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M UTC")


def _unlisted_note(ctx: PollContext, inc: Incident, gone: datetime) -> str:
    """Our words for a resolution the provider gave none for (never an older update)."""
    where = f"{_possessive(ctx, inc)} status page"
    return f"No longer listed on {where} as of {_clock(gone)}; no final update was published"


def _no_words_note(ctx: PollContext, inc: Incident, now: datetime) -> str:
    where = f"{_possessive(ctx, inc)} status page"
    return f"Marked resolved on {where} as of {_clock(now)}; no final update was published"


def _last_time(inc: Incident) -> datetime | None:
    return max((u.at for u in inc.updates), default=inc.updated_at)


def _cause(inc: Incident, update: Update | None) -> str:
    """The identity of what caused a change: an update key, else the incident's stamp."""
    if update is not None:
        return update.key
    return f"at:{iso(inc.updated_at) or ''}"


def _newer_stamp(prior: Incident, inc: Incident) -> bool:
    if inc.updated_at is not None and prior.updated_at is not None:
        return inc.updated_at > prior.updated_at
    return not inc.updates  # nothing to judge freshness by: take it at face value


def _baseline_floor(kind: DocumentKind, incidents: Iterable[Incident]) -> datetime | None:
    """The earliest start a first history window showed; older ones scroll in as history."""
    if kind is not DocumentKind.HISTORY:
        return None
    return min((t for inc in incidents if (t := first_time(inc)) is not None), default=None)


def _keyed(inc: Incident) -> Incident:
    """Parsers key updates; make sure anyway, since identity rests on it."""
    if all(u.key for u in inc.updates):
        return inc
    return replace(inc, updates=assign_update_keys(inc.updates))


def _order(inc: Incident) -> tuple[datetime, str]:
    return (first_time(inc) or _EPOCH, inc.id)


__all__ = [
    "ABSENCES_TO_RESOLVE",
    "LATE_NEWS",
    "DiffResult",
    "FinalWords",
    "PollContext",
    "ProviderState",
    "diff",
    "effective_status",
    "event_id",
    "final_words",
]
