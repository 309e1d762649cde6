"""A kombu connection to the broker as `notifier worker` configures it (made here): the
app's broker URL and transport options (`workers.app.celery_config`), for tests of what
kombu's Redis transport does with them."""

from __future__ import annotations

from typing import Any

from kombu import Connection

from notifier.config.settings import Settings
from workers.app import celery_config


def app_broker(redis_url: str, key_prefix: str, **settings: Any) -> Connection:
    """A connection (not yet open; use it as a context manager) under `key_prefix`, with
    `settings` (e.g. `visibility_timeout`) over the defaults, not the environment's file."""
    built = Settings(_env_file=None, key_prefix=key_prefix, **settings)  # type: ignore[call-arg]
    conf = celery_config(built, redis_url)
    return Connection(conf["broker_url"], transport_options=conf["broker_transport_options"])
