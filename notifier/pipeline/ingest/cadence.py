"""Adaptive polling: how often each provider is polled right now, and why. Pure.

A provider is polled every `active_poll_interval` (default 15 s) while it, or any
provider it depends on (directly or further up), has an open incident; otherwise
every `poll_interval`. Each next poll gets a small random delay (`jitter`: up to 10%
of the interval, at most 5 s) so that providers sharing an interval, and many
notifier installations, do not hit a status page in lockstep. A status page's 429
with `Retry-After` holds its polls until then (`notifier.store.feeds.cadence`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from notifier.config.schema.providers import Dependency
from notifier.config.schema.resolution import ResolvedProvider
from notifier.models import Incident, IncidentKind
from notifier.store.feeds.cadence import Why

MAX_JITTER_S = 5.0
JITTER_SHARE = 0.1


def open_providers(incidents: Iterable[Incident]) -> set[str]:
    """Providers with an open incident (scheduled maintenance does not count)."""
    return {i.provider for i in incidents if i.is_active and i.kind is IncidentKind.INCIDENT}


def upstreams(graph: Mapping[str, tuple[Dependency, ...]], provider: str) -> list[str]:
    """Every provider `provider` depends on, nearest first, each once (cycles are cut)."""
    seen: list[str] = []
    todo = [d.provider for d in graph.get(provider, ())]
    while todo:
        p = todo.pop(0)
        if p in seen or p == provider:
            continue
        seen.append(p)
        todo += [d.provider for d in graph.get(p, ())]
    return seen


def effective(
    provider: ResolvedProvider,
    open_now: set[str],
    graph: Mapping[str, tuple[Dependency, ...]],
    names: Mapping[str, str] | None = None,
) -> Why:
    """The interval `provider` is polled at now, with its reason in a few words."""
    if provider.id in open_now:
        return Why(provider.active_poll_interval, "open incident")
    for up in upstreams(graph, provider.id):
        if up in open_now:
            name = (names or {}).get(up, up)
            return Why(provider.active_poll_interval, f"upstream {name} has an open incident")
    return Why(provider.poll_interval, "quiet")


def max_jitter(interval: float) -> float:
    return min(MAX_JITTER_S, JITTER_SHARE * interval)


def jitter(interval: float, rng: random.Random | None = None) -> float:
    """A small random delay added to each next poll (seconds)."""
    return (rng or random).uniform(0, max_jitter(interval))


def next_poll(
    now: datetime, interval: float, hold: datetime | None, rng: random.Random | None = None
) -> datetime:
    """When to poll next: one interval and a jitter on, never before a 429's hold."""
    at = now + timedelta(seconds=interval + jitter(interval, rng))
    return max(at, hold) if hold is not None else at


__all__ = ["effective", "jitter", "max_jitter", "next_poll", "open_providers", "upstreams"]
