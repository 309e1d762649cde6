"""POST /hooks/slack/interactivity: the "Acknowledge" button on a paged incident's post.

Slack signs the request (`notifier.channels.slack.interact`); without a good signature
from the last 5 minutes the answer is 401 and nothing changes. A good press acknowledges
the incident's SMS page for that subscriber, exactly as an SMS ACK does (escalation
stops), and answers in the thread: "Acknowledged by @name". Open to all like the
Twilio webhook: the signature is its authentication.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from notifier.channels.base import DeliveryError
from notifier.channels.slack.interact import AckPress, ack_press, acknowledged_text, signed
from notifier.route.grouping import thread_key_for
from notifier.web.context import WebContext

log = logging.getLogger(__name__)

PATH = "/hooks/slack/interactivity"


async def slack_interactivity(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    body = await request.body()  # already read, and bounded, by notifier.web.serving.limits
    secret = ctx.slack_signing_secret
    if secret is None or not signed(secret.get_secret_value(), body, request.headers):
        log.warning("rejected %s: bad, stale or missing Slack signature", PATH)
        return PlainTextResponse("unauthorized\n", status_code=401)
    press = ack_press(body)
    if press is None:
        return PlainTextResponse("")  # another interaction of the app: nothing of ours
    await run_in_threadpool(_acknowledge, ctx, press)
    return PlainTextResponse("")  # Slack wants a 200 within 3 s; the answer is in the thread


def _acknowledge(ctx: WebContext, press: AckPress) -> None:
    pager = ctx.pager
    if pager is None:
        note = "Paging is not configured: there is no escalation to stop."
    else:
        thread = thread_key_for((press.subscriber, pager.sms.name),
                                (press.provider, press.incident_id))  # fmt: skip
        page = pager.for_thread(thread)
        result = pager.acknowledge(page.id, f"@{press.user}", ctx.clock()) if page else None
        if result is not None and result.ok:
            note = acknowledged_text(press.user)
        else:
            note = "No open page for this incident: nothing to acknowledge."
    if ctx.slack is None or not press.channel or not press.thread_ts:
        return
    try:
        ctx.slack.reply(f"{press.channel}/{press.thread_ts}", note)
    except DeliveryError as exc:  # the ack stands; only the note in the thread is missing
        log.warning("could not answer the acknowledgement in Slack: %s", exc.message)


ROUTES = [Route(PATH, slack_interactivity, methods=["POST"])]
