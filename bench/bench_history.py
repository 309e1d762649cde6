"""The history's outbox drain: rows per second written from Redis into the database, SQLite
(the default) and PostgreSQL (when one answers at 127.0.0.1:5432) side by side, and the
same batch written a second time (a redelivered batch: upserts that change nothing).

Each incident contributes the rows the pipeline queues for one alert: its event, the
claimed alert, the delivery attempt and its end. The rows go into the outbox through the
real stores (`EventStore.save_events`, `AlertStore.claim`, `DeliveryLog`), then one
`drain` writes them in batches of 500.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import redis
from sqlalchemy import create_engine, text

from bench.support import Row, bench_redis, delete_prefix, new_prefix, row
from notifier.history import db
from notifier.history.drain import drain
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from notifier.store.feeds.events import EventStore
from notifier.store.ops.outbox import Outbox
from tests.fakes import sample

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _fill(client: redis.Redis, prefix: str, incidents: int) -> int:
    events, alerts, log = EventStore(client, prefix), AlertStore(client, prefix), DeliveryLog(
        client, prefix)  # fmt: skip
    for n in range(incidents):
        alert = sample.alert(key=f"ev{n}", id=f"inc{n}", thread_key=f"t{n}")
        when = alert.event.detected_at + timedelta(seconds=n)
        events.save_events([alert.event])
        alerts.claim(alert)
        log.attempt(alert, 0, when)
        alerts.finish(alert.dedup_key, AlertStatus.DELIVERED, when, message_id=f"m{n}")
    return Outbox(client, prefix).depth()


def _rate(client: redis.Redis, prefix: str, url: str, incidents: int) -> tuple[float, float]:
    """(rows/s of a first write, rows/s of the same rows written again)."""
    db.upgrade(url)
    box = Outbox(client, prefix)
    rates = []
    for _ in range(2):
        queued = _fill(client, prefix, incidents)
        start = time.perf_counter()
        done = drain(box, db.engine_for(url), {}, batch=500, max_batches=10_000)
        assert done.left == 0 and not done.error, done
        rates.append(queued / (time.perf_counter() - start))
        delete_prefix(client, prefix)
    return rates[0], rates[1]


def _postgres() -> str | None:
    try:
        psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                        connect_timeout=1).close()  # fmt: skip
    except psycopg.Error:
        return None
    return PG


def measure(redis_url: str, prefix: str, incidents: int = 2000) -> list[Row]:
    client = redis.Redis.from_url(redis_url)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'history.sqlite3'}"
        first, again = _rate(client, prefix, url, incidents)
        rows.append(row("history", "drain into SQLite", first, "rows/s"))
        rows.append(row("history", "same rows again (SQLite)", again, "rows/s", baseline=first))
    server = _postgres()
    if server is not None:
        name = f"notifier_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.rsplit("/", 1)[0] + f"/{name}"
        try:
            first, again = _rate(client, prefix, url, incidents)
            rows.append(row("history", "drain into PostgreSQL", first, "rows/s"))
            rows.append(row("history", "same rows again (PostgreSQL)", again, "rows/s",
                            baseline=first))  # fmt: skip
        finally:
            db.engine_for(url).dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    client.close()
    return rows


def run() -> list[Row]:
    with bench_redis() as url:
        return measure(url, new_prefix())
