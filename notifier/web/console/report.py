"""One self-contained HTML file of a replay (`notifier replay --html OUT.html`): the
timeline drawn by `notifier.web.timeline` and every alert the replay made, grouped by
incident. Inline SVG and CSS; no script, no external asset: it opens from disk, mails
as an attachment, and prints. Feed text is escaped by the template and the renderer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notifier.models import parse_iso
from notifier.store.feeds.snapshot import ProviderState
from notifier.web.console.reads import bar_of
from notifier.web.serving.templating import STATIC, TEMPLATES
from notifier.web.timeline import Bar, Link, Row, Tick, Window, render

MARGIN = timedelta(minutes=30)


@dataclass
class ReplayRecord:
    """What a replay produced: the last state of each provider, and the alert lines
    (`notifier.pipeline.replay.ReplayPlanner.line`)."""

    names: dict[str, str]
    states: dict[str, ProviderState] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    last: datetime | None = None


def anchor(provider: str, incident_id: str) -> str:
    return f"incident-{provider}-{incident_id}"


def build(record: ReplayRecord, source: str) -> str:
    rows = [Row(p, n) for p, n in record.names.items()]
    rows += [Row(p, p) for p in record.states if p not in record.names]
    bars = [
        _anchored(b)
        for state in record.states.values()
        for known in state.incidents.values()
        if (b := bar_of(known)) is not None
    ]
    ticks = [_tick(a) for a in record.alerts]
    links = links_of(record.alerts)
    end = record.last or datetime.now(UTC)
    window = window_for(bars, ticks, end)
    svg = render(rows, bars, links, ticks, window, end)
    incidents = _incidents(bars, record.alerts)
    template = TEMPLATES.get_template("report.html")
    return template.render(
        svg=svg, css=(STATIC / "console.css").read_text(), source=source, window=window,
        incidents=incidents, names=dict(record.names), links=links,
    )  # fmt: skip


def window_for(bars: Sequence[Bar], ticks: Sequence[Tick], end: datetime) -> Window:
    times = [b.start for b in bars] + [b.end or end for b in bars] + [t.at for t in ticks]
    if not times:
        return Window(end - timedelta(hours=1), end)
    start = min(times) - MARGIN
    stop = max(times) + MARGIN
    return Window(start.replace(minute=0, second=0), stop)


def links_of(alerts: Sequence[Mapping[str, Any]]) -> list[Link]:
    found = {}
    for a in alerts:
        down = (a["provider"], a["incident_id"])
        for n in a.get("annotations", ()):
            if n["kind"] == "upstream" and n.get("provider") and n.get("incident_id"):
                up = (n["provider"], n["incident_id"])
                found[(up, down)] = Link(up, down)
    return sorted(found.values(), key=lambda lk: (lk.upstream, lk.downstream))


def _anchored(bar: Bar) -> Bar:
    return Bar(bar.provider, bar.incident_id, bar.title, bar.impact, bar.start, bar.end,
               "#" + anchor(bar.provider, bar.incident_id))  # fmt: skip


def _tick(a: Mapping[str, Any]) -> Tick:
    at = parse_iso(a["at"])
    assert at is not None
    return Tick(a["provider"], a["incident_id"], a["channel"], a["subscriber"], at, "sent")


def _incidents(bars: Sequence[Bar], alerts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each incident with its alerts, in the order the incidents began."""
    out = []
    for b in sorted(bars, key=lambda b: (b.start, b.provider)):
        mine = [
            a for a in alerts if (a["provider"], a["incident_id"]) == (b.provider, b.incident_id)
        ]
        out.append({"bar": b, "anchor": anchor(b.provider, b.incident_id), "alerts": mine})
    return out
