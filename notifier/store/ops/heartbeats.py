"""Signs of life in Redis: the beat's heartbeat, each worker's, and the oldest due work.

Keys (all under `prefix`):
- `{p}:heartbeat:beat`: when the active beat last ticked (epoch seconds). It is kept
  a day, so a dead beat shows as old rather than as never seen.
- `{p}:heartbeat:workers` sorted set: Celery hostname → when that worker last wrote.
  A member older than the `expire_after` its writer gave is dropped at the next write,
  and ignored on reading, so a killed worker fades out by itself.

Reading is one round trip (`read`) and returns raw times; what counts as fresh or
overdue is the pipeline's decision (`notifier.pipeline.runtime.health`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from notifier.store.conn.batch import text
from notifier.store.ops.metrics import DUE_SETS
from notifier.store.ops.outbox import outbox_key, parse_entry

BEAT_KEEP_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class Pulse:
    """What `Heartbeats.read` found: raw times, no judgement."""

    beat_at: datetime | None
    workers: dict[str, datetime]
    # The earliest time any due set (retries, holds, escalations, reconcile) holds work
    # for, whether or not that time has come yet.
    earliest_due: datetime | None
    # The history outbox (`notifier.store.ops.outbox`): when its oldest row was queued, and
    # how many wait for the database.
    outbox_oldest: datetime | None = None
    outbox_depth: int = 0


def _at(score: float) -> datetime:
    return datetime.fromtimestamp(score, UTC)


@dataclass(frozen=True)
class Heartbeats:
    client: redis.Redis
    prefix: str

    @property
    def beat_key(self) -> str:
        return f"{self.prefix}:heartbeat:beat"

    @property
    def workers_key(self) -> str:
        return f"{self.prefix}:heartbeat:workers"

    def beat(self, now: datetime) -> None:
        self.client.set(self.beat_key, repr(now.timestamp()), ex=BEAT_KEEP_S)

    def worker(self, hostname: str, now: datetime, expire_after: float) -> None:
        """Record that `hostname` is alive at `now`; it counts as gone `expire_after`
        seconds later unless it writes again."""
        ts = now.timestamp()
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(self.workers_key, {hostname: ts})
        pipe.zremrangebyscore(self.workers_key, "-inf", ts - expire_after)
        pipe.expire(self.workers_key, max(1, int(expire_after) + 1))
        pipe.execute()

    def worker_gone(self, hostname: str) -> None:
        """A worker that shuts down cleanly says so at once."""
        self.client.zrem(self.workers_key, hostname)

    def read(self, now: datetime, expire_after: float) -> Pulse:
        """Everything health needs, in one round trip. Workers last seen more than
        `expire_after` seconds before `now` are left out."""
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self.beat_key)
        pipe.zrangebyscore(
            self.workers_key, now.timestamp() - expire_after, "+inf", withscores=True
        )
        for name in DUE_SETS:
            pipe.zrange(f"{self.prefix}:due:{name}", 0, 0, withscores=True)
        pipe.lindex(outbox_key(self.prefix), 0)
        pipe.llen(outbox_key(self.prefix))
        beat_raw, workers_raw, *firsts, oldest_raw, depth = pipe.execute()
        oldest = parse_entry(oldest_raw) if oldest_raw else None
        beat = text(beat_raw)
        workers = {text(m) or "": _at(score) for m, score in workers_raw}
        scores = [first[0][1] for first in firsts if first]
        return Pulse(
            beat_at=_at(float(beat)) if beat else None,
            workers=workers,
            earliest_due=_at(min(scores)) if scores else None,
            outbox_oldest=oldest.at if oldest else None,
            outbox_depth=int(depth),
        )
