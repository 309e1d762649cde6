"""How PagerDuty is set up: each route names the variable holding its routing key."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.channels.base import Channel
from notifier.channels.kind import EnvKeyKind
from notifier.channels.pagerduty.channel import PagerDutyChannel
from notifier.channels.render import Presentation
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing


class PagerDutyKind(EnvKeyKind):
    env_field = "routing_key_env"
    described = "the service whose routing key is in {}"

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        return PagerDutyChannel(settings.pagerduty_api_url, presentation)


KIND = PagerDutyKind(PagerDutyChannel)
