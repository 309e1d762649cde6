"""Slack's side of "Acknowledge": the button on a paged incident's post, and reading the
interactivity request Slack sends when someone presses it.

The request is verified with the app's signing secret by slack-sdk's
`SignatureVerifier` (v0 HMAC-SHA256 over `v0:{timestamp}:{body}`, the timestamp within
5 minutes, compared in constant time). Anything unsigned, badly signed, stale or not
our button reads as None: the web hook then answers 401 and changes nothing.

After a press the post is edited (`acknowledged_message`): the button gives way to
"Acknowledged by @name", so nobody presses it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from notifier.channels.slack.blocks import escape

ACK_ACTION = "notifier_ack"
VALUE_MAX = 2000  # Slack's limit on a button's value


@dataclass(frozen=True, slots=True)
class AckPress:
    """Someone pressed "Acknowledge" on the post of (`provider`, `incident_id`) that went
    to `subscriber`; `channel` and `thread_ts` locate the thread to answer in."""

    subscriber: str
    provider: str
    incident_id: str
    user: str  # the Slack user name (or id) of who pressed it
    channel: str
    thread_ts: str
    message_ts: str = ""  # the post that carries the button, to edit
    blocks: tuple[dict[str, Any], ...] = ()  # that post's blocks, as Slack sent them
    text: str = ""  # and its fallback text


def ack_block(subscriber: str, provider: str, incident_id: str) -> dict[str, Any]:
    """The actions block with the "Acknowledge" button for one incident's post."""
    value = json.dumps({"s": subscriber, "p": provider, "i": incident_id}, separators=(",", ":"))
    button = {
        "type": "button", "action_id": ACK_ACTION, "style": "primary", "value": value[:VALUE_MAX],
        "text": {"type": "plain_text", "text": "Acknowledge"},
    }  # fmt: skip
    return {"type": "actions", "block_id": "notifier_ack", "elements": [button]}


def signed(
    secret: str, body: bytes, headers: Mapping[str, str], clock: Clock | None = None
) -> bool:
    """Whether Slack signed `body` with `secret` within the last 5 minutes."""
    if not secret:
        return False
    verifier = SignatureVerifier(secret, clock) if clock is not None else SignatureVerifier(secret)
    try:
        return verifier.is_valid_request(body, dict(headers))
    except (ValueError, TypeError):  # a timestamp that is not a number
        return False


def ack_press(body: bytes) -> AckPress | None:
    """The button press in an interactivity request body (`payload=<json>`), or None."""
    try:
        payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
        action = next(a for a in payload.get("actions", []) if a.get("action_id") == ACK_ACTION)
        value = json.loads(action["value"])
        user = payload.get("user") or {}
        message = payload.get("message") or {}
        container = payload.get("container") or {}
        channel = (payload.get("channel") or {}).get("id") or container.get("channel_id")
        ts = message.get("thread_ts") or message.get("ts") or container.get("message_ts")
        return AckPress(
            subscriber=str(value["s"]), provider=str(value["p"]), incident_id=str(value["i"]),
            user=str(user.get("username") or user.get("name") or user.get("id") or "someone"),
            channel=str(channel or ""), thread_ts=str(ts or ""),
            message_ts=str(message.get("ts") or container.get("message_ts") or ""),
            blocks=tuple(b for b in message.get("blocks") or () if isinstance(b, dict)),
            text=str(message.get("text") or ""),
        )  # fmt: skip
    except (KeyError, ValueError, TypeError, StopIteration, AttributeError, UnicodeDecodeError):
        return None


def acknowledged_text(user: str) -> str:
    """`Acknowledged by @name`, with the name made inert like any text from outside."""
    return f"Acknowledged by @{escape(user)}"


def acknowledged_message(press: AckPress, by: str) -> dict[str, Any] | None:
    """The pressed post again, its "Acknowledge" button replaced by a line saying who
    acknowledged it (`by`); None when Slack sent no blocks to rebuild it from."""
    if not press.blocks:
        return None
    note = {"type": "context", "block_id": "notifier_acked",
            "elements": [{"type": "mrkdwn", "text": acknowledged_text(by)}]}  # fmt: skip
    kept = [b for b in press.blocks if b.get("block_id") not in ("notifier_ack", "notifier_acked")]
    return {"text": press.text or acknowledged_text(by), "blocks": [*kept, note]}
