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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import redis

from notifier.channels import kinds
from notifier.channels.base import DeliveryError
from notifier.config.load import Config, ResolvedProvider
from notifier.config.settings import Settings
from notifier.feeds.discover import follow
from notifier.feeds.fetch import Fetcher
from notifier.feeds.probe import Prober
from notifier.models import Alert, ChangeEvent, EventKind, Incident
from notifier.pipeline import fanout, sending
from notifier.pipeline.catchup import plan_catch_ups
from notifier.pipeline.delivery import digest, poison
from notifier.pipeline.delivery.deliver import (
    DeliveryContext,
    DeliveryOutcome,
    check_escalation,
    deliver_alert,
)
from notifier.pipeline.fanout import PlanLater
from notifier.pipeline.ingest import cadence, continuity, finals, push
from notifier.pipeline.ingest.poll import PollOutcome, poll_provider
from notifier.pipeline.ingest.probes import ProbeOutcome, run_probe
from notifier.pipeline.plan import confirms, process_event
from notifier.store.conn.connect import connect
from notifier.store.conn.generation import Generation
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.dueset import DueSet, due_set
from notifier.store.delivery.fanouts import FanOuts
from notifier.store.delivery.followups import RedisFollowUps
from notifier.store.delivery.retries import RetryQueue
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import RedisThreadStore
from notifier.store.feeds.cadence import Cadence, Why, poll_member, probe_member
from notifier.store.feeds.discovered import DiscoveredStore
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.forget import forget_providers, scheduled_providers
from notifier.store.feeds.incidents import IncidentIndex
from notifier.store.feeds.probes import ProbeStore
from notifier.store.feeds.providers import ProviderStore
from notifier.store.feeds.pushes import PushQueue
from notifier.store.ops.metrics import Metrics
from notifier.store.ops.quarantine import QuarantineStore

log = logging.getLogger(__name__)

# How long work may stay unfinished before the reconcile sweep re-sends it. Planning
# takes milliseconds; a delivery may sit in retry backoff (up to 15 min a retry).
RECONCILE_EVENTS_AFTER = timedelta(minutes=5)
RECONCILE_ALERTS_AFTER = timedelta(minutes=30)
DUE_BATCH = 1000  # due members read per round trip by the tick
HAND_ON_EVERY = 10  # alerts planned before they are handed on for delivery
RESEED_EVERY = timedelta(minutes=1)  # the tick re-adds missing providers this often


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
    Redis connections; see `notifier.pipeline.runtime.process`)."""

    settings: Settings
    client: redis.Redis
    config: Config
    state: ProviderStore
    events: EventStore
    incidents: IncidentIndex
    alerts: AlertStore
    threads: RedisThreadStore
    metrics: Metrics
    fetcher: Fetcher
    delivery: DeliveryContext
    followups: RedisFollowUps | None = None
    providers: dict[str, ResolvedProvider] = field(default_factory=dict)
    pages_only: frozenset[str] = field(default_factory=frozenset)
    discovered: DiscoveredStore | None = None
    # The generation marker this process saw when it was built (None: none yet), to
    # notice that Redis lost its data (notifier.pipeline.ingest.continuity).
    generation_seen: str | None = None

    @property
    def generation(self) -> Generation:
        return Generation(self.client, self.settings.key_prefix)

    _prober: Prober | None = field(default=None, repr=False)
    _told: dict[str, Why] = field(default_factory=dict, repr=False)  # cadence reasons written
    _seeded: datetime | None = field(default=None, repr=False)  # last tick that seeded

    @property
    def cadence(self) -> Cadence:
        return Cadence(self.client, self.settings.key_prefix)

    @property
    def pushes(self) -> PushQueue:
        return PushQueue(self.client, self.settings.key_prefix)

    @property
    def probes(self) -> ProbeStore:
        return ProbeStore(self.client, self.settings.key_prefix)

    @property
    def prober(self) -> Prober:
        """One HTTP client for this process's probes, made on first use."""
        if self._prober is None:
            self._prober = Prober(self.settings.allowed_networks())
        return self._prober

    def due(self, name: str) -> DueSet:
        """The sorted set of `name` work: held, escalations, unprocessed, undelivered."""
        return due_set(self.client, self.settings.key_prefix, name)

    @property
    def fanouts(self) -> FanOuts:
        return FanOuts(self.client, self.settings.key_prefix)

    @property
    def retries(self) -> RetryQueue:
        return RetryQueue(self.client, self.settings.key_prefix)

    @property
    def quarantine(self) -> QuarantineStore:
        return QuarantineStore(self.client, self.settings.key_prefix)

    @classmethod
    def build(cls, settings: Settings, redis_url: str, config: Config) -> Runtime:
        """Connect to `redis_url` and build the stores and channels for `config`."""
        client = connect(
            redis_url, failover_wait=settings.redis_failover_wait, health_check_interval=30
        )
        prefix = settings.key_prefix
        fetcher = Fetcher(
            timeout=settings.http_timeout,
            connect_timeout=settings.http_connect_timeout,
            max_bytes=settings.max_feed_bytes,
            allow=settings.allowed_networks(),
        )
        # planning and delivery share one instance of each store
        alerts, threads = AlertStore(client, prefix), RedisThreadStore(client, prefix)
        metrics, followups = Metrics(client, prefix), RedisFollowUps(client, prefix)
        delivery = DeliveryContext.build(
            settings, config, client, prefix, alerts=alerts, threads=threads, metrics=metrics,
            followups=followups,
        )  # fmt: skip
        try:
            seen = Generation(client, prefix).current()
        except redis.RedisError:  # Redis away at the first task: the poll path learns it
            seen = None
        return cls(
            generation_seen=seen,
            settings=settings,
            client=client,
            config=config,
            state=ProviderStore(client, prefix),
            events=EventStore(client, prefix),
            incidents=IncidentIndex(client, prefix),
            alerts=alerts,
            threads=threads,
            metrics=metrics,
            fetcher=fetcher,
            delivery=delivery,
            followups=followups,
            providers={p.id: p for p in config.resolved_providers()},
            pages_only=kinds.pages_only(),
            discovered=DiscoveredStore(client, prefix),
        )


