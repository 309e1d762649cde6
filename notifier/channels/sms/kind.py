"""How SMS is set up: a Twilio account, token and sending number in the settings."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.channels.base import Channel
from notifier.channels.kind import ChannelKind
from notifier.channels.render import Presentation
from notifier.channels.sms.cap import mask
from notifier.channels.sms.channel import SmsChannel
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing, Rate


def _twilio(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from)


class SmsKind(ChannelKind):
    def credentials(self, settings: Settings, subscribers: Sequence[Subscriber]) -> str | None:
        return f"Twilio, from {settings.twilio_from}" if _twilio(settings) else None

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        sid, token, sender = (
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from,
        )
        if not (sid and token and sender):
            return None
        return SmsChannel(
            sid, token, sender, api_url=settings.twilio_api_url, presentation=presentation,
            gate=gate, rate=Rate(settings.twilio_rate, settings.twilio_burst),
        )  # fmt: skip

    def ready(self, settings: Settings, subscriber: Subscriber) -> bool:
        return _twilio(settings)

    def needs(self, subscriber: Subscriber) -> str:
        return "NOTIFIER_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM"

    def describe(self, subscriber: Subscriber) -> str:
        route = subscriber.sms
        if route is None:
            return self.name
        if route.rotation:
            return f"rotation {route.rotation}"
        return ", ".join(mask(n) for n in route.to or ())


KIND = SmsKind(SmsChannel)
