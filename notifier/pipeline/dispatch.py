"""How work is handed to the next stage through a harness's task queues.

The harness (Celery, in `workers/`) only says how to enqueue one message per kind
of task; which work goes in which message, on which lane, and which is done right
away, is decided here.

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
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from notifier.channels.kinds import channel_kind
from notifier.pipeline import service
from notifier.pipeline.fanout import PlanLater
from notifier.pipeline.service import Runtime

log = logging.getLogger(__name__)

INLINE_PLAN_MAX = 50  # subscribers; a larger fan-out is planned by its own task


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


class TaskQueues(Protocol):
    """A harness's durable queues: a message is durable once the call returns."""

    def plan(self, event_ids: list[str]) -> None:
        """Queue one poll's events for `service.process`."""
        ...

    def deliver(self, dedup_key: str, attempt: int, lane: Lane) -> None:
        """Queue attempt `attempt` of one alert (see `attempts.deliver`) on `lane`."""
        ...

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        """Queue the first attempt of a chunk of one fan-out (see `attempts.deliver_chunk`)."""
        ...

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        """Queue chunk `number` of one provider's fan-out (see `service.plan_chunk`)."""
        ...


class QueueDispatcher:
    """A `service.Dispatcher` over a harness's queues, for a task running on `rt`.

    `transient` are the failures after which work planned inline is queued instead
    (our infrastructure's, including the harness's own time limit)."""

    def __init__(
        self, rt: Runtime, queues: TaskQueues, transient: tuple[type[BaseException], ...]
    ) -> None:
        self.rt, self.queues, self.transient = rt, queues, transient
        # A busy provider (its earlier fan-out still planned in chunks): queue the plan.
        self._inline_retry: tuple[type[BaseException], ...] = (*transient, PlanLater)

    def process(self, event_ids: Sequence[str]) -> None:
        # One batch per poll: its events are planned in order (see service.process).
        if len(self.rt.config.subscribers) <= INLINE_PLAN_MAX:
            # Planning a small fan-out takes milliseconds; doing it here saves a broker
            # hop (most of the detection-to-delivery overhead). The events are already
            # saved and the poll has not committed, so a failure here loses nothing.
            try:
                service.process(self.rt, list(event_ids), self, service.utcnow())
                return
            except self._inline_retry as exc:
                log.warning("inline planning failed (%s); queueing it", type(exc).__name__)
        self.queues.plan(list(event_ids))

    def plan_chunks(self, event_ids: list[str], chunks: Sequence[list[str]]) -> None:
        """Queue the chunks of one provider's fan-out, to be planned by any worker."""
        for number, names in enumerate(chunks):
            self.queues.plan_chunk(event_ids, number, names)

    def deliver(self, dedup_keys: Sequence[str], attempt: int = 0) -> None:
        keys = list(dedup_keys)
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
            if len(mine) == 1 or attempt:
                for key in mine:
                    self.queues.deliver(key, attempt, lane)
                continue
            for i in range(0, len(mine), size):
                self.queues.deliver_chunk(mine[i : i + size], lane)
