"""Properties of the diff over generated provider timelines (hypothesis).

A generated "world" is a few incidents, each a list of updates posted at minute
offsets; a snapshot at time t shows what the provider had posted by t, either
as a history window of the newest few incidents or as an active-only list. The
stream the diff sees is those snapshots in order, some skipped, some repeated,
with stale copies of earlier ones mixed in and the state stored and read back
in between.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.diff.engine import diff, effective_status
from notifier.models import ChangeEvent, DocumentKind, EventKind, FeedDocument, Incident, Status
from notifier.store.feeds.snapshot import ProviderState
from tests.diffkit import at, doc, inc

STATUSES = [Status.INVESTIGATING, Status.IDENTIFIED, Status.UPDATE, Status.MONITORING]
STATUSES += [Status.RESOLVED]
CARRIERS = {EventKind.RESOLVED, EventKind.REOPENED}
ABSENCE_KINDS = {EventKind.RESOLVED, EventKind.MAINTENANCE_COMPLETED}


@dataclass(frozen=True)
class World:
    incidents: list[tuple[str, list[tuple[int, Status]]]]
    kind: DocumentKind
    window: int

    def snapshot(self, t: int) -> FeedDocument:
        shown = []
        for iid, updates in self.incidents:
            posted = [u for u in updates if u[0] <= t]
            if posted:
                shown.append(inc(iid, *posted))
        if self.kind is DocumentKind.ACTIVE:
            shown = [i for i in shown if not effective_status(i, None).is_closed]
        else:
            shown = shown[-self.window :]
        return doc(*reversed(shown), kind=self.kind)  # newest first, as feeds list them


@st.composite
def worlds(draw: st.DrawFn) -> World:
    incidents = []
    start = 0
    for n in range(draw(st.integers(1, 5))):
        start += draw(st.integers(1, 30))
        gaps = draw(st.lists(st.integers(0, 15), min_size=1, max_size=5))
        t, updates = start, []
        for gap in gaps:
            t += gap
            updates.append((t, draw(st.sampled_from(STATUSES))))
        incidents.append((f"i{n}", updates))
    kind = draw(st.sampled_from([DocumentKind.HISTORY, DocumentKind.ACTIVE]))
    return World(incidents, kind, draw(st.integers(1, 5)))


Stream = list[tuple[FeedDocument, datetime]]  # (what the poll was served, when it ran)


@st.composite
def streams(draw: st.DrawFn, world: World) -> Stream:
    """Snapshots in time order, some skipped, with repeats and stale copies mixed in."""
    horizon = max(u[0] for _, ups in world.incidents for u in ups) + 5
    times = sorted(draw(st.lists(st.integers(0, horizon), min_size=1, max_size=8, unique=True)))
    docs = [world.snapshot(t) for t in times]
    picks = [0]  # the baseline
    for i in range(1, len(docs)):
        if draw(st.booleans()):
            picks.append(i)
        if draw(st.integers(0, 3)) == 0:
            picks.append(-draw(st.integers(0, i)) - 1)  # a stale copy (or a repeat) polled at i
    # a poll runs when its snapshot was taken; a stale copy runs at the latest time so far
    stream, latest = [], times[0]
    for n, p in enumerate(picks):
        latest = times[p] if p >= 0 else latest
        stream.append((docs[p if p >= 0 else -p - 1], at(latest) + timedelta(seconds=n)))
    return stream


def run_stream(stream: Stream) -> list[list[ChangeEvent]]:
    """Poll the stream, storing and reading back the state every time."""
    state: ProviderState | None = None
    steps = []
    for d, now in stream:
        result = diff(state, d, now)
        state = ProviderState.from_json(result.state.to_json())
        steps.append(list(result.events))
    return steps


def expected_updates(stream: Stream) -> set[tuple[str, str]]:
    """Every update shown after the baseline, less the history of incidents closed at it."""
    shown = {(i.id, u.key) for d, _ in stream for i in d.incidents for u in i.updates}
    baseline_closed: list[Incident] = [
        i for i in stream[0][0].incidents if effective_status(i, None).is_closed
    ]
    return shown - {(i.id, u.key) for i in baseline_closed for u in i.updates}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_new_updates_are_exactly_those_shown_after_the_baseline_each_once(
    data: st.DataObject,
) -> None:
    world = data.draw(worlds())
    stream = data.draw(streams(world))
    events = [e for step in run_stream(stream) for e in step]
    # a resolution or a reopen carries the update that caused it, in its place
    posted = Counter(
        (e.incident_id, e.update.key if e.update else "")
        for e in events
        if e.kind is EventKind.NEW_UPDATE or (e.kind in CARRIERS and e.update is not None)
    )
    assert set(posted) == expected_updates(stream)
    assert all(n == 1 for n in posted.values())


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_no_event_id_is_ever_minted_twice(data: st.DataObject) -> None:
    world = data.draw(worlds())
    stream = data.draw(streams(world))
    ids = [e.event_id for step in run_stream(stream) for e in step]
    assert len(ids) == len(set(ids))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_same_snapshot_again_only_confirms_absences_then_gives_nothing(
    data: st.DataObject,
) -> None:
    world = data.draw(worlds())
    stream = data.draw(streams(world))
    state: ProviderState | None = None
    for d, now in stream:
        state = diff(state, d, now).state
        # a second read of an active list may confirm an incident's absence, nothing else
        again = diff(state, d, now + timedelta(seconds=30))
        assert all(e.kind in ABSENCE_KINDS and e.note for e in again.events)
        assert diff(again.state, d, now + timedelta(seconds=60)).events == ()


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_each_new_incident_is_followed_by_its_updates_first_included(data: st.DataObject) -> None:
    world = data.draw(worlds())
    stream = data.draw(streams(world))
    for step in run_stream(stream):
        for n, e in enumerate(step):
            if e.kind is EventKind.NEW_INCIDENT:
                following = [x.update for x in step[n + 1 : n + 1 + len(e.incident.updates)]]
                assert following == list(e.incident.updates)
