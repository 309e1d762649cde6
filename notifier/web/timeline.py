"""The outage timeline as SVG: one row per provider, one bar per incident coloured by
impact (incidents of a provider that overlap get a lane each, `bar_lanes`), an arrow
from a likely upstream cause to the incident it explains, and a tick for every alert
that went out, one lane per channel. Pure: plain data in, markup out.

The same renderer draws the live console's `/timeline` and the self-contained file
`notifier replay --html` writes. Colours are presentation attributes (not inline
styles), so the picture needs no stylesheet and passes a strict Content-Security-Policy.
Every piece of feed text goes through `label` (inert, escaped for XML and HTML).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from notifier.text import one_line

WIDTH = 1000
LABEL_W = 170  # the provider names' column
PAD_R = 20
TOP = 28  # the time axis
BAR_H = 16
LANE_H = 5  # one tick lane per channel under each bar row
ROW_GAP = 10
BAR_GAP = 2  # between the lanes of overlapping incidents of one provider
BAR_STEP = BAR_H + BAR_GAP
MIN_BAR_W = 3.0

IMPACT_FILL = {
    "critical": "#b91c1c",
    "major": "#ea580c",
    "minor": "#d4a20b",
    "maintenance": "#2563eb",
    "none": "#6b7280",
}
CHANNEL_STROKE = {"slack": "#6d28d9", "sms": "#047857", "email": "#1d4ed8", "console": "#374151"}
OTHER_CHANNEL = "#111827"
FAILED_STROKE = "#dc2626"
# Grid steps, finest first: the first that gives at most MAX_GRID lines is used.
STEPS = tuple(
    timedelta(minutes=m) for m in (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160)
)
MAX_GRID = 12


@dataclass(frozen=True, slots=True)
class Row:
    provider: str
    name: str  # display name


@dataclass(frozen=True, slots=True)
class Bar:
    provider: str
    incident_id: str
    title: str  # feed text: untrusted
    impact: str
    start: datetime
    end: datetime | None  # None: still open
    href: str = ""  # where the bar leads (the incident page, or an anchor)


@dataclass(frozen=True, slots=True)
class Link:
    """`downstream` is likely caused by `upstream`; each a (provider, incident id)."""

    upstream: tuple[str, str]
    downstream: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Tick:
    """One alert that went out (or failed for good) at `at`."""

    provider: str
    incident_id: str
    channel: str
    subscriber: str
    at: datetime
    outcome: str  # "sent", "printed", "failed", ...


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    @property
    def span(self) -> timedelta:
        return self.end - self.start


def label(value: str | None, limit: int = 200) -> str:
    """Feed text for markup: one inert line, at most `limit` characters, escaped."""
    text = one_line(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def grid_step(span: timedelta) -> timedelta:
    for step in STEPS:
        if span / step <= MAX_GRID:
            return step
    return STEPS[-1] * max(1, int(span / (STEPS[-1] * MAX_GRID)) + 1)


def grid_times(window: Window) -> list[datetime]:
    """Round times inside the window, one per grid step (aligned to UTC midnight)."""
    step = grid_step(window.span)
    midnight = window.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight + step * -(-(window.start - midnight) // step)
    out, t = [], first
    while t <= window.end:
        out.append(t)
        t += step
    return out


def grid_label(t: datetime, step: timedelta) -> str:
    t = t.astimezone(UTC)
    if step >= timedelta(days=1):
        return t.strftime("%d %b")
    if t.hour == 0 and t.minute == 0:
        return t.strftime("%d %b")
    return t.strftime("%H:%M")


class _Scale:
    def __init__(self, window: Window) -> None:
        self.window = window
        self.plot_w = WIDTH - LABEL_W - PAD_R
        self.seconds = max(window.span.total_seconds(), 1.0)

    def x(self, t: datetime) -> float:
        offset = (t - self.window.start).total_seconds() / self.seconds
        return round(LABEL_W + max(0.0, min(1.0, offset)) * self.plot_w, 1)


def visible(bar: Bar, window: Window, now: datetime) -> bool:
    end = bar.end or now
    return bar.start <= window.end and end >= window.start


def render(
    rows: Sequence[Row],
    bars: Sequence[Bar],
    links: Sequence[Link],
    ticks: Sequence[Tick],
    window: Window,
    now: datetime,
) -> str:
    """The SVG for `window`. Rows keep the given order; a provider with bars but no row
    gets one at the end. Bars, arrows and ticks outside the window are left out."""
    rows = list(rows)
    known = {r.provider for r in rows}
    for b in bars:
        if b.provider not in known:
            rows.append(Row(b.provider, b.provider))
            known.add(b.provider)
    scale = _Scale(window)
    shown = [b for b in bars if visible(b, window, now)]
    in_window = [t for t in ticks if window.start <= t.at <= window.end]
    channels = sorted({t.channel for t in in_window})
    lane_of, lanes = bar_lanes(shown, scale, now)
    ticks_h = LANE_H * len(channels)
    y_of: dict[str, float] = {}
    row_h: dict[str, float] = {}
    y = float(TOP)
    for r in rows:
        y_of[r.provider] = y
        row_h[r.provider] = lanes.get(r.provider, 1) * BAR_STEP - BAR_GAP + ticks_h + ROW_GAP
        y += row_h[r.provider]
    height = int(y) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        "<title>Incident timeline</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#111827"/></marker></defs>',
    ]
    out += _grid(window, scale, height)
    for r in rows:
        y, h = y_of[r.provider], row_h[r.provider]
        out.append(
            f'<text class="row-label" x="{LABEL_W - 8}" y="{y + BAR_H - 4}" text-anchor="end" '
            f'fill="#111827">{label(r.name, 28)}</text>'
        )
        out.append(
            f'<line x1="{LABEL_W}" x2="{WIDTH - PAD_R}" y1="{y + h - ROW_GAP / 2}" '
            f'y2="{y + h - ROW_GAP / 2}" stroke="#e5e7eb"/>'
        )
    placed: dict[tuple[str, str], tuple[float, float]] = {}
    for b in sorted(shown, key=lambda b: (b.provider, b.start, b.incident_id)):
        top = y_of[b.provider] + lane_of[(b.provider, b.incident_id)] * BAR_STEP
        out.append(_bar(b, scale, top, now))
        placed[(b.provider, b.incident_id)] = (scale.x(b.start), top)
    for link in links:
        if link.upstream in placed and link.downstream in placed:
            out.append(_arrow(link, placed[link.upstream], placed[link.downstream]))
    for t in sorted(in_window, key=lambda t: (t.at, t.channel, t.subscriber)):
        if t.provider in y_of:
            lanes_top = y_of[t.provider] + lanes.get(t.provider, 1) * BAR_STEP - BAR_GAP + 1
            out.append(_tick(t, scale, lanes_top, channels.index(t.channel)))
    out += _legend(channels, height - 16)
    out.append("</svg>")
    return "\n".join(out)


def bar_lanes(
    bars: Sequence[Bar], scale: _Scale, now: datetime
) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """A lane for each bar within its provider's row, so incidents of one provider that
    overlap (as drawn) sit one above the other instead of one hiding the other: each
    bar takes the first lane free where it starts. Also each provider's lane count."""
    lane_of: dict[tuple[str, str], int] = {}
    ends: dict[str, list[float]] = {}
    for b in sorted(bars, key=lambda b: (b.provider, b.start, b.incident_id)):
        x1 = scale.x(b.start)
        x2 = max(scale.x(b.end or now), x1 + MIN_BAR_W)
        taken = ends.setdefault(b.provider, [])
        lane = next((i for i, end in enumerate(taken) if end < x1), len(taken))
        if lane == len(taken):
            taken.append(x2)
        taken[lane] = x2
        lane_of[(b.provider, b.incident_id)] = lane
    return lane_of, {p: len(e) for p, e in ends.items()}


