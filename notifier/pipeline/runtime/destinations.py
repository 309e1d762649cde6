"""Subscribers and their routes from the subscription file.

Each channel reads its own route from the `Subscriber` this hands out
(`Channel.targets`, and the pager's `Recipients.of`); what remains here is what spans
the file: fallbacks and how providers are presented.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from notifier.channels.render import Presentation
from notifier.config.schema import Config
from notifier.config.schema.subscribers import Subscriber


@dataclass(frozen=True, slots=True)
class Destinations:
    """Resolves (subscriber, channel) pairs against a loaded `Config`."""

    config: Config

    def subscriber(self, name: str) -> Subscriber | None:
        found: Subscriber | None = self.config.subscriber(name)
        return found

    def subscribers(self) -> list[Subscriber]:
        return list(self.config.subscribers)

    def fallback(self, subscriber: str) -> str | None:
        sub = self.subscriber(subscriber)
        return getattr(sub, "fallback", None) if sub is not None else None

    def presentation(self) -> Presentation:
        names: dict[str, str] = {}
        hosts: dict[str, str] = {}
        try:
            providers = self.config.resolved_providers()
        except (AttributeError, ValueError):
            providers = []
        for p in providers:
            names[p.id] = p.name
            host = urlsplit(p.url).hostname
            if host:
                hosts[p.id] = host
        return Presentation(names=names, hosts=hosts)
