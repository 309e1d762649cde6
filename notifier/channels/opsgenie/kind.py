"""How Opsgenie is set up: each route names the variable holding its API key."""

from __future__ import annotations

from notifier.channels.kind import EnvKeyKind
from notifier.channels.opsgenie.channel import OpsgenieChannel


class OpsgenieKind(EnvKeyKind):
    env_field = "api_key_env"
    described = "the team whose API key is in {}"


KIND = OpsgenieKind(OpsgenieChannel, lambda s, p: OpsgenieChannel(s.opsgenie_api_url, p))
