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
    CHUNK_ROUNDS,
    DELIVER,
    INLINE_DELIVER_MAX,
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

IN_FLIGHT = 5
CHUNK = IN_FLIGHT * CHUNK_ROUNDS  # alerts a chunk task
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
        self.settings = Settings(delivery_in_flight=IN_FLIGHT)

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


def test_a_fan_out_goes_in_chunks_of_rounds_of_the_in_flight_limit_and_a_retry_one_task_each(
    alerts: _Alerts,
) -> None:
    queues = Queues()
    d = _handoff(1, queues, alerts)
    keys = _claimed(alerts, CHUNK * 2 + 3)
    d.alerts(keys, NOW)
    assert queues.chunks == [
        (keys[:CHUNK], DELIVER),
        (keys[CHUNK : CHUNK * 2], DELIVER),
        (keys[CHUNK * 2 :], DELIVER),
    ]
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


class _Planner:
    """An inline plan that hands on the alerts it was given, and an inline delivery that
    records (or fails, for the keys in `failing`); `log` says what happened in order."""

    def __init__(self, keys: list[str], failing: Sequence[str] = ()) -> None:
        self.keys, self.failing = keys, set(failing)
        self.log: list[tuple[str, str]] = []

    def plan(self, event_ids: Sequence[str], handoff: HandOff) -> None:
        handoff.alerts(self.keys, NOW)

    def deliver(self, dedup_key: str, handoff: HandOff) -> None:
        if dedup_key in self.failing:
            raise redis.ConnectionError("Redis blinked")
        self.log.append(("inline", dedup_key))


class _LoggedQueues(Queues):
    def __init__(self, log: list[tuple[str, str]]) -> None:
        super().__init__()
        self.log = log

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        super().deliver(dedup_key, lane)
        self.log.append(("queued", dedup_key))

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        super().deliver_chunk(dedup_keys, lane)
        self.log += [("queued", k) for k in dedup_keys]


def _delivering(subscribers: int, planner: _Planner, alerts: _Alerts) -> tuple[HandOff, Queues]:
    queues = _LoggedQueues(planner.log)
    rt = cast(Runtime, _Runtime(subscribers, alerts))
    handoff = HandOff(rt, queues, plan_inline=planner.plan, deliver_inline=planner.deliver,
                      transient=INFRASTRUCTURE)  # fmt: skip
    return handoff, queues


def test_a_poll_planning_inline_delivers_its_first_alerts_itself_pages_first(
    alerts: _Alerts,
) -> None:
    """No broker hop between the detecting poll and the vendor for a small fan-out; the
    alerts past the inline count are queued before the first inline send."""
    updates = _claimed(alerts, 5, kind=AlertKind.UPDATE)
    pages = _claimed(alerts, 2, channel="sms")
    planner = _Planner([*updates, *pages])
    handoff, queues = _delivering(3, planner, alerts)
    handoff.events(["e1"], NOW)
    inline = [*pages, *updates][:INLINE_DELIVER_MAX]
    rest = updates[INLINE_DELIVER_MAX - len(pages) :]
    assert planner.log == [*(("queued", k) for k in rest), *(("inline", k) for k in inline)]
    assert queues.chunks == [(rest, DELIVER)] and not queues.planned


def test_one_subscriber_s_alert_goes_to_the_vendor_from_the_poll(alerts: _Alerts) -> None:
    (key,) = _claimed(alerts, 1)
    planner = _Planner([key])
    handoff, queues = _delivering(1, planner, alerts)
    handoff.events(["e1"], NOW)
    assert planner.log == [("inline", key)]
    assert not queues.single and not queues.chunks


def test_inline_delivery_starts_nothing_once_its_time_budget_is_spent(
    alerts: _Alerts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.pipeline.handoff.INLINE_DELIVER_BUDGET_S", 0.0)
    keys = _claimed(alerts, 2)
    planner = _Planner(keys)
    handoff, queues = _delivering(2, planner, alerts)
    handoff.events(["e1"], NOW)
    assert planner.log == [("queued", keys[0]), ("queued", keys[1])]
    assert queues.single == [(keys[0], DELIVER), (keys[1], DELIVER)]


def test_an_inline_delivery_our_infrastructure_failed_is_queued_and_planning_is_not(
    alerts: _Alerts,
) -> None:
    keys = _claimed(alerts, 2)
    planner = _Planner(keys, failing=keys[:1])
    handoff, queues = _delivering(2, planner, alerts)
    handoff.events(["e1"], NOW)
    assert planner.log == [("queued", keys[0]), ("inline", keys[1])]
    assert not queues.planned  # the claims stand: re-planning would hand on nothing


def test_an_alert_delivered_inline_goes_in_its_due_set_only_when_queued_instead(
    alerts: _Alerts,
) -> None:
    """Its delivery puts an alert delivered inline in its due set, after the attempt and
    only if it is left unfinished: no round trip before the vendor request. One our
    infrastructure failed is queued, and like every queued alert, in its due set first."""
    keys = _claimed(alerts, 2)
    planner = _Planner(keys, failing=keys[:1])
    handoff, _ = _delivering(2, planner, alerts)
    handoff.events(["e1"], NOW)
    assert planner.log == [("queued", keys[0]), ("inline", keys[1])]
    undelivered = _Runtime(2, alerts).due(Due.UNDELIVERED)
    assert undelivered.due(NOW + RECONCILE_AFTER[Due.UNDELIVERED] + S) == keys[:1]


def test_alerts_handed_on_outside_an_inline_plan_are_all_queued(alerts: _Alerts) -> None:
    """A queued plan, a large fan-out's or a retry: the poll worker never sends them."""
    keys = _claimed(alerts, 2)
    planner = _Planner(keys)
    handoff, queues = _delivering(INLINE_PLAN_MAX + 1, planner, alerts)
    handoff.events(["e1"], NOW)  # too many subscribers: planned by its own task
    handoff.alerts(keys, NOW)
    handoff.retries(keys)
    assert queues.planned == [["e1"]]
    assert [what for what, _ in planner.log] == ["queued"] * 4
