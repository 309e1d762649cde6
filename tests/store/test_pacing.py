"""Pacing in Redis, the one pause mechanism: a token bucket per destination, pauses per
scope, and a pause one path writes holds back the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from notifier.store.conn.batch import Batch, read_now
from notifier.store.delivery.pacing import Pacing, Rate, Turn


class Clock:
    def __init__(self, at: float = 1_800_000_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_a_destination_gets_its_burst_then_one_send_per_interval(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    clock = Clock()
    gate = Pacing(redis_client, key_prefix, clock)
    rate = Rate(per_second=1.0, burst=3)
    assert [gate.take("slack:channel:#ops", rate) for _ in range(3)] == [None, None, None]
    wait = gate.take("slack:channel:#ops", rate)
    assert wait is not None and 0.99 <= wait <= 1.0
    clock.at += 0.5
    wait = gate.take("slack:channel:#ops", rate)
    assert wait is not None and 0.49 <= wait <= 0.5
    clock.at += 0.5
    assert gate.take("slack:channel:#ops", rate) is None
    assert gate.take("slack:channel:#ops", rate) is not None


def test_destinations_are_paced_apart(redis_client: redis.Redis, key_prefix: str) -> None:
    gate = Pacing(redis_client, key_prefix, Clock())
    rate = Rate(per_second=1.0, burst=1)
    assert gate.take("slack:channel:#ops", rate) is None
    assert gate.take("slack:channel:#ops", rate) is not None
    assert gate.take("slack:channel:#web", rate) is None


def test_a_pause_holds_only_the_destinations_it_names(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    clock = Clock()
    gate = Pacing(redis_client, key_prefix, clock)
    rate = Rate(per_second=100.0, burst=100)
    gate.pause("slack:channel:#ops", 30)
    wait = gate.take("slack:channel:#ops", rate, ["slack:channel:#ops"])
    assert wait is not None and 29.9 <= wait <= 30
    assert gate.take("slack:channel:#web", rate, ["slack:channel:#web"]) is None
    clock.at += 30.5
    assert gate.take("slack:channel:#ops", rate, ["slack:channel:#ops"]) is None


def test_a_worker_whose_clock_is_behind_never_mints_sends(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    ahead, behind = Clock(), Clock()
    behind.at -= 10
    rate = Rate(per_second=1.0, burst=1)
    assert Pacing(redis_client, key_prefix, ahead).take("twilio:from:+1555", rate) is None
    assert Pacing(redis_client, key_prefix, behind).take("twilio:from:+1555", rate) is not None


NOW = datetime.fromtimestamp(1_800_000_000.0, UTC)


def test_a_channel_paused_by_delivery_holds_the_channels_own_sends_back(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    # delivery pauses the whole channel after a Retry-After, on its write pipeline
    delivery = Pacing(redis_client, key_prefix, Clock())
    writes = redis_client.pipeline(transaction=False)
    delivery.pause("slack", 20, NOW, writes)
    assert delivery.paused(["slack"], NOW) == {}  # only queued
    writes.execute()
    # the channel (another worker's Pacing) paces a send that names that scope
    channel = Pacing(redis_client, key_prefix, Clock())
    wait = channel.take("slack:channel:#ops", Rate(100.0, 100), ["slack:channel:#ops", "slack"])
    assert wait is not None and 19.9 <= wait <= 20


def test_a_scope_paused_by_a_channel_is_seen_by_delivery(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    Pacing(redis_client, key_prefix, Clock()).pause("webhook:target:hook-1", 30)  # the clock's now
    delivery = Pacing(redis_client, key_prefix)
    until = delivery.paused(["webhook:target:hook-1", "webhook:target:hook-2"], NOW)
    assert until == {"webhook:target:hook-1": NOW + timedelta(seconds=30)}
    assert read_now(redis_client, lambda b: delivery.pauses_into(b, ["webhook:target:hook-1"])) == {
        "webhook:target:hook-1": NOW.timestamp() + 30
    }


def test_a_turn_taken_ahead_answers_its_send_once_and_no_other(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    clock = Clock()
    early, late = Pacing(redis_client, key_prefix, clock), Pacing(redis_client, key_prefix, clock)
    rate = Rate(per_second=1.0, burst=1)
    turn = Turn("slack:channel:#ops", rate, ("slack:channel:#ops",))
    batch = Batch(redis_client)
    taken = early.take_into(batch, turn)
    batch.execute()
    assert taken.get() is None  # the bucket's one token
    with late.ahead(turn, taken):  # another instance (the channel's) of the same store
        assert late.take("slack:channel:#web", rate) is None  # not the turn taken ahead
        assert late.take(*_args(turn)) is None  # answered from the turn taken ahead
        wait = late.take(*_args(turn))  # once: this one asks Redis, and the bucket is empty
        assert wait is not None and 0.99 <= wait <= 1.0
    batch = Batch(redis_client)
    taken = early.take_into(batch, turn)
    batch.execute()
    with late.ahead(turn, taken):
        pass  # a turn taken ahead and not asked for: the destination was paced all the same
    wait = late.take(*_args(turn))
    assert wait is not None


def test_a_turn_taken_ahead_waits_while_a_scope_it_names_is_paused(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    gate = Pacing(redis_client, key_prefix, Clock())
    turn = Turn("slack:channel:#ops", Rate(100.0, 100), ("slack:channel:#ops", "slack:method:x"))
    gate.pause("slack:method:x", 30)
    batch = Batch(redis_client)
    taken = gate.take_into(batch, turn)
    batch.execute()
    with gate.ahead(turn, taken):
        wait = gate.take(*_args(turn))
    assert wait is not None and 29.9 <= wait <= 30


def _args(turn: Turn) -> tuple[str, Rate, tuple[str, ...]]:
    return turn.destination, turn.rate, turn.paused_by
