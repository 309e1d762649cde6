"""Which `Channel` class a route name stands for (healthchecks' `TRANSPORTS`).

The pipeline asks here about a route's declared behaviour (`pages_only`,
`fallback_pages`) even when no instance of it is running, e.g. while planning, or
while the console stands in for every vendor. A channel added outside this package
calls `register`; nothing in the pipeline changes.
"""

from __future__ import annotations

from notifier.channels.apprise.channel import AppriseChannel
from notifier.channels.base import Channel
from notifier.channels.console.channel import ConsoleChannel
from notifier.channels.email.channel import EmailChannel
from notifier.channels.opsgenie.channel import OpsgenieChannel
from notifier.channels.pagerduty.channel import PagerDutyChannel
from notifier.channels.slack.channel import SlackChannel
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.webhook.channel import WebhookChannel

_KINDS: dict[str, type[Channel]] = {
    kind.name: kind
    for kind in (
        ConsoleChannel, SlackChannel, SmsChannel, EmailChannel,
        PagerDutyChannel, OpsgenieChannel, WebhookChannel, AppriseChannel,
    )
}  # fmt: skip


def register(kind: type[Channel]) -> type[Channel]:
    """Make `kind` the channel for routes named `kind.name`; usable as a decorator."""
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Forget the channel registered as `name` (tests that register their own)."""
    _KINDS.pop(name, None)


def channel_kind(name: str) -> type[Channel] | None:
    """The channel class for routes named `name`, or None when none is registered."""
    return _KINDS.get(name)


def pages_only() -> frozenset[str]:
    """The route names whose channel carries only pages and their resolutions. Read
    once when a process wires its stages: planning then needs no channel."""
    return frozenset(name for name, kind in _KINDS.items() if kind.pages_only)
