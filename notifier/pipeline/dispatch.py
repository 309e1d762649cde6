"""How work is handed to the next stage through a harness's task queues.

The harness (Celery, in `workers/`) only says how to enqueue one message per kind
of task; which work goes in which message, and which is done right away, is
decided here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from notifier.pipeline import service
from notifier.pipeline.service import Runtime

log = logging.getLogger(__name__)

INLINE_PLAN_MAX = 50  # subscribers; a larger fan-out is planned by its own task
DELIVERY_CHUNK = 10  # alerts per task; small enough to finish inside the soft time limit


class TaskQueues(Protocol):
    """A harness's durable queues: a message is durable once the call returns."""

    def plan(self, event_ids: list[str]) -> None:
        """Queue one poll's events for `service.process`."""
        ...

    def deliver(self, dedup_key: str, attempt: int) -> None:
        """Queue attempt `attempt` of one alert (see `attempts.deliver`)."""
        ...

    def deliver_chunk(self, dedup_keys: list[str]) -> None:
        """Queue the first attempt of a chunk of one fan-out (see `attempts.deliver_chunk`)."""
        ...


class QueueDispatcher:
    """A `service.Dispatcher` over a harness's queues, for a task running on `rt`.

    `transient` are the failures after which work planned inline is queued instead
    (our infrastructure's, including the harness's own time limit)."""

    def __init__(
        self, rt: Runtime, queues: TaskQueues, transient: tuple[type[BaseException], ...]
    ) -> None:
        self.rt, self.queues, self.transient = rt, queues, transient

    def process(self, event_ids: Sequence[str]) -> None:
        # One batch per poll: its events are planned in order (see service.process).
        if len(self.rt.config.subscribers) <= INLINE_PLAN_MAX:
            # Planning a small fan-out takes milliseconds; doing it here saves a broker
            # hop (most of the detection-to-delivery overhead). The events are already
            # saved and the poll has not committed, so a failure here loses nothing.
            try:
                service.process(self.rt, list(event_ids), self, service.utcnow())
                return
            except self.transient as exc:
                log.warning("inline planning failed (%s); queueing it", type(exc).__name__)
        self.queues.plan(list(event_ids))

    def deliver(self, dedup_keys: Sequence[str], attempt: int = 0) -> None:
        keys = list(dedup_keys)
        if len(keys) == 1 or attempt:
            for key in keys:
                self.queues.deliver(key, attempt)
            return
        # A fan-out goes in chunks: one task per alert costs more than the alert.
        for i in range(0, len(keys), DELIVERY_CHUNK):
            self.queues.deliver_chunk(keys[i : i + DELIVERY_CHUNK])