def _enqueuer(
    rt: Runtime, dispatcher: Dispatcher, now: datetime
) -> Callable[[Sequence[ChangeEvent]], None]:
    def enqueue(events: Sequence[ChangeEvent]) -> None:
        # Durable first: the records, then the queue. Only then may the poller commit.
        rt.events.save_events(events)
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

    def on_unmarked() -> bool:
        return continuity.lost_since(rt.generation, rt.generation_seen, list(rt.providers), now)

    discovered = rt.discovered or DiscoveredStore(rt.client, rt.settings.key_prefix)
    if provider.discovers:
        provider = _with_discovered_feed(provider, discovered, rt.fetcher, now)

    def on_components(names: tuple[str, ...]) -> None:
        discovered.saw_components(provider_id, names)

    began = time.monotonic()
    outcome = poll_provider(
        provider, rt.state, rt.fetcher, _enqueuer(rt, dispatcher, now), now,
        rt.settings.feed_failure_threshold, name=provider.name, retry_final=retry_final,
        on_unmarked=on_unmarked, rebaselined=rt.generation.rebaselined,
        on_components=on_components, known_before_loss=rt.threads.known_before_loss,
        max_new_incidents=rt.settings.max_new_incidents_per_poll,
    )  # fmt: skip
    if outcome.retry_after is not None:
        # The status page asked us to wait (429 / Retry-After): the tick holds its polls.
        rt.cadence.hold(provider_id, now + timedelta(seconds=outcome.retry_after))
        log.warning("status page asked us to wait %.0f s", outcome.retry_after,
                    extra={"provider": provider_id})  # fmt: skip
    if provider.page and outcome.cause in follow.MOVED_CAUSES:
        # Status pages move: find the feed again; the next poll reads it.
        follow.after_failure(provider_id, provider.page, outcome.cause, discovered, rt.fetcher, now)
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


def _with_discovered_feed(
    provider: ResolvedProvider, store: DiscoveredStore, fetcher: Fetcher, now: datetime
) -> ResolvedProvider:
    """The provider with the feed remembered or discovered behind its page. With none
    found, the page itself is polled: the poll fails as "an HTML page, not a feed", and
    feed health tells the story like any broken feed."""
    found = follow.current_feed(provider.id, provider.page, store, fetcher, now)
    if found is None:
        return replace(provider, url=provider.page, format="auto")
    fmt = provider.format if provider.format != "auto" else found.format
    return replace(provider, url=found.url, format=fmt)


