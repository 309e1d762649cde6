"""One alert per update, one message per incident and poll (hypothesis).

Generated worlds mix incidents and scheduled maintenances, some of whose impact rises
as they go on; the stream the diff sees skips, repeats and re-serves stale snapshots
(`tests.diff.test_diff_properties.streams`). Over `DiffResult.messages` (what the
pipeline plans alerts from):

- each (incident, update) pair is carried by at most one event that can make an
  alert, and every update shown after the baseline is carried by exactly one;
- one poll gives at most one message event per incident, carrying its updates in
  the order they were posted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.diff.burst import MESSAGE_KINDS
from notifier.diff.engine import diff, effective_status
from notifier.models import (
    ChangeEvent,
    DocumentKind,
    EventKind,
    FeedDocument,
    Impact,
    IncidentKind,
    Status,
)
from notifier.store.feeds.snapshot import ProviderState
from tests.diff.test_diff_properties import Stream, expected_updates, streams
from tests.diffkit import at, doc, inc

INCIDENT = [Status.INVESTIGATING, Status.IDENTIFIED, Status.UPDATE, Status.MONITORING]
INCIDENT += [Status.RESOLVED]
MAINTENANCE = [Status.SCHEDULED, Status.IN_PROGRESS, Status.VERIFYING, Status.UPDATE]
MAINTENANCE += [Status.COMPLETED]
# Everything that can make an alert (feed health and probes are not about updates).
ALERTING = MESSAGE_KINDS | {EventKind.IMPACT_CHANGED, EventKind.COMPONENTS_CHANGED}


@dataclass(frozen=True)
class World:
    entries: list[tuple[str, IncidentKind, bool, list[tuple[int, Status]]]]
    kind: DocumentKind
    window: int

    @property
    def incidents(self) -> list[tuple[str, list[tuple[int, Status]]]]:
        """As `streams` reads a world: (id, updates)."""
        return [(iid, updates) for iid, _, _, updates in self.entries]

    def snapshot(self, t: int) -> FeedDocument:
        shown = []
        for iid, kind, rising, updates in self.entries:
            posted = [u for u in updates if u[0] <= t]
            if posted:
                impact = Impact.MAJOR if rising and len(posted) > 1 else Impact.MINOR
                if kind is IncidentKind.MAINTENANCE:
                    impact = Impact.MAINTENANCE
                shown.append(inc(iid, *posted, kind=kind, impact=impact))
        if self.kind is DocumentKind.ACTIVE:
            shown = [i for i in shown if not effective_status(i, None).is_closed]
        else:
            shown = shown[-self.window :]
        return doc(*reversed(shown), kind=self.kind)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    incidents = []
    start = 0
    for n in range(draw(st.integers(1, 5))):
        start += draw(st.integers(1, 30))
        kind = draw(st.sampled_from([IncidentKind.INCIDENT, IncidentKind.MAINTENANCE]))
        statuses = MAINTENANCE if kind is IncidentKind.MAINTENANCE else INCIDENT
        t, updates = start, []
        for gap in draw(st.lists(st.integers(0, 15), min_size=1, max_size=6)):
            t += gap
            updates.append((t, draw(st.sampled_from(statuses))))
        incidents.append((f"i{n}", kind, draw(st.booleans()), updates))
    kind = draw(st.sampled_from([DocumentKind.HISTORY, DocumentKind.ACTIVE]))
    return World(incidents, kind, draw(st.integers(1, 5)))


def run_messages(stream: Stream) -> list[list[ChangeEvent]]:
    state: ProviderState | None = None
    steps = []
    for d, now in stream:
        result = diff(state, d, now)
        state = ProviderState.from_json(result.state.to_json())
        steps.append(list(result.messages))
    return steps


def _carried(e: ChangeEvent) -> list[str]:
    return [u.key for u in (*e.earlier, e.update) if u is not None]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_each_update_is_in_exactly_one_alerting_event(data: st.DataObject) -> None:
    world = data.draw(worlds())
    stream = data.draw(streams(world))  # type: ignore[arg-type]
    events = [e for step in run_messages(stream) for e in step]
    pairs = Counter(
        (e.incident_id, key) for e in events if e.kind in ALERTING for key in _carried(e)
    )
    assert all(n == 1 for n in pairs.values()), [p for p, n in pairs.items() if n > 1]
    assert set(pairs) == expected_updates(stream)  # nothing shown is skipped


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_poll_gives_one_message_per_incident_with_its_updates_in_order(
    data: st.DataObject,
) -> None:
    world = data.draw(worlds())
    stream = data.draw(streams(world))  # type: ignore[arg-type]
    for step in run_messages(stream):
        messages = [e for e in step if e.kind in MESSAGE_KINDS]
        assert len({e.incident_id for e in messages}) == len(messages)
        for e in messages:
            order = [u.key for u in e.incident.updates]
            keys = _carried(e)
            assert keys == sorted(keys, key=order.index)


def test_a_maintenance_completed_between_polls_is_one_event_carrying_both_updates() -> None:
    scheduled = (0, Status.SCHEDULED)
    m = IncidentKind.MAINTENANCE
    first = diff(None, doc(inc("m", scheduled, kind=m)), at(1))
    later = doc(inc("m", scheduled, (30, Status.IN_PROGRESS), (90, Status.COMPLETED), kind=m))
    (done,) = diff(first.state, later, at(95)).messages
    assert done.kind is EventKind.MAINTENANCE_COMPLETED
    assert [u.status for u in (*done.earlier, done.update) if u] == [
        Status.IN_PROGRESS,
        Status.COMPLETED,
    ]


def test_a_maintenance_first_seen_already_done_is_one_event_that_says_so() -> None:
    m = IncidentKind.MAINTENANCE
    quiet = diff(None, doc(), at(0))
    done = inc(
        "m", (10, Status.SCHEDULED), (20, Status.IN_PROGRESS), (40, Status.COMPLETED), kind=m
    )
    (event,) = diff(quiet.state, doc(done), at(41) + timedelta(seconds=1)).messages
    assert event.kind is EventKind.MAINTENANCE_COMPLETED and event.first_seen
    assert len(event.earlier) == 2 and event.update is not None
