"""The three stages as plain functions, shared by every harness.

Celery tasks (workers/tasks.py) call `poll`, `process`, `deliver` with ids; the
benchmarks and tests call the same functions with an inline dispatcher, and
`notifier replay` runs the same diff and planner offline.
Only this layer reads the wall clock and builds the Redis-backed stores. The
subscription file is parsed by the caller, once per process, and handed in.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import redis

from notifier.channels import kinds
from notifier.channels.base import DeliveryError
from notifier.config.load import Config, ResolvedProvider
from notifier.config.settings import Settings
from notifier.feeds.fetch import Fetcher
from notifier.models import Alert, ChangeEvent, Incident
from notifier.pipeline import digest, finals, sending
from notifier.pipeline.catchup import plan_catch_ups
from notifier.pipeline.deliver import (
    DeliveryContext,
    DeliveryOutcome,
    check_escalation,
    deliver_alert,
)
from notifier.pipeline.plan import process_event
from notifier.pipeline.poll import PollOutcome, poll_provider
from notifier.store.alerts import AlertStore
from notifier.store.dueset import DueSet
from notifier.store.followups import RedisFollowUps
from notifier.store.metrics import Metrics
from notifier.store.retries import RetryQueue
from notifier.store.state import StateStore
from notifier.store.threads import RedisThreadStore

log = logging.getLogger(__name__)

# How long work may stay unfinished before the reconcile sweep re-sends it. Planning
# takes milliseconds; a delivery may sit in retry backoff (up to 15 min a retry).
RECONCILE_EVENTS_AFTER = timedelta(minutes=5)
RECONCILE_ALERTS_AFTER = timedelta(minutes=30)


class Dispatcher(Protocol):
    """Hands work to the next stage durably (a Celery queue, or inline)."""

    def process(self, event_ids: Sequence[str]) -> None: ...

    def deliver(self, dedup_keys: Sequence[str], attempt: int = 0) -> None:
        """Deliver each alert; `attempt` > 0 is a retry, which goes one alert a task."""
        ...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a stage needs, built once per process (after any fork: it holds
    Redis connections; see `notifier.pipeline.process`)."""

    settings: Settings
    client: redis.Redis
    config: Config
    state: StateStore
    alerts: AlertStore
    threads: RedisThreadStore
    metrics: Metrics
    fetcher: Fetcher
    delivery: DeliveryContext
    followups: RedisFollowUps | None = None
    providers: dict[str, ResolvedProvider] = field(default_factory=dict)
    pages_only: frozenset[str] = field(default_factory=frozenset)

    def due(self, name: str) -> DueSet:
        """The sorted set of `name` work: held, escalations, unprocessed, undelivered."""
        return DueSet(self.client, f"{self.settings.key_prefix}:due:{name}")

    @property
    def retries(self) -> RetryQueue:
        return RetryQueue(self.client, self.settings.key_prefix)

    @classmethod
    def build(cls, settings: Settings, redis_url: str, config: Config) -> Runtime:
        """Connect to `redis_url` and build the stores and channels for `config`."""
        client = redis.Redis.from_url(redis_url, health_check_interval=30)
        prefix = settings.key_prefix
        fetcher = Fetcher(
            timeout=settings.http_timeout,
            connect_timeout=settings.http_connect_timeout,
            max_bytes=settings.max_feed_bytes,
        )
        # planning and delivery share one instance of each store
        alerts, threads = AlertStore(client, prefix), RedisThreadStore(client, prefix)
        metrics, followups = Metrics(client, prefix), RedisFollowUps(client, prefix)
        delivery = DeliveryContext.build(
            settings, config, client, prefix, alerts=alerts, threads=threads, metrics=metrics,
            followups=followups,
        )  # fmt: skip
        return cls(
            settings=settings,
            client=client,
            config=config,
            state=StateStore(client, prefix),
            alerts=alerts,
            threads=threads,
            metrics=metrics,
            fetcher=fetcher,
            delivery=delivery,
            followups=followups,
            providers={p.id: p for p in config.resolved_providers()},
            pages_only=kinds.pages_only(),
        )


