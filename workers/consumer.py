"""The worker's broker consumer: Celery's, reconnecting within a second or two.

Celery asks kombu to reconnect with kombu's default back-off: 2 s, then 2 s more after
each round of the broker's hosts, up to 30 s between tries. After an outage that outlasts
a few tries (a Sentinel failover took 22 s under load in the failover chaos test, a
restarted Redis as long as its AOF takes), a worker slept on for up to that long past
the broker's return, and every poll and delivery waited with it. Here the tries come
every `RECONNECT_MAX_S` at most. Celery's `broker_connection_max_retries` still bounds
them; `notifier worker` gives up on Redis after `NOTIFIER_REDIS_GRACE` anyway.
"""

from __future__ import annotations

import functools
from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer

RECONNECT_START_S = 0.5
RECONNECT_STEP_S = 0.5
RECONNECT_MAX_S = 2.0


class Consumer(CeleryConsumer):
    def ensure_connected(self, conn: Any) -> Any:
        """Celery's, with kombu's retry intervals bounded (see the module docstring)."""
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=RECONNECT_START_S,
            interval_step=RECONNECT_STEP_S,
            interval_max=RECONNECT_MAX_S,
        )
        try:
            return super().ensure_connected(conn)
        finally:
            del conn.ensure_connection  # the connection's own method again
