"""How email is set up: an SMTP server in the settings."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.channels.base import Channel
from notifier.channels.email.channel import EmailChannel
from notifier.channels.kind import ChannelKind
from notifier.channels.render import Presentation
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing


class EmailKind(ChannelKind):
    def credentials(self, settings: Settings, subscribers: Sequence[Subscriber]) -> str | None:
        return f"SMTP {settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else None

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        if not settings.smtp_host:
            return None
        return EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_from,
            username=settings.smtp_username, password=settings.smtp_password,
            starttls=settings.smtp_starttls, use_ssl=settings.smtp_ssl,
            presentation=presentation, max_sessions=settings.smtp_max_sessions,
        )  # fmt: skip

    def ready(self, settings: Settings, subscriber: Subscriber) -> bool:
        return bool(settings.smtp_host)

    def needs(self, subscriber: Subscriber) -> str:
        return "NOTIFIER_SMTP_HOST"

    def describe(self, subscriber: Subscriber) -> str:
        route = subscriber.email
        return ", ".join(route.to) if route is not None else self.name


KIND = EmailKind(EmailChannel)
