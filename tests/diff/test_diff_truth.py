"""Every alert tells the truth: the diff's rules for resolutions, reopens, glitches and
late news, table-driven on made-here documents with an injected clock.

Each step is (document, minute of the poll, history lookups the poll stage made); each
event is summarised as `kind:update status`, `+note` when notifier speaks where the
provider gave no words, and `late` for late news.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from notifier.diff.engine import diff, final_words
from notifier.diff.facts import PollFacts
from notifier.models import ChangeEvent, DocumentKind, EventKind, FeedDocument, Gap, Incident
from notifier.models import Status as S
from notifier.store.feeds.snapshot import ProviderState
from tests.diffkit import at, doc, inc

ACTIVE = DocumentKind.ACTIVE
DAY = 24 * 60
Step = tuple[FeedDocument, float, Mapping[str, Incident | None]]

OPEN = inc("a", (0, S.INVESTIGATING, "Looking into errors"), (5, S.IDENTIFIED, "Found it"))
CLOSED = inc(
    "a",
    (0, S.INVESTIGATING, "Looking into errors"),
    (5, S.IDENTIFIED, "Found it"),
    (12, S.RESOLVED, "Fixed: errors are back to normal"),
)
BACK = inc(
    "a",
    (0, S.INVESTIGATING, "Looking into errors"),
    (5, S.IDENTIFIED, "Found it"),
    (12, S.RESOLVED, "Fixed: errors are back to normal"),
    (30, S.INVESTIGATING, "Errors are back"),
)


def summary(e: ChangeEvent) -> str:
    text = e.kind.value + (f":{e.update.status.value}" if e.update else "")
    text += "+note" if e.note else ""
    return f"late {text}" if e.late else text


def run(steps: Sequence[Step]) -> tuple[list[list[ChangeEvent]], ProviderState | None]:
    state: ProviderState | None = None
    out = []
    for document, minute, lookups in steps:
        result = diff(state, document, at(minute), PollFacts(name="Acme", lookups=lookups))
        state = ProviderState.from_json(result.state.to_json())  # stored and read back
        out.append(list(result.events))
    return out, state


CASES: dict[str, tuple[list[Step], list[list[str]]]] = {
    # left the active list; the history lookup shows it resolved: its final update, now
    "final update on leave": (
        [(doc(OPEN, kind=ACTIVE), 6, {}), (doc(kind=ACTIVE), 13, {"a": CLOSED})],
        [["new_incident", "new_update:investigating", "new_update:identified"],
         ["resolved:resolved"]],
    ),
    # history unreachable twice: nothing at one absence, our note at the second, once
    "lookup failure said once": (
        [(doc(OPEN, kind=ACTIVE), 6, {}), (doc(kind=ACTIVE), 13, {"a": None}),
         (doc(kind=ACTIVE), 14, {"a": None}), (doc(kind=ACTIVE), 15, {})],
        [["new_incident", "new_update:investigating", "new_update:identified"],
         [], ["resolved+note"], []],
    ),
    # a history lagging behind shows it still open: not confirmed, the absence rule decides
    "history still open is no confirmation": (
        [(doc(OPEN, kind=ACTIVE), 6, {}), (doc(kind=ACTIVE), 13, {"a": OPEN}),
         (doc(kind=ACTIVE), 14, {"a": OPEN})],
        [["new_incident", "new_update:investigating", "new_update:identified"],
         [], ["resolved+note"]],
    ),
    # updates arriving together each keep their own status; the resolution carries its own
    "own status labels": (
        [(doc(inc("a", (0, S.INVESTIGATING))), 1, {}),
         (doc(inc("a", (0, S.INVESTIGATING), (4, S.MONITORING), (9, S.RESOLVED))), 10, {})],
        [["new_incident", "new_update:investigating"],
         ["new_update:monitoring", "resolved:resolved"]],
    ),
    # a new open update on a resolved incident: one reopened event carrying it
    "reopen once": (
        [(doc(CLOSED), 13, {}), (doc(BACK), 31, {}), (doc(BACK), 32, {})],
        [[], ["reopened:investigating"], []],
    ),
    # missing from ONE poll (a CDN glitch), then back unchanged: nothing at all
    "one-poll glitch": (
        [(doc(OPEN, kind=ACTIVE), 6, {}), (doc(kind=ACTIVE), 7, {}),
         (doc(OPEN, kind=ACTIVE), 8, {})],
        [["new_incident", "new_update:investigating", "new_update:identified"], [], []],
    ),
    # a glitch does not count toward a later absence: it must be missed twice in a row
    "absences must be consecutive": (
        [(doc(OPEN, kind=ACTIVE), 6, {}), (doc(kind=ACTIVE), 7, {}),
         (doc(OPEN, kind=ACTIVE), 8, {}), (doc(kind=ACTIVE), 9, {}),
         (doc(kind=ACTIVE), 10, {})],
        [["new_incident", "new_update:investigating", "new_update:identified"],
         [], [], [], ["resolved+note"]],
    ),
    # resolved on absence, then listed open again with nothing new: a reopen, said once
    "listed again after a resolution": (
        [(doc(OPEN, kind=ACTIVE), 6, {}), (doc(kind=ACTIVE), 7, {}), (doc(kind=ACTIVE), 8, {}),
         (doc(OPEN, kind=ACTIVE), 9, {}), (doc(OPEN, kind=ACTIVE), 10, {})],
        [["new_incident", "new_update:investigating", "new_update:identified"],
         [], ["resolved+note"], ["reopened+note"], []],
    ),
    # a history feed carries the resolving item, then scrolls it out: exactly one Resolved
    "history feed resolving item": (
        [(doc(OPEN), 6, {}), (doc(CLOSED), 13, {}), (doc(), 14, {}), (doc(), 15, {})],
        [["new_incident", "new_update:investigating", "new_update:identified"],
         ["resolved:resolved"], [], []],
    ),
    # an active list, then a history-kind read listing the resolving update, then absent
    # from the active list twice: the resolving update was the one Resolved
    "history item then absence": (
        [(doc(OPEN, kind=ACTIVE), 6, {}), (doc(CLOSED), 13, {}),
         (doc(kind=ACTIVE), 14, {}), (doc(kind=ACTIVE), 15, {})],
        [["new_incident", "new_update:investigating", "new_update:identified"],
         ["resolved:resolved"], [], []],
    ),
    # began and ended while we were not looking, over a day ago: late, kinds kept
    "late news": (
        [(doc(), 0, {}), (doc(CLOSED), 12 + DAY + 1, {})],
        [[], ["late new_incident", "late new_update:investigating",
              "late new_update:identified", "late resolved:resolved"]],
    ),
    # ended before our last look (posted late, knowledge pruned, an upstream deletion):
    # late news, never silently skipped
    "ended before our last look": (
        [(doc(), 20, {}), (doc(CLOSED), 20 + 2 * DAY, {})],
        [[], ["late new_incident", "late new_update:investigating",
              "late new_update:identified", "late resolved:resolved"]],
    ),
    # the first poll is a baseline: what is already closed there is silent, however old
    "first-poll baseline silent": (
        [(doc(CLOSED, inc("b", (-3 * DAY, S.RESOLVED))), 13, {})],
        [[]],
    ),
    # older than the first poll's history window, scrolling in later: late news
    "history older than the first window": (
        [(doc(inc("b", (100, S.RESOLVED))), 101, {}),
         (doc(inc("b", (100, S.RESOLVED)), CLOSED), 102 + 2 * DAY, {})],
        [[], ["late new_incident", "late new_update:investigating",
              "late new_update:identified", "late resolved:resolved"]],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_the_diff_tells_the_truth(name: str) -> None:
    steps, expected = CASES[name]
    got, _ = run(steps)
    assert [[summary(e) for e in step] for step in got] == expected


def test_a_final_update_on_leave_is_carried_with_its_text_time_and_status() -> None:
    (_, (resolved,)), _ = run(CASES["final update on leave"][0])
    assert resolved.update is not None and resolved.note is None
    assert (resolved.update.body, resolved.update.at) == (
        "Fixed: errors are back to normal",
        at(12),
    )
    assert resolved.incident.status is S.RESOLVED


def test_the_unconfirmed_resolution_says_so_and_never_requotes_an_older_update() -> None:
    (_, _, (resolved,), _), state = run(CASES["lookup failure said once"][0])
    assert resolved.update is None
    assert resolved.note == (
        "No longer listed on Acme's status page as of 12:13 UTC; no final update was published"
    )
    assert state is not None and state.incidents["a"].awaiting_final


def test_a_later_lookup_posts_the_final_update_once_as_a_new_update() -> None:
    _, state = run(CASES["lookup failure said once"][0])
    assert state is not None
    missing = final_words(state, "a", None, at(20))
    assert (missing.events, missing.settled) == ((), False)  # still unreachable: look again
    found = final_words(state, "a", CLOSED, at(30))
    assert [summary(e) for e in found.events] == ["new_update:resolved"]
    assert found.events[0].update is not None
    assert found.events[0].update.body == "Fixed: errors are back to normal" and found.settled
    again = final_words(found.state, "a", CLOSED, at(40))
    assert (again.events, again.settled) == ((), True)
    # the final update also showing up in a feed later is not news twice
    assert diff(found.state, doc(CLOSED), at(50)).events == ()


def test_late_news_carries_the_gap_it_happened_in() -> None:
    steps, _ = CASES["late news"]
    got, _ = run(steps)
    assert {e.gap for e in got[1]} == {Gap(at(0), at(12 + DAY + 1))}
    # the poll stage knows the last successful poll better than the state (unchanged polls)
    state = diff(None, doc(), at(0)).state
    later = diff(state, doc(CLOSED), at(12 + DAY + 1), PollFacts(last_ok=at(5)))
    assert {e.gap for e in later.events} == {Gap(at(5), at(12 + DAY + 1))}


def test_a_reopen_carries_the_update_that_reopened_it() -> None:
    (_, (reopened,), _), _ = run(CASES["reopen once"][0])
    assert reopened.kind is EventKind.REOPENED and reopened.update is not None
    assert (reopened.update.body, reopened.update.status) == ("Errors are back", S.INVESTIGATING)
    assert (reopened.previous, reopened.current) == ("resolved", "investigating")


def test_each_absence_cycle_has_its_own_resolution() -> None:
    # resolved on absence, listed again, dropped again: a second resolution, not a dedup'd one
    steps = [*CASES["listed again after a resolution"][0], (doc(kind=ACTIVE), 11, {}),
             (doc(kind=ACTIVE), 12, {})]  # fmt: skip
    got, _ = run(steps)
    resolutions = [e for step in got for e in step if e.kind is EventKind.RESOLVED]
    assert len(resolutions) == 2 and len({e.event_id for e in resolutions}) == 2
