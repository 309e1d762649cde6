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
  resolved (maintenance: completed) when its history lookup (`PollFacts.lookups`,
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

Events are built and identified in `notifier.diff.events` (`event_id`: the same
change, re-diffed or replayed, always gets the same id); what the poll knows besides
the document, and notifier's own words, are in `notifier.diff.facts`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from notifier.diff.burst import coalesce_all
from notifier.diff.events import change_events, make_event, new_incident_events
from notifier.diff.facts import PollFacts, clock, possessive, unlisted_note
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


def diff(
    previous: ProviderState | None,
    current: FeedDocument,
    now: datetime,
    facts: PollFacts | None = None,
) -> DiffResult:
    """Events from `previous` to `current`, and the state to store next."""
    prev = previous or ProviderState()
    facts = facts or PollFacts()
    # Status-only feeds: service states become incidents first (memory in `prev.services`).
    synthesis = synthesize(prev.services, current.services, now)
    if synthesis.incidents:
        current = replace(current, incidents=current.incidents + synthesis.incidents)
    gap = Gap(facts.last_ok or prev.polled_at, now)
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
            state, events = _listed(known, inc, now, facts)
        states[inc.id] = state
        batches.append((_order(inc), events))
    for iid, known in prev.incidents.items():
        if iid not in listed:
            kept, events = _unlisted(known, current.kind, now, facts)
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
    events = tuple(make_event(EventKind.NEW_UPDATE, inc, now, u.key, update=u) for u in unseen)
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
    events = new_incident_events(replace(inc, status=status), status, now)
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
    known: IncidentState, inc: Incident, now: datetime, facts: PollFacts
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
        note = f"Listed again as open on {possessive(facts, inc)} status page at {clock(now)}."
        token = f"relisted:{iso(known.absent_resolved_at)}"
    events = change_events(prior, inc, status, unseen, now, facts, note=note, token=token)
    return IncidentState(_remember(inc, status), seen), events


def _unlisted(
    known: IncidentState, kind: DocumentKind, now: datetime, facts: PollFacts
) -> tuple[IncidentState | None, list[ChangeEvent]]:
    if known.gone_at is not None and known.gone_at <= now - RETENTION:
        return None, []  # pruned
    gone = known.gone_at or now
    prior = known.snapshot
    if kind is not DocumentKind.ACTIVE or not prior.is_active:
        if known.gone_at == gone and not known.missing:
            return known, []  # left a history window earlier: nothing new to remember
        return replace(known, gone_at=gone, missing=0), []
    found = facts.lookups.get(prior.id)
    if found is not None and effective_status(found, prior.status).is_closed:
        return _confirmed(known, _keyed(found), gone, now, facts)
    missing = known.missing + 1
    if missing < ABSENCES_TO_RESOLVE:
        return replace(known, gone_at=gone, missing=missing), []
    maintenance = prior.kind is IncidentKind.MAINTENANCE
    closed = Status.COMPLETED if maintenance else Status.RESOLVED
    after = replace(prior, status=closed, resolved_at=gone)
    last = prior.updates[-1].key if prior.updates else iso(prior.updated_at) or ""
    event = make_event(
        EventKind.MAINTENANCE_COMPLETED if maintenance else EventKind.RESOLVED,
        after,
        now,
        f"absent:{last}@{iso(gone)}",
        previous=prior.status.value,
        current=closed.value,
        note=unlisted_note(facts, prior, gone),
    )
    return IncidentState(after, known.seen, gone, now, awaiting_final=True), [event]


def _confirmed(
    known: IncidentState, found: Incident, gone: datetime, now: datetime, facts: PollFacts
) -> tuple[IncidentState, list[ChangeEvent]]:
    """Left the active list, and its history shows it closed: resolved, in the
    provider's own final words when it published any we have not posted."""
    prior = known.snapshot
    status = effective_status(found, prior.status)
    unseen = [u for u in found.updates if u.key not in known.seen]
    inc = replace(found, status=status)
    note = None if any(u.status.is_closed for u in unseen) else unlisted_note(facts, prior, gone)
    events = change_events(prior, inc, status, unseen, now, facts, note=note)
    seen = known.seen | {u.key for u in found.updates}
    return IncidentState(_remember(inc, status), seen, gone), events


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


def _last_time(inc: Incident) -> datetime | None:
    return max((u.at for u in inc.updates), default=inc.updated_at)


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
    "diff",
    "effective_status",
    "final_words",
]
