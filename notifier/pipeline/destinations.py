"""From the subscription file to channel targets.

This is the only delivery module that reads config internals (`Subscriber`,
`oncall.rotations`); channels see only the small targets of
`notifier.channels.base`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from notifier.channels.base import ConsoleTarget, EmailTarget, SlackTarget, Target
from notifier.channels.render import Presentation
from notifier.channels.sms.paging import Recipients
from notifier.route.oncall import rotation_from_config


@dataclass(frozen=True, slots=True)
class Destinations:
    """Resolves (subscriber, channel) pairs against a loaded `Config`."""

    config: Any  # notifier.config.load.Config; duck-typed so tests may pass a parsed file

    def subscriber(self, name: str) -> Any | None:
        return self.config.subscriber(name)

    def targets(self, subscriber: str, channel: str) -> list[Target]:
        sub = self.subscriber(subscriber)
        route = getattr(sub, channel, None) if sub is not None else None
        if channel == "console":
            return [ConsoleTarget()]
        if route is None:
            return []
        if channel == "slack":
            return [SlackTarget(channel=route.channel, webhook_url=route.webhook_url)]
        if channel == "email":
            return [EmailTarget(a) for a in route.to]
        return []

    def recipients(self, subscriber: str) -> Recipients | None:
        sub = self.subscriber(subscriber)
        route = getattr(sub, "sms", None) if sub is not None else None
        if route is None:
            return None
        if route.rotation:
            spec = self.config.oncall.rotations.get(route.rotation)
            if spec is None:
                return None
            return Recipients(rotation=rotation_from_config(route.rotation, spec))
        return Recipients(numbers=tuple(route.to or ()))

    def slack_webhooks(self) -> bool:
        """Whether any subscriber posts to Slack through its own webhook URL."""
        return any(
            getattr(getattr(s, "slack", None), "webhook_url", None) is not None
            for s in self.config.subscribers
        )

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
