"""How Slack is set up: a bot token, a default webhook, or the subscribers' own webhooks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from notifier.channels.base import Channel
from notifier.channels.kind import ChannelKind
from notifier.channels.render import Presentation
from notifier.channels.slack.channel import SlackChannel
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing, Rate


def webhook_routes(subscribers: Iterable[Subscriber]) -> bool:
    """Whether any subscriber posts to Slack through its own webhook URL (so Slack is
    usable without a bot token or a default webhook)."""
    return any(s.slack is not None and s.slack.webhook_url is not None for s in subscribers)


class SlackKind(ChannelKind):
    def credentials(self, settings: Settings, subscribers: Sequence[Subscriber]) -> str | None:
        found = [
            what
            for what, present in (
                ("bot token", settings.slack_token),
                ("webhook", settings.slack_webhook_url),
                ("subscriber webhooks", webhook_routes(subscribers)),
            )
            if present
        ]
        return " + ".join(found) or None

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        return SlackChannel(
            token=settings.slack_token, api_url=settings.slack_api_url,
            webhook_url=settings.slack_webhook_url, timeout=settings.slack_timeout,
            presentation=presentation, gate=gate,
            channel_rate=Rate(settings.slack_channel_rate, settings.slack_channel_burst),
        )  # fmt: skip

    def ready(self, settings: Settings, subscriber: Subscriber) -> bool:
        # A route with its own webhook needs nothing else; a `channel:` route needs the
        # bot token (the default webhook cannot choose a channel).
        route = subscriber.slack
        if route is not None and route.webhook_url is not None:
            return True
        return settings.slack_token is not None

    def needs(self, subscriber: Subscriber) -> str:
        return "NOTIFIER_SLACK_TOKEN"

    def describe(self, subscriber: Subscriber) -> str:
        route = subscriber.slack
        if route is None:
            return self.name
        return route.channel or "its webhook"


KIND = SlackKind(SlackChannel)
