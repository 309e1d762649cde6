"""The diff's rules, one behaviour per test, on made-here documents (tests/diffkit.py)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from notifier.diff.engine import LATE_NEWS, diff
from notifier.diff.events import event_id
from notifier.models import DocumentKind, EventKind, Gap, Impact, IncidentKind, Status
from notifier.store.feeds.snapshot import RETENTION, ProviderState
from tests.diffkit import PROVIDER, at, doc, inc, kinds

INV, IDE, UPD, MON, RES = (
    Status.INVESTIGATING,
    Status.IDENTIFIED,
    Status.UPDATE,
    Status.MONITORING,
    Status.RESOLVED,
)
ACTIVE = DocumentKind.ACTIVE
MAINT = IncidentKind.MAINTENANCE


def run(*docs_and_times):
    """Diff a sequence of (document, minute) pairs; the events of each step."""
    state: ProviderState | None = None
    steps = []
    for d, minute in docs_and_times:
        result = diff(state, d, at(minute))
        state = ProviderState.from_json(result.state.to_json())  # stored and read back
        steps.append(result.events)
    return steps, state


def test_the_first_poll_is_a_baseline_silent_for_closed_incidents() -> None:
    (events,), _ = run((doc(inc("old", (0, INV), (9, RES))), 10))
    assert events == ()


def test_an_active_incident_at_baseline_gets_new_incident_then_every_update() -> None:
    (events,), _ = run((doc(inc("a", (0, INV), (3, IDE))), 5))
    assert kinds(events) == [("new_incident", "a"), ("new_update", "a"), ("new_update", "a")]
    assert [e.update.status for e in events[1:]] == [INV, IDE]
    assert events[0].update is None and events[0].incident.status is IDE


def test_the_same_snapshot_twice_gives_nothing() -> None:
    d = doc(inc("a", (0, INV)), inc("b", (1, INV), (2, RES)))
    _, second = run((d, 5), (d, 6))[0]
    assert second == ()


def test_several_updates_in_one_poll_give_one_new_update_each_oldest_first() -> None:
    steps, _ = run((doc(inc("a", (0, INV))), 1), (doc(inc("a", (0, INV), (2, UPD), (4, UPD))), 5))
    assert [e.update.at for e in steps[1]] == [at(2), at(4)]
    assert {e.kind for e in steps[1]} == {EventKind.NEW_UPDATE}


def test_updates_sharing_a_minute_and_a_status_are_distinct() -> None:
    steps, _ = run((doc(inc("a", (0, INV))), 1), (doc(inc("a", (0, INV), (2, UPD), (2, UPD))), 3))
    assert len(steps[1]) == 2
    assert steps[1][0].event_id != steps[1][1].event_id


def test_an_edited_update_body_is_not_a_new_update() -> None:
    first = inc("a", (0, INV, "We are investigating"))
    edited = inc("a", (0, INV, "We are investigating elevated errors (edited)"))
    edited = replace(edited, updated_at=at(3))
    assert run((doc(first), 1), (doc(edited), 4))[0][1] == ()


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # an incident's status moves on with a new update: status_changed
        (inc("a", (0, INV)), inc("a", (0, INV), (5, IDE)), ["new_update", "status_changed"]),
        # an open incident closes: resolved (instead of status_changed), carrying its update
        (inc("a", (0, INV)), inc("a", (0, INV), (5, RES)), ["resolved"]),
        # a closed incident gets a new open update: reopened, carrying it (one message)
        (inc("a", (0, INV), (5, RES)), inc("a", (0, INV), (5, RES), (8, INV)), ["reopened"]),
        # resolved then postmortem: both closed, a plain status_changed
        (
            inc("a", (0, INV), (5, RES)),
            inc("a", (0, INV), (5, RES), (9, Status.POSTMORTEM)),
            ["new_update", "status_changed"],
        ),
        # impact raised by the same update: status event first, then impact
        (
            inc("a", (0, INV)),
            inc("a", (0, INV), (5, IDE), impact=Impact.MAJOR),
            ["new_update", "status_changed", "impact_changed"],
        ),
        # components changed with no new update but a newer updated_at
        (
            inc("a", (0, INV), components=["API"]),
            inc("a", (0, INV), components=["API", "Web"], updated_at=at(7)),
            ["components_changed"],
        ),
        # impact changed with no newer updated_at: a stale copy, ignored
        (inc("a", (0, INV)), inc("a", (0, INV), impact=Impact.CRITICAL), []),
    ],
)
def test_changes_to_a_known_incident(before, after, expected) -> None:
    steps, _ = run((doc(before), 6), (doc(after), 10))
    assert [e.kind.value for e in steps[1]] == expected


def test_status_changes_carry_previous_and_current() -> None:
    steps, _ = run((doc(inc("a", (0, INV))), 1), (doc(inc("a", (0, INV), (2, MON))), 3))
    change = steps[1][1]
    assert (change.previous, change.current) == ("investigating", "monitoring")
    assert change.update is not None and change.update.at == at(2)


def test_an_older_snapshot_from_a_stale_cache_resurrects_nothing() -> None:
    old = doc(inc("a", (0, INV)))
    new = doc(inc("a", (0, INV), (5, RES)))
    steps, state = run((old, 1), (new, 6), (old, 7), (new, 8))
    assert steps[2] == () and steps[3] == ()
    assert state is not None and state.incidents["a"].snapshot.status is RES


def test_leaving_a_history_window_means_nothing_and_coming_back_is_not_new() -> None:
    a, b = inc("a", (0, INV)), inc("b", (1, INV))
    steps, state = run((doc(a, b), 2), (doc(b), 3), (doc(a, b), 4))
    assert steps[1] == () and steps[2] == ()
    assert state is not None and state.incidents["a"].snapshot.status is INV


def test_leaving_an_active_list_resolves_the_incident_at_the_second_absence() -> None:
    a = inc("a", (0, INV), (2, IDE))
    steps, state = run((doc(a, kind=ACTIVE), 3), (doc(kind=ACTIVE), 9), (doc(kind=ACTIVE), 10))
    assert steps[1] == ()
    (event,) = steps[2]
    assert event.kind is EventKind.RESOLVED and event.update is None
    assert event.incident.status is RES and event.incident.resolved_at == at(9)
    assert (event.previous, event.current) == ("identified", "resolved")
    assert event.note == (
        "No longer listed on acme's status page as of 12:09 UTC; no final update was published"
    )
    assert state is not None and state.incidents["a"].absent_resolved_at == at(10)


def test_maintenance_moves_through_scheduled_started_completed() -> None:
    def m(*ups):
        return inc("m", *ups, kind=MAINT, impact=Impact.MAINTENANCE)

    sched, started = (0, Status.SCHEDULED), (60, Status.IN_PROGRESS)
    steps, _ = run(
        (doc(m(sched)), 1),
        (doc(m(sched, started)), 61),
        (doc(m(sched, started, (120, Status.COMPLETED))), 121),
    )
    assert [e.kind.value for e in steps[0]] == [
        "new_incident",
        "new_update",
        "maintenance_scheduled",
    ]
    assert [e.kind.value for e in steps[1]] == ["new_update", "maintenance_started"]
    assert [e.kind.value for e in steps[2]] == ["new_update", "maintenance_completed"]


def test_maintenance_leaving_an_active_list_is_completed() -> None:
    m = inc("m", (0, Status.IN_PROGRESS), kind=MAINT)
    steps, _ = run((doc(m, kind=ACTIVE), 1), (doc(kind=ACTIVE), 30), (doc(kind=ACTIVE), 31))
    assert steps[1] == ()
    assert [(e.kind.value, e.current) for e in steps[2]] == [("maintenance_completed", "completed")]


def test_an_incident_opened_and_closed_between_polls_is_reported_whole() -> None:
    b = inc("b", (2, INV), (4, RES))
    steps, _ = run((doc(inc("a", (0, RES))), 1), (doc(inc("a", (0, RES)), b), 5))
    assert kinds(steps[1]) == [("new_incident", "b"), ("new_update", "b"), ("resolved", "b")]
    assert [e.update.status for e in steps[1][1:]] == [INV, RES]
    assert not any(e.late for e in steps[1])


def test_a_closed_incident_older_than_the_first_window_scrolling_in_is_late_news() -> None:
    # a deletion (or a backfill) upstream lets an older, never-seen incident into the
    # 2-entry window: nothing is silently skipped, it is told once, as late news
    a, b, older = inc("a", (10, RES)), inc("b", (20, RES)), inc("z", (-30, INV), (-25, RES))
    steps, _ = run((doc(b, a), 21), (doc(b, older), 22))
    assert [e.kind.value for e in steps[1]] == ["new_incident", "new_update", "resolved"]
    assert all(e.late and e.gap == Gap(at(21), at(22)) for e in steps[1])


def test_a_backfilled_incident_posted_days_after_the_time_it_names_is_late_news() -> None:
    # daily polls, no gap: published on day 7 with a single "Resolved" update dated day 0
    day = 24 * 60
    backfilled = inc("bf", (10, RES))
    steps, _ = run(*((doc(), day * n) for n in range(7)), (doc(backfilled), 7 * day))
    assert [e.kind.value for e in steps[7]] == ["new_incident", "resolved"]
    assert all(e.late and e.gap == Gap(at(6 * day), at(7 * day)) for e in steps[7])


def test_an_incident_posted_after_our_last_poll_but_dated_before_it_is_late_even_within_a_day() -> (
    None
):
    steps, _ = run((doc(), 0), (doc(), 60), (doc(inc("bf", (30, INV), (50, RES))), 120))
    assert [e.late for e in steps[2]] == [True, True, True]


def test_a_closed_incident_first_seen_long_after_it_ended_is_late_news() -> None:
    late = inc("late", (100, INV), (110, RES))
    minutes = 110 + LATE_NEWS.total_seconds() / 60 + 1
    steps, state = run((doc(), 0), (doc(late), minutes))
    assert [e.kind.value for e in steps[1]] == ["new_incident", "new_update", "resolved"]
    assert all(e.late and e.gap == Gap(at(0), at(minutes)) for e in steps[1])
    assert state is not None and "late" in state.incidents


def test_knowledge_is_pruned_30_days_after_leaving_and_an_old_return_is_late_news() -> None:
    a, b = inc("a", (0, INV), (5, RES)), inc("b", (1, RES))
    month = RETENTION.total_seconds() / 60
    steps, state = run((doc(a, b), 6), (doc(b), 7), (doc(b), 7 + month + 1), (doc(a, b), 8 + month))
    assert state is not None and "a" in state.incidents  # back in the window: known again
    assert steps[2] == ()
    assert steps[3] and all(e.late for e in steps[3])  # forgotten, so told again, never paged


def test_knowledge_of_a_listed_incident_is_never_pruned() -> None:
    a = inc("a", (0, INV), (5, RES))
    month = RETENTION.total_seconds() / 60
    _, state = run((doc(a), 6), (doc(a), 6 + 2 * month))
    assert state is not None and "a" in state.incidents


def test_event_ids_are_stable_across_re_diffs_and_distinct_per_change() -> None:
    before, after = doc(inc("a", (0, INV))), doc(inc("a", (0, INV), (3, RES)))
    state = diff(None, before, at(1)).state
    first, again = diff(state, after, at(4)), diff(state, after, at(9))
    assert [e.event_id for e in first.events] == [e.event_id for e in again.events]
    ids = [e.event_id for e in first.events]
    assert len(set(ids)) == len(ids)
    assert ids[0] == event_id(PROVIDER, "a", EventKind.RESOLVED, "20250416T1203Z#1", "resolved")


def test_event_order_does_not_depend_on_document_order() -> None:
    incidents = [inc(f"i{n}", (n, INV), (n + 1, UPD)) for n in range(8)]
    shuffled = incidents[:]
    random.Random(4).shuffle(shuffled)
    one = diff(None, doc(*incidents), at(20)).events
    two = diff(None, doc(*shuffled), at(20)).events
    assert [e.event_id for e in one] == [e.event_id for e in two]
    assert [e.incident_id for e in one][::3] == [f"i{n}" for n in range(8)]


def test_provider_state_round_trips_through_json_and_stays_compact() -> None:
    a = inc("a", *[(n, UPD, "x" * 500) for n in range(20)])
    state = diff(None, doc(a), at(30)).state
    raw = state.to_json()
    assert ProviderState.from_json(raw) == state
    assert len(raw) < 3000  # 20 updates of 500 chars: only the newest body is kept
    assert len(state.incidents["a"].seen) == 20


def test_updates_without_keys_are_keyed_by_the_diff() -> None:
    a = inc("a", (0, INV), (0, INV))
    bare = replace(a, updates=tuple(replace(u, key="") for u in a.updates))
    events = diff(None, doc(bare), at(1)).events
    assert len({e.event_id for e in events}) == 3


def test_detected_at_is_the_polls_now() -> None:
    events = diff(None, doc(inc("a", (0, INV))), at(1) + timedelta(seconds=7)).events
    assert {e.detected_at for e in events} == {at(1) + timedelta(seconds=7)}
