"""Every kind of channel, by the route name it answers to (healthchecks' `TRANSPORTS`).

The pipeline asks here about a route's declared behaviour (`pages_only`,
`fallback_pages`) even when no instance of it is running, e.g. while planning, or
while the console stands in for every vendor; the build, the config check, the dry
run and `notifier pending` ask each `ChannelKind` how it is set up and described. A
channel added outside this package calls `register`; nothing in the pipeline changes.
"""

from __future__ import annotations

from notifier.channels.apprise.kind import KIND as APPRISE
from notifier.channels.base import Channel
from notifier.channels.console.kind import KIND as CONSOLE
from notifier.channels.email.kind import KIND as EMAIL
from notifier.channels.kind import ChannelKind
from notifier.channels.opsgenie.kind import KIND as OPSGENIE
from notifier.channels.pagerduty.kind import KIND as PAGERDUTY
from notifier.channels.slack.kind import KIND as SLACK
from notifier.channels.sms.kind import KIND as SMS
from notifier.channels.webhook.kind import KIND as WEBHOOK
from notifier.config.schema.subscribers import Subscriber

# In the order start-up lists them.
_KINDS: dict[str, ChannelKind] = {
    kind.name: kind for kind in (CONSOLE, SLACK, SMS, EMAIL, PAGERDUTY, OPSGENIE, WEBHOOK, APPRISE)
}


def register(kind: type[Channel] | ChannelKind) -> type[Channel] | ChannelKind:
    """Make `kind` the channel for routes named by its name; usable as a decorator on a
    `Channel` class (which then gets the defaults of `ChannelKind`)."""
    spec = kind if isinstance(kind, ChannelKind) else ChannelKind(kind)
    _KINDS[spec.name] = spec
    return kind


def unregister(name: str) -> None:
    """Forget the channel registered as `name` (tests that register their own)."""
    _KINDS.pop(name, None)


def kind_of(name: str) -> ChannelKind | None:
    """How routes named `name` are set up and described, or None when none is registered."""
    return _KINDS.get(name)


def channel_kind(name: str) -> type[Channel] | None:
    """The channel class for routes named `name`, or None when none is registered."""
    kind = _KINDS.get(name)
    return kind.channel if kind is not None else None


def all_kinds() -> tuple[ChannelKind, ...]:
    """Every registered kind, the console first."""
    return tuple(_KINDS.values())


def vendors() -> tuple[ChannelKind, ...]:
    """The kinds that reach a vendor: all but the console, which stands in for them."""
    return tuple(kind for kind in _KINDS.values() if kind.vendor)


def pages_only() -> frozenset[str]:
    """The route names whose channel carries only pages and their resolutions. Read
    once when a process wires its stages: planning then needs no channel."""
    return frozenset(name for name, kind in _KINDS.items() if kind.channel.pages_only)


def describe(subscriber: Subscriber, channel: str) -> str:
    """Where `subscriber`'s route named `channel` reaches, without secrets; the name
    itself for a route no kind is registered for."""
    kind = _KINDS.get(channel)
    return kind.describe(subscriber) if kind is not None else channel
