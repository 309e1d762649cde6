"""The timeline's window from `?from=…&to=…`, and the links that zoom and pan it.

Spans run from one hour to 90 days; anything outside is clamped, and a window that
runs backwards gets the default span (24 hours). An unreadable time, or one outside
1970–2199, is a ValueError saying which and why (the page answers 400 with it). Pure:
`now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from notifier.models import iso
from notifier.web.timeline import Window

MIN_SPAN = timedelta(hours=1)
MAX_SPAN = timedelta(days=90)
DEFAULT_SPAN = timedelta(hours=24)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
PRESETS = (
    ("1 h", timedelta(hours=1)),
    ("6 h", timedelta(hours=6)),
    ("24 h", timedelta(hours=24)),
    ("7 d", timedelta(days=7)),
    ("30 d", timedelta(days=30)),
    ("90 d", timedelta(days=90)),
)


def parse_time(value: str | None, name: str = "time") -> datetime | None:
    """`2024-12-26T18:00:00Z`, `2024-12-26T18:00`, `2024-12-26` (UTC when no zone); None
    when not given; ValueError naming `name` when unreadable or out of range."""
    if not value:
        return None
    shown = repr(value[:40])
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
        t = (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{name}: {shown} is not a time like 2024-12-26T18:00:00Z") from None
    if not EARLIEST <= t < LATEST:
        raise ValueError(f"{name}: {shown} is outside the years 1970 to 2199")
    return t


def window_of(start: str | None, end: str | None, now: datetime) -> Window:
    """The window the query asks for, clamped to [1 h, 90 d]; ValueError for a time
    that is unreadable or out of range."""
    to, since = parse_time(end, "to"), parse_time(start, "from")
    if to is None:
        to = since + DEFAULT_SPAN if since is not None else now
    if since is None or since >= to:
        since = to - DEFAULT_SPAN
    span = min(max(to - since, MIN_SPAN), MAX_SPAN)
    return Window(to - span, to)


@dataclass(frozen=True, slots=True)
class Nav:
    text: str
    href: str
    current: bool = False


def query(window: Window) -> str:
    return urlencode({"from": iso(window.start), "to": iso(window.end)})


def zoom_links(window: Window, now: datetime, path: str = "/timeline") -> list[Nav]:
    """Earlier; the presets, which keep the window's end (a window that ends now still
    ends now: "1 h" from the 24 h view is the last hour); zoom in and out about the
    middle; later. No link reaches past `now`: a window that would is moved back."""
    end = min(window.end, now)
    mid = window.start + window.span / 2

    def until_now(w: Window) -> Window:
        return w if w.end <= now else Window(w.start - (w.end - now), now)

    def clamp(span: timedelta) -> timedelta:
        return min(max(span, MIN_SPAN), MAX_SPAN)

    def centred(span: timedelta) -> Window:
        span = clamp(span)
        return until_now(Window(mid - span / 2, mid + span / 2))

    def link(text: str, w: Window, current: bool = False) -> Nav:
        return Nav(text, f"{path}?{query(w)}", current)

    out = [link("← earlier", Window(window.start - window.span / 2, window.end - window.span / 2))]
    out += [link(text, Window(end - span, end), span == window.span) for text, span in PRESETS]
    out.append(link("zoom in", centred(window.span / 4)))
    out.append(link("zoom out", centred(window.span * 4)))
    out.append(link("later →", until_now(Window(window.start + window.span / 2,
                                                 window.end + window.span / 2))))  # fmt: skip
    return out
