"""The health decision, as a table: each row is what Redis held and what it means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from notifier.pipeline.runtime.health import Limits, assess, observe
from notifier.store.delivery.retries import RetryQueue
from notifier.store.ops.heartbeats import Heartbeats, Pulse

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
LIMITS = Limits(tick_s=5.0, due_max_age_s=120.0)  # heartbeats stale after 15 s


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


FRESH = Pulse(beat_at=ago(2), workers={"celery@a": ago(1)}, earliest_due=None)

CASES = [
    # (what Redis held, the checks that fail)
    (FRESH, []),
    (Pulse(ago(15), {"celery@a": ago(15)}, ago(120)), []),  # every limit is inclusive
    (Pulse(ago(15.1), {"celery@a": ago(1)}, None), ["beat"]),
    (Pulse(None, {"celery@a": ago(1)}, None), ["beat"]),
    (Pulse(ago(1), {}, None), ["workers"]),
    (Pulse(ago(1), {"celery@a": ago(16), "celery@b": ago(40)}, None), ["workers"]),
    (Pulse(ago(1), {"celery@a": ago(16), "celery@b": ago(3)}, None), []),
    (Pulse(ago(1), {"celery@a": ago(1)}, ago(121)), ["due"]),
    (Pulse(ago(1), {"celery@a": ago(1)}, NOW + timedelta(hours=1)), []),  # not yet due
    (Pulse(ago(60), {}, ago(600)), ["beat", "workers", "due"]),
    (Pulse(NOW + timedelta(seconds=3), {"celery@a": ago(1)}, None), []),  # a clock ahead
]


@pytest.mark.parametrize(("pulse", "failing"), CASES)
def test_it_fails_exactly_the_checks_whose_evidence_is_too_old(
    pulse: Pulse, failing: list[str]
) -> None:
    health = assess(pulse, LIMITS, NOW)
    assert [c.name for c in health.failing()] == failing
    assert health.healthy is (failing == [])


def test_a_redis_that_does_not_answer_fails_every_check() -> None:
    health = assess(None, LIMITS, NOW, "ConnectionError")
    assert not health.healthy
    assert [c.name for c in health.failing()] == ["redis", "beat", "workers", "due"]
    assert "ConnectionError" in health.checks[0].detail


def test_each_check_names_its_age_and_threshold() -> None:
    pulse = Pulse(ago(20), {"celery@a": ago(4), "celery@b": ago(2)}, ago(30))
    body = assess(pulse, LIMITS, NOW).to_json()
    checks = {c["name"]: c for c in body["checks"]}
    assert body["healthy"] is False
    assert checks["beat"] == {"name": "beat", "ok": False, "age_s": 20.0, "threshold_s": 15.0,
                              "detail": "last tick 20.0 s ago, more than 15.0 s"}  # fmt: skip
    assert checks["workers"]["age_s"] == 2.0 and checks["workers"]["threshold_s"] == 15.0
    assert checks["workers"]["detail"] == "2 alive: celery@a, celery@b"
    assert checks["due"]["age_s"] == 30.0 and checks["due"]["threshold_s"] == 120.0
    assert checks["redis"]["ok"] is True


def test_it_reads_the_heartbeats_and_the_oldest_due_work_from_redis(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    beats = Heartbeats(redis_client, key_prefix)
    assert [c.name for c in observe(redis_client, key_prefix, LIMITS, NOW).failing()] == [
        "beat",
        "workers",
    ]
    beats.beat(ago(3))
    beats.worker("celery@gone", ago(40), expire_after=15)
    beats.worker("celery@alive", ago(1), expire_after=15)  # drops the expired one
    RetryQueue(redis_client, key_prefix).schedule(["alert-1"], attempt=2, when=ago(200))
    pulse = beats.read(NOW, expire_after=15)
    assert pulse.beat_at == ago(3)
    assert set(pulse.workers) == {"celery@alive"}
    assert pulse.earliest_due == ago(200)
    health = observe(redis_client, key_prefix, LIMITS, NOW)
    assert [c.name for c in health.failing()] == ["due"]
    beats.worker_gone("celery@alive")
    assert beats.read(NOW, expire_after=15).workers == {}
