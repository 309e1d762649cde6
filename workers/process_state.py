"""What this worker or beat process reads once: the Redis URL and the subscription file.

Nothing here runs at import. The first caller (Celery reading its configuration,
the logging set-up, `celeryd_init`, beat's scheduler) loads it; pool processes
forked later inherit it. A problem stops the process with the same clear message
`notifier run` prints: the errors already name the file and line.
"""

from __future__ import annotations

import os
from functools import cache

from notifier.config.load import ConfigError
from notifier.config.settings import get_settings
from notifier.pipeline.runtime.process import LoadedConfig
from notifier.store.conn.connect import connect
from notifier.store.conn.url import resolve_redis_url
from notifier.store.ops.heartbeats import Heartbeats


@cache
def redis_url() -> str:
    """The Redis this process talks to (broker, beat lock and state store)."""
    settings = get_settings()
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    if url is None:
        raise SystemExit(
            "no Redis: set NOTIFIER_REDIS_URL, or start the service with `notifier run`, "
            "which starts a private one under NOTIFIER_DATA_DIR"
        )
    return url


@cache
def loaded() -> LoadedConfig:
    """The settings, Redis URL and parsed subscription file, loaded once per process."""
    try:
        return LoadedConfig.load(get_settings(), redis_url())
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None


@cache
def _heartbeats(pid: int) -> Heartbeats:
    client = connect(redis_url(), socket_timeout=5, socket_connect_timeout=5)
    return Heartbeats(client, get_settings().key_prefix)


def heartbeats() -> Heartbeats:
    """This process's heartbeat writer (its own connection, made again after a fork)."""
    return _heartbeats(os.getpid())
