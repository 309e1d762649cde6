"""A long run of daily captures of a Statuspage history feed, replayed: nothing skipped,
nothing twice.

The run is made here (`tests.support.history_series`) from the real GitHub captures of
the corpus: a year (365 days) of daily `history.atom` captures, 25 entries each, every incident a
real one's title, labels, bodies and rhythm, re-dated; every ninth incident is posted
days after it ended (a backfill). Checked against the timeline itself, not the diff:

- every incident first listed after the first capture comes out, on time or late (the
  backfilled ones late, in a catch-up, never paged);
- every update listed after the first capture (and every update of an incident open at
  the first capture) comes out exactly once, on whichever event carries it;
- a capture that shows several new updates of one incident gives one event for them.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.cli.replay import run_replay
from notifier.models import ChangeEvent, Status
from notifier.pipeline.replay import replay_polls
from tests.support.history_series import Story, captures, templates, timeline, write_series

START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 365
Key = tuple[str, datetime, Status, str]  # incident, update time, status, body


@pytest.fixture(scope="module")
def run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Story]]:
    stories = timeline(templates(corpus), START, DAYS)
    root = write_series(tmp_path_factory.mktemp("long"), "example", stories, START, DAYS)
    return root, stories


def _truth(stories: list[Story]) -> tuple[Counter[Key], set[str], datetime]:
    """What the captures show: the updates the replay must tell, and the incidents first
    listed after the first capture."""
    times = [at for at, _ in captures(stories, START, DAYS)]
    first = times[0]
    shown_at: dict[str, set[int]] = {}
    for at in times:
        window = sorted((s for s in stories if s.shown(at)), key=lambda s: s.created)[-25:]
        for s in window:
            shown_at.setdefault(s.code, set()).update(range(len(s.shown(at))))
    by_code = {s.code: s for s in stories}
    baseline = {s.code for s in stories if s.shown(first)} & set(shown_at)
    expected: Counter[Key] = Counter()
    for code, shown in shown_at.items():
        story = by_code[code]
        if code in baseline and _closed(story.shown(first)):
            shown = shown - set(range(len(story.shown(first))))  # history at the baseline
        for n in shown:
            at, status, body = story.updates[n]
            expected[(code, at, status, " ".join(body.split()))] += 1
    return expected, set(shown_at) - baseline, first


def _closed(updates: tuple[tuple[datetime, Status, str], ...]) -> bool:
    real = [status for _, status, _ in updates if status is not Status.UPDATE]
    return bool(real) and real[-1].is_closed


def _told(events: list[ChangeEvent]) -> Counter[Key]:
    out: Counter[Key] = Counter()
    for e in events:
        for u in (*e.earlier, e.update):
            if u is not None:
                out[(e.incident_id, u.at, u.status, " ".join(u.body.split()))] += 1
    return out


def test_every_incident_and_every_update_of_a_long_daily_run_comes_out_once(
    run: tuple[Path, list[Story]],
) -> None:
    root, stories = run
    polls = list(replay_polls(root, {"example": "statuspage-atom"}))
    assert len(polls) == DAYS
    events = [e for _, step in polls for e in step]
    expected, first_seen_later, _ = _truth(stories)
    told = _told(events)
    assert set(expected) - set(told) == set()  # nothing skipped
    assert set(told) - set(expected) == set()
    assert told == expected  # each exactly once (twice only where the feed says it twice)
    assert first_seen_later <= {e.incident_id for e in events}
    # one event per incident and capture, however many updates it shows
    for _, step in polls:
        ids = [e.incident_id for e in step if e.kind.value != "impact_changed"]
        assert len(ids) == len(set(ids))
    assert any(e.earlier for e in events)  # bursts happened, and were one event each


def test_backfilled_incidents_come_out_late_in_a_catch_up(
    run: tuple[Path, list[Story]], tmp_path: Path
) -> None:
    root, stories = run
    backfilled = {s.code for s in stories if s.listed_from > s.updates[-1][0]}
    _, later, _ = _truth(stories)
    assert len(backfilled & later) >= 10
    polls = list(replay_polls(root, {"example": "statuspage-atom"}))
    late = {e.incident_id for _, step in polls for e in step if e.late}
    assert backfilled & later <= late
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: example\n    name: Example\n"
        "    feed: {url: 'https://status.example.com/history.atom', format: statuspage-atom}\n"
        "subscribers:\n  - name: ops\n    slack: {channel: '#ops'}\n"
        "    sms: {to: ['+15550100']}\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_replay(root, config, out, err) == 0, err.getvalue()
    alerts = [r for r in map(json.loads, out.getvalue().splitlines()) if r["type"] == "alert"]
    caught = [a for a in alerts if a["kind"] == "catch_up"]
    assert {a["channel"] for a in caught} == {"slack"}  # late news never pages
    said = " ".join(a["text"] for a in caught)
    assert "[CATCH-UP] Posted late on Example's status page (seen " in said
    titles = {s.title for s in stories if s.code in backfilled & later}
    assert all(t in said for t in titles)
    paged = {a["incident_id"] for a in alerts if a["channel"] == "sms"}
    assert not paged & backfilled
