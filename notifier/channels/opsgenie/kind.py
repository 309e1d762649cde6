"""How Opsgenie is set up: each route names the variable holding its API key."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.channels.base import Channel
from notifier.channels.kind import EnvKeyKind
from notifier.channels.opsgenie.channel import OpsgenieChannel
from notifier.channels.render import Presentation
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing


class OpsgenieKind(EnvKeyKind):
    env_field = "api_key_env"
    described = "the team whose API key is in {}"

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        return OpsgenieChannel(settings.opsgenie_api_url, presentation)


KIND = OpsgenieKind(OpsgenieChannel)
