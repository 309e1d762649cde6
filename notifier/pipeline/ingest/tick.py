"""The one-second tick: merge queued webhook pushes, then start the polls and probes due.

Which providers are due comes from Redis (`notifier.store.feeds.cadence`), so the
intervals change at run time (`notifier.pipeline.ingest.cadence`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.pipeline.handoff import HandOff
from notifier.pipeline.ingest import cadence, push
from notifier.pipeline.ingest.stage import enqueuer
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.feeds.cadence import Cadence, Why, poll_member, probe_member
from notifier.store.feeds.forget import forget_providers, scheduled_providers

log = logging.getLogger(__name__)

DUE_BATCH = 1000  # due members read per round trip by the tick
RESEED_EVERY = timedelta(minutes=1)  # the tick re-adds missing providers this often
# The harness runs the tick once a second (workers/schedule.py TICK_S). A member due
# before the next tick's midpoint starts now: waiting for the next tick would make every
# interval a tick longer (`poll_interval: 1` polled every 2 s, 60 every 61 s).
EARLY = timedelta(seconds=0.5)


@dataclass(frozen=True, slots=True)
class TickResult:
    pushes: push.Ingested
    polls: tuple[str, ...] = ()  # providers whose poll was started
    probes: tuple[tuple[str, int], ...] = ()  # (provider, probe index) started


def tick(
    rt: Runtime,
    handoff: HandOff,
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
    pushed = push.ingest(rt.pushes, rt.state, rt.cadence, names, enqueuer(rt, handoff, now),
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
        due = _live_due(rt, store, why, now + EARLY)
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