def _grid(window: Window, scale: _Scale, height: int) -> list[str]:
    step = grid_step(window.span)
    out = []
    for t in grid_times(window):
        x = scale.x(t)
        out.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{TOP - 6}" y2="{height - 30}" '
                   'stroke="#d1d5db" stroke-dasharray="2,3"/>')  # fmt: skip
        out.append(f'<text x="{x}" y="{TOP - 10}" text-anchor="middle" fill="#4b5563">'
                   f"{grid_label(t, step)}</text>")  # fmt: skip
    return out


def _bar(b: Bar, scale: _Scale, y: float, now: datetime) -> str:
    x1 = scale.x(b.start)
    x2 = max(scale.x(b.end or now), x1 + MIN_BAR_W)
    fill = IMPACT_FILL.get(b.impact, IMPACT_FILL["none"])
    ends = b.end.astimezone(UTC).strftime("%d %b %H:%M") if b.end else "open"
    tip = (f"{label(b.title)} ({label(b.impact)}) "
           f"{b.start.astimezone(UTC).strftime('%d %b %H:%M')} – {ends} UTC")  # fmt: skip
    ident = f"{label(b.provider)}/{label(b.incident_id)}"
    parts = [
        f'<rect class="bar" x="{x1}" y="{y}" width="{round(x2 - x1, 1)}" height="{BAR_H}" '
        f'rx="3" fill="{fill}" data-provider="{label(b.provider)}" '
        f'data-incident="{ident}" data-impact="{label(b.impact)}"><title>{tip}</title></rect>'
    ]
    room = int((x2 - x1 - 8) / 6.5)
    if room >= 8:
        parts.append(f'<text x="{x1 + 4}" y="{y + BAR_H - 4}" fill="#ffffff" '
                     f'pointer-events="none">{label(b.title, room)}</text>')  # fmt: skip
    inner = "".join(parts)
    if b.href:
        return f'<a class="bar-link" href="{html.escape(b.href, quote=True)}">{inner}</a>'
    return inner


