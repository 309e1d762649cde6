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
- Status `update` (Statuspage Atom's label for an update that changed nothing)
  never replaces a real status: the diff compares *effective* statuses (the
  newest real one) and `ProviderState` remembers those.
- Time never goes backwards. Update keys are never forgotten, so an edited body
  or a stale copy posts nothing. Status, impact and components change only when
  the document is fresher than what we believe: it carries an unseen update, or
  its `updated_at` is later (with neither updates nor `updated_at`, we take it
  at face value).
- History windows (`DocumentKind.HISTORY`): leaving means nothing; coming back
  is not new. A closed incident we never knew is old history, not news, when it
  began before the earliest incident of our first (history) poll, or its last
  update is over 24 hours old (after downtime, weeks-old resolutions are not
  worth a page).
- Active lists (`DocumentKind.ACTIVE`): an open incident that leaves the list is
  `resolved` (maintenance: `maintenance_completed`). If it comes back open it is
  `reopened` only when it carries an unseen update or one dated after the
  resolution; otherwise it is a stale copy and stays resolved.
- Knowledge of an incident is pruned 30 days after it left the document.

Order: incidents by (start time, id); within one, the order above.

`event_id` is a short hash (32 hex chars of SHA-256) over provider, incident id,
event kind, the causing update's key (or a stand-in when no update caused it)
and, for status/impact/components events, the target value. The same change,
re-diffed or replayed, always gets the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from notifier.feeds.common import assign_update_keys
from notifier.models import (
    ChangeEvent,
    DocumentKind,
    EventKind,
    FeedDocument,
    Incident,
    IncidentKind,
    Status,
    Update,
    iso,
)
from notifier.store.snapshot import RETENTION, IncidentState, ProviderState, compact, first_time

_EPOCH = datetime.min.replace(tzinfo=UTC)
# A closed incident first seen this long after its last update is history, not news:
# after downtime or a long gap between snapshots, weeks-old resolutions are not paged.
LATE_NEWS = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class DiffResult:
    events: tuple[ChangeEvent, ...]
    state: ProviderState


def event_id(provider: str, incident_id: str, kind: EventKind, cause: str, target: str = "") -> str:
    """Stable id of one change (see the module docstring)."""
    raw = "\x1f".join((provider, incident_id, kind.value, cause, target))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def diff(previous: ProviderState | None, current: FeedDocument, now: datetime) -> DiffResult:
    """Events from `previous` to `current`, and the state to store next."""
    prev = previous or ProviderState()
    listed: dict[str, Incident] = {}
    for inc in current.incidents:
        listed.setdefault(inc.id, _keyed(inc))
    floor = prev.floor if previous is not None else _baseline_floor(current.kind, listed.values())
    batches: list[tuple[tuple[datetime, str], list[ChangeEvent]]] = []
    states: dict[str, IncidentState] = {}
    for inc in listed.values():
        known = prev.incidents.get(inc.id)
        if known is None:
            state, events = _first_sight(inc, previous is None, floor, now)
        else:
            state, events = _listed(known, inc, now)
        states[inc.id] = state
        batches.append((_order(inc), events))
    for iid, known in prev.incidents.items():
        if iid not in listed:
            kept, events = _unlisted(known, current.kind, now)
            if kept is not None:
                states[iid] = kept
            batches.append((_order(known.snapshot), events))
    batches.sort(key=lambda b: b[0])
    ordered = tuple(e for _, batch in batches for e in batch)
    return DiffResult(ordered, ProviderState(polled_at=now, floor=floor, incidents=states))


# ---- one incident ----------------------------------------------------------------


def _first_sight(
    inc: Incident, baseline: bool, floor: datetime | None, now: datetime
) -> tuple[IncidentState, list[ChangeEvent]]:
    status = effective_status(inc, None)
    state = IncidentState(_remember(inc, status), frozenset(u.key for u in inc.updates))
    if status.is_closed and (baseline or _is_old_history(inc, floor, now)):
        return state, []
    # Events carry the real status, so no channel ever shows Atom's "Update" label as one.
    return state, _new_incident(replace(inc, status=status), status, now)


def _listed(
    known: IncidentState, inc: Incident, now: datetime
) -> tuple[IncidentState, list[ChangeEvent]]:
    prior = known.snapshot
    status = effective_status(inc, prior.status)
    unseen = [u for u in inc.updates if u.key not in known.seen]
    seen = known.seen | {u.key for u in inc.updates}
    stale_reopen = (
        known.absent_resolved_at is not None
        and not status.is_closed
        and not unseen
        and not any(u.at > known.absent_resolved_at for u in inc.updates)
    )
    if stale_reopen or not (unseen or _newer_stamp(prior, inc)):
        return IncidentState(prior, seen, None, known.absent_resolved_at), []
    inc = replace(inc, status=status)
    events = [_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u) for u in unseen]
    events += _changes(prior, inc, status, unseen[-1] if unseen else None, now)
    return IncidentState(_remember(inc, status), seen), events


