"""Outbound channels: Slack, SMS (Twilio), email (SMTP), and the console.

`build_channels(settings, ...)` makes a real channel for every vendor whose
credentials are set. With no vendor credentials at all, the console stands in for
every channel, so a fresh install prints alerts to stdout. Once any vendor is
configured, a route to an unconfigured one is a permanent delivery failure (which
the subscriber's fallback catches), never a silent print to a log nobody reads.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from notifier.channels.base import Channel, DeliveryError, SendResult
from notifier.channels.console.channel import ConsoleChannel
from notifier.channels.render import Presentation

log = logging.getLogger(__name__)

__all__ = ["Channel", "DeliveryError", "SendResult", "build_channels"]


def build_channels(
    settings: Any,
    client: redis.Redis,
    prefix: str,
    presentation: Presentation | None = None,
    slack_webhook_routes: bool = False,
) -> tuple[dict[str, Channel], Any]:
    """(channels by name, the SMS Pager or None) from `notifier.config.settings.Settings`.

    `slack_webhook_routes`: some subscriber has its own `slack.webhook_url`, so Slack
    is usable even without a bot token (channel routes then fail permanently, to the
    subscriber's fallback)."""
    from notifier.channels.email.channel import EmailChannel
    from notifier.channels.slack.channel import SlackChannel
    from notifier.channels.sms.channel import SmsChannel
    from notifier.channels.sms.paging import Pager

    console = ConsoleChannel(None, presentation)  # stdout at send time
    channels: dict[str, Channel] = {"console": console}
    if settings.slack_token or settings.slack_webhook_url or slack_webhook_routes:
        channels["slack"] = SlackChannel(
            token=settings.slack_token, api_url=settings.slack_api_url,
            webhook_url=settings.slack_webhook_url, presentation=presentation,
        )  # fmt: skip
    pager = None
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        sms = SmsChannel(
            settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from,
            api_url=settings.twilio_api_url, presentation=presentation,
        )  # fmt: skip
        channels["sms"] = sms
        rate = settings.sms_rate_limit_per_hour
        pager = Pager(client, prefix, sms, rate_limit=rate, presentation=presentation)
    if settings.smtp_host:
        channels["email"] = EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_from,
            username=settings.smtp_username, password=settings.smtp_password,
            starttls=settings.smtp_starttls, use_ssl=settings.smtp_ssl,
            presentation=presentation,
        )  # fmt: skip
    missing = [name for name in ("slack", "sms", "email") if name not in channels]
    if len(missing) == 3:
        for name in missing:
            channels[name] = console
        log.info("no channel credentials set: every alert prints to stdout")
    elif missing:
        log.warning("no credentials for %s: alerts routed there fail over to the "
                    "subscriber's fallback", ", ".join(missing))  # fmt: skip
    return channels, pager
