"""The hand-off between stages: which work a task does right away, how the rest is split
into queued tasks, on which lane each alert travels (pages on their own queue), and
that work is in its due set before it is handed on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import redis

from notifier.config.settings import Settings
from notifier.models import AlertKind
from notifier.pipeline.delivery.retry import INFRASTRUCTURE
from notifier.pipeline.handoff import (
    DELIVER,
    INLINE_PLAN_MAX,
    PAGES,
    RECONCILE_AFTER,
    HandOff,
    Lane,
    lane_of,
)
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.dueset import DueSet, due_set
from tests.fakes import sample

CHUNK = 10
NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
S = timedelta(seconds=1)


class Queues:
    """Records what would be enqueued."""

    def __init__(self) -> None:
        self.planned: list[list[str]] = []
        self.single: list[tuple[str, Lane]] = []
        self.chunks: list[tuple[list[str], Lane]] = []

    def plan(self, event_ids: list[str]) -> None:
        self.planned.append(event_ids)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        raise AssertionError("not planned in chunks here")

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        self.single.append((dedup_key, lane))

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        self.chunks.append((dedup_keys, lane))


class _Config:
    def __init__(self, subscribers: int) -> None:
        self.subscribers = [object()] * subscribers


class _Runtime:
    """Just enough of a Runtime for the hand-off's decisions: the real alert store and
    the real due sets."""

    def __init__(self, subscribers: int, alerts: _Alerts) -> None:
        self.config = _Config(subscribers)
        self.alerts = alerts
        self.settings = Settings(delivery_in_flight=CHUNK)

    def due(self, name: Due) -> DueSet:
        return due_set(self.alerts.client, self.alerts.prefix, name)


def _blinking(event_ids: Sequence[str], handoff: HandOff) -> None:
    raise redis.ConnectionError("Redis blinked")  # loading the events failed


def _handoff(subscribers: int, queues: Queues, alerts: _Alerts) -> HandOff:
    rt = cast(Runtime, _Runtime(subscribers, alerts))
    return HandOff(rt, queues, plan_inline=_blinking, transient=INFRASTRUCTURE)


class _Alerts(AlertStore):
    """The real alert store, saying where it keeps its keys (for the due sets)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        super().__init__(client, prefix)
        self.client, self.prefix = client, prefix


@pytest.fixture
def alerts(redis_client: redis.Redis, key_prefix: str) -> _Alerts:
    return _Alerts(redis_client, key_prefix)


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
    alerts: _Alerts,
) -> None:
    queues = Queues()
    d = _handoff(1, queues, alerts)
    keys = _claimed(alerts, CHUNK * 2 + 3)
    d.alerts(keys, NOW)
    assert queues.chunks == [(keys[:10], DELIVER), (keys[10:20], DELIVER), (keys[20:], DELIVER)]
    assert not queues.single
    d.alerts(keys[:1], NOW)
    d.retries(keys[1:3])
    assert queues.single == [(keys[0], DELIVER), (keys[1], DELIVER), (keys[2], DELIVER)]


def test_pages_are_queued_first_on_their_own_lane(alerts: _Alerts) -> None:
    queues = Queues()
    updates = _claimed(alerts, 3, kind=AlertKind.UPDATE)
    pages = _claimed(alerts, 2, channel="sms")
    _handoff(1, queues, alerts).alerts([*updates, *pages], NOW)
    assert queues.chunks == [(pages, PAGES), (updates, DELIVER)]


def test_an_alert_whose_record_expired_goes_on_the_deliver_lane_to_be_logged_missing(
    alerts: _Alerts,
) -> None:
    queues = Queues()
    _handoff(1, queues, alerts).alerts(["gone/sre/slack"], NOW)
    assert queues.single == [("gone/sre/slack", DELIVER)]


def test_every_sms_is_a_page_and_everything_else_shares_deliver() -> None:
    assert PAGES.queue == "page" and DELIVER.queue == "deliver"
    assert lane_of("sms") == PAGES  # a page, its all-clear, a fallback onto SMS
    assert lane_of("email") == lane_of("slack") == lane_of("") == DELIVER


def test_a_large_fan_out_is_planned_by_its_own_task(alerts: _Alerts) -> None:
    queues = Queues()
    _handoff(INLINE_PLAN_MAX + 1, queues, alerts).events(["e1", "e2"], NOW)
    assert queues.planned == [["e1", "e2"]]


def test_inline_planning_that_hits_an_infrastructure_failure_is_queued_instead(
    alerts: _Alerts,
) -> None:
    queues = Queues()
    _handoff(INLINE_PLAN_MAX, queues, alerts).events(["e1"], NOW)
    assert queues.planned == [["e1"]]


def test_work_is_in_its_due_set_before_it_is_handed_on(alerts: _Alerts) -> None:
    """The reconcile sweep's safety net is laid first: a message lost after the queue
    call (or a crash between) is re-sent, never lost."""
    seen: list[tuple[list[str], list[str]]] = []
    rt = _Runtime(1, alerts)
    unprocessed, undelivered = rt.due(Due.UNPROCESSED), rt.due(Due.UNDELIVERED)

    class Watching(Queues):
        def plan(self, event_ids: list[str]) -> None:
            seen.append((event_ids, unprocessed.due(NOW + RECONCILE_AFTER[Due.UNPROCESSED] + S)))

        def deliver(self, dedup_key: str, lane: Lane) -> None:
            seen.append(([dedup_key], undelivered.due(NOW + RECONCILE_AFTER[Due.UNDELIVERED] + S)))

    d = _handoff(INLINE_PLAN_MAX + 1, Watching(), alerts)
    d.events(["e1", "e2"], NOW)
    (key,) = _claimed(alerts, 1)
    d.alerts([key], NOW)
    assert seen == [(["e1", "e2"], ["e1", "e2"]), ([key], [key])]
    assert unprocessed.due(NOW + RECONCILE_AFTER[Due.UNPROCESSED] / 2) == []  # not due yet


def test_a_retry_hand_on_leaves_the_due_sets_alone(alerts: _Alerts) -> None:
    (key,) = _claimed(alerts, 1)
    _handoff(1, Queues(), alerts).retries([key])
    assert len(_Runtime(1, alerts).due(Due.UNDELIVERED)) == 0
