"""Which work a task does right away and how the rest is split into queued tasks."""

from __future__ import annotations

from typing import cast

import redis

from notifier.pipeline.delivery.retry import INFRASTRUCTURE
from notifier.pipeline.dispatch import DELIVERY_CHUNK, INLINE_PLAN_MAX, QueueDispatcher
from notifier.pipeline.service import Runtime


class Queues:
    """Records what would be enqueued."""

    def __init__(self) -> None:
        self.planned: list[list[str]] = []
        self.single: list[tuple[str, int]] = []
        self.chunks: list[list[str]] = []

    def plan(self, event_ids: list[str]) -> None:
        self.planned.append(event_ids)

    def deliver(self, dedup_key: str, attempt: int) -> None:
        self.single.append((dedup_key, attempt))

    def deliver_chunk(self, dedup_keys: list[str]) -> None:
        self.chunks.append(dedup_keys)


class _Config:
    def __init__(self, subscribers: int) -> None:
        self.subscribers = [object()] * subscribers


class _State:
    def load_events(self, event_ids: list[str]) -> list[object]:
        raise redis.ConnectionError("Redis blinked")


class _Runtime:
    """Just enough of a Runtime for the dispatcher's decisions."""

    def __init__(self, subscribers: int) -> None:
        self.config = _Config(subscribers)
        self.state = _State()


def _dispatcher(subscribers: int, queues: Queues) -> QueueDispatcher:
    return QueueDispatcher(cast(Runtime, _Runtime(subscribers)), queues, INFRASTRUCTURE)


def test_a_fan_out_goes_in_chunks_and_one_alert_or_a_retry_one_task_each() -> None:
    queues = Queues()
    d = _dispatcher(1, queues)
    keys = [f"k{n}" for n in range(DELIVERY_CHUNK * 2 + 3)]
    d.deliver(keys)
    assert queues.chunks == [keys[:10], keys[10:20], keys[20:]] and not queues.single
    d.deliver(["one"])
    d.deliver(["a", "b"], attempt=3)
    assert queues.single == [("one", 0), ("a", 3), ("b", 3)]


def test_a_large_fan_out_is_planned_by_its_own_task() -> None:
    queues = Queues()
    _dispatcher(INLINE_PLAN_MAX + 1, queues).process(["e1", "e2"])
    assert queues.planned == [["e1", "e2"]]


def test_inline_planning_that_hits_an_infrastructure_failure_is_queued_instead() -> None:
    queues = Queues()
    _dispatcher(INLINE_PLAN_MAX, queues).process(["e1"])
    assert queues.planned == [["e1"]]
