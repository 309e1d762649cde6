"""`POST /-/reload`: re-read the subscription file, as Prometheus and Alertmanager do.

Behind NOTIFIER_WEB_TOKEN like every page, and refused cross-site
(`notifier.web.serving.origin`). The file is validated first (`notifier.store.ops.reloads`): 200
with the new config's hash when it is good, 400 with the file's errors when it is not,
and then the config in force stays.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from notifier.store.ops.reloads import ConfigReloads
from notifier.web.serving.origin import same_origin
from notifier.web.wiring import WebWiring


async def reload_config(request: Request) -> Response:
    if not same_origin(request):
        return PlainTextResponse("cross-site request refused\n", status_code=403)
    ctx: WebWiring = request.app.state.ctx
    if ctx.config_path is None:
        return PlainTextResponse("no subscription file to reload\n", status_code=404)
    reloads = ConfigReloads(ctx.client, ctx.prefix)
    result = await run_in_threadpool(reloads.request, ctx.config_path, ctx.clock())
    body = {"ok": result.ok, "hash": result.hash, "generation": result.generation}
    if not result.ok:
        body["error"] = result.error
    return JSONResponse(body, status_code=200 if result.ok else 400)


ROUTES = [Route("/-/reload", reload_config, methods=["POST"])]
