"""What `WAIT 1` costs per alert: the writes that prevent a repeat, with and without a
replica to confirm them (`notifier.store.conn.durable`).

One Sentinel group (primary, replica, three sentinels: `tests.support.sentinel_group`) on
loopback, reached through `redis+sentinel://` as the service reaches it. Per alert: its
dedup claim and its delivery's outcome batch (sent mark, state), each ending with
`WAIT 1 200` while the replica is connected; and the same
writes run as if degraded (no WAIT), alert by alert in turn, in one run.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import redis

from bench.support import Row, row
from notifier.store.conn.batch import Batch
from notifier.store.conn.connect import connect
from notifier.store.conn.durable import REPLICATION
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from tests.fakes import sample
from tests.support.sentinel_group import SentinelGroup

NAME = "replication"
ALERTS = 1000


def _one(client: redis.Redis, alerts: AlertStore, log: DeliveryLog, key: str) -> float:
    began = time.perf_counter()
    alerts.claim(replace(sample.alert(), dedup_key=key))
    writes = Batch(client)
    log.mark_sent(key, "#c", "C1/1.0001", pipe=writes.pipe)
    alerts.finish(key, AlertStatus.DELIVERED, datetime.now(UTC), pipe=writes.pipe)
    writes.execute(confirm="a delivery's outcome")
    return time.perf_counter() - began


def _measure(url: str) -> tuple[float, float, int]:
    """(us per alert with WAIT, us per alert without, WAITs answered), interleaved alert by
    alert on one connection so the machine's noise falls on both alike."""
    client = connect(url, socket_timeout=5)
    alerts, log = AlertStore(client, "bench-repl"), DeliveryLog(client, "bench-repl")
    pool = id(client.connection_pool)
    with_wait = without = 0.0
    waits = REPLICATION.waits
    for i in range(ALERTS):
        REPLICATION.replicas(client)  # the replica, as the service sees it
        with_wait += _one(client, alerts, log, f"w{i}/sre/slack")
        known = REPLICATION._known[pool]
        REPLICATION._known[pool] = (known[0], 0)  # as if degraded: no WAIT
        without += _one(client, alerts, log, f"n{i}/sre/slack")
        REPLICATION._known[pool] = known
    answered = REPLICATION.waits - waits
    client.close()
    return with_wait / ALERTS * 1e6, without / ALERTS * 1e6, answered


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="notifier-bench-repl-") as tmp:
        group = SentinelGroup(Path(tmp)).start()
        try:
            confirmed, degraded, waited = _measure(group.url)
        finally:
            group.stop()
    note = f"{ALERTS} alerts each way, interleaved: claim + outcome batch; {waited} WAITs"
    return [
        row(NAME, "per alert, replica confirms (WAIT 1)", confirmed, "us", baseline=degraded,
            note=note),
        row(NAME, "per alert, without WAIT (degraded)", degraded, "us",
            note="appendfsync always on both servers"),
        row(NAME, "cost of WAIT per alert", confirmed - degraded, "us"),
    ]  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(r)
