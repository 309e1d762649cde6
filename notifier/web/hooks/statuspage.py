"""POST /hooks/statuspage/{provider_id}/{token}: Atlassian Statuspage webhook deliveries.

A provider that sets `webhook_token` (or `webhook_token_env`) in the subscription
file accepts deliveries at its URL. Each is checked and queued in Redis
(`notifier.store.feeds.pushes`), then answered 202; the pipeline's one-second tick merges it
(`notifier.pipeline.ingest.push`). Statuspage wants a 2xx within 30 s; this answers in
milliseconds, and only once the delivery is safe in Redis.

- unknown provider or wrong token: 404, logged without the token (compared in
  constant time); the path is never logged, since it carries the token;
- a body that is not a Statuspage delivery (not JSON, neither `incident` nor
  `component_update`): 400;
- a body over 1 MB: 413 (`notifier.web.serving.limits`);
- Redis unreachable: 503, so Statuspage retries.
Nothing reaches the diff from a rejected delivery.

These routes sit outside NOTIFIER_WEB_TOKEN's check: Statuspage cannot send it, and
the token in the path is their authentication.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from notifier.config.load import Config
from notifier.feeds import webhook
from notifier.feeds.errors import FeedError
from notifier.store.feeds.pushes import PushQueue
from notifier.text import one_line
from notifier.web.serving.limits import BoundedBody

log = logging.getLogger(__name__)

PREFIX = "/hooks/statuspage/"  # only these: Slack's and Twilio's hooks are the main app's
MAX_HOOK_BODY = 1024 * 1024


@dataclass
class Hooks:
    queue: PushQueue
    tokens: dict[str, bytes] = field(default_factory=dict)  # provider id -> token

    @classmethod
    def from_config(cls, config: Config | None, client: redis.Redis, prefix: str) -> Hooks:
        tokens = {}
        for p in config.resolved_providers() if config is not None else []:
            if p.webhook_token is not None and p.webhook_token.get_secret_value():
                tokens[p.id] = p.webhook_token.get_secret_value().encode()
        return cls(PushQueue(client, prefix), tokens)


def _named(provider: str) -> str:
    return one_line(provider)[:60]


async def statuspage(request: Request) -> Response:
    hooks: Hooks = request.app.state.hooks
    provider = str(request.path_params["provider_id"])
    given = str(request.path_params["token"]).encode()
    expected = hooks.tokens.get(provider)
    # Compared in constant time; an unknown provider costs the same as a wrong token.
    if not hmac.compare_digest(given, expected or b"\0" * len(given)) or expected is None:
        log.warning("rejected a Statuspage webhook for %r: unknown provider or wrong token",
                    _named(provider))  # fmt: skip
        return PlainTextResponse("not found\n", status_code=404)
    body = await request.body()  # already read, and bounded, by BoundedBody
    try:
        webhook.parse(body, provider)
    except FeedError as exc:
        log.warning("rejected a Statuspage webhook: %s", exc, extra={"provider": provider})
        return PlainTextResponse("bad request: not a Statuspage webhook\n", status_code=400)
    try:
        await run_in_threadpool(hooks.queue.put, provider, body, datetime.now(UTC))
    except (redis.RedisError, OSError):
        log.warning("could not queue a Statuspage webhook: Redis unavailable",
                    extra={"provider": provider})  # fmt: skip
        return PlainTextResponse("unavailable\n", status_code=503)
    return PlainTextResponse("queued\n", status_code=202)


def hooks_app(hooks: Hooks, read_timeout: float = 10.0) -> Starlette:
    app = Starlette(
        routes=[
            Route("/hooks/statuspage/{provider_id}/{token}", statuspage, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                BoundedBody,
                max_bytes=MAX_HOOK_BODY,
                read_timeout=read_timeout,
                label="POST /hooks/…",
            ),
        ],
    )
    app.state.hooks = hooks
    return app


def with_hooks(main: ASGIApp, hooks: ASGIApp) -> ASGIApp:
    """One ASGI app: /hooks/statuspage/… to `hooks` (its own body limit, no web token),
    the rest (the Slack and Twilio hooks, the console, and the lifespan) to `main`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIX):
            await hooks(scope, receive, send)
        else:
            await main(scope, receive, send)

    return app


__all__ = ["MAX_HOOK_BODY", "Hooks", "hooks_app", "statuspage", "with_hooks"]
