"""The web endpoint as a Starlette app: /healthz, /metrics, the Twilio webhook, and the
read-only console (`notifier.web.console.pages`: Jinja2, autoescaped).

  GET  /            Now: each provider's state and open incidents, and the health checks
  GET  /timeline, /incidents/{provider}/{id}, /subscriptions, /feeds   the console
  GET  /reliability  each vendor's record from the history database (heatmap, bars)
  GET  /static/…    the console's stylesheet and its one script
  GET  /healthz     200 when healthy, else 503; JSON naming each check (open to all)
  GET  /metrics     Prometheus text from `notifier.store.ops.metrics`
  POST /twilio/sms  Twilio's signed webhook (open to all; the signature is its auth)
  POST /hooks/statuspage/{provider}/{token}  Statuspage webhooks (`notifier.web.hooks.statuspage`)
  GET|POST /silences  the silences, added and expired from a form (`notifier.web.silences`)
  POST /-/reload    re-read the subscription file in every process (`notifier.web.hooks.reload`)
  POST /hooks/slack/interactivity  Slack's signed "Acknowledge" presses (open; signed)

The served app (`build_app`) answers only its own Host names (`KnownHosts`: 421 for any
other, against DNS rebinding) and limits failed credentials per client (`LimitFailures`:
429 with Retry-After). Every request passes `BoundedBody` (size and read-time limits) and, when
NOTIFIER_WEB_TOKEN is set, `RequireToken`; every response carries `SecurityHeaders`
(a Content-Security-Policy that forbids inline script). The dead man's switch runs for the app's
lifetime when NOTIFIER_HEARTBEAT_URL is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from notifier.channels.sms.pager import Pager
from notifier.config.schema import Config
from notifier.config.settings import Settings
from notifier.store.conn.primary import describe as describe_primary
from notifier.store.conn.primary import primary_metrics
from notifier.store.ops.metrics import render
from notifier.web.console import pages
from notifier.web.console.reliability import reliability_page
from notifier.web.deadman import DeadMansSwitch
from notifier.web.health import healthz
from notifier.web.hooks.reload import ROUTES as RELOAD_ROUTES
from notifier.web.hooks.slack import ROUTES as SLACK_ROUTES
from notifier.web.hooks.statuspage import Hooks, hooks_app, with_hooks
from notifier.web.hooks.twilio import twilio_sms
from notifier.web.serving.auth import RequireToken
from notifier.web.serving.hosts import KnownHosts, known_hosts
from notifier.web.serving.limits import BoundedBody
from notifier.web.serving.security import SecurityHeaders
from notifier.web.serving.strikes import LimitFailures
from notifier.web.serving.templating import STATIC, TEMPLATES
from notifier.web.silences import ROUTES as SILENCE_ROUTES
from notifier.web.wiring import WebWiring


def metrics(request: Request) -> Response:
    ctx: WebWiring = request.app.state.ctx
    try:
        data = render(ctx.client, ctx.prefix, ctx.broker_prefix)
        if ctx.redis_url is not None:
            data += primary_metrics(describe_primary(ctx.redis_url, ctx.client))
    except (redis.RedisError, OSError):
        return PlainTextResponse("redis unavailable\n", status_code=503)
    return Response(data, media_type="text/plain; version=0.0.4; charset=utf-8")


def create_app(ctx: WebWiring) -> Starlette:
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
            Route("/", pages.now_page),
            Route("/timeline", pages.timeline_page),
            Route("/incidents/{provider}/{incident_id:path}", pages.incident_page),
            Route("/subscriptions", pages.subscriptions_page),
            Route("/feeds", pages.feeds_page),
            Route("/reliability", reliability_page),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/twilio/sms", twilio_sms, methods=["POST"]),
            *SILENCE_ROUTES,
            *RELOAD_ROUTES,
            *SLACK_ROUTES,
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BoundedBody, read_timeout=ctx.read_timeout),
            Middleware(RequireToken, token=ctx.web_token),
        ],
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.templates = TEMPLATES
    return app


def build_app(
    settings: Settings,
    client: redis.Redis,
    pager: Pager | None,
    config: Config | None = None,
    bind_host: str | None = None,
    redis_url: str | None = None,
) -> ASGIApp:
    """The app for `notifier run` and `notifier web`, from settings and the loaded
    subscription file (None: the console shows what Redis holds, without names, and no
    Statuspage webhook is served); with `config`, its providers' webhooks too. It
    answers the Host names of `known_hosts` (loopback, `bind_host` or NOTIFIER_WEB_HOST,
    NOTIFIER_WEB_PUBLIC_URL's) and no other."""
    main = create_app(WebWiring.from_settings(settings, client, pager, config, redis_url))
    hooks = Hooks.from_config(config, client, settings.key_prefix)
    served = with_hooks(main, hooks_app(hooks, settings.web_read_timeout))
    names = known_hosts(bind_host or settings.web_host, settings.web_public_url)
    return KnownHosts(LimitFailures(served), names)
