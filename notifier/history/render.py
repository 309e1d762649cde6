"""A report as text (for a terminal), JSON or CSV. Provider text stays inert: it is
printed as text, never interpreted."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from notifier.history.report import ALL, Report, Stats
from notifier.history.spans import IMPACTS
from notifier.models import iso
from notifier.text import one_line

CSV_FIELDS = [
    "period", "provider", "component", "incidents", *(f"minutes_{i}" for i in IMPACTS),
    "resolve_median_min", "resolve_p90_min", "longest_incident", "longest_minutes",
    "upstream_open", "upstream_share",
]  # fmt: skip


def _t(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "-"


def _n(value: float | None) -> str:
    """Minutes as people read them: 95, 1.5, 1023449 (never 1.02e+06)."""
    if value is None:
        return "-"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _minutes(s: Stats) -> str:
    return ", ".join(f"{i} {_n(s.minutes.get(i, 0))}" for i in IMPACTS)


def text(report: Report, names: dict[str, str]) -> str:
    out = [f"Reliability {report.period.label} (UTC; incidents that began in the period)"]
    if not report.stats:
        out.append("  no incidents recorded")
    for s in report.stats:
        if s.component == ALL:
            name = names.get(s.provider, s.provider)
            out += [
                "", f"{name} ({s.provider}): {s.incidents} incidents",
                f"  minutes by impact: {_minutes(s)}",
                f"  time to resolve: median {_n(s.resolve_median)} min, p90 "
                f"{_n(s.resolve_p90)} min" if s.resolve_median is not None
                else "  time to resolve: none resolved yet",
                f"  longest: {s.longest} '{one_line(s.longest_title)[:80]}' "
                f"{_n(s.longest_minutes)} min",
                f"  began while an upstream had one open: {s.upstream_open} of {s.incidents}",
            ]  # fmt: skip
            continue
        out.append(f"    {one_line(s.component)[:40]}: {s.incidents} incidents; {_minutes(s)}; "
                   f"median {_n(s.resolve_median)} min, p90 {_n(s.resolve_p90)} min")  # fmt: skip
    if report.records:
        out += ["", "Delivery record"]
    for r in report.records:
        span = f"{_t(r.start)} - {_t(r.end) if r.end else 'open'} ({_n(r.minutes)} min)"
        out.append(f"  {r.provider}/{r.incident_id} '{one_line(r.title)[:80]}' {span}")
        if r.upstreams_open:
            out.append(f"    began while open upstream: {', '.join(r.upstreams_open)}")
        if not r.told:
            out.append("    nobody was told (no alert recorded)")
        for w in r.told:
            ack = f", acknowledged by {w.acked_by} at {_t(w.acked_at)}" if w.acked_by else ""
            lag = (f", {_n(w.after_first_update)} min after the first update"
                   if w.after_first_update is not None else "")  # fmt: skip
            what = "paged" if w.paged else w.kind
            out.append(f"    {w.subscriber} {w.channel} {what} {w.outcome} {_t(w.at)}{lag}{ack}")
    return "\n".join(out) + "\n"


def _plain(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return iso(obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def as_json(report: Report) -> str:
    d = {
        "period": {"label": report.period.label, "start": iso(report.period.start),
                   "end": iso(report.period.end)},
        "generated_at": iso(report.now),
        "providers": [_plain(asdict(s)) for s in report.stats],
        "incidents": [_plain(asdict(r)) for r in report.records],
    }  # fmt: skip
    return json.dumps(d, ensure_ascii=False) + "\n"  # one thing: one object on one line


def as_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for s in report.stats:
        w.writerow({
            "period": report.period.label, "provider": s.provider, "component": s.component,
            "incidents": s.incidents,
            **{f"minutes_{i}": s.minutes.get(i, 0) for i in IMPACTS},
            "resolve_median_min": s.resolve_median, "resolve_p90_min": s.resolve_p90,
            "longest_incident": s.longest, "longest_minutes": s.longest_minutes,
            "upstream_open": s.upstream_open, "upstream_share": s.upstream_share,
        })  # fmt: skip
    return buf.getvalue()
