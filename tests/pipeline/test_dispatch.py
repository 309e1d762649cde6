"""Which work a task does right away, how the rest is split into queued tasks, and on
which lane each alert travels (pages on their own queue)."""

from __future__ import annotations

from typing import cast

import pytest
import redis

from notifier.config.settings import Settings
from notifier.models import AlertKind
from notifier.pipeline.delivery.retry import INFRASTRUCTURE
from notifier.pipeline.dispatch import (
    DELIVER,
    INLINE_PLAN_MAX,
    PAGES,
    Lane,
    QueueDispatcher,
    lane_of,
)
from notifier.pipeline.service import Runtime
from notifier.store.delivery.alerts import AlertStore
from tests.fakes import sample

CHUNK = 10


class Queues:
    """Records what would be enqueued."""

    def __init__(self) -> None:
        self.planned: list[list[str]] = []
        self.single: list[tuple[str, int, Lane]] = []
        self.chunks: list[tuple[list[str], Lane]] = []

    def plan(self, event_ids: list[str]) -> None:
        self.planned.append(event_ids)

    def deliver(self, dedup_key: str, attempt: int, lane: Lane) -> None:
        self.single.append((dedup_key, attempt, lane))

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        self.chunks.append((dedup_keys, lane))


class _Config:
    def __init__(self, subscribers: int) -> None:
        self.subscribers = [object()] * subscribers


class _Events:
    def load_events(self, event_ids: list[str]) -> list[object]:
        raise redis.ConnectionError("Redis blinked")


class _Runtime:
    """Just enough of a Runtime for the dispatcher's decisions: the real alert store."""

    def __init__(self, subscribers: int, alerts: AlertStore | None = None) -> None:
        self.config = _Config(subscribers)
        self.events = _Events()
        self.alerts = alerts
        self.settings = Settings(delivery_in_flight=CHUNK)


def _dispatcher(
    subscribers: int, queues: Queues, alerts: AlertStore | None = None
) -> QueueDispatcher:
    return QueueDispatcher(cast(Runtime, _Runtime(subscribers, alerts)), queues, INFRASTRUCTURE)


@pytest.fixture
def alerts(redis_client: redis.Redis, key_prefix: str) -> AlertStore:
    return AlertStore(redis_client, key_prefix)


def _claimed(
    alerts: AlertStore, n: int, channel: str = "slack", kind: AlertKind = AlertKind.NEW
) -> list[str]:
    keys = []
    for i in range(n):
        alert = sample.alert(
            kind=kind, channel=channel, subscriber=f"team{i}", key=f"ev-{kind.value}"
        )
        alerts.claim(alert)
        keys.append(alert.dedup_key)
    return keys


def test_a_fan_out_goes_in_chunks_of_the_in_flight_limit_and_a_retry_one_task_each(
    alerts: AlertStore,
) -> None:
    queues = Queues()
    d = _dispatcher(1, queues, alerts)
    keys = _claimed(alerts, CHUNK * 2 + 3)
    d.deliver(keys)
    assert queues.chunks == [(keys[:10], DELIVER), (keys[10:20], DELIVER), (keys[20:], DELIVER)]
    assert not queues.single
    d.deliver(keys[:1])
    d.deliver(keys[1:3], attempt=3)
    assert queues.single == [(keys[0], 0, DELIVER), (keys[1], 3, DELIVER), (keys[2], 3, DELIVER)]


def test_pages_are_queued_first_on_their_own_lane(alerts: AlertStore) -> None:
    queues = Queues()
    updates = _claimed(alerts, 3, kind=AlertKind.UPDATE)
    pages = _claimed(alerts, 2, channel="sms")
    _dispatcher(1, queues, alerts).deliver([*updates, *pages])
    assert queues.chunks == [(pages, PAGES), (updates, DELIVER)]


def test_an_alert_whose_record_expired_goes_on_the_deliver_lane_to_be_logged_missing(
    alerts: AlertStore,
) -> None:
    queues = Queues()
    _dispatcher(1, queues, alerts).deliver(["gone/sre/slack"])
    assert queues.single == [("gone/sre/slack", 0, DELIVER)]


def test_every_sms_is_a_page_and_everything_else_shares_deliver() -> None:
    assert PAGES.queue == "page" and DELIVER.queue == "deliver"
    assert lane_of("sms") == PAGES  # a page, its all-clear, a fallback onto SMS
    assert lane_of("email") == lane_of("slack") == lane_of("") == DELIVER


def test_a_large_fan_out_is_planned_by_its_own_task() -> None:
    queues = Queues()
    _dispatcher(INLINE_PLAN_MAX + 1, queues).process(["e1", "e2"])
    assert queues.planned == [["e1", "e2"]]


def test_inline_planning_that_hits_an_infrastructure_failure_is_queued_instead() -> None:
    queues = Queues()
    _dispatcher(INLINE_PLAN_MAX, queues).process(["e1"])
    assert queues.planned == [["e1"]]
