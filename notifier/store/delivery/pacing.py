"""Pauses a vendor asked for, shared by every worker.

When Slack or Twilio answers 429 (or any error with a Retry-After), that channel is
paused for the time asked: `<prefix>:pause:<channel>` holds the end, as epoch
seconds. Until then no worker calls the vendor for that channel; a delivery that
finds the pause waits (`NotYet`, which does not use up its retry budget) until a
moment spread over one more pause-length, so a fan-out held back by a rate limit
comes back as a trickle rather than one burst that is refused again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime

import redis

from notifier.store.conn.batch import Batch, Later, Pipe, read_now


class Pacing:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def _key(self, channel: str) -> str:
        return f"{self.prefix}:pause:{channel}"

    def pauses_into(self, batch: Batch, channels: Sequence[str]) -> Later[dict[str, float]]:
        """When each paused channel may be called again (epoch seconds)."""
        names = list(channels)
        # MGET needs a key; with no channels, ask for one that is never set.
        batch.pipe.mget([self._key(c) for c in names] or [self._key("-")])
        return batch.later(
            lambda raw: {c: float(v) for c, v in zip(names, raw, strict=False) if v is not None}
        )

    def paused(self, channels: Sequence[str], now: datetime) -> dict[str, datetime]:
        """The channels paused at `now`, with when each may be called again."""
        until = read_now(self.client, lambda batch: self.pauses_into(batch, channels))
        return {c: datetime.fromtimestamp(t, UTC) for c, t in until.items() if t > now.timestamp()}

    def pause(self, channel: str, seconds: float, now: datetime, pipe: Pipe) -> None:
        """Queue a pause of `channel` for `seconds` on `pipe`."""
        until = now.timestamp() + seconds
        pipe.set(self._key(channel), f"{until:.3f}", px=max(1, int(seconds * 1000)))


def wait_for(until: float, now: datetime) -> float | None:
    """Seconds a delivery should wait for a pause ending at `until`; None if it is over."""
    remaining = until - now.timestamp()
    if remaining <= 0:
        return None
    return remaining + random.uniform(0, remaining)
