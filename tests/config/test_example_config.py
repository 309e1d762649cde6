"""`make run` uses the example subscription file: with no credentials it must show
every alert on stdout rather than try a placeholder destination."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from notifier.channels.build import build_channels
from notifier.channels.reach import ChannelReach
from notifier.config.load import check_config, load_config
from notifier.config.settings import Settings
from notifier.pipeline.runtime.destinations import Destinations

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "subscriptions.example.yaml"


def test_the_example_config_prints_everything_without_credentials(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    destinations = Destinations(load_config(EXAMPLE))
    settings = Settings(_env_file=None, key_prefix=key_prefix)  # type: ignore[call-arg]
    channels, pager = build_channels(
        settings, redis_client, key_prefix, None, destinations.subscribers()
    )
    assert {channels[name].name for name in ("slack", "sms", "email")} == {"console"}
    assert pager is None


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"smtp_host": "smtp.example"},
        {"slack_webhook_url": "https://hooks.slack.com/services/T0/B0/madeHere"},
        {"twilio_account_sid": "AC0"},  # half a Twilio setup configures nothing
        {"twilio_account_sid": "AC0", "twilio_auth_token": "t", "twilio_from": "+15550199"},
    ],
    ids=["none", "smtp", "slack-webhook", "half-twilio", "twilio"],
)
def test_config_check_warns_of_the_console_exactly_when_the_service_uses_it(
    redis_client: redis.Redis, key_prefix: str, credentials: dict[str, str]
) -> None:
    settings = Settings(_env_file=None, key_prefix=key_prefix, **credentials)  # type: ignore[arg-type]
    report = check_config(EXAMPLE, reach=ChannelReach(settings))
    assert report.config is not None
    channels, _ = build_channels(
        settings, redis_client, key_prefix, None, report.config.subscribers
    )
    console = all(
        name in channels and channels[name].name == "console" for name in ("slack", "sms", "email")
    )
    warned = any("every alert prints to stdout" in w for w in report.warnings)
    assert warned == console
