"""The Reliability page's pictures as SVG: a calendar heatmap of impact per day (one
column per week, Monday on top) and bars of minutes per month, stacked by impact.
Pure: plain data in, markup out, colours as presentation attributes (no stylesheet, no
script), every text escaped, as the timeline does."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from notifier.history.calendar import Minutes, worst
from notifier.history.spans import IMPACTS
from notifier.web.timeline import IMPACT_FILL

CELL, GAP, LEFT, TOP = 12, 2, 30, 18
QUIET = "#e5e7eb"
BAR_W, BAR_GAP, BAR_H, BAR_TOP = 48, 14, 160, 20


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _minutes(m: Minutes) -> str:
    return ", ".join(f"{imp} {round(m[imp])} min" for imp in IMPACTS if m.get(imp, 0) > 0)


def heatmap(days: Mapping[date, Minutes], start: date, count: int) -> str:
    """One square per day from `start`, coloured by the day's worst impact."""
    offset = start.weekday()
    weeks = (offset + count + 6) // 7
    width, height = LEFT + weeks * (CELL + GAP) + 10, TOP + 7 * (CELL + GAP) + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="impact per day">']  # fmt: skip
    for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
        y = TOP + row * (CELL + GAP) + CELL - 2
        out.append(f'<text x="0" y="{y}" font-size="9" fill="#6b7280">{name}</text>')
    shown_month = None
    for n in range(count):
        day = start + timedelta(days=n)
        col, row = (offset + n) // 7, (offset + n) % 7
        x, y = LEFT + col * (CELL + GAP), TOP + row * (CELL + GAP)
        if (day.month != shown_month and row == 0) or n == 0:
            shown_month = day.month
            out.append(f'<text x="{x}" y="{TOP - 6}" font-size="9" fill="#6b7280">'
                       f'{day:%b}</text>')  # fmt: skip
        got = days.get(day, {})
        imp = worst(got)
        fill = IMPACT_FILL.get(imp, QUIET) if imp else QUIET
        tip = f"{day.isoformat()}: {_minutes(got) or 'no incident'}"
        out.append(f'<rect class="day" data-date="{day.isoformat()}" data-impact="{imp}" '
                   f'x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="2" fill="{fill}">'
                   f"<title>{_e(tip)}</title></rect>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def month_bars(months: Sequence[tuple[str, Minutes]]) -> str:
    """One bar per month, its height the month's incident minutes, stacked by impact."""
    top = max((sum(m.values()) for _, m in months), default=0.0) or 1.0
    width = 40 + len(months) * (BAR_W + BAR_GAP)
    height = BAR_TOP + BAR_H + 34
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="months" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="incident minutes per month">',
           f'<text x="0" y="12" font-size="10" fill="#6b7280">{round(top)} min</text>']  # fmt: skip
    base = BAR_TOP + BAR_H
    for i, (label, got) in enumerate(months):
        x = 40 + i * (BAR_W + BAR_GAP)
        y = float(base)
        total = sum(got.values())
        out.append(f'<g class="month" data-month="{_e(label)}" data-minutes="{round(total)}">'
                   f"<title>{_e(label)}: {_e(_minutes(got) or 'no incident')}</title>")  # fmt: skip
        for imp in reversed(IMPACTS):  # the worst on top
            h = BAR_H * got.get(imp, 0.0) / top
            if h <= 0:
                continue
            y -= h
            out.append(f'<rect class="month-bar" data-impact="{imp}" x="{x}" y="{y:.1f}" '
                       f'width="{BAR_W}" height="{h:.1f}" fill="{IMPACT_FILL[imp]}"/>')  # fmt: skip
        out.append(f'<line x1="{x}" y1="{base}" x2="{x + BAR_W}" y2="{base}" stroke="#9ca3af"/>')
        out.append(f'<text x="{x + BAR_W / 2}" y="{base + 14}" font-size="10" '
                   f'text-anchor="middle" fill="#374151">{_e(label)}</text></g>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)
