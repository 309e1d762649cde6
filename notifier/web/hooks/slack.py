"""POST /hooks/slack/interactivity: the "Acknowledge" button on a paged incident's post.

Slack signs the request (`notifier.channels.slack.interact`); without a good signature
from the last 5 minutes the answer is 401 and nothing changes. A good press acknowledges
the incident's SMS page for that subscriber, exactly as an SMS ACK does (escalation
stops), answers in the thread: "Acknowledged by @name", and edits the post so that
line stands where the button was (`chat.update`). Open to all like the Twilio webhook:
the signature is its authentication.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from notifier.channels.base import DeliveryError
from notifier.channels.slack.interact import (
    AckPress,
    ack_press,
    acknowledged_message,
    acknowledged_text,
    signed,
)
from notifier.route.grouping import thread_key_for
from notifier.web.wiring import WebWiring

log = logging.getLogger(__name__)

PATH = "/hooks/slack/interactivity"


async def slack_interactivity(request: Request) -> Response:
    ctx: WebWiring = request.app.state.ctx
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


def _acknowledge(ctx: WebWiring, press: AckPress) -> None:
    pager = ctx.pager
    acked, by = False, press.user
    if pager is None:
        note = "Paging is not configured: there is no escalation to stop."
    else:
        thread = thread_key_for((press.subscriber, pager.sms.name),
                                (press.provider, press.incident_id))  # fmt: skip
        page = pager.pages.for_thread(thread)
        result = pager.acknowledge(page.id, f"@{press.user}", ctx.clock()) if page else None
        acked = result is not None and result.ok
        # The first acknowledgement stands: a later press names who made it.
        by = (result.by or by).removeprefix("@") if result is not None else by
        note = (acknowledged_text(by) if acked
                else "No open page for this incident: nothing to acknowledge.")  # fmt: skip
    if ctx.slack is None or not press.channel or not press.thread_ts:
        return
    try:
        ctx.slack.reply(f"{press.channel}/{press.thread_ts}", note)
    except DeliveryError as exc:  # the ack stands; only the note in the thread is missing
        log.warning("could not answer the acknowledgement in Slack: %s", exc.message)
    edited = acknowledged_message(press, by) if acked and press.message_ts else None
    if edited is None:
        return
    try:
        ctx.slack.edit(f"{press.channel}/{press.message_ts}", edited)
    except DeliveryError as exc:  # the ack stands; the button stays on the post
        log.warning("could not take the Acknowledge button off the post: %s", exc.message)


ROUTES = [Route(PATH, slack_interactivity, methods=["POST"])]
