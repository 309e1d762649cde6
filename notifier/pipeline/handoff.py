"""The one hand-off between stages: events from ingest to plan, alerts from plan to delivery.

Every hand-on is two steps, always in this order: add the work to its due set (so the
reconcile sweep re-sends it if the message is lost), then put it on a harness queue
(`StageQueues`: Celery in `workers/`, or the tests' inline queues). A message is
durable once the queue call returns. Planning a small fan-out happens right here, by
the `plan_inline` callable the harness passes in, so this module never imports the
stage it hands to.

Lanes: pages (an SMS page, its all-clear, its escalations) have a queue of their own,
`page`, served by its own consumer, so no volume of chat or email can delay one.
Planning a large fan-out travels with the polls (`poll`): it is how the next page is
found, so it must not wait behind a queued fan-out either. Everything else (chat,
email, digests) shares `deliver`, first in first out.

Why not priorities within `deliver` (news before updates before digests): Celery's
Redis transport keeps each priority in a list of its own, and a message on any list
but the first reached the worker ~50 ms later in `bench_latency` (p50 18 -> 70 ms), as
did serving several queues in a fixed order (`queue_order_strategy`). A page, the
one message that must not wait, has its own queue and consumer instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from notifier.channels.kinds import channel_kind
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime

log = logging.getLogger(__name__)

INLINE_PLAN_MAX = 50  # subscribers; a larger fan-out is planned by its own task
# How long work may stay unfinished before the reconcile sweep re-sends it. Planning
# takes milliseconds; a delivery may sit in retry backoff (up to 15 min a retry).
RECONCILE_AFTER = {Due.UNPROCESSED: timedelta(minutes=5), Due.UNDELIVERED: timedelta(minutes=30)}


class Lane(NamedTuple):
    """The queue a message travels on."""

    queue: str


PAGES = Lane("page")
# Planning a large fan-out finishes what the poll found (the next page among it): it
# goes with the polls, never behind a queued fan-out's sends.
PLANNING = Lane("poll")
DELIVER = Lane("deliver")  # chat, email and digests, first in first out
LANES = (PAGES, DELIVER)  # pages are queued first


def lane_of(channel: str) -> Lane:
    """The lane of an alert for the route `channel`."""
    declared = channel_kind(channel)
    return PAGES if declared is not None and declared.sends_by_paging else DELIVER


class StageQueues(Protocol):
    """A harness's durable queues, one message per call: durable once the call returns.
    Each message names work by id; the stage entry that takes it reads the rest from Redis
    (a delivery's attempt number too: `notifier.store.delivery.retries`)."""

    def plan(self, event_ids: list[str]) -> None:
        """Queue one poll's events for the plan stage (`plan.stage.process`)."""
        ...

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        """Queue chunk `number` of one provider's fan-out (`plan.stage.plan_chunk`)."""
        ...

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        """Queue one alert's delivery (`delivery.stage.deliver`) on `lane`."""
        ...

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        """Queue a chunk of one fan-out's alerts (`delivery.stage.deliver_chunk`)."""
        ...


# Plans the events now, in this process; given the hand-off to hand its alerts on.
PlanInline = Callable[[Sequence[str], "HandOff"], object]


class HandOff:
    """Hands work from one stage to the next for a task running on `rt`.

    `transient` are the failures after which work planned inline is queued instead
    (our infrastructure's, including the harness's own time limit); `retry_later`
    adds the harness's "plan this later" signal to them."""

    def __init__(
        self,
        rt: Runtime,
        queues: StageQueues,
        *,
        plan_inline: PlanInline | None = None,
        transient: tuple[type[BaseException], ...] = (),
        retry_later: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.rt, self.queues, self.plan_inline = rt, queues, plan_inline
        self.transient = transient
        # A busy provider (its earlier fan-out still planned in chunks): queue the plan.
        self._inline_retry: tuple[type[BaseException], ...] = (*transient, *retry_later)

    def _due(self, due: Due, items: Sequence[str], now: datetime) -> None:
        """Until finished, the reconcile sweep re-sends them, in this order."""
        self.rt.due(due).add_many(items, now + RECONCILE_AFTER[due])

    def events(self, event_ids: Sequence[str], now: datetime) -> None:
        """Hand one poll's saved events to planning (in order: see `plan.stage.process`)."""
        ids = list(event_ids)
        if not ids:
            return
        self._due(Due.UNPROCESSED, ids, now)
        if self.plan_inline is not None and len(self.rt.config.subscribers) <= INLINE_PLAN_MAX:
            # Planning a small fan-out takes milliseconds; doing it here saves a broker
            # hop (most of the detection-to-delivery overhead). The events are already
            # saved and the poll has not committed, so a failure here loses nothing.
            try:
                self.plan_inline(ids, self)
                return
            except self._inline_retry as exc:
                log.warning("inline planning failed (%s); queueing it", type(exc).__name__)
        self.queues.plan(ids)

    def plan_chunks(self, event_ids: list[str], chunks: Sequence[list[str]]) -> None:
        """Queue the chunks of one provider's fan-out, to be planned by any worker (the
        events stay in their due set until the last chunk marks them processed)."""
        for number, names in enumerate(chunks):
            self.queues.plan_chunk(event_ids, number, names)

    def alerts(self, dedup_keys: Sequence[str], now: datetime) -> None:
        """Hand claimed alerts to delivery."""
        keys = list(dedup_keys)
        if keys:
            self._due(Due.UNDELIVERED, keys, now)
            self._deliver(keys, chunked=True)

    def retries(self, dedup_keys: Sequence[str]) -> None:
        """Hand on alerts whose next attempt is due: one alert a task (they are already
        in the undelivered set, and their attempt number waits in Redis)."""
        self._deliver(list(dedup_keys), chunked=False)

    def _deliver(self, keys: list[str], *, chunked: bool) -> None:
        # One round trip says each alert's lane (an expired record: `deliver`, where it is
        # logged as missing); pages are queued first.
        routing = self.rt.alerts.routing(keys)
        by_lane: dict[Lane, list[str]] = {lane: [] for lane in LANES}
        for key in keys:
            by_lane[lane_of(routing.get(key, ""))].append(key)
        # A fan-out goes in chunks, each sent at once: one task per alert costs more
        # than the alert, and a chunk as big as the sending threads keeps them busy.
        size = self.rt.settings.delivery_in_flight
        for lane, mine in by_lane.items():
            if len(mine) == 1 or not chunked:
                for key in mine:
                    self.queues.deliver(key, lane)
                continue
            for i in range(0, len(mine), size):
                self.queues.deliver_chunk(mine[i : i + size], lane)
