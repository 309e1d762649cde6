"""Work that is due at a time, kept in a Redis sorted set and swept by beat.

Used instead of far-future Celery ETAs: the Redis transport redelivers an ETA
task after the visibility timeout, and a worker crash strands it until then. A
sorted set survives crashes and restarts, and a sweep is one ZRANGEBYSCORE.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from notifier.store.conn.batch import Pipe, text, writing


def due_set(client: redis.Redis, prefix: str, name: str) -> DueSet:
    """The sorted set of `name` work (held, escalations, unprocessed, undelivered, …)."""
    return DueSet(client, f"{prefix}:due:{name}")


@dataclass(frozen=True)
class DueSet:
    client: redis.Redis
    key: str

    def add(self, member: str, when: datetime) -> None:
        self.client.zadd(self.key, {member: when.timestamp()})

    def add_many(self, members: Sequence[str], when: datetime, pipe: Pipe | None = None) -> None:
        """All due at `when`, handed out in the order given (ties would sort by name); on
        `pipe` when the caller batches its writes."""
        if members:
            base = when.timestamp()
            with writing(self.client, pipe) as writes:
                writes.zadd(self.key, {m: base + i * 1e-6 for i, m in enumerate(members)})

    def discard(self, *members: str, pipe: Pipe | None = None) -> None:
        """On `pipe` when the caller batches its writes."""
        if members:
            with writing(self.client, pipe) as writes:
                writes.zrem(self.key, *members)

    def due(self, now: datetime, limit: int = 500) -> list[str]:
        raw: list[bytes] = self.client.zrangebyscore(  # type: ignore[assignment]
            self.key, "-inf", now.timestamp(), start=0, num=limit
        )
        return [text(m) for m in raw]

    def upcoming(self, limit: int = 20) -> list[tuple[str, datetime]]:
        """The first `limit` members by due time, with that time (for `notifier pending`)."""
        raw: list[tuple[bytes, float]] = self.client.zrange(  # type: ignore[assignment]
            self.key, 0, limit - 1, withscores=True
        )
        return [(text(m), datetime.fromtimestamp(score, UTC)) for m, score in raw]

    def __len__(self) -> int:
        return int(self.client.zcard(self.key))

    @contextmanager
    def sweeping(self, ttl_s: int = 60) -> Iterator[bool]:
        """True for the one sweeper that may work now; overlapping sweeps skip."""
        lock = self.client.lock(f"{self.key}:sweep", timeout=ttl_s, blocking=False)
        got = bool(lock.acquire())
        try:
            yield got
        finally:
            if got:
                with suppress(redis.exceptions.LockError):  # expired under us: nothing to release
                    lock.release()