def look_for_final_words(rt: Runtime, dispatcher: Dispatcher, now: datetime) -> int:
    """Look again, in the providers' histories, for the final updates of incidents
    resolved on absence whose time has come (see `notifier.pipeline.ingest.finals`)."""
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

    An event whose planning raises (a bug, not our infrastructure) fails the batch, to
    be retried in order; at its third failed try it is quarantined instead, marked
    processed, and the rest of the batch is planned (`notifier.pipeline.delivery.poison`).
    """
    events = rt.events.load_events(event_ids)
    if len(events) < len(event_ids):
        log.warning("%d event record(s) missing (expired?)", len(event_ids) - len(events))
        # Nothing to plan from an id whose event is gone: the reconcile sweep must not
        # send it again every few minutes forever.
        found = {e.event_id for e in events}
        rt.due("unprocessed").discard(*[i for i in event_ids if i not in found])
    world = rt.incidents.recent_incidents(now)  # planning writes none of it: read it once
    providers = list(dict.fromkeys(e.provider for e in events))
    warnings = _open_warnings(rt, providers)
    planned = 0
    for provider in providers:
        with _provider_lock(rt, provider) as renew:
            mine = [e for e in events if e.provider == provider]
            todo = [e for e in mine if not e.late]
            if todo and rt.fanouts.in_flight(todo[0].event_id):
                todo = []  # a re-sent batch whose chunks are out: they finish it
            if todo and (other := rt.fanouts.blocking(provider, todo[0].event_id)):
                raise PlanLater(f"{provider}: {other} is still being planned in chunks")
            parts = fanout.split(rt.config, rt.pages_only) if todo else None
            if parts is not None:
                planned += _fan_out(rt, todo, parts, world, dispatcher, now, warnings)
            for event in todo if parts is None else ():
                planned += _plan_part(rt, event, rt.config, world, dispatcher, now, warnings)
                _finish(rt, event, warnings, now)
                renew()
            late = [e for e in mine if e.late]
            if late:  # one poll's late news: one catch-up per subscriber and gap
                planned += _catch_up(rt, late, dispatcher, now)
    return planned


def _drops(rt: Runtime) -> Callable[[str], None]:
    """Count what a rule decided to send nowhere, by reason (`notifier.route.drops`)."""
    return lambda reason: rt.metrics.inc("notifier_events_dropped_total", reason=reason)


def _catch_up(
    rt: Runtime, events: Sequence[ChangeEvent], dispatcher: Dispatcher, now: datetime
) -> int:
    try:
        alerts = plan_catch_ups(
            events, rt.config, rt.alerts, now, pages_only=rt.pages_only, on_drop=_drops(rt)
        )
    except Exception as exc:
        if not poison.is_poison(exc):
            raise
        # One catch-up plans a poll's late events together: they are tried, and given
        # up on, together.
        first, rest = events[0], [e.event_id for e in events[1:]]
        what = poison.entry("event", first.event_id, first.provider, first.incident_id,
                            "catch-up", exc, now)  # fmt: skip
        if not poison.failed_try(rt.quarantine, rt.metrics, what, rest):
            raise
        alerts = []
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
        rt.events.mark_processed(event.event_id)
    rt.due("unprocessed").discard(*[e.event_id for e in events])
    return len(alerts)


def _open_warnings(rt: Runtime, providers: Sequence[str]) -> dict[str, Incident]:
    """The probes' open early warnings of these providers (only those with probes)."""
    probed = [p for p in providers if (rp := rt.providers.get(p)) is not None and rp.probes]
    return {p: w.incident for p, w in rt.probes.warnings(probed).items()}


