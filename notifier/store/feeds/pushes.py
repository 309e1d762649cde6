"""Webhook deliveries waiting to be merged: a Redis list, written by the web endpoint,
read by the pipeline's tick (`notifier.pipeline.ingest.push`).

The web endpoint answers 2xx only after `put` returned: the delivery is then safe in
Redis whatever happens to the process. The reader `peek`s, merges each delivery and
only then `drop`s them (one reader at a time, under a sweep lock), so a crash between
the two merges them again, which is harmless: the diff's update keys make a second
merge of the same delivery post nothing.

Keys: `<prefix>:push:queue` (list of JSON `{"provider", "received_at", "body"}`);
at most `MAX_QUEUED` entries are kept, the oldest dropped first (a flood cannot fill
Redis; the poll after each push reconciles anything dropped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

import redis

from notifier.models import iso, parse_iso

MAX_QUEUED = 10_000


@dataclass(frozen=True, slots=True)
class QueuedPush:
    provider: str
    received_at: datetime
    body: bytes


class PushQueue:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:push:queue"

    def put(self, provider: str, body: bytes, now: datetime) -> None:
        """Queue one delivery durably (one round trip)."""
        doc = {"provider": provider, "received_at": iso(now), "body": body.decode("latin-1")}
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(self.key, json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
        pipe.ltrim(self.key, -MAX_QUEUED, -1)
        pipe.execute()

    def peek(self, limit: int = 100) -> list[QueuedPush]:
        """The oldest `limit` deliveries, still queued."""
        raws: list[bytes] = self.client.lrange(self.key, 0, limit - 1)  # type: ignore[assignment]
        out = []
        for raw in raws:
            d = json.loads(raw)
            at = parse_iso(d["received_at"])
            assert at is not None
            out.append(QueuedPush(d["provider"], at, d["body"].encode("latin-1")))
        return out

    def drop(self, count: int) -> None:
        """Remove the oldest `count` deliveries (after they were merged)."""
        if count > 0:
            self.client.ltrim(self.key, count, -1)

    def __len__(self) -> int:
        return int(self.client.llen(self.key))

    @contextmanager
    def reading(self, ttl_s: int = 30) -> Iterator[bool]:
        """True for the one reader that may merge now; overlapping ticks skip."""
        lock = self.client.lock(f"{self.key}:read", timeout=ttl_s, blocking=False)
        got = bool(lock.acquire())
        try:
            yield got
        finally:
            if got:
                with suppress(redis.exceptions.LockError):
                    lock.release()


__all__ = ["MAX_QUEUED", "PushQueue", "QueuedPush"]
