"""Metrics live in Redis so every worker process adds to one set of counters."""

from __future__ import annotations

import redis
from prometheus_client.parser import text_string_to_metric_families

from notifier.store.ops.metrics import Metrics, render


def _samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_counters_from_two_writers_add_up(redis_client: redis.Redis, key_prefix: str) -> None:
    Metrics(redis_client, key_prefix).inc("notifier_polls_total", provider="openai", outcome="304")
    Metrics(redis_client, key_prefix).inc("notifier_polls_total", provider="openai", outcome="304")
    samples = _samples(render(redis_client, key_prefix, f"{key_prefix}:celery:"))
    assert samples[("notifier_polls_total", (("outcome", "304"), ("provider", "openai")))] == 2


def test_latency_histogram_buckets_are_cumulative(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    m = Metrics(redis_client, key_prefix)
    for seconds in (0.03, 0.2, 4.0):
        m.record_delivery("slack", "delivered", seconds)
    samples = _samples(render(redis_client, key_prefix, f"{key_prefix}:celery:"))
    name = "notifier_detection_to_delivery_seconds_bucket"
    assert samples[(name, (("channel", "slack"), ("le", "0.05")))] == 1
    assert samples[(name, (("channel", "slack"), ("le", "0.25")))] == 2
    assert samples[(name, (("channel", "slack"), ("le", "+Inf")))] == 3
    assert (
        abs(samples[("notifier_detection_to_delivery_seconds_sum", (("channel", "slack"),))] - 4.23)
        < 1e-9
    )


def test_queue_depth_reads_the_broker_lists(redis_client: redis.Redis, key_prefix: str) -> None:
    redis_client.rpush(f"{key_prefix}:celery:deliver", "a", "b", "c")
    samples = _samples(render(redis_client, key_prefix, f"{key_prefix}:celery:"))
    assert samples[("notifier_queue_depth", (("queue", "deliver"),))] == 3
    assert samples[("notifier_queue_depth", (("queue", "poll"),))] == 0


def test_it_counts_the_work_waiting_for_its_time(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    redis_client.zadd(f"{key_prefix}:due:retrying", {"a/platform/slack": 1.0, "b/ops/sms": 2.0})
    samples = _samples(render(redis_client, key_prefix, f"{key_prefix}:celery:"))
    assert samples[("notifier_waiting", (("kind", "retrying"),))] == 2
    assert samples[("notifier_waiting", (("kind", "held"),))] == 0


def test_a_delivery_records_its_outcome_and_latency_together(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    m = Metrics(redis_client, key_prefix)
    m.record_delivery("email", "delivered", 0.2)
    m.record_delivery("email", "failed", None)
    samples = _samples(render(redis_client, key_prefix, f"{key_prefix}:celery:"))
    assert (
        samples[("notifier_deliveries_total", (("channel", "email"), ("outcome", "delivered")))]
        == 1
    )
    assert (
        samples[("notifier_deliveries_total", (("channel", "email"), ("outcome", "failed")))] == 1
    )
    count = samples[("notifier_detection_to_delivery_seconds_count", (("channel", "email"),))]
    assert count == 1  # only the delivered one has a latency
