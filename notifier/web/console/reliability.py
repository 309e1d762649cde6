"""GET /reliability[?provider=…&month=2025-11|quarter=2025Q4]: each vendor's record from
the history database (`notifier report` on a page), with a calendar heatmap of impact
per day over the year up to the period's end and bars of incident minutes per month,
drawn on the server as SVG (`notifier.web.reliability`). A plain function: Starlette
runs it in its thread pool. Without the database, the page says so (503)."""

from __future__ import annotations

from datetime import timedelta

from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from notifier.annotate.graph import upstreams
from notifier.history import db, period
from notifier.history.calendar import daily, monthly
from notifier.history.report import build
from notifier.history.spans import load_spans
from notifier.web.reliability import heatmap, month_bars
from notifier.web.serving.templating import TEMPLATES
from notifier.web.wiring import WebWiring

DAYS = 365
MONTHS = 12


def reliability_page(request: Request) -> Response:
    ctx: WebWiring = request.app.state.ctx
    now, q = ctx.clock(), request.query_params
    provider = q.get("provider") or None
    names = {p.id: p.name for p in ctx.config.resolved_providers()} if ctx.config else {}
    values: dict[str, object] = {"names": names, "provider": provider, "now": now,
                                 "refresh": 0, "error": ""}  # fmt: skip
    try:
        chosen = (period.quarter(q["quarter"]) if q.get("quarter")
                  else period.month(q.get("month") or f"{now:%Y-%m}"))  # fmt: skip
    except ValueError as exc:
        values["error"] = str(exc)
        return TEMPLATES.TemplateResponse(request, "reliability.html", values, status_code=400)
    values["period"] = chosen
    if not ctx.database_url:
        values["error"] = "no history database is configured"
        return TEMPLATES.TemplateResponse(request, "reliability.html", values, status_code=503)
    graph = ctx.config.dependency_graph() if ctx.config else {}
    ups = {node: set(upstreams(node, graph)) for node in graph}
    only = [provider] if provider else None
    end = min(chosen.end, max(now, chosen.start + timedelta(days=1)))
    first = (end - timedelta(days=DAYS)).date() + timedelta(days=1)
    year = period.last_months(end - timedelta(seconds=1), MONTHS)
    try:
        engine = db.ready(ctx.database_url)
        report = build(engine, chosen, now, ups, only)
        with engine.connect() as conn:
            since = min(year.start, end - timedelta(days=DAYS + 1))
            spans = load_spans(conn, since, end, only, began_within=False)
    except SQLAlchemyError as exc:
        values["error"] = f"the history database does not answer ({type(exc).__name__})"
        return TEMPLATES.TemplateResponse(request, "reliability.html", values, status_code=503)
    values.update(
        report=report,
        heatmap=Markup(heatmap(daily(spans, first, DAYS, now), first, DAYS)),  # escaped inside
        bars=Markup(month_bars(monthly(spans, year, now))),
        first=first,
        last=(end - timedelta(seconds=1)).date(),
        year=year,
        providers=sorted(set(names) | {s.provider for s in report.stats}),
    )
    return TEMPLATES.TemplateResponse(request, "reliability.html", values)
