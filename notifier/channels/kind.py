"""How a kind of channel is set up and spoken of, without an instance of it.

`Channel` (in `base`) is what sends. A `ChannelKind` is what the rest of the service
asks about a channel before or without sending: whether the settings hold its
credentials and how it is built from them (`notifier.channels.build`), whether a
subscriber's route of this kind can deliver and what it lacks (`notifier config
check`), and where a route reaches, in words without secrets (the console's dry
run). Each channel sub-package declares one in its `kind` module and
`notifier.channels.kinds` registers it, so no module outside `notifier/channels`
needs to know a channel by its name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from notifier.channels.base import Channel
from notifier.channels.render import Presentation
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing


class ChannelKind:
    """One kind of channel as the settings and the subscription file see it.

    The defaults fit a channel with nothing to set up (one registered from outside
    this package): never built from the settings, always ready, described by name.
    """

    # Not a vendor: it stands in for the vendors with no credentials (the console).
    vendor: bool = True
    # Its credentials come with each route (an environment variable the subscriber
    # names) rather than from the settings: shown at start-up only when routed to.
    per_route: bool = False

    def __init__(self, channel: type[Channel]) -> None:
        self.channel = channel

    @property
    def name(self) -> str:
        return self.channel.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channel.__name__})"

    def route(self, subscriber: Subscriber) -> Any:
        """`subscriber`'s route of this kind, as the subscription file states it, or None."""
        return getattr(subscriber, self.name, None)

    def credentials(self, settings: Settings, subscribers: Sequence[Subscriber]) -> str | None:
        """What this channel has to send with, in a few words and never a secret ("bot
        token", "SMTP smtp.example.com:587"); None when it has nothing: then no real
        channel of this kind is built."""
        return None

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        """The real channel, built from `settings` (and the routes of `subscribers`);
        called only when `credentials` found some. `gate` paces each destination."""
        return None

    def ready(self, settings: Settings, subscriber: Subscriber) -> bool:
        """Whether `subscriber`'s route of this kind can deliver with `settings` and the
        environment as they are now."""
        return True

    def needs(self, subscriber: Subscriber) -> str:
        """What `subscriber`'s route of this kind lacks to deliver, in words naming the
        setting or variable ("NOTIFIER_SMTP_HOST")."""
        return f"{self.channel.label or self.name} credentials"

    def describe(self, subscriber: Subscriber) -> str:
        """Where `subscriber`'s route of this kind reaches, without secrets (a webhook
        URL is one): "#ops", "rotation primary", "sre@example.com"."""
        return self.name


class EnvKeyKind(ChannelKind):
    """A channel whose key each route names as an environment variable (`env_field` of
    the route): built by `make` whenever a subscriber routes to it, ready when the
    variable is set."""

    per_route = True
    env_field = ""
    # How the described target reads, around the variable's name: "routing key in {}".
    described = "key in {}"

    def __init__(
        self, channel: type[Channel],
        make: Callable[[Settings, Presentation | None], Channel],
    ) -> None:  # fmt: skip
        super().__init__(channel)
        self.make = make

    def build(
        self, settings: Settings, subscribers: Sequence[Subscriber],
        presentation: Presentation | None, gate: Pacing | None,
    ) -> Channel | None:  # fmt: skip
        return self.make(settings, presentation)

    def env(self, subscriber: Subscriber) -> str | None:
        route = self.route(subscriber)
        value = getattr(route, self.env_field, None) if route is not None else None
        return str(value) if value else None

    def credentials(self, settings: Settings, subscribers: Sequence[Subscriber]) -> str | None:
        if any(self.route(s) is not None for s in subscribers):
            return "keys from the environment, per route"
        return None

    def ready(self, settings: Settings, subscriber: Subscriber) -> bool:
        env = self.env(subscriber)
        return env is None or bool(os.environ.get(env))

    def needs(self, subscriber: Subscriber) -> str:
        env = self.env(subscriber)
        return f"{env} set in the environment" if env else super().needs(subscriber)

    def describe(self, subscriber: Subscriber) -> str:
        env = self.env(subscriber)
        return self.described.format(env) if env else self.name
