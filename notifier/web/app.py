"""The web endpoint as a Starlette app: /healthz, /metrics, the Twilio webhook, and a
small index page (Jinja2, autoescaped: the console builds its pages the same way).

  GET  /            the health checks as a page
  GET  /healthz     200 when healthy, else 503; JSON naming each check (open to all)
  GET  /metrics     Prometheus text from `notifier.store.metrics`
  POST /twilio/sms  Twilio's signed webhook (open to all; the signature is its auth)
  GET|POST /silences  the silences, added and expired from a form (`notifier.web.silences`)
  POST /-/reload    re-read the subscription file in every process (`notifier.web.reload`)
  POST /hooks/slack/interactivity  Slack's signed "Acknowledge" presses (open; signed)

Every request passes `BoundedBody` (size and read-time limits) and, when
NOTIFIER_WEB_TOKEN is set, `RequireToken`. The dead man's switch runs for the app's
lifetime when NOTIFIER_HEARTBEAT_URL is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import jinja2
import redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from notifier.channels.sms.paging import Pager
from notifier.config.settings import Settings
from notifier.store.metrics import render
from notifier.web.auth import RequireToken
from notifier.web.context import WebContext
from notifier.web.deadman import DeadMansSwitch
from notifier.web.health import healthz
from notifier.web.limits import BoundedBody
from notifier.web.reload import ROUTES as RELOAD_ROUTES
from notifier.web.silences import ROUTES as SILENCE_ROUTES
from notifier.web.slack_hooks import ROUTES as SLACK_ROUTES
from notifier.web.twilio import twilio_sms

TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
)


def metrics(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    try:
        data = render(ctx.client, ctx.prefix, ctx.broker_prefix)
    except (redis.RedisError, OSError):
        return PlainTextResponse("redis unavailable\n", status_code=503)
    return Response(data, media_type="text/plain; version=0.0.4; charset=utf-8")


def index(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    health = ctx.health()
    return TEMPLATES.TemplateResponse(request, "index.html", {"health": health},
                                      status_code=200 if health.healthy else 503)  # fmt: skip


def create_app(ctx: WebContext) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        switch = None
        if ctx.heartbeat_url is not None and ctx.heartbeat_url.get_secret_value():
            url = ctx.heartbeat_url.get_secret_value()
            switch = DeadMansSwitch(url, ctx.heartbeat_every, ctx.health).start()
        try:
            yield
        finally:
            if switch is not None:
                switch.stop()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/twilio/sms", twilio_sms, methods=["POST"]),
            *SILENCE_ROUTES,
            *RELOAD_ROUTES,
            *SLACK_ROUTES,
        ],
        middleware=[
            Middleware(BoundedBody, read_timeout=ctx.read_timeout),
            Middleware(RequireToken, token=ctx.web_token),
        ],
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.templates = TEMPLATES
    return app


def build_app(settings: Settings, client: redis.Redis, pager: Pager | None) -> Starlette:
    """The app for `notifier run` and `notifier web`, from settings."""
    return create_app(WebContext.from_settings(settings, client, pager))
