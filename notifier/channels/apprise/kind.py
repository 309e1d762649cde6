"""How apprise is set up: each route names the variable holding its URLs."""

from __future__ import annotations

from notifier.channels.apprise.channel import AppriseChannel
from notifier.channels.kind import EnvKeyKind


class AppriseKind(EnvKeyKind):
    env_field = "urls_env"
    described = "the URLs in {}"


KIND = AppriseKind(AppriseChannel, lambda s, p: AppriseChannel(p))
