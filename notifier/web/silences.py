"""The console's silences: `GET /silences` lists them and what they muted lately;
`POST /silences` adds one, `POST /silences/{id}/expire` ends one.

Behind NOTIFIER_WEB_TOKEN like every page (`notifier.web.serving.auth`). The forms are
CSRF-safe: a browser's cross-site POST carries an `Origin` (or at least a `Referer`)
naming another site, and is refused with 403; a request naming no origin at all is
not a browser's cross-site form (curl, scripts) and has passed the token check.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from notifier.models import iso
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from notifier.store.feeds.incidents import IncidentIndex
from notifier.store.ops.silences import Silence, SilenceStore, make, parse_duration, unknown_name
from notifier.text import one_line
from notifier.web.serving.origin import same_origin
from notifier.web.wiring import WebWiring


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def _row(s: Silence, ctx: WebWiring) -> dict[str, Any]:
    now = ctx.clock()
    state = "active" if s.active(now) else ("pending" if s.starts_at > now else "ended")
    return {
        "id": s.id, "state": state, "matchers": s.matchers(), "until": iso(s.ends_at),
        "ceiling": "any" if s.max_impact is None else f"up to {s.max_impact.value}",
        "by": s.created_by, "reason": s.reason,
    }  # fmt: skip


def _page(request: Request, error: str = "", status: int = 200) -> Response:
    ctx: WebWiring = request.app.state.ctx
    silences = SilenceStore(ctx.client, ctx.prefix).all(ctx.clock())
    recent = DeliveryLog(ctx.client, ctx.prefix).recent(100)
    muted = [r for r in recent if r.outcome is AlertStatus.SILENCED]
    return _templates(request).TemplateResponse(
        request, "silences.html",
        {"silences": [_row(s, ctx) for s in silences], "muted": muted[:20], "error": error,
         "providers": [p.id for p in ctx.config.providers] if ctx.config else [],
         "refresh": 0, "now": ctx.clock()},
        status_code=status,
    )  # fmt: skip


async def list_silences(request: Request) -> Response:
    return _page(request)


async def add_silence(request: Request) -> Response:
    if not same_origin(request):
        return PlainTextResponse("cross-site request refused\n", status_code=403)
    ctx: WebWiring = request.app.state.ctx
    # Parsed here, as the Twilio webhook does: the body is already read and bounded
    # (`notifier.web.serving.limits`), and form parsing would need another dependency.
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    field = {k: one_line(str(form.get(k) or "")).strip() for k in
             ("provider", "component", "subscriber", "for", "reason", "by")}  # fmt: skip
    if not field["provider"] or not field["reason"]:
        return _page(request, "a silence needs a provider and a reason", 400)
    problem = unknown_name(ctx.config, field["provider"], field["subscriber"] or None) if (
        ctx.config is not None
    ) else None  # fmt: skip
    if problem:  # as the CLI says it: a typo would silence nothing
        return _page(request, problem, 400)
    try:
        lasting = parse_duration(field["for"])
    except ValueError as exc:
        return _page(request, str(exc), 400)
    now = ctx.clock()
    silence = make(
        field["provider"][:100], lasting=lasting, reason=field["reason"][:500],
        by=field["by"][:100] or "web console", now=now,
        component=field["component"][:200] or None, subscriber=field["subscriber"][:200] or None,
        any_impact=bool(form.get("any_impact")),
        open_incidents=IncidentIndex(ctx.client, ctx.prefix).recent_incidents(now),
    )  # fmt: skip
    SilenceStore(ctx.client, ctx.prefix).add(silence)
    return RedirectResponse("/silences", status_code=303)


async def expire_silence(request: Request) -> Response:
    if not same_origin(request):
        return PlainTextResponse("cross-site request refused\n", status_code=403)
    ctx: WebWiring = request.app.state.ctx
    silence_id = request.path_params["silence_id"]
    if SilenceStore(ctx.client, ctx.prefix).expire(silence_id, ctx.clock(), "web console") is None:
        return _page(request, f"no silence {silence_id}", 404)
    return RedirectResponse("/silences", status_code=303)


ROUTES = [
    Route("/silences", list_silences, methods=["GET"]),
    Route("/silences", add_silence, methods=["POST"]),
    Route("/silences/{silence_id:str}/expire", expire_silence, methods=["POST"]),
]
