"""The plan stage's entry: one poll's events become claimed alerts, handed to delivery.

`process` is what the `notifier.process` task (or the hand-off, inline) runs;
`plan_chunk` is one chunk of a large fan-out (`notifier.pipeline.plan.fanout`). Each
event is annotated, routed, grouped and claimed by `notifier.pipeline.plan.event`; late
news becomes catch-ups (`notifier.pipeline.plan.catchup`). Claimed alerts go on through
the hand-off (`notifier.pipeline.handoff`) while planning continues.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

import redis

from notifier.config.load import Config
from notifier.models import Alert, ChangeEvent, EventKind, Incident
from notifier.pipeline.delivery import quarantine
from notifier.pipeline.handoff import HandOff
from notifier.pipeline.plan import fanout
from notifier.pipeline.plan.catchup import plan_catch_ups
from notifier.pipeline.plan.event import confirms, every_route, process_event
from notifier.pipeline.plan.fanout import PlanLater
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.conn.batch import Batch, Later
from notifier.store.delivery.threads import Prefetched

log = logging.getLogger(__name__)


def process(rt: Runtime, event_ids: Sequence[str], handoff: HandOff, now: datetime) -> int:
    """Plan the alerts of one poll's events, in order, and hand each undelivered one on.

    One task per poll batch, under a per-provider lock: a new incident and the
    `new_update`s that come with it must be planned in order, or a worker would see
    the update before the thread exists and page twice. Idempotent: claims are SET NX.

    An event whose planning raises (a bug, not our infrastructure) fails the batch, to
    be retried in order; at its third failed try it is quarantined instead, marked
    processed, and the rest of the batch is planned (`notifier.pipeline.delivery.quarantine`).
    """
    events = handoff.just_saved(event_ids) or rt.events.load_events(event_ids)
    if len(events) < len(event_ids):
        log.warning("%d event record(s) missing (expired?)", len(event_ids) - len(events))
        # Nothing to plan from an id whose event is gone: the reconcile sweep must not
        # send it again every few minutes forever.
        found = {e.event_id for e in events}
        rt.due(Due.UNPROCESSED).discard(*[i for i in event_ids if i not in found])
    providers = list(dict.fromkeys(e.provider for e in events))
    warnings = _open_warnings(rt, providers)
    planned = 0
    world: list[Incident] | None = None  # planning writes none of it: read it once
    for provider in providers:
        mine = [e for e in events if e.provider == provider]
        todo = [e for e in mine if not e.late]
        reads = _reads(rt, provider, todo, now, world is None)
        with _provider_lock(rt, provider, reads) as (renew, read):
            world = read.world.get() if read.world is not None else world or []
            out, other = read.standing.get() if read.standing is not None else (False, None)
            if out:
                todo = []  # a re-sent batch whose chunks are out: they finish it
            elif other:
                raise PlanLater(f"{provider}: {other} is still being planned in chunks")
            parts = fanout.split(rt.config, rt.pages_only) if todo else None
            if parts is not None:
                planned += _fan_out(rt, todo, parts, world, handoff, now, warnings)
            for n, event in enumerate(todo if parts is None else ()):
                # The first event's threads came with the lock; a later one's may have
                # changed since (the events before it open them): read when planned.
                ahead = read.threads.get() if n == 0 and read.threads is not None else None
                planned += _plan_part(rt, event, rt.config, world, handoff, now, warnings,
                                      prefetched=ahead)  # fmt: skip
                _finish(rt, event, warnings, now)
                renew()
            late = [e for e in mine if e.late]
            if late:  # one poll's late news: one catch-up per subscriber and gap
                planned += _catch_up(rt, late, handoff, now)
    return planned


def _drops(rt: Runtime) -> Callable[[str], None]:
    """Count what a rule decided to send nowhere, by reason (`notifier.route.drops`)."""
    return lambda reason: rt.metrics.inc("notifier_events_dropped_total", reason=reason)


def _catch_up(rt: Runtime, events: Sequence[ChangeEvent], handoff: HandOff, now: datetime) -> int:
    try:
        alerts = plan_catch_ups(
            events, rt.config, rt.alerts, now, pages_only=rt.pages_only, on_drop=_drops(rt)
        )
    except Exception as exc:
        if not quarantine.is_poison(exc):
            raise
        # One catch-up plans a poll's late events together: they are tried, and given
        # up on, together.
        first, rest = events[0], [e.event_id for e in events[1:]]
        what = quarantine.entry("event", first.event_id, first.provider, first.incident_id,
                            "catch-up", exc, now)  # fmt: skip
        if not quarantine.failed_try(rt.quarantine, rt.metrics, what, rest):
            raise
        alerts = []
    ready: dict[str, str] = {}  # key: its channel (the lane), in order
    for alert in alerts:
        if alert.hold_until is not None and alert.hold_until > now:
            rt.due(Due.HELD).add(alert.dedup_key, alert.hold_until)
        else:
            ready[alert.dedup_key] = alert.channel
    handoff.alerts(list(ready), now, ready)
    for channel, count in Counter(a.channel for a in alerts).items():
        rt.metrics.inc("notifier_alerts_total", count, channel=channel)
    for event in events:
        rt.events.mark_processed(event.event_id)
    rt.due(Due.UNPROCESSED).discard(*[e.event_id for e in events])
    return len(alerts)


def _open_warnings(rt: Runtime, providers: Sequence[str]) -> dict[str, Incident]:
    """The probes' open early warnings of these providers (only those with probes)."""
    probed = [p for p in providers if (rp := rt.providers.get(p)) is not None and rp.probes]
    return {p: w.incident for p, w in rt.probes.warnings(probed).items()}


