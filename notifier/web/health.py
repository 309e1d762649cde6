"""GET /healthz: 200 when the service is doing its job, 503 when not; the JSON body
names each check with its age and threshold (`notifier.pipeline.runtime.health`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from notifier.web.wiring import WebWiring


def healthz(request: Request) -> JSONResponse:
    # A plain function: Starlette runs it in its thread pool, so a slow Redis never
    # blocks the event loop (the client's socket timeout bounds the wait).
    ctx: WebWiring = request.app.state.ctx
    health = ctx.health()
    return JSONResponse(health.to_json(), status_code=200 if health.healthy else 503)
