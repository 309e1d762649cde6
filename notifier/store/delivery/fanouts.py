"""The fan-outs being planned in chunks, so a provider's next event waits for them.

A large fan-out is planned by chunk tasks spread over the workers
(`notifier.pipeline.plan.fanout`). Its provider's next event must not be planned before
every chunk of this one is: a route would see the update before its thread exists and
page twice. A lock held for the whole plan would be outlived by a long one (a lock
that lapses lets the next event through); instead each fan-out leaves a lease:

- `<prefix>:fanout:<event_id>`: set of the chunk numbers not planned yet;
- `<prefix>:fanout-of:<provider>`: the event whose chunks are out.

Both expire `LEASE_S` after the last chunk started or finished: every chunk renews
them, so a fan-out that keeps progressing keeps its lease however long it runs, and
one whose tasks were all lost stops blocking its provider (the reconcile sweep re-sends
its event, and re-planning is idempotent).
"""

from __future__ import annotations

import redis

from notifier.store.conn.batch import Batch, Later, read_now, text

LEASE_S = 120

_DONE = """
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return 0
end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
"""


class FanOuts:
    def __init__(self, client: redis.Redis, prefix: str, lease_s: int = LEASE_S) -> None:
        self._r, self._prefix, self._lease = client, prefix, lease_s

    def _chunks(self, event_id: str) -> str:
        return f"{self._prefix}:fanout:{event_id}"

    def _of(self, provider: str) -> str:
        return f"{self._prefix}:fanout-of:{provider}"

    def start(self, provider: str, event_id: str, chunks: int) -> None:
        """`chunks` chunk tasks of `event_id` are about to be queued."""
        pipe = self._r.pipeline(transaction=False)
        pipe.delete(self._chunks(event_id))
        pipe.sadd(self._chunks(event_id), *range(chunks))
        pipe.expire(self._chunks(event_id), self._lease)
        pipe.set(self._of(provider), event_id, ex=self._lease)
        pipe.execute()

    def in_flight(self, event_id: str) -> bool:
        """Chunks of `event_id` are still out (they finish it)."""
        return bool(self._r.exists(self._chunks(event_id)))

    def standing(self, provider: str, event_id: str) -> tuple[bool, str | None]:
        """Whether chunks of `event_id` are out, and the other event of `provider` whose
        fan-out is still being planned, if any: one round trip when there is none (the
        usual case)."""
        return read_now(self._r, lambda batch: self.standing_into(batch, provider, event_id))

    def standing_into(
        self, batch: Batch, provider: str, event_id: str
    ) -> Later[tuple[bool, str | None]]:
        """`standing`, queued on the caller's batch."""
        batch.pipe.exists(self._chunks(event_id))
        mine = batch.later(bool)
        batch.pipe.get(self._of(provider))
        return batch.later(lambda other: self._standing(mine.get(), text(other), event_id))

    def _standing(self, mine: bool, other: str | None, event_id: str) -> tuple[bool, str | None]:
        if other is None or other == event_id or not self.in_flight(other):
            return mine, None
        return mine, other

    def renew(self, provider: str, event_id: str) -> None:
        pipe = self._r.pipeline(transaction=False)
        pipe.expire(self._chunks(event_id), self._lease)
        pipe.expire(self._of(provider), self._lease)
        pipe.execute()

    def done(self, provider: str, event_id: str, chunk: int) -> bool:
        """Chunk `chunk` is planned; True for the call that finished the fan-out (or
        found its lease gone: finishing twice is harmless)."""
        keys = [self._chunks(event_id), self._of(provider)]
        return bool(self._r.eval(_DONE, 2, *keys, chunk, event_id, self._lease))
