"""How one event's fan-out is split for planning.

A fan-out of more than `FAN_OUT_MIN` subscribers is planned in parts:

1. the subscribers with a page lane (a channel that carries pages only, SMS) first,
   by the task that found the event, and handed on before anything else;
2. everyone else in chunks of at least `CHUNK` subscribers, at most `MAX_CHUNKS` of
   them, each a task of its own (`notifier.plan_chunk`) that any worker takes: 30,000
   routes are 16 chunks of a few hundred milliseconds, not one task of forty seconds.
   Why not more, smaller chunks: a worker process takes the poll and deliver queues in
   turn, so each chunk task waits about one delivery chunk (a vendor round trip and
   more) behind the fan-out's own sends; fewer chunks spend less of the plan waiting.

Each chunk reads its routes' threads in one round trip and claims them all in one
more (`notifier.store.delivery.deferred`); the last chunk to finish marks the event
processed. The provider's next event waits (`PlanLater`) while a fan-out's chunks
are out (`notifier.store.delivery.fanouts`): no lock is held across the plan, so no
lock can lapse under a long one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from notifier.config.schema import Config

FAN_OUT_MIN = 400  # subscribers; up to this many are planned in one go
CHUNK = 300  # subscribers per chunk task, at least
MAX_CHUNKS = 16  # more subscribers make bigger chunks, not more of them


class PlanLater(Exception):
    """An earlier event of the same provider is still being planned in chunks: plan
    this one once it is done (the harness retries it shortly; not a poison try)."""


@dataclass(frozen=True)
class Split:
    first: list[str]  # subscribers planned by the task itself, first: the page lanes
    chunks: list[list[str]]  # the rest, one list per chunk task


def chunk_size(subscribers: int) -> int:
    """Subscribers per chunk task for a fan-out of `subscribers` (beyond its page lanes)."""
    return max(CHUNK, -(-subscribers // MAX_CHUNKS))


def split(config: Config, pages_only: Collection[str], chunk: int | None = None) -> Split | None:
    """The parts of a large fan-out (None: small enough to plan at once); `chunk`
    subscribers a chunk task, by default `chunk_size`'s."""
    subs = config.subscribers
    if len(subs) <= FAN_OUT_MIN:
        return None
    paging = {s.name for s in subs if any(c in pages_only for c in s.channel_names())}
    rest = [s.name for s in subs if s.name not in paging]
    first = [s.name for s in subs if s.name in paging]
    size = chunk or chunk_size(len(rest))
    return Split(first, [rest[i : i + size] for i in range(0, len(rest), size)])
