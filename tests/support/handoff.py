"""The one fake hand-off: the real `HandOff` over queues that run (or only record) each
message at once, in this process, the way the Celery tasks would.

`InlineHandOff(rt, now)` plans and delivers everything it is handed; `plan=False` or
`deliver=False` records instead, so the test decides what runs (like a lost message);
`transient` are the harness's failures that planning passes up (its time limit).
The due sets are kept by the real hand-off, as in production.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from notifier.channels.base import DeliveryError
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.handoff import HandOff, Lane
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.runtime.wiring import Runtime


class InlineQueues:
    """`StageQueues` in this process: each message is recorded, then run unless told not to."""

    def __init__(self, owner: InlineHandOff) -> None:
        self.owner = owner

    def plan(self, event_ids: list[str]) -> None:
        self.owner.processed.append(list(event_ids))
        if self.owner.run_plan:
            plan.process(self.owner.rt, event_ids, self.owner, self.owner.now)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        self.owner.chunks.append((list(event_ids), number, list(subscribers)))
        if self.owner.run_plan:
            plan.plan_chunk(self.owner.rt, event_ids, number, subscribers, self.owner,
                            self.owner.now)  # fmt: skip

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        if self.owner.fail_next:  # the harness failing to queue it (its time limit, say)
            raise self.owner.fail_next.pop(0)
        self.owner.delivered.append(dedup_key)
        self.owner.lanes.append(lane)
        if self.owner.run_delivery:
            self.owner.deliver_now(dedup_key)

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        if self.owner.fail_next:
            raise self.owner.fail_next.pop(0)
        for key in dedup_keys:
            self.deliver(key, lane)


class InlineHandOff(HandOff):
    """The real hand-off, run inline; `processed`, `delivered` say what it handed on."""

    def __init__(
        self, rt: Runtime, now: datetime, *, plan: bool = True, deliver: bool = True,
        keep_going: bool = False, transient: tuple[type[BaseException], ...] = (),
    ) -> None:  # fmt: skip
        super().__init__(rt, InlineQueues(self), transient=transient)
        self.now, self.run_plan, self.run_delivery = now, plan, deliver
        self.keep_going = keep_going  # a transient delivery error: the test retries by hand
        self.processed: list[list[str]] = []
        self.chunks: list[tuple[list[str], int, list[str]]] = []
        self.delivered: list[str] = []
        self.lanes: list[Lane] = []
        self.fail_next: list[BaseException] = []  # raised by the next delivery messages

    def deliver_now(self, dedup_key: str) -> None:
        """One attempt of the alert (its own number, from Redis), as the task would."""
        if not self.keep_going:
            delivery.attempt_one(self.rt, dedup_key, self, self.now)
            return
        with suppress(DeliveryError):
            delivery.attempt_one(self.rt, dedup_key, self, self.now)