def _enqueuer(
    rt: Runtime, dispatcher: Dispatcher, now: datetime
) -> Callable[[Sequence[ChangeEvent]], None]:
    def enqueue(events: Sequence[ChangeEvent]) -> None:
        # Durable first: the records, then the queue. Only then may the poller commit.
        rt.state.save_events(events)
        # Until processed, the reconcile sweep re-sends them, in this order.
        rt.due("unprocessed").add_many([e.event_id for e in events], now + RECONCILE_EVENTS_AFTER)
        dispatcher.process([e.event_id for e in events])
        for kind, count in Counter(e.kind.value for e in events).items():
            rt.metrics.inc("notifier_events_total", count, kind=kind)

    return enqueue


def poll(rt: Runtime, provider_id: str, dispatcher: Dispatcher, now: datetime) -> PollOutcome:
    provider = rt.providers.get(provider_id)
    if provider is None:
        raise KeyError(f"provider {provider_id!r} is not in the subscription file")

    def retry_final(provider: str, incidents: Sequence[str]) -> None:
        for iid in incidents:
            entry = finals.Entry(provider, iid)
            rt.due("final-lookups").add(entry.member, now + finals.wait(entry))

    began = time.monotonic()
    outcome = poll_provider(
        provider, rt.state, rt.fetcher, _enqueuer(rt, dispatcher, now), now,
        rt.settings.feed_failure_threshold, name=provider.name, retry_final=retry_final,
    )  # fmt: skip
    if outcome.outcome != "skipped_locked":  # no poll happened: nothing to time
        rt.metrics.record_poll(provider_id, outcome.outcome, time.monotonic() - began)
    else:
        rt.metrics.inc("notifier_polls_total", provider=provider_id, outcome=outcome.outcome)
    if outcome.error:
        rt.metrics.inc(
            "notifier_feed_errors_total",
            provider=provider_id,
            error=outcome.error_type or "unknown",
        )
    return outcome


def look_for_final_words(rt: Runtime, dispatcher: Dispatcher, now: datetime) -> int:
    """Look again, in the providers' histories, for the final updates of incidents
    resolved on absence whose time has come (see `notifier.pipeline.finals`)."""
    lookups = rt.due("final-lookups")
    with lookups.sweeping() as mine:
        due = lookups.due(now, limit=10) if mine else []  # each may take a fetch
        for member in due:
            entry = finals.Entry.parse(member)
            provider = rt.providers.get(entry.provider) if entry else None
            if entry is not None and provider is not None:
                enqueue = _enqueuer(rt, dispatcher, now)
                found = finals.look_again(entry, provider, rt.state, rt.fetcher, enqueue, now)
                if found is not None:
                    lookups.add(found[0].member, found[1])
                    if found[0].member == member:
                        continue  # the same look again, later
            # After the look: a crash before this re-looks (harmless), never loses it.
            lookups.discard(member)
        return len(due)


def process(rt: Runtime, event_ids: Sequence[str], dispatcher: Dispatcher, now: datetime) -> int:
    """Plan the alerts of one poll's events, in order, and hand each undelivered one on.

    One task per poll batch, under a per-provider lock: a new incident and the
    `new_update`s that come with it must be planned in order, or a worker would see
    the update before the thread exists and page twice. Idempotent: claims are SET NX.
    """
    events = rt.state.load_events(event_ids)
    if len(events) < len(event_ids):
        log.warning("%d event record(s) missing (expired?)", len(event_ids) - len(events))
    world = rt.state.recent_incidents(now)  # planning writes none of it: read it once
    planned = 0
    for provider in dict.fromkeys(e.provider for e in events):
        with _provider_lock(rt, provider):
            mine = [e for e in events if e.provider == provider]
            for event in (e for e in mine if not e.late):
                planned += _process_one(rt, event, world, dispatcher, now)
            late = [e for e in mine if e.late]
            if late:  # one poll's late news: one catch-up per subscriber and gap
                planned += _catch_up(rt, late, dispatcher, now)
    return planned


