"""The one hand-off between stages: events from ingest to plan, alerts from plan to delivery.

Every hand-on is two steps, always in this order: add the work to its due set (so the
reconcile sweep re-sends it if the message is lost), then put it on a harness queue
(`StageQueues`: Celery in `workers/`, or the tests' inline queues). A message is
durable once the queue call returns. Planning a small fan-out happens right here, by
the `plan_inline` callable the harness passes in, so this module never imports the
stage it hands to. The first alerts of such a plan are delivered right there too, by
the `deliver_inline` callable, within a small count and time budget (see
`INLINE_DELIVER_MAX`): for one subscriber that removes the last broker hop between
the detecting poll and the vendor.

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
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from notifier.channels.kinds import channel_kind
from notifier.models import ChangeEvent
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.conn.batch import Pipe

log = logging.getLogger(__name__)

INLINE_PLAN_MAX = 50  # subscribers; a larger fan-out is planned by its own task
# A poll that planned inline also delivers the first alerts it planned (pages first),
# at most this many, and starts none once this long has passed since planning began: a
# slow vendor holds the poll worker that long (plus one send), never a fan-out's time. The rest
# are queued before the first inline send, so other workers start on them at once.
INLINE_DELIVER_MAX = 4
INLINE_DELIVER_BUDGET_S = 1.0
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


# A fan-out's delivery chunk is this many rounds of a process's sending threads
# (`delivery_in_flight` each). Within a chunk the threads go from one alert to the next;
# between chunks they wait for the chunk's slowest send and for the next task: at one
# round a chunk, a quarter of the threads' time (6,000 channels at a 150 ms Slack: 23.5
# of 32 in flight on average). More rounds, fewer chunks: at four, two workers no longer
# got an even share of a 1,000-channel fan-out. `bench fanout`, one worker against the
# bare client: 0.65-0.72 at one round, 0.72 at two; two workers 0.52-0.68 and 0.62-0.66.
CHUNK_ROUNDS = 2


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
# Delivers one claimed alert now, in this process, exactly as its queued task would
# (the same claim and lock make it once); given the hand-off for a fallback's alert.
# The alert is not in its due set yet: the callable puts it there after the attempt
# (`HandOff.undelivered`), only if the attempt left it unfinished, so the entry costs
# no round trip before the vendor request. A crash before then loses nothing: the
# alert's event is still in its own due set (it is marked processed only after its
# inline deliveries), and planning it again hands the claimed alert on again.
DeliverInline = Callable[[str, "HandOff"], object]


class HandOff:
    """Hands work from one stage to the next for a task running on `rt`.

    `transient` are the failures after which work planned or delivered inline is
    queued instead (our infrastructure's, including the harness's own time limit);
    `retry_later` adds the harness's "plan this later" signal to them. `deliver_inline`
    is only used for the alerts of a plan made inline (`events`)."""

    def __init__(
        self,
        rt: Runtime,
        queues: StageQueues,
        *,
        plan_inline: PlanInline | None = None,
        deliver_inline: DeliverInline | None = None,
        transient: tuple[type[BaseException], ...] = (),
        retry_later: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.rt, self.queues, self.plan_inline = rt, queues, plan_inline
        self.chunk = rt.settings.delivery_in_flight * CHUNK_ROUNDS  # alerts a chunk task
        self.deliver_inline = deliver_inline
        self.transient = transient
        # What is left of the inline delivery budget: set only while planning inline.
        self._inline_left, self._inline_until = 0, 0.0
        self._saved: dict[str, ChangeEvent] = {}  # set only while planning inline
        # A busy provider (its earlier fan-out still planned in chunks): queue the plan.
        self._inline_retry: tuple[type[BaseException], ...] = (*transient, *retry_later)

    def _due(self, due: Due, items: Sequence[str], now: datetime, pipe: Pipe | None = None) -> None:
        """Until finished, the reconcile sweep re-sends them, in this order."""
        self.rt.due(due).add_many(items, now + RECONCILE_AFTER[due], pipe)

    def due_events(self, event_ids: Sequence[str], now: datetime, pipe: Pipe) -> None:
        """Queue the first step of handing these events on (`events`), on the pipeline
        that saves them: then `events(..., due_added=True)`."""
        self._due(Due.UNPROCESSED, event_ids, now, pipe)

    def events(
        self, event_ids: Sequence[str], now: datetime, saved: Sequence[ChangeEvent] = (),
        *, due_added: bool = False,
    ) -> None:  # fmt: skip
        """Hand one poll's saved events to planning (in order: see `plan.stage.process`).
        `saved` are those this call's caller has just stored, as a read gives them: a plan
        made inline takes them from here (`just_saved`) instead of reading them back.
        `due_added`: the caller has added them to their due set already (`due_events`)."""
        ids = list(event_ids)
        if not ids:
            return
        if not due_added:
            self._due(Due.UNPROCESSED, ids, now)
        if self.plan_inline is not None and len(self.rt.config.subscribers) <= INLINE_PLAN_MAX:
            # Planning a small fan-out takes milliseconds; doing it here saves a broker
            # hop (most of the detection-to-delivery overhead). The events are already
            # saved and the poll has not committed, so a failure here loses nothing.
            try:
                self._saved = {e.event_id: e for e in saved}
                self._plan_here(ids)
                return
            except self._inline_retry as exc:
                log.warning("inline planning failed (%s); queueing it", type(exc).__name__)
            finally:
                self._saved = {}
        self.queues.plan(ids)

    def just_saved(self, event_ids: Sequence[str]) -> list[ChangeEvent] | None:
        """The events `event_ids` when the poll planning them inline has just saved them
        all; None otherwise (planning reads them from Redis)."""
        found = [self._saved.get(i) for i in event_ids]
        return None if None in found else [e for e in found if e is not None]

    def _plan_here(self, ids: list[str]) -> None:
        assert self.plan_inline is not None
        if self.deliver_inline is not None:
            self._inline_left = INLINE_DELIVER_MAX
            self._inline_until = time.monotonic() + INLINE_DELIVER_BUDGET_S
        try:
            self.plan_inline(ids, self)
        finally:
            self._inline_left = 0

    def plan_chunks(self, event_ids: list[str], chunks: Sequence[list[str]]) -> None:
        """Queue the chunks of one provider's fan-out, to be planned by any worker (the
        events stay in their due set until the last chunk marks them processed)."""
        for number, names in enumerate(chunks):
            self.queues.plan_chunk(event_ids, number, names)

    def alerts(
        self, dedup_keys: Sequence[str], now: datetime, channels: Mapping[str, str] | None = None
    ) -> None:
        """Hand claimed alerts to delivery. `channels` (the planner has them: each alert's
        route channel, by key) saves reading them back to pick the lanes."""
        keys = list(dedup_keys)
        if keys:
            self._deliver(keys, chunked=True, channels=channels, now=now)

    def undelivered(self, dedup_keys: Sequence[str], now: datetime) -> None:
        """Put alerts in their due set (the reconcile sweep's safety net), as `alerts`
        does before queueing them; an inline delivery calls it (`DeliverInline`)."""
        self._due(Due.UNDELIVERED, dedup_keys, now)

    def retries(self, dedup_keys: Sequence[str]) -> None:
        """Hand on alerts whose next attempt is due: one alert a task (they are already
        in the undelivered set, and their attempt number waits in Redis)."""
        self._deliver(list(dedup_keys), chunked=False)

    def _deliver(
        self, keys: list[str], *, chunked: bool, channels: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> None:  # fmt: skip
        """Queue `keys` (or deliver the first here); with `now`, they are new to delivery
        and go in their due set first, but for those delivered here (`DeliverInline`)."""
        # Each alert's lane: from the planner, else one round trip (an expired record:
        # `deliver`, where it is logged as missing); pages are queued first.
        given = channels or {}
        routing = given if all(k in given for k in keys) else self.rt.alerts.routing(keys)
        by_lane: dict[Lane, list[str]] = {lane: [] for lane in LANES}
        for key in keys:
            by_lane[lane_of(routing.get(key, ""))].append(key)
        # A fan-out goes in chunks, each a task: one task per alert costs more than the
        # alert, and a chunk of several rounds of the sending threads keeps them busy.
        here = self._take_inline(by_lane) if chunked else []
        if now is not None:
            inline = {key for key, _ in here}
            self._due(Due.UNDELIVERED, [k for k in keys if k not in inline], now)
        size = self.chunk
        for lane, mine in by_lane.items():
            if len(mine) == 1 or not chunked:
                for key in mine:
                    self.queues.deliver(key, lane)
                continue
            for i in range(0, len(mine), size):
                self.queues.deliver_chunk(mine[i : i + size], lane)
        for key, lane in here:  # the rest is queued already: other workers go on with it
            self._deliver_here(key, lane, now)

    def _take_inline(self, by_lane: dict[Lane, list[str]]) -> list[tuple[str, Lane]]:
        """The alerts to deliver in this process (pages first), out of `by_lane`."""
        here: list[tuple[str, Lane]] = []
        for lane, mine in by_lane.items():
            take = min(self._inline_left, len(mine))
            here += [(key, lane) for key in mine[:take]]
            del mine[:take]
            self._inline_left -= take
        return here

    def _deliver_here(self, key: str, lane: Lane, now: datetime | None) -> None:
        """Deliver one alert inline; queue it instead once the time budget is spent, or
        when our infrastructure failed it (its task then tries the same attempt again),
        in its due set first like every queued alert."""
        if self.deliver_inline is None or time.monotonic() >= self._inline_until:
            self._queue_new(key, lane, now)
            return
        try:
            self.deliver_inline(key, self)
        except self.transient as exc:
            log.warning("inline delivery failed (%s); queueing it", type(exc).__name__,
                        extra={"dedup_key": key})  # fmt: skip
            self._queue_new(key, lane, now)

    def _queue_new(self, key: str, lane: Lane, now: datetime | None) -> None:
        if now is not None:
            self._due(Due.UNDELIVERED, [key], now)
        self.queues.deliver(key, lane)
