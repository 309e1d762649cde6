"""How the generic webhook is set up: the URL is in the route, the signing key (if
any) in the variable the route names."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.channels.base import Channel
from notifier.channels.kind import EnvKeyKind
from notifier.channels.render import Presentation
from notifier.channels.webhook.channel import WebhookChannel
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing


class WebhookKind(EnvKeyKind):
    env_field = "secret_env"  # optional: an unsigned webhook needs nothing
    described = "its URL, signed with the key in {}"

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        return WebhookChannel(presentation)

    def describe(self, subscriber: Subscriber) -> str:
        # The URL may carry a token: it is a secret, never shown.
        return super().describe(subscriber) if self.env(subscriber) else "its URL"


KIND = WebhookKind(WebhookChannel)
