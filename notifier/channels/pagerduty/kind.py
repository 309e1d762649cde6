"""How PagerDuty is set up: each route names the variable holding its routing key."""

from __future__ import annotations

from notifier.channels.kind import EnvKeyKind
from notifier.channels.pagerduty.channel import PagerDutyChannel


class PagerDutyKind(EnvKeyKind):
    env_field = "routing_key_env"
    described = "the service whose routing key is in {}"


KIND = PagerDutyKind(PagerDutyChannel, lambda s, p: PagerDutyChannel(s.pagerduty_api_url, p))