def _fan_out(
    rt: Runtime, events: Sequence[ChangeEvent], parts: fanout.Split, world: Sequence[Incident],
    handoff: HandOff, now: datetime, warnings: dict[str, Incident] | None,
) -> int:  # fmt: skip
    """A large fan-out of one provider's events: the page lanes here, for each event in
    order, then the rest in chunk tasks, each planning its subscribers' routes for every
    event in order (`notifier.pipeline.plan.fanout`); the last chunk marks them processed."""
    events = [e for e in events if not rt.events.is_processed(e.event_id)]  # a re-sent batch
    first = rt.config.with_subscribers(parts.first)
    planned = sum(_plan_part(rt, e, first, world, handoff, now, warnings) for e in events)
    if not parts.chunks or not events:  # nothing left for chunk tasks
        for event in events:
            _finish(rt, event, warnings, now)
        return planned
    ids = [e.event_id for e in events]
    rt.fanouts.start(events[0].provider, ids[0], len(parts.chunks))
    handoff.plan_chunks(ids, parts.chunks)
    return planned


def plan_chunk(
    rt: Runtime, event_ids: Sequence[str], number: int, names: Sequence[str],
    handoff: HandOff, now: datetime,
) -> int:  # fmt: skip
    """Plan chunk `number` of a fan-out: the routes of the subscribers `names` for each
    of one provider's events in order (`notifier.pipeline.plan.fanout`). Idempotent; the last
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
    planned = sum(_plan_part(rt, e, config, world, handoff, now, warnings) for e in events)
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
    rt.due(Due.UNPROCESSED).discard(event.event_id)


def _plan_part(
    rt: Runtime,
    event: ChangeEvent,
    config: Config,
    world: Sequence[Incident],
    handoff: HandOff,
    now: datetime,
    warnings: dict[str, Incident] | None = None,
    prefetched: Prefetched | None = None,
) -> int:
    batch: dict[str, str] = {}  # key: its channel (the lane), in order

    def hand_on() -> None:
        handoff.alerts(list(batch), now, dict(batch))
        batch.clear()

    def ready(alert: Alert) -> None:
        # Hand alerts on while planning continues: a large fan-out starts delivering early.
        if alert.hold_until is not None and alert.hold_until > now:
            rt.due(Due.HELD).add(alert.dedup_key, alert.hold_until)
            return
        batch[alert.dedup_key] = alert.channel
        if len(batch) >= handoff.chunk:  # a chunk's worth
            hand_on()

    try:
        alerts = process_event(
            event, config, world, rt.threads, rt.alerts, now,
            pages_only=rt.pages_only, on_ready=ready, followups=rt.followups,
            warnings=warnings, on_drop=_drops(rt), prefetched=prefetched,
        )  # fmt: skip
    except Exception as exc:
        if batch:  # claimed before the failure: they go out, whatever becomes of the rest
            hand_on()
        # The harness's transient failures (its time limit too) are retried where the
        # plan stopped, never counted: the claims made stay made, the rest is planned then.
        if not quarantine.is_poison(exc) or isinstance(exc, handoff.transient):
            raise
        what = quarantine.entry("event", event.event_id, event.provider, event.incident_id,
                            "planning", exc, now)  # fmt: skip
        if not quarantine.failed_try(rt.quarantine, rt.metrics, what):
            raise
        alerts = []
    if batch:
        hand_on()
    for channel, count in Counter(a.channel for a in alerts).items():
        rt.metrics.inc("notifier_alerts_total", count, channel=channel)
    return len(alerts)


@dataclass(frozen=True)
class _Reads:
    """What planning one provider's events decides on, read under its lock."""

    world: Later[list[Incident]] | None  # the recent incidents (the first provider's)
    standing: Later[tuple[bool, str | None]] | None  # its fan-out in chunks (`fanouts`)
    # The first event's threads, when it is planned here (not in chunks): what its
    # planning reads first, in the lock's round trip instead of one of its own.
    threads: Later[Prefetched] | None


