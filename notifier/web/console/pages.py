"""The console's pages, read-only (GET only), rendered on the server; readable without
JavaScript. A page with an open incident carries `data-refresh`, and the service's
own `/static/refresh.js` reloads its content every 5 s.

  GET /                              Now: each provider's state, open incidents, health
  GET /timeline?from=…&to=…          the outage picture (SVG), an hour to 90 days
  GET /incidents/{provider}/{id}     one incident: updates, annotations, delivery log
  GET /subscriptions[?provider=…]    who hears about what; the routing dry run
  GET /feeds                         each feed's polls, changes, errors, 304 rate, latency

Plain functions: Starlette runs them in its thread pool, so Redis never blocks the loop.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import redis
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from notifier.web.console.deliveries import describe
from notifier.web.console.dryrun import IMPACTS, KINDS, Question, ask, notes
from notifier.web.console.reads import Reader
from notifier.web.serving.templating import TEMPLATES
from notifier.web.timeline import Bar, render
from notifier.web.timeline_query import query, window_of, zoom_links
from notifier.web.wiring import WebWiring

REFRESH_S = 5


def incident_href(provider: str, incident_id: str) -> str:
    return f"/incidents/{quote(provider, safe='')}/{quote(incident_id, safe='')}"


def _page(request: Request, name: str, status: int = 200, **values: object) -> Response:
    ctx: WebWiring = request.app.state.ctx
    values.setdefault("refresh", 0)
    values.setdefault("now", ctx.clock())
    return TEMPLATES.TemplateResponse(request, name, values, status_code=status)


def _unavailable() -> Response:
    return HTMLResponse("<!doctype html><title>notifier</title><p>Redis does not answer.</p>",
                        status_code=503)  # fmt: skip


def _reader(request: Request) -> tuple[Reader, datetime]:
    ctx: WebWiring = request.app.state.ctx
    return Reader(ctx.client, ctx.prefix, ctx.config), ctx.clock()


def now_page(request: Request) -> Response:
    ctx: WebWiring = request.app.state.ctx
    health = ctx.health()
    reader, now = _reader(request)
    try:
        providers = reader.providers(now)
        held, quarantined = reader.quarantine(now)
    except (redis.RedisError, OSError):
        providers, held, quarantined = [], 0, []
    any_open = any(p.active for p in providers)
    return _page(request, "now.html", 200 if health.healthy else 503, health=health,
                 providers=providers, href=incident_href, held=held, quarantined=quarantined,
                 refresh=REFRESH_S if any_open else 0)  # fmt: skip


def timeline_page(request: Request) -> Response:
    reader, now = _reader(request)
    try:
        window = window_of(request.query_params.get("from"), request.query_params.get("to"), now)
    except ValueError as exc:
        return PlainTextResponse(f"bad request: {exc}\n", status_code=400)
    try:
        rows, bars, links, ticks = reader.timeline(window, now)
    except (redis.RedisError, OSError):
        return _unavailable()
    bars = [_linked(b) for b in bars]
    svg = Markup(render(rows, bars, links, ticks, window, now))  # escaped inside `render`
    live = window.end >= now and any(b.end is None for b in bars)
    return _page(request, "timeline.html", window=window, svg=svg, nav=zoom_links(window, now),
                 bars=bars, links=links, ticks=ticks, refresh=REFRESH_S if live else 0,
                 names={r.provider: r.name for r in rows})  # fmt: skip


def _linked(bar: Bar) -> Bar:
    return Bar(bar.provider, bar.incident_id, bar.title, bar.impact, bar.start, bar.end,
               incident_href(bar.provider, bar.incident_id))  # fmt: skip


def incident_page(request: Request) -> Response:
    reader, now = _reader(request)
    provider = request.path_params["provider"]
    incident_id = request.path_params["incident_id"]
    try:
        story = reader.story(provider, incident_id)
    except (redis.RedisError, OSError):
        return _unavailable()
    if story is None:
        return _page(request, "missing.html", 404, provider=provider, incident_id=incident_id)
    keys = [d.alert.dedup_key for d in story.deliveries]
    rows = [describe(d.alert, d.state, d.record, d.page, keys, now) for d in story.deliveries]
    annotations = list(dict.fromkeys(
        (a.kind.value, a.text, a.reason) for d in story.deliveries for a in d.alert.annotations
    ))  # fmt: skip
    inc = story.incident
    window = window_of(None, None, now)
    if inc.started_at is not None:
        end = inc.resolved_at or now
        span = max(end - inc.started_at, window.span / 24)
        try:
            window = window_of(_iso(inc.started_at - span / 2), _iso(end + span / 2), now)
        except (ValueError, OverflowError):  # a feed's far-off date: the last 24 hours
            window = window_of(None, None, now)
    return _page(request, "incident.html", story=story, rows=rows, annotations=annotations,
                 href=incident_href, timeline=f"/timeline?{query(window)}",
                 refresh=REFRESH_S if inc.is_active else 0)  # fmt: skip


def _iso(t: datetime) -> str:
    return t.isoformat()


def subscriptions_page(request: Request) -> Response:
    ctx: WebWiring = request.app.state.ctx
    now = ctx.clock()
    params = dict(request.query_params)
    try:
        question = Question.of(params, ctx.config)
    except ValueError as exc:  # an unknown provider, impact or event: say so, answer 400
        return _page(request, "subscriptions.html", 400, config=ctx.config, question=None,
                     answers=None, notes=[], error=str(exc), impacts=IMPACTS,
                     kinds=[k.value for k in KINDS], params=params)  # fmt: skip
    answers = ask(question, ctx.config, now) if question and ctx.config else None
    said = notes(question, ctx.config) if question and ctx.config else []
    return _page(request, "subscriptions.html", config=ctx.config, question=question,
                 answers=answers, notes=said, error="", impacts=IMPACTS,
                 kinds=[k.value for k in KINDS], params=params)  # fmt: skip


def feeds_page(request: Request) -> Response:
    reader, _ = _reader(request)
    try:
        feeds = reader.feeds()
    except (redis.RedisError, OSError):
        return _unavailable()
    return _page(request, "feeds.html", feeds=feeds)
