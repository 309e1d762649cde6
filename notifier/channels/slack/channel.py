"""Slack: one thread per incident via the Web API, or flat posts via a webhook.

With a bot token, the first alert of a thread posts a parent message; later ones
edit the parent to the incident's current state (`chat.update`) and then post
the change as a thread reply (`thread_ts`). The update goes first because it is
idempotent: if the reply then fails, the retry repeats the edit, not the reply.
The edit is best effort: a permanent edit error (`cant_update_message`,
`edit_window_closed`, `msg_too_long`, ...) is logged and the reply still goes
out; a transient one (429, 5xx) fails the attempt so the task retries the pair.
`thread_ref` is "<channel id>/<parent ts>"; the delivery layer keeps it in Redis.

Incoming webhooks cannot thread or edit (they return no ts): each alert is a
complete message of its own.

Every message posted through the Web API carries its alert's dedup key as message
metadata (`notifier_alert`). When an attempt's outcome is unknown (the worker died
or the answer never came), `find_sent` looks for that metadata in the channel's
history or the thread's replies before anything is posted again. A webhook post
cannot be looked up: it stays at-least-once.

slack_sdk's WebClient retries connection errors itself by default (with a
sleep); we pass `retry_handlers=[]` so the task layer alone retries.

Pacing (a shared `Pacing`): each channel (and each webhook) gets at most its rate, 1
message a second by default with a burst of a few, as Slack documents for
chat.postMessage; a message over it waits its turn (`NotYet`, not an attempt). A 429
pauses only what it limited: the channel for chat.postMessage, else the API method
(Slack's per-method, per-workspace tiers), never the other channels.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast
from urllib.error import URLError

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from notifier.channels.base import (
    Channel,
    DeliveryError,
    NotYet,
    SendResult,
    Target,
    connection_failed,
    redacting_logger,
    secret_values,
)
from notifier.channels.memo import RenderMemo
from notifier.channels.render import Presentation, is_resolution
from notifier.channels.slack import blocks as slack_blocks
from notifier.channels.slack.errors import THREAD_GONE, ThreadGoneError, classify, refused
from notifier.channels.slack.http import KeepAliveWebClient
from notifier.channels.slack.interact import ack_block
from notifier.channels.slack.names import ChannelIds
from notifier.channels.slack.webhook import send_webhook
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert
from notifier.store.delivery.pacing import Pacing, Rate, Turn

log = logging.getLogger(__name__)
# slack_sdk's ERROR line for a request that got no answer, before it raises the error.
SDK_NO_ANSWER = "Failed to send a request to Slack API server"

# The message metadata every Web API post carries, so a post can be found again.
EVENT_TYPE = "notifier_alert"
# Slack's clock and ours may differ: look this much further back than the attempt.
LOOKUP_MARGIN_S = 60.0
LOOKUP_PAGES = 5  # of 200 messages each; an alert channel rarely sees more in an hour
# Slack: chat.postMessage "generally allows 1 message per second per channel, with short
# bursts"; the settings NOTIFIER_SLACK_CHANNEL_RATE / _BURST override it.
CHANNEL_RATE = Rate(per_second=1.0, burst=4)
POST = "chat_postMessage"
# A thread reply edits its parent first: a pause of either method holds the send.
SEND_METHODS = (POST, "chat_update")


@dataclass(frozen=True, slots=True)
class SlackTarget:
    """A channel via the Web API (`channel` id or name), or an incoming webhook."""

    channel: str | None = None
    webhook_url: SecretStr | None = None
    # The subscriber is also paged by SMS: the incident's post carries "Acknowledge".
    pages: bool = False

    @property
    def id(self) -> str:
        # The webhook URL is a secret: identify it by a stable non-reversible tag.
        if self.channel:
            return self.channel
        return "webhook"


class SlackChannel(Channel):
    name: ClassVar[str] = "slack"
    label: ClassVar[str] = "Slack"
    body_maxlen: ClassVar[int] = slack_blocks.TEXT_MAX
    title_maxlen: ClassVar[int] = slack_blocks.HEADER_MAX
    supports_threads: ClassVar[bool] = True

    def __init__(
        self,
        token: SecretStr | None = None,
        api_url: str = "https://slack.com/api/",
        webhook_url: SecretStr | None = None,
        timeout: float = 10.0,
        presentation: Presentation | None = None,
        gate: Pacing | None = None,
        channel_rate: Rate = CHANNEL_RATE,
    ) -> None:
        self._token = token
        self._gate, self.channel_rate = gate, channel_rate
        self._client_lock = threading.Lock()  # deliveries run on several threads
        self._webhook_url = webhook_url
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.timeout = timeout
        self.presentation = presentation or Presentation()
        self.memo = RenderMemo()
        self._sdk_log = redacting_logger("notifier.channels.slack.channel.sdk", self.secrets(),
                                         said_again=[SDK_NO_ANSWER])  # fmt: skip
        self._client: WebClient | None = None
        self.ids = ChannelIds()

    def secrets(self) -> tuple[str, ...]:
        return secret_values(self._token, self._webhook_url)

    def targets(self, subscriber: Subscriber) -> list[Target]:
        route = subscriber.slack
        if route is None:
            return []
        pages = subscriber.sms is not None  # whom the pager wakes for this subscriber
        return [SlackTarget(channel=route.channel, webhook_url=route.webhook_url, pages=pages)]

    def can_send(self, target: Target) -> bool:
        if not isinstance(target, SlackTarget):
            return False
        if target.channel:
            return self._token is not None
        return (target.webhook_url or self._webhook_url) is not None

    def __repr__(self) -> str:
        return f"SlackChannel(api_url={self.api_url!r}, token={'set' if self._token else None})"

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        if not isinstance(target, SlackTarget):
            raise DeliveryError("slack: wrong target type", permanent=True)
        turn = self.turn(target)
        if target.channel:
            acks = target.pages and not is_resolution(alert) and not alert.attached_to
            self._pace(turn, target.channel)
            try:
                return self._send_api(alert, target.channel, thread_ref, acks)
            except DeliveryError as exc:
                raise self._scoped(exc, _scope(target), target.channel) from None
        webhook = target.webhook_url or self._webhook_url
        if webhook is None:
            raise DeliveryError("slack: no channel or webhook configured", permanent=True)
        self._pace(turn, "the webhook")
        try:
            return send_webhook(
                alert, webhook, self.timeout, self._sdk_log, self.presentation, self.secrets()
            )
        except DeliveryError as exc:
            raise self._scoped(exc, _scope(target, webhook), "the webhook") from None

    # ---- pacing ------------------------------------------------------------

    def turn(self, target: Target) -> Turn | None:
        """A channel's (or a webhook's) token at `channel_rate`, held back while it is
        paused; a Web API post also while either method it calls is paused."""
        if self._gate is None or not isinstance(target, SlackTarget):
            return None
        if target.channel:
            scope = _scope(target)
            return Turn(scope, self.channel_rate,
                        (scope, *(f"slack:method:{m}" for m in SEND_METHODS)))  # fmt: skip
        webhook = target.webhook_url or self._webhook_url
        if webhook is None:
            return None
        scope = _scope(target, webhook)
        return Turn(scope, self.channel_rate, (scope,))

    def _pace(self, turn: Turn | None, what: str) -> None:
        """Take the send's turn, or wait (NotYet) while it is over its rate or paused."""
        if self._gate is None or turn is None:
            return
        wait = self._gate.take(turn.destination, turn.rate, turn.paused_by)
        if wait is not None:
            raise NotYet(f"slack: {what} is at its rate limit; waiting {wait:.1f} s",
                         retry_after=wait)  # fmt: skip

    def _scoped(self, exc: DeliveryError, scope: str, what: str) -> DeliveryError:
        """A 429 that limited `scope` pauses it alone: the error goes on without its
        Retry-After, which would otherwise pause every Slack destination."""
        limited = exc.retry_after is not None and not exc.permanent
        if self._gate is None or not limited or isinstance(exc, NotYet):
            return exc
        assert exc.retry_after is not None
        self._gate.pause(scope, exc.retry_after)
        return DeliveryError(f"{exc.message} ({what} paused {exc.retry_after:.0f} s)",
                             permanent=False, unknown=exc.unknown)  # fmt: skip

    # ---- Web API -----------------------------------------------------------

    def client(self) -> WebClient:
        if self._token is None:
            raise DeliveryError("slack: no bot token configured", permanent=True)
        with self._client_lock:
            if self._client is None:
                self._client = KeepAliveWebClient(
                    token=self._token.get_secret_value(),
                    base_url=self.api_url,
                    timeout=cast(int, self.timeout),  # urllib takes float seconds
                    logger=self._sdk_log,
                    retry_handlers=[],
                )
            return self._client

    def _send_api(
        self, alert: Alert, channel: str, thread_ref: str | None, acks: bool = False
    ) -> SendResult:
        # The button stays on the parent while the incident is open: each edit re-renders it.
        inc = alert.event.incident
        actions = ack_block(alert.subscriber, inc.provider, inc.id) if acks else None
        if actions is None:  # the same for every subscriber of the event: rendered once
            parent = self.memo.get("parent", alert, lambda: slack_blocks.parent_message(
                alert, self.presentation))  # fmt: skip
        else:  # the button names the subscriber
            parent = slack_blocks.parent_message(alert, self.presentation, actions=actions)
        tagged = {"metadata": metadata(alert, channel)}
        if thread_ref is None:
            return self._post_parent(channel, {**parent, **tagged})
        channel_id, _, parent_ts = thread_ref.partition("/")

        def reply() -> dict[str, Any]:
            made = self.memo.get("reply", alert, lambda: slack_blocks.reply_message(
                alert, self.presentation))  # fmt: skip
            return {**made, **tagged}

        if alert.attached_to:
            # Folded into an upstream's thread: reply there, leave its parent alone.
            data = self._call("chat_postMessage", channel=channel_id, thread_ts=parent_ts,
                              **reply())  # fmt: skip
            return SendResult(message_id=f"{channel_id}/{data['ts']}", thread_ref=thread_ref)
        # The reply is rendered after the edit: the first request waits only for what it
        # carries.
        try:
            self._call("chat_update", channel=channel_id, ts=parent_ts, **parent)
        except ThreadGoneError:
            log.info("slack thread parent is gone; starting a new thread")
            return self._post_parent(channel, {**parent, **tagged})
        except DeliveryError as exc:
            if not exc.permanent:
                raise
            # The reply matters more than a fresh parent; the message holds no secret.
            log.warning(
                "slack parent edit failed; posting the reply anyway: %s", exc.message,
                extra={"dedup_key": alert.dedup_key},
            )  # fmt: skip
        data = self._call("chat_postMessage", channel=channel_id, thread_ts=parent_ts, **reply())
        return SendResult(message_id=f"{channel_id}/{data['ts']}", thread_ref=thread_ref)

    def reply(self, thread_ref: str, text: str) -> SendResult:
        """Post `text` (mrkdwn, already inert) in the thread `thread_ref` names
        ("<channel id>/<parent ts>"): "Acknowledged by @name". Raises DeliveryError."""
        channel_id, _, parent_ts = thread_ref.partition("/")
        data = self._call("chat_postMessage", channel=channel_id, thread_ts=parent_ts, text=text)
        return SendResult(message_id=f"{channel_id}/{data.get('ts', '')}", thread_ref=thread_ref)

    def edit(self, message_ref: str, message: dict[str, Any]) -> None:
        """Replace the post `message_ref` ("<channel id>/<ts>") with `message` (text and
        blocks) through chat.update: the "Acknowledge" button after a press. Raises
        DeliveryError."""
        channel_id, _, ts = message_ref.partition("/")
        self._call("chat_update", channel=channel_id, ts=ts, **message)

    def _post_parent(self, channel: str, parent: dict[str, Any]) -> SendResult:
        data = self._call("chat_postMessage", channel=channel, **parent)
        self.ids.remember(channel, str(data["channel"]))
        ref = f"{data['channel']}/{data['ts']}"
        return SendResult(message_id=ref, thread_ref=ref)

    def find_sent(
        self, alert: Alert, target: Target, thread_ref: str | None, since: datetime
    ) -> SendResult | None:
        """The post an earlier attempt left, found by its metadata: among the thread's
        replies when there is a thread, else (or also, when the thread was gone and a
        new parent was posted) in the channel's history since `since`. A webhook post
        cannot be looked up (None). Needs the `channels:history` scope (and
        `groups:history` for private channels); conversations.history wants a channel
        id, so a channel configured by name is looked for under its id (`names`)."""
        if not isinstance(target, SlackTarget) or not target.channel:
            return None
        oldest = f"{since.timestamp() - LOOKUP_MARGIN_S:.6f}"
        if thread_ref is not None:
            channel_id, _, parent_ts = thread_ref.partition("/")
            ts = self._find(alert, target.channel, "conversations_replies", channel=channel_id,
                            ts=parent_ts, oldest=oldest)  # fmt: skip
            if ts is not None:
                ref = thread_ref if ts != parent_ts else f"{channel_id}/{ts}"
                return SendResult(message_id=f"{channel_id}/{ts}", thread_ref=ref)
        channel_id = target.channel
        if not _is_channel_id(channel_id):  # history wants an id
            channel_id = self.ids.resolve(target.channel, self._call) or ""
            if not channel_id:
                return None  # no such channel listed: the post cannot be there
        ts = self._find(alert, target.channel, "conversations_history",
                        channel=channel_id, oldest=oldest)  # fmt: skip
        if ts is None:
            return None
        ref = f"{channel_id}/{ts}"
        # Found outside a thread: it is a parent; `thread_ref` replies keep their parent.
        return SendResult(message_id=ref, thread_ref=ref)

    def request_timeout_s(self) -> float:
        """A Web API post can be looked up: it may still land this long after it began."""
        return self.timeout if self._token is not None else 0.0

    def _find(self, alert: Alert, target: str, method: str, **kwargs: Any) -> str | None:
        """The ts of the message tagged with `alert`'s key and `target`, or None."""
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            data = self._call(method, include_all_metadata=True, limit=200, cursor=cursor,
                              **kwargs)  # fmt: skip
            for message in data.get("messages") or ():
                if _tagged(message, alert, target):
                    return str(message["ts"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not data.get("has_more") or not cursor:
                return None
        log.warning("slack lookup gave up after %d pages", LOOKUP_PAGES,
                    extra={"dedup_key": alert.dedup_key})  # fmt: skip
        return None

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = getattr(self.client(), method)(**kwargs)
        except SlackApiError as exc:
            error = self._classify_api(exc)
            if method != POST and isinstance(error, DeliveryError):
                # Rate-limited per method and workspace: only this method waits.
                error = self._scoped(error, f"slack:method:{method}", method)
            raise error from None
        except (URLError, TimeoutError, ConnectionError, SlackClientError) as exc:
            raise connection_failed(
                "slack", exc, self.secrets(), unknown=not refused(exc)
            ) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _classify_api(self, exc: SlackApiError) -> Exception:
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or "unknown")
        if error in THREAD_GONE:
            return ThreadGoneError(error)
        return classify(status, error, exc.response.headers, self.secrets())


def _scope(target: SlackTarget, webhook: SecretStr | None = None) -> str:
    """The pacing scope of a channel, or of a webhook (named by a stable tag: its URL is
    a secret)."""
    if webhook is None:
        return f"slack:channel:{target.channel}"
    tag = hashlib.sha256(webhook.get_secret_value().encode()).hexdigest()[:16]
    return f"slack:webhook:{tag}"


def metadata(alert: Alert, channel: str) -> dict[str, Any]:
    """The message metadata that lets `find_sent` recognise this alert's post."""
    return {"event_type": EVENT_TYPE,
            "event_payload": {"dedup_key": alert.dedup_key, "target": channel}}  # fmt: skip


def _tagged(message: Any, alert: Alert, channel: str) -> bool:
    meta = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(meta, dict) or meta.get("event_type") != EVENT_TYPE:
        return False
    payload = meta.get("event_payload")
    return (
        isinstance(payload, dict)
        and payload.get("dedup_key") == alert.dedup_key
        and payload.get("target") == channel
        and "ts" in message
    )


def _is_channel_id(channel: str) -> bool:
    """`C0123ABCD` (public), `G…` (private), `D…` (a DM): not `#name`."""
    return channel[:1] in ("C", "G", "D") and channel.isalnum() and channel.upper() == channel