def _unlisted(
    known: IncidentState, kind: DocumentKind, now: datetime
) -> tuple[IncidentState | None, list[ChangeEvent]]:
    if known.gone_at is not None and known.gone_at <= now - RETENTION:
        return None, []  # pruned
    gone = known.gone_at or now
    prior = known.snapshot
    if kind is not DocumentKind.ACTIVE or not prior.is_active:
        return replace(known, gone_at=gone), []
    maintenance = prior.kind is IncidentKind.MAINTENANCE
    closed = Status.COMPLETED if maintenance else Status.RESOLVED
    after = replace(prior, status=closed, resolved_at=now)
    last = prior.updates[-1].key if prior.updates else iso(prior.updated_at) or ""
    event = _event(
        EventKind.MAINTENANCE_COMPLETED if maintenance else EventKind.RESOLVED,
        after,
        now,
        f"absent:{last}",
        previous=prior.status.value,
        current=closed.value,
    )
    return IncidentState(after, known.seen, gone, now), [event]


# ---- events ----------------------------------------------------------------------


def _new_incident(inc: Incident, status: Status, now: datetime) -> list[ChangeEvent]:
    events = [_event(EventKind.NEW_INCIDENT, inc, now, "")]
    events += [_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u) for u in inc.updates]
    kind = _opening_kind(inc.kind, status)
    if kind is not None:
        cause = inc.updates[-1] if inc.updates else None
        events.append(_event(kind, inc, now, _cause(inc, cause), update=cause, current=status))
    return events


def _changes(
    prior: Incident, inc: Incident, status: Status, cause: Update | None, now: datetime
) -> list[ChangeEvent]:
    events: list[ChangeEvent] = []
    token = _cause(inc, cause)
    kind = _status_kind(prior.status, status, inc.kind)
    if kind is not None:
        events.append(
            _event(kind, inc, now, token, update=cause, previous=prior.status, current=status)
        )
    if prior.impact != inc.impact:
        events.append(
            _event(EventKind.IMPACT_CHANGED, inc, now, token, update=cause,
                   previous=prior.impact.value, current=inc.impact.value)
        )  # fmt: skip
    before, after = ", ".join(sorted(prior.components)), ", ".join(sorted(inc.components))
    if before != after:
        events.append(
            _event(EventKind.COMPONENTS_CHANGED, inc, now, token, update=cause,
                   previous=before, current=after)
        )  # fmt: skip
    return events


def _event(
    kind: EventKind,
    inc: Incident,
    now: datetime,
    cause: str,
    *,
    update: Update | None = None,
    previous: str | None = None,
    current: str | None = None,
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


def _cause(inc: Incident, update: Update | None) -> str:
    """The identity of what caused a change: an update key, else the incident's stamp."""
    if update is not None:
        return update.key
    return f"at:{iso(inc.updated_at) or ''}"


def _newer_stamp(prior: Incident, inc: Incident) -> bool:
    if inc.updated_at is not None and prior.updated_at is not None:
        return inc.updated_at > prior.updated_at
    return not inc.updates  # nothing to judge freshness by: take it at face value


def _is_old_history(inc: Incident, floor: datetime | None, now: datetime) -> bool:
    began = first_time(inc)
    if floor is not None and began is not None and began < floor:
        return True
    last = max((u.at for u in inc.updates), default=inc.updated_at)
    return last is not None and last <= now - LATE_NEWS


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


__all__ = ["LATE_NEWS", "DiffResult", "ProviderState", "diff", "effective_status", "event_id"]
