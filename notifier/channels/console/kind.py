"""The console: nothing to set up; it stands in for every vendor without credentials."""

from __future__ import annotations

from notifier.channels.console.channel import ConsoleChannel
from notifier.channels.kind import ChannelKind
from notifier.config.schema.subscribers import Subscriber


class ConsoleKind(ChannelKind):
    vendor = False

    def describe(self, subscriber: Subscriber) -> str:
        return "stdout"


KIND = ConsoleKind(ConsoleChannel)