def _reads(
    rt: Runtime, provider: str, todo: Sequence[ChangeEvent], now: datetime, world: bool
) -> Callable[[Batch], _Reads]:
    here = bool(todo) and fanout.split(rt.config, rt.pages_only) is None

    def queue(batch: Batch) -> _Reads:
        return _Reads(
            rt.incidents.recent_into(batch, now) if world else None,
            rt.fanouts.standing_into(batch, provider, todo[0].event_id) if todo else None,
            rt.threads.prefetch_into(batch, every_route(rt.config),
                                     (provider, todo[0].incident_id)) if here else None,
        )  # fmt: skip

    return queue


@contextmanager
def _provider_lock(
    rt: Runtime, provider: str, reads: Callable[[Batch], _Reads], ttl_s: int = 60,
    wait_s: int = 20,
) -> Iterator[tuple[Callable[[], None], _Reads]]:  # fmt: skip
    """The provider's planning lock, with `reads`: queued after the lock's SET NX, in its
    round trip (they see what the previous holder wrote), and read again after a wait."""
    # Wait well under the task's soft time limit: a timeout here is retried by the task.
    lock = rt.client.lock(
        f"{rt.settings.key_prefix}:plan-lock:{provider}",
        timeout=ttl_s,
        blocking_timeout=wait_s,
        sleep=0.01,
    )
    token = uuid.uuid1().hex.encode()
    first = Batch(rt.client)
    first.pipe.set(lock.name, token, nx=True, px=ttl_s * 1000)  # what `acquire` sends
    took = first.later(bool)
    read = reads(first)
    first.execute()
    if took.get():
        lock.local.token = token  # held: extended and released as if `acquire` took it
    elif lock.acquire():
        again = Batch(rt.client)
        read = reads(again)
        again.execute()
    else:
        raise TimeoutError(f"planning lock for {provider} not acquired in {wait_s}s")

    def renew() -> None:  # a plan that runs long keeps its lock (never lapses under it)
        with suppress(redis.exceptions.LockError):
            lock.extend(ttl_s, replace_ttl=True)

    try:
        yield renew, read
    finally:
        with suppress(redis.exceptions.LockError):  # expired under us: nothing to release
            lock.release()
