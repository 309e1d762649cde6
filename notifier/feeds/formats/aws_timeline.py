"""The update timeline inside a legacy AWS `data.json` event description.

Each update is `<div><span class="yellowfg">TIME</span>&nbsp;text</div>`, oldest
first. TIME is a wall-clock label such as `12:53 PM PDT`, ` 1:14 PM PST` or, once
an event runs past a day, `Sep 13,  9:05 AM PDT`. It has no year and usually no
date, so dates come from the event's start (`date`, epoch seconds) and from the
order of the updates: a label earlier than the previous update is the next day.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from notifier.feeds.html_text import html_to_text

# Labels AWS has used; anything else is read as the dashboard's Pacific time.
_ZONES: dict[str, tzinfo] = {
    "PDT": timezone(timedelta(hours=-7)),
    "PST": timezone(timedelta(hours=-8)),
    "MDT": timezone(timedelta(hours=-6)),
    "MST": timezone(timedelta(hours=-7)),
    "CDT": timezone(timedelta(hours=-5)),
    "CST": timezone(timedelta(hours=-6)),
    "EDT": timezone(timedelta(hours=-4)),
    "EST": timezone(timedelta(hours=-5)),
    "UTC": UTC,
    "GMT": UTC,
}
_PACIFIC = ZoneInfo("America/Los_Angeles")
_MONTHS = {datetime(2000, m, 1).strftime("%b"): m for m in range(1, 13)}

_DIV = re.compile(r"<div\b[^>]*>", re.IGNORECASE)
_ENTRY = re.compile(
    r"^\s*<span\s+class=[\"']?yellowfg[\"']?\s*>(?P<label>[^<]{0,60})</span>(?P<body>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_LABEL = re.compile(
    r"^(?:(?P<mon>[A-Z][a-z]{2})\s+(?P<day>\d{1,2}),\s*)?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2})\s*(?P<ampm>AM|PM)\s*(?P<tz>[A-Z]{2,4})?$",
    re.IGNORECASE,
)
# A label that steps back by more than this is read as the next day.
_SLACK = timedelta(minutes=1)


def split_timeline(description: str, start: datetime) -> list[tuple[datetime, str]]:
    """(time, plain-text body) per update, oldest first.

    A description without any time label is one update at `start`. A label that
    cannot be read keeps the previous update's time and stays in the body, so an
    odd entry never loses its text.
    """
    entries: list[tuple[datetime, str]] = []
    previous: datetime | None = None
    for chunk in _DIV.split(description):
        match = _ENTRY.match(chunk)
        if match is None:
            text = html_to_text(chunk)
            if text:
                entries.append((previous or start, text))
            continue
        label = html_to_text(match.group("label"))
        at = resolve_label(label, start, previous)
        body = html_to_text(match.group("body"))
        if at is None:
            at, body = previous or start, f"{label} {body}".strip()
        entries.append((at, body))
        previous = at
    return entries or [(start, "")]


def resolve_label(label: str, start: datetime, previous: datetime | None) -> datetime | None:
    """The UTC instant a wall-clock label means, given the event start and prior update."""
    match = _LABEL.match(label.strip())
    if match is None:
        return None
    zone = _ZONES.get((match.group("tz") or "").upper(), _PACIFIC)
    hour = int(match.group("h")) % 12 + (12 if match.group("ampm").upper() == "PM" else 0)
    minute = int(match.group("m"))
    reference = (previous or start).astimezone(zone)
    if match.group("mon"):
        return _dated(match, reference, hour, minute, zone)
    candidate = reference.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if previous is None:
        # The first update is posted at the start: take the nearest such day.
        days = min((-1, 0, 1), key=lambda d: abs(candidate + timedelta(days=d) - start))
        return (candidate + timedelta(days=days)).astimezone(UTC)
    while candidate < previous - _SLACK:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)


def _dated(
    match: re.Match[str], reference: datetime, hour: int, minute: int, zone: tzinfo
) -> datetime | None:
    month = _MONTHS.get(match.group("mon").title())
    if month is None:
        return None
    try:
        at = datetime(reference.year, month, int(match.group("day")), hour, minute, tzinfo=zone)
    except ValueError:
        return None
    if at < reference - timedelta(days=180):
        at = at.replace(year=at.year + 1)  # "Jan 2" after a December start
    return at.astimezone(UTC)
