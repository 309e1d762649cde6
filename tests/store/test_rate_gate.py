"""Per-destination pacing in Redis: a token bucket per destination, pauses per scope."""

from __future__ import annotations

import redis

from notifier.store.delivery.pacing import Rate, RateGate


class Clock:
    def __init__(self, at: float = 1_800_000_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_a_destination_gets_its_burst_then_one_send_per_interval(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    clock = Clock()
    gate = RateGate(redis_client, key_prefix, clock)
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
    gate = RateGate(redis_client, key_prefix, Clock())
    rate = Rate(per_second=1.0, burst=1)
    assert gate.take("slack:channel:#ops", rate) is None
    assert gate.take("slack:channel:#ops", rate) is not None
    assert gate.take("slack:channel:#web", rate) is None


def test_a_pause_holds_only_the_destinations_it_names(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    clock = Clock()
    gate = RateGate(redis_client, key_prefix, clock)
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
    assert RateGate(redis_client, key_prefix, ahead).take("twilio:from:+1555", rate) is None
    assert RateGate(redis_client, key_prefix, behind).take("twilio:from:+1555", rate) is not None
