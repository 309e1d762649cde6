"""A killed worker's messages come back to the queue: kombu's Redis transport, on a real
Redis, with the transport options `notifier worker` runs with (`workers.app`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from kombu import Connection, Exchange, Queue

from tests.support.broker import app_broker


@pytest.fixture
def broker(redis_url: str, key_prefix: str) -> Iterator[Connection]:
    with app_broker(redis_url, key_prefix, visibility_timeout=1) as conn:
        yield conn


def _taken_by_a_killed_worker(conn: Connection, body: str) -> None:
    """A message a worker took (unacknowledged) and never finished, taken a while ago."""
    channel = conn.default_channel
    queue = Queue("deliver", Exchange("deliver"), "deliver", channel=channel)
    queue.declare()
    conn.Producer(channel).publish(body, exchange=queue.exchange, routing_key="deliver")
    message = queue.get(no_ack=False)
    assert message is not None and message.body == body.encode()
    qos = channel.qos
    taken_at = time.time() - qos.visibility_timeout - 1
    channel.client.zadd(qos.unacked_index_key, {message.delivery_tag: taken_at})


def test_a_worker_killed_mid_sweep_holds_back_redelivery_for_seconds_not_minutes(
    broker: Connection, redis_client: redis.Redis, key_prefix: str
) -> None:
    channel = broker.default_channel
    qos = channel.qos
    _taken_by_a_killed_worker(broker, "the killed worker's chunk")
    # A worker killed in its restore sweep: it took kombu's sweep mutex and never let go.
    assert channel.client.lock(qos.unacked_mutex_key, timeout=qos.unacked_mutex_expire) \
        .acquire(blocking=False)  # fmt: skip
    mutex_ttl = redis_client.pttl(f"{key_prefix}:celery:unacked_mutex") / 1000
    assert 0 < mutex_ttl <= 10  # kombu's default: 300 s

    # The surviving worker's sweeps (every `unacked_restore_interval`), made here at once.
    began = time.monotonic()
    while not redis_client.llen(f"{key_prefix}:celery:deliver"):
        assert time.monotonic() - began < mutex_ttl + 5, "never redelivered"
        qos.restore_visible(num=qos.channel.unacked_restore_limit, interval=1)
        time.sleep(0.05)
    assert redis_client.llen(f"{key_prefix}:celery:deliver") == 1  # once, not twice
    assert not redis_client.hlen(f"{key_prefix}:celery:unacked")