def _fan_out(
    rt: Runtime, events: Sequence[ChangeEvent], parts: fanout.Split, world: Sequence[Incident],
    dispatcher: Dispatcher, now: datetime, warnings: dict[str, Incident] | None,
) -> int:  # fmt: skip
    """A large fan-out of one provider's events: the page lanes here, for each event in
    order, then the rest in chunk tasks, each planning its subscribers' routes for every
    event in order (`notifier.pipeline.fanout`); the last chunk marks them processed."""
    events = [e for e in events if not rt.events.is_processed(e.event_id)]  # a re-sent batch
    first = rt.config.with_subscribers(parts.first)
    planned = sum(_plan_part(rt, e, first, world, dispatcher, now, warnings) for e in events)
    send = getattr(dispatcher, "plan_chunks", None)
    if send is None or not parts.chunks or not events:  # an inline harness: one by one
        for names in parts.chunks if events else ():
            config = rt.config.with_subscribers(names)
            for event in events:
                planned += _plan_part(rt, event, config, world, dispatcher, now, warnings)
        for event in events:
            _finish(rt, event, warnings, now)
        return planned
    ids = [e.event_id for e in events]
    rt.fanouts.start(events[0].provider, ids[0], len(parts.chunks))
    send(ids, parts.chunks)
    return planned


def plan_chunk(
    rt: Runtime, event_ids: Sequence[str], number: int, names: Sequence[str],
    dispatcher: Dispatcher, now: datetime,
) -> int:  # fmt: skip
    """Plan chunk `number` of a fan-out: the routes of the subscribers `names` for each
    of one provider's events in order (`notifier.pipeline.fanout`). Idempotent; the last
    chunk to finish marks the events processed."""
    events = rt.events.load_events(event_ids)
    if not events:
        log.warning("chunk %d of %s: event records missing (expired?)", number, event_ids[0])
        return 0
    provider = events[0].provider
    rt.fanouts.renew(provider, event_ids[0])
    world = rt.incidents.recent_incidents(now)
    warnings = _open_warnings(rt, [provider])
    config = rt.config.with_subscribers(list(names))
    planned = sum(_plan_part(rt, e, config, world, dispatcher, now, warnings) for e in events)
    if rt.fanouts.done(provider, event_ids[0], number):
        for event in events:
            _finish(rt, event, warnings, now)
    return planned


def _finish(
    rt: Runtime, event: ChangeEvent, warnings: dict[str, Incident] | None, now: datetime
) -> None:
    if event.kind is EventKind.NEW_INCIDENT and confirms(event, warnings) is not None:
        rt.probes.confirm(event.provider, now)  # its recovery then needs no all-clear
    rt.events.mark_processed(event.event_id)
    rt.due("unprocessed").discard(event.event_id)


