"""Outbound channels: Slack, SMS (Twilio), email (SMTP), and the console.

`build_channels(settings, ...)` makes a real channel for every vendor whose
credentials are set. With no vendor credentials at all, the console stands in for
every channel, so a fresh install prints alerts to stdout. Once any vendor is
configured, a route to an unconfigured one is a permanent delivery failure (which
the subscriber's fallback catches), never a silent print to a log nobody reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis

from notifier.channels.apprise.channel import AppriseChannel
from notifier.channels.base import Channel
from notifier.channels.console.channel import ConsoleChannel
from notifier.channels.email.channel import EmailChannel
from notifier.channels.opsgenie.channel import OpsgenieChannel
from notifier.channels.pagerduty.channel import PagerDutyChannel
from notifier.channels.render import Presentation
from notifier.channels.slack.channel import SlackChannel, webhook_routes
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.paging import Pager
from notifier.channels.webhook.channel import WebhookChannel
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Rate, RateGate

log = logging.getLogger(__name__)


# Channels whose credentials come with each route (`Channel.routed`).
ROUTED: tuple[type[Channel], ...] = (PagerDutyChannel, OpsgenieChannel, WebhookChannel,
                                     AppriseChannel)  # fmt: skip
VENDORS = (SlackChannel.name, SmsChannel.name, EmailChannel.name, *(k.name for k in ROUTED))


def credentials(settings: Settings, subscribers: Iterable[Subscriber] = ()) -> dict[str, str]:
    """Which vendors have credentials, each with what it has in a few words (never a
    secret): {"slack": "bot token", "email": "SMTP smtp.example.com:587"}. A vendor
    missing here gets no real channel from `build_channels`."""
    found: dict[str, str] = {}
    slack = [
        what
        for what, present in (
            ("bot token", settings.slack_token),
            ("webhook", settings.slack_webhook_url),
            ("subscriber webhooks", webhook_routes(subscribers)),
        )
        if present
    ]
    if slack:
        found[SlackChannel.name] = " + ".join(slack)
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        found[SmsChannel.name] = f"Twilio, from {settings.twilio_from}"
    if settings.smtp_host:
        found[EmailChannel.name] = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
    for kind in ROUTED:
        if any(kind.name in s.channel_names() for s in subscribers):
            found[kind.name] = "keys from the environment, per route"
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
    gate = RateGate(client, prefix)
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
    gate: RateGate | None = None,
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
    if SlackChannel.name in credentials(settings, subscribers):
        channels[SlackChannel.name] = SlackChannel(
            token=settings.slack_token, api_url=settings.slack_api_url,
            webhook_url=settings.slack_webhook_url, presentation=presentation, gate=gate,
            channel_rate=Rate(settings.slack_channel_rate, settings.slack_channel_burst),
        )  # fmt: skip
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        channels[SmsChannel.name] = SmsChannel(
            settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from,
            api_url=settings.twilio_api_url, presentation=presentation, gate=gate,
            rate=Rate(settings.twilio_rate, settings.twilio_burst),
        )  # fmt: skip
    if settings.smtp_host:
        channels[EmailChannel.name] = EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_from,
            username=settings.smtp_username, password=settings.smtp_password,
            starttls=settings.smtp_starttls, use_ssl=settings.smtp_ssl,
            presentation=presentation, max_sessions=settings.smtp_max_sessions,
        )  # fmt: skip
    for kind in ROUTED:
        routed = kind.routed(settings, subscribers, presentation)
        if routed is not None:
            channels[kind.name] = routed
    missing = [name for name in VENDORS if name not in channels]
    if len(missing) == len(VENDORS):
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
