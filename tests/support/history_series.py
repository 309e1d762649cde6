"""Long runs of daily Statuspage `history.atom` captures, made here.

The corpus holds seven real GitHub captures (`statuspage/githubstatus_history_atom_series`),
three of them on consecutive days. A long run is made here from them: every incident of
those real documents (its title, its updates' labels and bodies, and the rhythm between
its updates) is a *template*; a timeline re-dates the templates one after another (one or
two a day, at seeded hours) under new codes, and a capture at time t is the Atom document
the provider would have served then: the 25 incidents created most recently, each with
the updates posted by t, newest first, in the real markup.

Real providers also post late. Every `backfill_every`-th incident is *backfilled*: it
appears in the feed only days after its last update (published 27 Sep, first listed on
4 Oct, a single "Resolved"...), the case issue 30 found skipped.

`Story` is the ground truth a test checks a replay against; nothing here reads the diff.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from notifier.feeds import registry
from notifier.models import Status

CORPUS_SERIES = "statuspage/githubstatus_history_atom_series"
WINDOW = 25
LABEL = {
    Status.INVESTIGATING: "Investigating",
    Status.IDENTIFIED: "Identified",
    Status.UPDATE: "Update",
    Status.MONITORING: "Monitoring",
    Status.RESOLVED: "Resolved",
    Status.POSTMORTEM: "Postmortem",
    Status.SCHEDULED: "Scheduled",
    Status.IN_PROGRESS: "In progress",
    Status.VERIFYING: "Verifying",
    Status.COMPLETED: "Completed",
}


@dataclass(frozen=True, slots=True)
class Template:
    title: str
    maintenance: bool
    steps: tuple[tuple[timedelta, Status, str], ...]  # (after the first update, status, body)


@dataclass(frozen=True, slots=True)
class Story:
    """One incident of the made-up timeline, as the provider tells it."""

    code: str
    number: int
    title: str
    maintenance: bool
    updates: tuple[tuple[datetime, Status, str], ...]  # oldest first
    listed_from: datetime  # when it first appears in the feed (late for a backfill)

    @property
    def created(self) -> datetime:
        return self.updates[0][0]

    def shown(self, at: datetime) -> tuple[tuple[datetime, Status, str], ...]:
        """The updates a capture at `at` shows (none before it is listed)."""
        if at < self.listed_from:
            return ()
        return tuple(u for u in self.updates if u[0] <= at)


def templates(corpus: Path) -> list[Template]:
    """Every incident of the real GitHub captures, once (its fullest version)."""
    best: dict[str, Template] = {}
    for path in sorted((corpus / CORPUS_SERIES).glob("*.atom")):
        for inc in registry.parse(path.read_bytes(), "statuspage-atom", "github").incidents:
            if not inc.updates:
                continue
            first = inc.updates[0].at
            steps = tuple((u.at - first, u.status, u.body) for u in inc.updates)
            known = best.get(inc.id)
            if known is None or len(steps) > len(known.steps):
                maint = inc.kind.value == "maintenance"
                best[inc.id] = Template(inc.title, maint, steps)
    return list(best.values())


def timeline(
    source: Sequence[Template],
    start: datetime,
    days: int,
    *,
    seed: int = 30,
    backfill_every: int = 9,
) -> list[Story]:
    """Stories over `days` days from `start`: one or two a day, cycling through the
    templates; every `backfill_every`-th one listed only 2-6 days after it ended."""
    rng = random.Random(seed)
    stories: list[Story] = []
    for day in range(days):
        for _ in range(1 if rng.random() < 0.7 else 2):
            n = len(stories)
            tpl = source[n % len(source)]
            begin = start + timedelta(
                days=day, hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
            )
            updates = tuple((begin + off, status, body) for off, status, body in tpl.steps)
            listed = begin
            if backfill_every and n % backfill_every == backfill_every - 1:
                listed = updates[-1][0] + timedelta(
                    days=rng.randint(2, 6), hours=rng.randint(0, 12)
                )
            code = f"mh{n:06d}{rng.randrange(36**4):04x}"[:12]  # made here
            stories.append(Story(code, 20_000_000 + n, tpl.title, tpl.maintenance, updates, listed))
    return stories


def capture(stories: Sequence[Story], at: datetime, window: int = WINDOW) -> bytes:
    """The history.atom a provider with these stories serves at `at`."""
    listed = [(s, shown) for s in stories if (shown := s.shown(at))]
    listed.sort(key=lambda pair: pair[0].created, reverse=True)
    entries = "".join(_entry(s, shown) for s, shown in listed[:window])
    stamp = _iso(max((shown[-1][0] for _, shown in listed[:window]), default=at))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>tag:status.example.com,2005:/history</id>\n"
        '  <link rel="alternate" type="text/html" href="https://status.example.com"/>\n'
        "  <title>Example Status - Incident History (made here)</title>\n"
        f"  <updated>{stamp}</updated>\n  <author><name>Example</name></author>\n"
        f"{entries}</feed>\n"
    ).encode()


def captures(
    stories: Sequence[Story], start: datetime, days: int, hour: int = 4, minute: int = 29
) -> Iterator[tuple[datetime, bytes]]:
    """One capture a day at hh:mm UTC."""
    first = start.replace(hour=hour, minute=minute)
    for day in range(days):
        at = first + timedelta(days=day)
        yield at, capture(stories, at)


def write_series(root: Path, provider: str, stories: Sequence[Story], start: datetime,
                 days: int) -> Path:  # fmt: skip
    """The daily captures as `notifier replay` reads them: ROOT/<provider>/<stamp>.atom."""
    folder = root / provider
    folder.mkdir(parents=True, exist_ok=True)
    for at, body in captures(stories, start, days):
        (folder / f"{at:%Y%m%dT%H%M%S}Z.atom").write_bytes(body)
    return root


def _entry(story: Story, shown: tuple[tuple[datetime, Status, str], ...]) -> str:
    blob = "".join(_update(at, status, body) for at, status, body in reversed(shown))
    return (
        "  <entry>\n"
        f"    <id>tag:status.example.com,2005:Incident/{story.number}</id>\n"
        f"    <published>{_iso(story.created)}</published>\n"
        f"    <updated>{_iso(shown[-1][0])}</updated>\n"
        '    <link rel="alternate" type="text/html" '
        f'href="https://status.example.com/incidents/{story.code}"/>\n'
        f"    <title>{escape(story.title)}</title>\n"
        f'    <content type="html">{escape(blob)}</content>\n'
        "  </entry>\n"
    )


def _update(at: datetime, status: Status, body: str) -> str:
    return (
        f"<p><small>{at:%b} <var data-var='date'>{at.day:2d}</var>, "
        f"<var data-var='time'>{at:%H:%M}</var> UTC</small><br>"
        f"<strong>{LABEL[status]}</strong> - {escape(body)}</p>"
    )


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["Story", "Template", "capture", "captures", "templates", "timeline", "write_series"]
