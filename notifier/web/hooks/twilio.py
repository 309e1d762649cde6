"""POST /twilio/sms: Twilio's inbound-SMS webhook (page acks).

The `X-Twilio-Signature` is checked with twilio's RequestValidator against the auth
token and `public_url + path`; a missing or wrong signature gets 403 and changes
nothing. A good one is parsed as an ack (`4 K7`, `ACK K7`) and answered with TwiML.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from notifier.web.wiring import WebWiring

log = logging.getLogger(__name__)


def _target(request: Request) -> str:
    """The path and query exactly as the client sent them: what Twilio signed."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    return raw.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")


def _signed(ctx: WebWiring, target: str, params: dict[str, str], signature: str) -> bool:
    token = ctx.twilio_token.get_secret_value() if ctx.twilio_token is not None else ""
    if not token or not ctx.public_url or not signature:
        return False
    return bool(RequestValidator(token).validate(ctx.public_url + target, params, signature))


async def twilio_sms(request: Request) -> Response:
    ctx: WebWiring = request.app.state.ctx
    body = await request.body()  # already read, and bounded, by notifier.web.serving.limits
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if not _signed(ctx, _target(request), params, request.headers.get("x-twilio-signature", "")):
        log.warning("rejected /twilio/sms: bad or missing signature")
        return PlainTextResponse("forbidden\n", status_code=403)
    if ctx.pager is None:
        return _twiml("Paging is not configured.")
    pager = ctx.pager
    result = await run_in_threadpool(pager.ack, params.get("From", ""), params.get("Body", ""),
                                     ctx.clock())  # fmt: skip
    return _twiml(result.reply)


def _twiml(text: str) -> Response:
    reply = MessagingResponse()
    reply.message(text)
    return Response(str(reply), media_type="application/xml")