def _catch_up(
    rt: Runtime, events: Sequence[ChangeEvent], dispatcher: Dispatcher, now: datetime
) -> int:
    alerts = plan_catch_ups(events, rt.config, rt.alerts, now, pages_only=rt.pages_only)
    ready = []
    for alert in alerts:
        if alert.hold_until is not None and alert.hold_until > now:
            rt.due("held").add(alert.dedup_key, alert.hold_until)
        else:
            ready.append(alert.dedup_key)
    if ready:
        rt.due("undelivered").add_many(ready, now + RECONCILE_ALERTS_AFTER)
        dispatcher.deliver(ready)
    for channel, count in Counter(a.channel for a in alerts).items():
        rt.metrics.inc("notifier_alerts_total", count, channel=channel)
    for event in events:
        rt.state.mark_processed(event.event_id)
    rt.due("unprocessed").discard(*[e.event_id for e in events])
    return len(alerts)


def _process_one(
    rt: Runtime,
    event: ChangeEvent,
    world: Sequence[Incident],
    dispatcher: Dispatcher,
    now: datetime,
) -> int:
    batch: list[str] = []

    def hand_on() -> None:
        rt.due("undelivered").add_many(batch, now + RECONCILE_ALERTS_AFTER)
        dispatcher.deliver(batch[:])
        batch.clear()

    def ready(alert: Alert) -> None:
        # Hand alerts on while planning continues: a large fan-out starts delivering early.
        if alert.hold_until is not None and alert.hold_until > now:
            rt.due("held").add(alert.dedup_key, alert.hold_until)
            return
        batch.append(alert.dedup_key)
        if len(batch) >= rt.settings.delivery_in_flight:  # a chunk's worth, sent at once
            hand_on()

    alerts = process_event(
        event, rt.config, world, rt.threads, rt.alerts, now,
        pages_only=rt.pages_only, on_ready=ready, followups=rt.followups,
    )  # fmt: skip
    if batch:
        hand_on()
    for channel, count in Counter(a.channel for a in alerts).items():
        rt.metrics.inc("notifier_alerts_total", count, channel=channel)
    rt.state.mark_processed(event.event_id)
    rt.due("unprocessed").discard(event.event_id)
    return len(alerts)


@contextmanager
def _provider_lock(rt: Runtime, provider: str, ttl_s: int = 60, wait_s: int = 20) -> Iterator[None]:
    # Wait well under the task's soft time limit: a timeout here is retried by the task.
    lock = rt.client.lock(
        f"{rt.settings.key_prefix}:plan-lock:{provider}",
        timeout=ttl_s,
        blocking_timeout=wait_s,
        sleep=0.01,
    )
    if not lock.acquire():
        raise TimeoutError(f"planning lock for {provider} not acquired in {wait_s}s")
    try:
        yield
    finally:
        with suppress(redis.exceptions.LockError):  # expired under us: nothing to release
            lock.release()


def release_held(rt: Runtime, dispatcher: Dispatcher, now: datetime) -> int:
    """Hand on alerts held for quiet hours (or a rate cap) whose time has come."""
    held = rt.due("held")
    with held.sweeping() as mine:
        if not mine:
            return 0
        keys = held.due(now)
        rt.due("undelivered").add_many(keys, now + RECONCILE_ALERTS_AFTER)
        if keys:
            dispatcher.deliver(keys)
            held.discard(*keys)
        return len(keys)


def retry_later(rt: Runtime, dedup_keys: Sequence[str], attempt: int, when: datetime) -> None:
    """Attempt `attempt` of each alert is due at `when`; `release_retries` hands it on.
    When that is, is `notifier.pipeline.retry`'s policy (see `attempts.retry_later`)."""
    rt.retries.schedule(dedup_keys, attempt, when)


def release_retries(rt: Runtime, dispatcher: Dispatcher, now: datetime) -> int:
    """Hand on every retry whose time has come, at most once per scheduled attempt."""
    retries = rt.retries
    with retries.sweeping() as mine:
        due = retries.due(now) if mine else []
        by_attempt: dict[int, list[str]] = {}
        for key, attempt in due:
            by_attempt.setdefault(attempt, []).append(key)
        for attempt, keys in sorted(by_attempt.items()):
            log.info("handing on %d delivery retries (attempt %d)", len(keys), attempt)
            dispatcher.deliver(keys, attempt)
        # After the hand-on: a crash in between re-sends (harmless), never loses.
        retries.handed_on([k for k, _ in due], now)
        return len(due)


