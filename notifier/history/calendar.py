"""Impact per day and per month, for the console's Reliability page.

Each incident's impact segments (from one recorded impact to the next) are cut at day
or month boundaries (UTC); a day's colour is the worst impact it had for any minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from notifier.history.period import Period, months_in
from notifier.history.spans import IMPACTS, Span

RANK = {imp: len(IMPACTS) - i for i, imp in enumerate(IMPACTS)}  # critical highest

Minutes = dict[str, float]  # impact -> minutes


def segments(span: Span, now: datetime) -> list[tuple[datetime, datetime, str]]:
    """(from, to, impact) pieces of one incident, in order."""
    end = span.until(now)
    changes = [(at, imp) for at, imp in span.impacts if span.start <= at < end]
    if not changes or changes[0][0] > span.start:
        first = next((imp for at, imp in span.impacts if at <= span.start), None)
        changes.insert(0, (span.start, first or (changes[0][1] if changes else span.impact)))
    stops = [at for at, _ in changes[1:]] + [end]
    return [(at, stop, imp) for (at, imp), stop in zip(changes, stops, strict=True) if stop > at]


def _clip(a: datetime, b: datetime, lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(b, hi) - max(a, lo)).total_seconds() / 60)


def daily(spans: Iterable[Span], start: date, days: int, now: datetime) -> dict[date, Minutes]:
    """Minutes at each impact, per UTC day from `start` for `days` days."""
    out: dict[date, Minutes] = defaultdict(dict)
    first = datetime(start.year, start.month, start.day, tzinfo=now.tzinfo)
    for span in spans:
        for a, b, imp in segments(span, now):
            day = max(a, first).date()
            while day < start + timedelta(days=days):
                lo = datetime(day.year, day.month, day.day, tzinfo=first.tzinfo)
                if lo >= b:
                    break
                got = _clip(a, b, lo, lo + timedelta(days=1))
                if got > 0:
                    out[day][imp] = out[day].get(imp, 0.0) + got
                day += timedelta(days=1)
    return dict(out)


def monthly(spans: Iterable[Span], period: Period, now: datetime) -> list[tuple[str, Minutes]]:
    """Minutes at each impact per month of `period`, oldest first."""
    spans = list(spans)
    out = []
    for month in months_in(period):
        got: Minutes = {}
        for span in spans:
            for a, b, imp in segments(span, now):
                m = _clip(a, b, month.start, month.end)
                if m > 0:
                    got[imp] = got.get(imp, 0.0) + m
        out.append((month.label, got))
    return out


def worst(minutes: Minutes) -> str:
    """The worst impact with any minutes ('' for a quiet day)."""
    found = [imp for imp, m in minutes.items() if m > 0 and imp in RANK]
    return max(found, key=lambda imp: RANK[imp]) if found else ""
