"""Writes that must survive the promotion of a replica.

Redis replicates asynchronously: a write the primary acknowledged can be lost when the
primary dies before a replica has it, and Sentinel promotes that replica. For most keys
that costs nothing (a poll is done again, a metric is one short). For the writes that
stop a repeat it costs a repeat: a lost dedup claim is a duplicate alert, a lost sent mark
a double send, a lost thread entry a new Slack parent and a second page, a lost ack an
escalation after the ack, a lost page record a page sent again.

So those writes end with `WAIT 1 <timeout>` in the same round trip: the reply comes once
at least one replica holds them (`bench/bench_replication.py` measures what it costs).
When the primary has no replica connected there is nothing to wait for and no WAIT is
sent: the service runs *degraded* (a single copy, as with one Redis); this is logged once
at WARNING when it starts and when it ends, and `notifier status` and `/healthz` say so. A WAIT that
times out (a replica connected but lagging) is logged the same way; the write stands.

Which writes: `AlertStore.claim` (dedup claim), the delivery's outcome batch (sent marks,
thread reference, state), `RedisThreadStore.open`/`take_over`/`join_cascade` (thread
entry), `PageStore.take_ack` and page saves (ack, page record).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.client import Pipeline

log = logging.getLogger("notifier.redis")

WAIT_TIMEOUT_MS = 200  # the most a protective write waits for a replica
RECHECK_S = 5.0  # how often each process asks the primary how many replicas it has


class Replication:
    """What this process knows of the primary's replicas, per connection pool."""

    def __init__(self, timeout_ms: int = WAIT_TIMEOUT_MS) -> None:
        self.timeout_ms = timeout_ms
        self._lock = threading.Lock()
        self._known: dict[int, tuple[float, int]] = {}  # pool id → (checked at, replicas)
        self.degraded: str | None = None  # why, while degraded
        self.waits = 0
        self.waited_s = 0.0

    def replicas(self, client: redis.Redis) -> int:
        pool = id(client.connection_pool)
        now = time.monotonic()
        known = self._known.get(pool)
        if known is not None and now - known[0] < RECHECK_S:
            return known[1]
        try:
            count = int(client.info("replication").get("connected_slaves", 0))
        except redis.ResponseError:  # INFO renamed or refused (some managed Redis)
            count = 0
        with self._lock:
            had = known[1] if known is not None else None
            self._known[pool] = (now, count)
        if count == 0 and had:
            self._degrade("no replica is connected to the primary")
        elif count and self.degraded and had == 0:
            self._recover(count)
        return count

    def acked(self, acked: int, what: str) -> None:
        if acked >= 1:
            if self.degraded and "did not confirm" in self.degraded:
                self._recover(acked)
            return
        self._degrade(f"no replica confirmed {what} within {self.timeout_ms} ms")

    def _degrade(self, why: str) -> None:
        with self._lock:
            first, self.degraded = self.degraded is None, why
        if first:
            log.warning(
                "Redis replication degraded: %s; writes that prevent repeats are kept on the "
                "primary only until a replica confirms them again",
                why,
            )

    def _recover(self, replicas: int) -> None:
        with self._lock:
            was, self.degraded = self.degraded, None
        if was is not None:
            log.warning("Redis replication restored: %d replica(s) confirm writes again", replicas)


REPLICATION = Replication()


def confirmed(client: redis.Redis, what: str, queue: Callable[[Pipeline], object]) -> list[Any]:
    """Run the writes `queue` puts on a pipeline, then, when the primary has replicas,
    `WAIT 1` for one of them in the same round trip. The replies of the writes."""
    pipe = client.pipeline(transaction=False)
    queue(pipe)
    return execute_confirmed(client, pipe, what)


def execute_confirmed(client: redis.Redis, pipe: Pipeline, what: str) -> list[Any]:
    """`pipe.execute()`, with `WAIT 1` after its writes when the primary has replicas."""
    n = len(pipe)
    wait = n > 0 and REPLICATION.replicas(client) > 0
    if wait:
        pipe.execute_command("WAIT", 1, REPLICATION.timeout_ms)
    began = time.monotonic()
    results = pipe.execute() if len(pipe) else []
    if wait:
        REPLICATION.waits += 1
        REPLICATION.waited_s += time.monotonic() - began
        REPLICATION.acked(int(results[n]), what)
    return list(results[:n])
