"""A webhook push is a partial document: merged into what the diff knows, it changes
the incident it names and nothing else, and shares update identity with polls."""

from __future__ import annotations

from notifier.diff.engine import diff
from notifier.diff.partial import merge
from notifier.models import DocumentKind, EventKind, Status
from tests.diffkit import at, doc, inc, kinds


def _active(*incidents):  # type: ignore[no-untyped-def]
    return doc(*incidents, kind=DocumentKind.ACTIVE)


def test_a_push_about_one_incident_leaves_an_open_one_it_does_not_name_untouched() -> None:
    polled = diff(None, _active(inc("a", (0, Status.INVESTIGATING))), at(1)).state
    pushed = merge(polled, doc(inc("b", (2, Status.INVESTIGATING))), at(3))
    assert kinds(pushed.events) == [("new_incident", "b"), ("new_update", "b")]
    assert pushed.state.incidents["a"] == polled.incidents["a"]  # not gone, not missing
    assert pushed.state.polled_at == polled.polled_at  # a push is not a poll
    # Two more polls still list "a": nothing about it was counted as an absence.
    later = diff(pushed.state, _active(inc("a", (0, Status.INVESTIGATING))), at(4))
    assert [e for e in later.events if e.incident_id == "a"] == []


def test_an_update_pushed_then_polled_alerts_once() -> None:
    before = diff(None, _active(), at(0)).state
    incident = inc("x", (1, Status.INVESTIGATING), (3, Status.IDENTIFIED))
    pushed = merge(before, doc(incident), at(3.1))
    polled = diff(pushed.state, _active(incident), at(4))
    assert EventKind.NEW_INCIDENT in [e.kind for e in pushed.events]
    assert polled.events == ()


def test_an_update_polled_then_pushed_alerts_once() -> None:
    incident = inc("x", (1, Status.INVESTIGATING))
    polled = diff(diff(None, _active(), at(0)).state, _active(incident), at(2))
    assert kinds(polled.events) == [("new_incident", "x"), ("new_update", "x")]
    assert merge(polled.state, doc(incident), at(2.5)).events == ()


def test_a_pushed_resolution_is_one_resolved_event_carrying_its_update() -> None:
    opened = merge(None, doc(inc("x", (1, Status.INVESTIGATING))), at(1))
    closed = inc("x", (1, Status.INVESTIGATING), (9, Status.RESOLVED), status=Status.RESOLVED)
    result = merge(opened.state, doc(closed), at(9.2))
    assert kinds(result.events) == [("resolved", "x")]
    assert result.events[0].update is not None
    assert result.events[0].update.status is Status.RESOLVED


def test_a_first_push_before_any_poll_is_news_not_a_silent_baseline() -> None:
    result = merge(None, doc(inc("x", (1, Status.INVESTIGATING))), at(1))
    assert ("new_incident", "x") in kinds(result.events)