def reconcile(rt: Runtime, dispatcher: Dispatcher, now: datetime) -> tuple[int, int]:
    """Re-send what a lost task left behind: events never processed, alerts never
    finished. Both stages are idempotent, so a re-send of live work is harmless;
    each straggler is re-sent at most once per its interval."""
    counts = []
    stages = (
        ("unprocessed", dispatcher.process, RECONCILE_EVENTS_AFTER),
        ("undelivered", dispatcher.deliver, RECONCILE_ALERTS_AFTER),
    )
    for name, send, every in stages:
        pending = rt.due(name)
        with pending.sweeping() as mine:
            items = pending.due(now) if mine else []
            pending.add_many(items, now + every)
            if items:
                log.warning("re-sending %d %s item(s) left behind", len(items), name)
                send(items)
        counts.append(len(items))
    return counts[0], counts[1]


def deliver(
    rt: Runtime,
    dedup_key: str,
    dispatcher: Dispatcher,
    now: datetime,
    attempt: int = 0,
    final: bool = False,
) -> DeliveryOutcome:
    """Deliver one alert; raises DeliveryError for the task layer to retry."""
    finished: list[str] = []
    outcome = _deliver_one(rt, dedup_key, dispatcher, now, attempt, final, finished)
    rt.due("undelivered").discard(*finished)
    return outcome


@dataclass(frozen=True)
class ChunkResult:
    """How a chunk went: `delivered` keys were dealt with (sent, skipped, failed for
    good); each of `waiting` must be tried again, with the transient error that says
    when (its own, or the one that stopped the chunk before it was tried)."""

    delivered: int
    waiting: tuple[tuple[str, DeliveryError], ...] = ()


def deliver_chunk(
    rt: Runtime, dedup_keys: Sequence[str], dispatcher: Dispatcher, now: datetime
) -> ChunkResult:
    """Deliver the keys of one fan-out, overlapping their vendors' waits (at most
    `delivery_in_flight` at once, `notifier.pipeline.sending`), each idempotent on its own."""
    finished: list[str] = []  # appended from the sending threads (list.append is atomic)

    def one(key: str) -> None:
        _deliver_one(rt, key, dispatcher, now, 0, False, finished)

    try:
        waiting = sending.deliver_all(dedup_keys, one, rt.settings.delivery_in_flight)
        return ChunkResult(len(finished), tuple(waiting))
    finally:
        # One write for the chunk; a crash before it only makes the reconcile sweep
        # re-send finished alerts, which are then no-ops.
        rt.due("undelivered").discard(*finished)


def _deliver_one(
    rt: Runtime,
    dedup_key: str,
    dispatcher: Dispatcher,
    now: datetime,
    attempt: int,
    final: bool,
    finished: list[str],
) -> DeliveryOutcome:
    outcome = deliver_alert(dedup_key, rt.delivery, now, attempt=attempt, final=final)
    if outcome.not_before is not None:
        rt.due("held").add(dedup_key, outcome.not_before)
    else:
        finished.append(dedup_key)
    if outcome.page_id and outcome.check_escalation_at is not None:
        rt.due("escalations").add(outcome.page_id, outcome.check_escalation_at)
    if outcome.fallback_key:
        rt.due("undelivered").add(outcome.fallback_key, now + RECONCILE_ALERTS_AFTER)
        dispatcher.deliver([outcome.fallback_key])
    return outcome


def escalate_due(rt: Runtime, now: datetime) -> int:
    """Page the next person for every unacknowledged page that is due."""
    pages = rt.due("escalations")
    with pages.sweeping() as mine:
        if not mine:
            return 0
        due = pages.due(now)
        for page_id in due:
            again = check_escalation(page_id, rt.delivery, now)
            if again is None:
                pages.discard(page_id)
            else:
                pages.add(page_id, again)
        return len(due)


def send_digests(rt: Runtime, now: datetime) -> int:
    return digest.send_digests(now, rt.delivery)
