"""How the generic webhook is set up: the URL is in the route, the signing key (if
any) in the variable the route names."""

from __future__ import annotations

from notifier.channels.kind import EnvKeyKind
from notifier.channels.webhook.channel import WebhookChannel
from notifier.config.schema.subscribers import Subscriber


class WebhookKind(EnvKeyKind):
    env_field = "secret_env"  # optional: an unsigned webhook needs nothing
    described = "its URL, signed with the key in {}"

    def describe(self, subscriber: Subscriber) -> str:
        # The URL may carry a token: it is a secret, never shown.
        return super().describe(subscriber) if self.env(subscriber) else "its URL"


KIND = WebhookKind(WebhookChannel, lambda s, p: WebhookChannel(p))
