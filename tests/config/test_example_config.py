"""`make run` uses the example subscription file: with no credentials it must show
every alert on stdout rather than try a placeholder destination."""

from __future__ import annotations

from pathlib import Path

import redis

from notifier.channels.build import build_channels
from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline.destinations import Destinations

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
