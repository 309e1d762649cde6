"""Outbound channels: Slack, SMS (Twilio), email (SMTP), and the console.

`build_channels(settings, ...)` makes a real channel for every vendor whose
credentials are set, each as its `ChannelKind` (`notifier.channels.kinds`) says.
With no vendor credentials at all, the console stands in for every channel, so a
fresh install prints alerts to stdout. Once any vendor is configured, a route to an
unconfigured one is a permanent delivery failure (which the subscriber's fallback
catches), never a silent print to a log nobody reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis

from notifier.channels.base import Channel
from notifier.channels.console.channel import ConsoleChannel
from notifier.channels.kinds import vendors
from notifier.channels.render import Presentation
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing

log = logging.getLogger(__name__)


# The kinds whose credentials come with each route (`ChannelKind.per_route`).
ROUTED = tuple(kind for kind in vendors() if kind.per_route)
VENDORS = tuple(kind.name for kind in vendors())


def credentials(settings: Settings, subscribers: Iterable[Subscriber] = ()) -> dict[str, str]:
    """Which vendors have credentials, each with what it has in a few words (never a
    secret): {"slack": "bot token", "email": "SMTP smtp.example.com:587"}. A vendor
    missing here gets no real channel from `build_channels`."""
    subscribers = list(subscribers)
    found: dict[str, str] = {}
    for kind in vendors():
        has = kind.credentials(settings, subscribers)
        if has:
            found[kind.name] = has
    return found


def build_channels(
    settings: Settings,
    client: redis.Redis,
    prefix: str,
    presentation: Presentation | None = None,
    subscribers: Iterable[Subscriber] = (),
) -> tuple[dict[str, Channel], Pager | None]:
    """(channels by name, the SMS Pager or None): `vendor_channels`, and the pager
    that pages, acknowledges and escalates through the SMS channel (state in Redis)."""
    gate = Pacing(client, prefix)
    channels = vendor_channels(settings, presentation, subscribers, gate)
    sms = channels.get(SmsChannel.name)
    pager = None
    if isinstance(sms, SmsChannel):
        rate = settings.sms_rate_limit_per_hour
        pager = Pager(client, prefix, sms, rate_limit=rate, presentation=presentation)
    return channels, pager


def vendor_channels(
    settings: Settings,
    presentation: Presentation | None = None,
    subscribers: Iterable[Subscriber] = (),
    gate: Pacing | None = None,
) -> dict[str, Channel]:
    """A real channel for every vendor with credentials, the console under its own
    name, and the console for every vendor when none has any.

    `gate`: paces each destination within the vendor's limits (the settings' rates);
    without one (a single test message) nothing is paced.

    `subscribers`: when one has its own `slack.webhook_url`, Slack is usable even
    without a bot token (channel routes then fail permanently, to the subscriber's
    fallback)."""
    console = ConsoleChannel(None, presentation)  # stdout at send time
    channels: dict[str, Channel] = {console.name: console}
    subscribers = list(subscribers)
    for kind in vendors():
        if kind.credentials(settings, subscribers) is None:
            continue
        channel = kind.build(settings, subscribers, presentation, gate)
        if channel is not None:
            channels[kind.name] = channel
    names = [kind.name for kind in vendors()]
    missing = [name for name in names if name not in channels]
    if len(missing) == len(names):
        for name in missing:
            channels[name] = console
        # Said once at start-up by `notifier run` (pipeline.runtime.banner), not per process.
        log.debug("no channel credentials set: every alert prints to stdout")
    elif missing:
        log.debug("no credentials for %s: alerts routed there fail over to the "
                  "subscriber's fallback", ", ".join(missing))  # fmt: skip
    return channels


def stands_in(channel: Channel, route: str) -> bool:
    """Whether `channel` is standing in for the route named `route` (the console for
    a vendor with no credentials): what it does is not what the route promises."""
    return channel.name != route
