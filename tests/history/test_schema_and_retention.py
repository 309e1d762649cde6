"""The migrations build exactly the tables the code writes; `notifier db upgrade` is
idempotent; the retention sweep removes what ended before the cutoff and nothing else;
the outbox drops only what is not its own, and one drain runs at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from notifier.history import db, retention
from notifier.history import tables as t
from notifier.history.drain import drain
from notifier.history.importer import import_incidents
from notifier.models import Impact, Incident, IncidentKind, Status
from notifier.pipeline.runtime.health import Limits, observe
from notifier.store.ops import outbox
from notifier.store.ops.metrics import render
from notifier.store.ops.outbox import Outbox

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_migrations_build_exactly_the_declared_tables(history_url: str) -> None:
    with db.engine_for(history_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert diff == []
    db.upgrade(history_url)  # at head: nothing to do, nothing breaks
    assert db.at_head(history_url)


def _inc(n: int, start: datetime, end: datetime | None) -> Incident:
    return Incident("acme", f"i{n}", "x", None, Status.RESOLVED if end else Status.INVESTIGATING,
                    Impact.MINOR, IncidentKind.INCIDENT, start, end, end)  # fmt: skip


def test_the_sweep_removes_only_what_ended_before_the_cutoff(history_url: str) -> None:
    engine = db.engine_for(history_url)
    old = NOW - timedelta(days=800)
    import_incidents(engine, [
        _inc(1, old, old + timedelta(hours=1)),  # ended 800 days ago: goes
        _inc(2, NOW - timedelta(days=10), NOW - timedelta(days=9)),  # recent: stays
        _inc(3, old, None),  # never closed, but updated long ago: goes
    ], {})  # fmt: skip
    assert retention.sweep(engine, NOW - timedelta(days=730)) >= 2
    with engine.connect() as conn:
        left = [r.incident_id for r in conn.execute(select(t.incidents.c.incident_id))]
    assert left == ["i2"]


def test_an_entry_that_is_not_ours_is_dropped_and_the_rest_written(
    redis_client: redis.Redis, key_prefix: str, history_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    box = Outbox(redis_client, key_prefix)
    good = {"id": "s1", "provider": "acme", "created_by": "ana", "reason": "r",
            "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-01T01:00:00Z"}  # fmt: skip
    redis_client.rpush(box.key, b"not json", outbox.entry(outbox.SILENCE, NOW, good),
                       outbox.entry(outbox.SILENCE, NOW, {"id": "s2"}))  # fmt: skip
    done = drain(box, db.engine_for(history_url), {})
    assert (done.entries, done.left) == (3, 0)
    with db.engine_for(history_url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.silences)).scalar_one() == 1
    assert "not ours" in caplog.text and "left out" in caplog.text


def test_one_drain_at_a_time(redis_client: redis.Redis, key_prefix: str, history_url: str) -> None:
    box = Outbox(redis_client, key_prefix)
    ack = {"page_id": "p", "by": "a", "at": "2026-01-01T00:00:00Z"}
    outbox.append(redis_client, key_prefix, outbox.ACK, NOW, ack)
    token = box.lock(60)
    assert token is not None
    busy = drain(box, db.engine_for(history_url), {})
    assert (busy.entries, busy.left) == (0, 1) and "another drain" in busy.error
    box.unlock(token)
    assert drain(box, db.engine_for(history_url), {}).left == 0


def test_health_tells_the_outbox_age_and_metrics_its_depth(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    outbox.append(redis_client, key_prefix, outbox.ACK, NOW - timedelta(seconds=90), {})
    outbox.append(redis_client, key_prefix, outbox.ACK, NOW, {})
    health = observe(redis_client, key_prefix, Limits(5.0, 120.0), NOW)
    check = next(c for c in health.checks if c.name == "history")
    assert check.ok and check.age_s == 90.0 and "2 rows wait" in check.detail
    text = render(redis_client, key_prefix, f"{key_prefix}:celery:").decode()
    assert "notifier_history_outbox_depth 2.0" in text


def test_a_batch_is_dropped_once_and_never_rows_behind_it(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    box = Outbox(redis_client, key_prefix)
    for n in range(5):
        outbox.append(redis_client, key_prefix, outbox.ACK, NOW, {"n": n})
    batch = box.peek(2)
    assert box.done(batch)  # one drainer wrote it and drops it
    assert not box.done(batch)  # a second one, whose lock had lapsed, drops nothing more
    assert box.depth() == 3 and box.peek(1)[0] != batch[0]
