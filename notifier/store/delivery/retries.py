"""Deliveries waiting for their next attempt, kept in Redis and swept by beat.

A retry is not a Celery countdown. The Redis transport hands a task whose ETA lies
beyond the visibility timeout to a second worker while the first still holds it;
each copy that fails then schedules its own retry, so a vendor outage doubles the
retries at every round. A sorted set (when) plus a hash (which attempt) has one
entry per alert, survives crashes, and lets the visibility timeout stay short.

The attempt number is the alert's own: it stays after the hand-on, for the delivery
task to read (`attempt`), until the alert finishes (`forget`), so a task retried after
our infrastructure failed tries the same attempt again. Only the queue lives here;
when an attempt comes and which number it has is the pipeline's policy
(`notifier.pipeline.delivery.retry`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import redis

from notifier.store.conn.batch import Batch, Later, Pipe
from notifier.store.delivery.dueset import DueSet

# The attempt number stays: the handed-on task reads it (`attempt`), and `forget`
# drops it when the alert finishes.
_FORGET_DUE = """
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
"""


@dataclass(frozen=True)
class RetryQueue:
    client: redis.Redis
    prefix: str

    @property
    def _when(self) -> DueSet:
        return DueSet(self.client, f"{self.prefix}:due:retrying")

    @property
    def key(self) -> str:
        """The sorted set: alert dedup key -> when its next attempt is due (epoch s)."""
        return self._when.key

    @property
    def _attempts(self) -> str:
        return f"{self.prefix}:due:retrying:attempt"

    def schedule(
        self, dedup_keys: Sequence[str], attempt: int, when: datetime, pipe: Pipe | None = None
    ) -> None:
        """Attempt number `attempt` of each alert is due at `when`. Scheduling an alert
        again replaces its entry: one alert never has two retries pending. On `pipe`
        when the caller batches its writes."""
        if not dedup_keys:
            return
        own = pipe is None
        pipe = self.client.pipeline(transaction=True) if pipe is None else pipe
        pipe.zadd(self._when.key, dict.fromkeys(dedup_keys, when.timestamp()))
        pipe.hset(self._attempts, mapping=dict.fromkeys(dedup_keys, attempt))
        if own:
            pipe.execute()

    def forget(self, dedup_key: str, pipe: Pipe) -> None:
        """The alert needs no retry (it finished): drop its entry, on the caller's `pipe`."""
        pipe.zrem(self._when.key, dedup_key)
        pipe.hdel(self._attempts, dedup_key)

    def due(self, now: datetime, limit: int = 500) -> list[tuple[str, int]]:
        keys = self._when.due(now, limit)
        if not keys:
            return []
        attempts = self.client.hmget(self._attempts, keys)
        return [(k, int(a) if a is not None else 1) for k, a in zip(keys, attempts, strict=True)]

    def attempt(self, dedup_key: str) -> int:
        """The number of the alert's next attempt (0: the first; kept until it finishes)."""
        return self.attempts([dedup_key]).get(dedup_key, 0)

    def attempt_into(self, batch: Batch, dedup_key: str) -> Later[int]:
        """`attempt`, queued on the caller's batch (a delivery's first round trip)."""
        batch.pipe.hget(self._attempts, dedup_key)
        return batch.later(lambda raw: int(raw) if raw is not None else 0)

    def attempts(self, dedup_keys: Sequence[str]) -> dict[str, int]:
        """The next attempt's number of each alert that has been retried (one round trip)."""
        if not dedup_keys:
            return {}
        raw = self.client.hmget(self._attempts, list(dedup_keys))
        return {k: int(a) for k, a in zip(dedup_keys, raw, strict=True) if a is not None}

    def handed_on(self, dedup_keys: Sequence[str], now: datetime) -> None:
        """Forget the entries `due(now)` returned, but not one the handed-on attempt
        has already failed and scheduled again (its time is later than `now`)."""
        if dedup_keys:
            self.client.eval(
                _FORGET_DUE, 2, self._when.key, self._attempts, now.timestamp(), *dedup_keys
            )

    def __len__(self) -> int:
        return len(self._when)

    def upcoming(self, limit: int = 20) -> list[tuple[str, int, datetime]]:
        """The next `limit` retries: alert, attempt number, when."""
        soon = self._when.upcoming(limit)
        if not soon:
            return []
        attempts = self.client.hmget(self._attempts, [k for k, _ in soon])
        return [(k, int(a or 1), when) for (k, when), a in zip(soon, attempts, strict=True)]

    @contextmanager
    def sweeping(self) -> Iterator[bool]:
        with self._when.sweeping() as mine:
            yield mine
