"""How apprise is set up: each route names the variable holding its URLs."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.channels.apprise.channel import AppriseChannel
from notifier.channels.base import Channel
from notifier.channels.kind import EnvKeyKind
from notifier.channels.render import Presentation
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.store.delivery.pacing import Pacing


class AppriseKind(EnvKeyKind):
    env_field = "urls_env"
    described = "the URLs in {}"

    def build(
        self,
        settings: Settings,
        subscribers: Sequence[Subscriber],
        presentation: Presentation | None,
        gate: Pacing | None,
    ) -> Channel | None:
        return AppriseChannel(presentation)


KIND = AppriseKind(AppriseChannel)
