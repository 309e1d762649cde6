"""Deliveries waiting for their next attempt, kept in Redis and swept by beat.

A retry is not a Celery countdown. The Redis transport hands a task whose ETA lies
beyond the visibility timeout to a second worker while the first still holds it;
each copy that fails then schedules its own retry, so a vendor outage doubles the
retries at every round. A sorted set (when) plus a hash (which attempt) has one
entry per alert, survives crashes, and lets the visibility timeout stay short.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from notifier.channels.base import DeliveryError, NotYet
from notifier.store.dueset import DueSet

MAX_RETRY_WAIT_S = 15 * 60  # the longest wait between two attempts


def backoff(tries: int, base: float = 5.0, cap: float = MAX_RETRY_WAIT_S) -> float:
    """Full-jitter exponential backoff: spreads a burst of retries after an outage."""
    return random.uniform(base / 2, min(cap, base * 2**tries))


def next_try(exc: DeliveryError, attempt: int, now: datetime) -> tuple[int, datetime]:
    """The number and time of the try after attempt `attempt` (0 = the first) failed
    with the transient `exc`. A vendor's Retry-After is honoured (never earlier) and
    spread over half as long again, so a rate-limited fan-out does not return as one
    burst. A wait (`NotYet`) is not an attempt: the number stays, so waiting for a
    thread's first message through a long outage cannot use up the retry budget."""
    if isinstance(exc, NotYet):
        return attempt, now + timedelta(seconds=min(exc.retry_after or 5.0, MAX_RETRY_WAIT_S))
    wait = exc.retry_after * random.uniform(1.0, 1.5) if exc.retry_after else backoff(attempt)
    return attempt + 1, now + timedelta(seconds=min(wait, MAX_RETRY_WAIT_S))


_FORGET_DUE = """
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
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
    def _attempts(self) -> str:
        return f"{self.prefix}:due:retrying:attempt"

    def schedule(self, dedup_keys: Sequence[str], attempt: int, when: datetime) -> None:
        """Attempt number `attempt` of each alert is due at `when`. Scheduling an alert
        again replaces its entry: one alert never has two retries pending."""
        if not dedup_keys:
            return
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(self._when.key, dict.fromkeys(dedup_keys, when.timestamp()))
        pipe.hset(self._attempts, mapping=dict.fromkeys(dedup_keys, attempt))
        pipe.execute()

    def due(self, now: datetime, limit: int = 500) -> list[tuple[str, int]]:
        keys = self._when.due(now, limit)
        if not keys:
            return []
        attempts = self.client.hmget(self._attempts, keys)
        return [(k, int(a) if a is not None else 1) for k, a in zip(keys, attempts, strict=True)]

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