def _arrow(link: Link, up: tuple[float, float], down: tuple[float, float]) -> str:
    (x1, y1), (x2, y2) = up, down
    y1, y2 = y1 + BAR_H / 2, y2 + BAR_H / 2
    sx, ex = x1 + 2, x2 - 1
    mid = (y1 + y2) / 2
    d = f"M{sx},{y1} C{sx},{mid} {ex},{mid} {ex},{y2}"
    ident = (f'data-from="{label(link.upstream[0])}/{label(link.upstream[1])}" '
             f'data-to="{label(link.downstream[0])}/{label(link.downstream[1])}"')  # fmt: skip
    tip = f"{label(link.downstream[0])} — likely caused by {label(link.upstream[0])}"
    return (f'<path class="link" d="{d}" fill="none" stroke="#111827" stroke-width="1.5" '
            f'marker-end="url(#arrow)" {ident}><title>{tip}</title></path>')  # fmt: skip


def _tick(t: Tick, scale: _Scale, lanes_top: float, lane: int) -> str:
    x = scale.x(t.at)
    y1 = lanes_top + lane * LANE_H
    failed = t.outcome == "failed"
    stroke = FAILED_STROKE if failed else CHANNEL_STROKE.get(t.channel, OTHER_CHANNEL)
    when = t.at.astimezone(UTC).strftime("%d %b %H:%M")
    tip = f"{label(t.channel)} to {label(t.subscriber)}: {label(t.outcome)} at {when} UTC"
    return (f'<line class="tick" x1="{x}" x2="{x}" y1="{y1}" y2="{y1 + LANE_H - 1}" '
            f'stroke="{stroke}" stroke-width="2" data-channel="{label(t.channel)}" '
            f'data-outcome="{label(t.outcome)}"><title>{tip}</title></line>')  # fmt: skip


def _legend(channels: Sequence[str], y: float) -> list[str]:
    out, x = [], float(LABEL_W)
    for impact in ("critical", "major", "minor", "maintenance"):
        out.append(f'<rect x="{x}" y="{y - 9}" width="12" height="10" rx="2" '
                   f'fill="{IMPACT_FILL[impact]}"/>')  # fmt: skip
        out.append(f'<text x="{x + 16}" y="{y}" fill="#374151">{impact}</text>')
        x += 30 + 7 * len(impact)
    for channel in channels:
        stroke = CHANNEL_STROKE.get(channel, OTHER_CHANNEL)
        out.append(f'<line x1="{x}" x2="{x}" y1="{y - 10}" y2="{y}" stroke="{stroke}" '
                   'stroke-width="2"/>')  # fmt: skip
        out.append(f'<text x="{x + 5}" y="{y}" fill="#374151">{label(channel)} alert</text>')
        x += 50 + 7 * len(channel)
    if channels:
        out.append(f'<line x1="{x}" x2="{x}" y1="{y - 10}" y2="{y}" stroke="{FAILED_STROKE}" '
                   'stroke-width="2"/>')  # fmt: skip
        out.append(f'<text x="{x + 5}" y="{y}" fill="#374151">failed</text>')
    return out


__all__ = ["Bar", "Link", "Row", "Tick", "Window", "grid_step", "label", "render", "visible"]
