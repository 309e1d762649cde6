"""What the channels can deliver with the current settings and environment, as the
config check asks it (`notifier.config.advice.Reach`): each channel's kind answers."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.channels.build import credentials
from notifier.channels.kinds import kind_of
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings


class ChannelReach:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def any_vendor(self, subscribers: Sequence[Subscriber]) -> bool:
        """Whether some vendor has credentials: else the console stands in for all (the
        same question `build_channels` asks)."""
        return bool(credentials(self.settings, subscribers))

    def ready(self, subscriber: Subscriber, channel: str) -> bool:
        kind = kind_of(channel)
        return kind is None or kind.ready(self.settings, subscriber)

    def needs(self, subscriber: Subscriber, channel: str) -> str:
        kind = kind_of(channel)
        return kind.needs(subscriber) if kind is not None else f"{channel} credentials"