def _plan_part(
    rt: Runtime,
    event: ChangeEvent,
    config: Config,
    world: Sequence[Incident],
    dispatcher: Dispatcher,
    now: datetime,
    warnings: dict[str, Incident] | None = None,
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

    try:
        alerts = process_event(
            event, config, world, rt.threads, rt.alerts, now,
            pages_only=rt.pages_only, on_ready=ready, followups=rt.followups,
            warnings=warnings, on_drop=_drops(rt),
        )  # fmt: skip
    except Exception as exc:
        if batch:  # claimed before the failure: they go out, whatever becomes of the rest
            hand_on()
        # The harness's transient failures (its time limit too) are retried where the
        # plan stopped, never counted: the claims made stay made, the rest is planned then.
        if not poison.is_poison(exc) or isinstance(exc, getattr(dispatcher, "transient", ())):
            raise
        what = poison.entry("event", event.event_id, event.provider, event.incident_id,
                            "planning", exc, now)  # fmt: skip
        if not poison.failed_try(rt.quarantine, rt.metrics, what):
            raise
        alerts = []
    if batch:
        hand_on()
    for channel, count in Counter(a.channel for a in alerts).items():
        rt.metrics.inc("notifier_alerts_total", count, channel=channel)
    return len(alerts)


@contextmanager
def _provider_lock(
    rt: Runtime, provider: str, ttl_s: int = 60, wait_s: int = 20
) -> Iterator[Callable[[], None]]:
    # Wait well under the task's soft time limit: a timeout here is retried by the task.
    lock = rt.client.lock(
        f"{rt.settings.key_prefix}:plan-lock:{provider}",
        timeout=ttl_s,
        blocking_timeout=wait_s,
        sleep=0.01,
    )
    if not lock.acquire():
        raise TimeoutError(f"planning lock for {provider} not acquired in {wait_s}s")

    def renew() -> None:  # a plan that runs long keeps its lock (never lapses under it)
        with suppress(redis.exceptions.LockError):
            lock.extend(ttl_s, replace_ttl=True)

    try:
        yield renew
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
    When that is, is `notifier.pipeline.delivery.retry`'s policy (see `attempts.retry_later`)."""
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
    try:
        outcome = deliver_alert(dedup_key, rt.delivery, now, attempt=attempt, final=final)
    except Exception as exc:
        if not poison.is_poison(exc):
            raise
        return _poisoned(rt, dedup_key, attempt, exc, now, finished)
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


def _poisoned(
    rt: Runtime, dedup_key: str, attempt: int, exc: Exception, now: datetime, finished: list[str]
) -> DeliveryOutcome:
    """A delivery raised something other than a `DeliveryError` (a renderer's bug): try
    it again in a minute, like a killed worker's, and at the third failed try give up on
    it (failed, quarantined) instead of stopping the batch it came in."""
    try:
        alert = rt.alerts.get(dedup_key)
    except Exception as again:  # the record itself may be what cannot be read
        if not poison.is_poison(again):
            raise
        alert = None
    provider, incident, channel = (
        (alert.event.provider, alert.event.incident_id, alert.channel) if alert else ("", "", "")
    )
    what = poison.entry("alert", dedup_key, provider, incident, "delivery", exc, now, channel)
    if not poison.failed_try(rt.quarantine, rt.metrics, what):
        retry_later(rt, [dedup_key], attempt + 1, now + poison.DELIVERY_RETRY)
        return DeliveryOutcome(dedup_key, "retrying", channel, error=what.reason)
    pipe = rt.client.pipeline(transaction=False)
    rt.alerts.finish(dedup_key, AlertStatus.FAILED, now, error=f"quarantined: {what.reason}",
                     pipe=pipe)  # fmt: skip
    rt.metrics.record_delivery(channel or "unknown", AlertStatus.FAILED, None, pipe=pipe)
    pipe.execute()
    finished.append(dedup_key)
    return DeliveryOutcome(dedup_key, "quarantined", channel, error=what.reason)


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


# ---- push, adaptive polling and probes: the one-second tick -----------------------


@dataclass(frozen=True, slots=True)
class TickResult:
    pushes: push.Ingested
    polls: tuple[str, ...] = ()  # providers whose poll was started
    probes: tuple[tuple[str, int], ...] = ()  # (provider, probe index) started


def tick(
    rt: Runtime,
    dispatcher: Dispatcher,
    start_poll: Callable[[str, float], None],
    start_probe: Callable[[str, int, float], None],
    now: datetime,
) -> TickResult:
    """Merge queued webhook pushes, then start every poll and probe that is due.

    Run every second by the harness (beat). Which providers are due comes from Redis
    (`notifier.store.feeds.cadence`), so the intervals change at run time: a provider whose
    own or upstream incident opens is polled every `active_poll_interval` from the next
    tick on. `start_poll(provider, expires_s)` and `start_probe(provider, n, expires_s)`
    queue the work; a queued poll older than its interval is superseded by the next."""
    names = {p.id: p.name for p in rt.providers.values()}
    pushed = push.ingest(rt.pushes, rt.state, rt.cadence, names, _enqueuer(rt, dispatcher, now),
                         now)  # fmt: skip
    store = rt.cadence
    with store.ticking() as mine:
        if not mine:
            return TickResult(pushed)
        members = [poll_member(p) for p in rt.providers]
        members += [probe_member(p.id, n) for p in rt.providers.values()
                    for n in range(len(p.probes))]  # fmt: skip
        stale = rt._seeded is None or now - rt._seeded >= RESEED_EVERY or now < rt._seeded
        if stale or store.size() < len(members):
            # New providers are due at once; the others keep their time. Once a minute,
            # not every second: 2,000 members are worth not re-sending each tick. At
            # once when members are missing: a Redis that lost its data lost them all.
            store.seed(members, now)
            rt._seeded = now
            _forget_removed(rt)
        why = intervals(rt, now)
        # Turned active (own or upstream incident): due within the active interval.
        store.sooner({
            poll_member(p): now + timedelta(seconds=w.interval + cadence.max_jitter(w.interval))
            for p, w in why.items() if w.interval < rt.providers[p].poll_interval
        })  # fmt: skip
        _explain(rt, store, why, now)
        due = _live_due(rt, store, why, now)
        holds = store.holds()
        polls, probes, schedule = [], [], {}
        for member in due:
            kind, _, rest = member.partition(":")
            if kind == "poll" and rest in why:
                interval = why[rest].interval
                schedule[member] = cadence.next_poll(now, interval, holds.get(rest))
                if holds.get(rest) is None or holds[rest] <= now:
                    polls.append((rest, interval))
            elif kind == "probe" and (found := _probe_of(rt, rest)) is not None:
                provider, n, every = found
                schedule[member] = now + timedelta(seconds=every)
                probes.append((provider, n, every))
        store.next_at(schedule)  # before starting: a crash skips one round, never doubles it
        store.clear_hold(*[p for p, until in holds.items() if until <= now])
        for provider, interval in polls:
            start_poll(provider, interval)
        for provider, n, every in probes:
            start_probe(provider, n, every)
        return TickResult(pushed, tuple(p for p, _ in polls), tuple((p, n) for p, n, _ in probes))


def _live_due(rt: Runtime, store: Cadence, why: dict[str, Why], now: datetime) -> list[str]:
    """The due members of configured providers. Members of removed ones are dropped as
    they are met, and the read goes on past them: they can never crowd out the live."""
    live: dict[str, None] = {}  # in due order; a live member read twice counts once
    for _ in range(100):  # 100,000 dead members at most per tick
        batch = store.due(now, limit=DUE_BATCH)
        dead = [m for m in batch if not _configured(rt, why, m)]
        live.update((m, None) for m in batch if _configured(rt, why, m))
        store.drop(dead)
        if len(batch) < DUE_BATCH or not dead:
            break
    return list(live)


def _configured(rt: Runtime, why: dict[str, Why], member: str) -> bool:
    kind, _, rest = member.partition(":")
    return (kind == "poll" and rest in why) or (kind == "probe" and _probe_of(rt, rest) is not None)


def _forget_removed(rt: Runtime) -> None:
    """Providers removed from the file leave no key behind (`store.feeds.forget`)."""
    prefix = rt.settings.key_prefix
    gone = scheduled_providers(rt.client, prefix) - set(rt.providers)
    if gone:
        forget_providers(rt.client, prefix, gone)
        log.info("forgot %d provider(s) no longer in the file: %s", len(gone),
                 ", ".join(sorted(gone)))  # fmt: skip


def intervals(rt: Runtime, now: datetime) -> dict[str, Why]:
    """Each watched provider's effective interval now, with its reason."""
    open_now = cadence.open_providers(rt.incidents.recent_incidents(now))
    graph = rt.config.dependency_graph()
    names = {p: rt.config.provider_name(p) for p in open_now}
    return {pid: cadence.effective(p, open_now, graph, names) for pid, p in rt.providers.items()}


def _explain(rt: Runtime, store: Cadence, why: dict[str, Why], now: datetime) -> None:
    """Record each reason when it changes (for `notifier providers --watched`), and say so."""
    changed = {p: Why(w.interval, w.why, now) for p, w in why.items() if rt._told.get(p) != w}
    if not changed:
        return
    store.explain(changed)
    for p, w in changed.items():
        if p in rt._told:
            log.info("polling every %.0f s (%s)", w.interval, w.why, extra={"provider": p})
        rt._told[p] = why[p]


def _probe_of(rt: Runtime, rest: str) -> tuple[str, int, float] | None:
    provider, _, n = rest.rpartition(":")
    p = rt.providers.get(provider)
    if p is None or not n.isdigit() or int(n) >= len(p.probes):
        return None
    return provider, int(n), float(p.probes[int(n)].interval)


def probe(
    rt: Runtime, provider_id: str, n: int, dispatcher: Dispatcher, now: datetime
) -> ProbeOutcome:
    """Run probe `n` of a provider once (see `notifier.pipeline.ingest.probes`)."""
    provider = rt.providers.get(provider_id)
    if provider is None or n >= len(provider.probes):
        raise KeyError(f"provider {provider_id!r} has no probe {n}")
    outcome = run_probe(
        provider, n, rt.prober, rt.probes, rt.state.load_state(provider_id),
        _enqueuer(rt, dispatcher, now), now,
    )  # fmt: skip
    rt.metrics.inc("notifier_probes_total", provider=provider_id,
                   outcome="ok" if outcome.result.ok else "failed")  # fmt: skip
    if not outcome.result.ok and outcome.failures == 1:
        log.warning("probe %d failed: %s", n, outcome.result.cause, extra={"provider": provider_id})
    return outcome
