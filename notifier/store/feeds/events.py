"""The change events a poll found, kept so planning and the console can read them.

Keys (all under `prefix`):
- `{p}:event:{event_id}`: the ChangeEvent JSON (30 days).
- `{p}:processed:{event_id}`: set once the event was planned (30 days).
- `{p}:events-of:{provider}/{incident_id}` sorted set: the incident's event ids by the
  time each was detected (30 days), for the web console's incident page.

`save_events` also appends each event to the history outbox (`notifier.store.ops.outbox`)
in the same round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta

import redis

from notifier.models import ChangeEvent, event_from_dict, to_jsonable
from notifier.store.conn.batch import Pipe, text
from notifier.store.ops import outbox

EVENT_TTL = timedelta(days=30)


class EventStore:
    """Event records, each incident's list of them, and which were planned."""

    def __init__(self, redis: redis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def event_key(self, event_id: str) -> str:
        return f"{self.prefix}:event:{event_id}"

    def events_of_key(self, provider: str, incident_id: str) -> str:
        return f"{self.prefix}:events-of:{provider}/{incident_id}"

    def _processed_key(self, event_id: str) -> str:
        return f"{self.prefix}:processed:{event_id}"

    def save_events(self, events: Iterable[ChangeEvent]) -> list[str]:
        """Store each event record once (SET NX, 30 days); the ids newly stored."""
        return [e.event_id for e in self.save(events)]

    def save(
        self, events: Iterable[ChangeEvent], then: Callable[[Pipe], object] | None = None
    ) -> list[ChangeEvent]:
        """Store each event record once (SET NX, 30 days); the events newly stored, each
        exactly as `load_events` would read it back (the record rounds some fields).
        `then` queues the caller's writes after the records, in the same round trip."""
        events = list(events)
        if not events:
            return []
        ttl = int(EVENT_TTL.total_seconds())
        pipe = self.redis.pipeline(transaction=False)
        rows, entries = [], []
        for e in events:
            row = to_jsonable(e)
            body = json.dumps(row, separators=(",", ":"), ensure_ascii=False)
            rows.append(row)
            pipe.set(self.event_key(e.event_id), body, nx=True, ex=ttl)
            # The record's JSON, not the row encoded again: an event carries its
            # incident's every update, and this is on the way from a change to its alert.
            entries.append(outbox.entry_of_json(outbox.EVENT, e.detected_at, body))
        for n, e in enumerate(events):  # after the SETs: their replies come first
            index = self.events_of_key(e.provider, e.incident_id)
            # One poll's events share a time: a millisecond each keeps their order.
            score = e.detected_at.timestamp() + min(n, 999) / 1000
            pipe.zadd(index, {e.event_id: score}, nx=True)
            pipe.expire(index, ttl)
        # The history's rows, in the same round trip (the database upserts by event id).
        pipe.rpush(outbox.outbox_key(self.prefix), *entries)
        if then is not None:
            then(pipe)
        replies = pipe.execute()[: len(events)]
        # Made from the rows just written (plain JSON values): what a read would give,
        # without the read.
        return [event_from_dict(row) for row, ok in zip(rows, replies, strict=True) if ok]

    def events_of(self, provider: str, incident_id: str) -> list[ChangeEvent]:
        """The stored events of one incident, in the order they were detected."""
        ids = [
            text(i) or ""
            for i in self.redis.zrange(self.events_of_key(provider, incident_id), 0, -1)
        ]
        return self.load_events(ids)

    def load_event(self, event_id: str) -> ChangeEvent | None:
        raw = self.redis.get(self.event_key(event_id))
        return event_from_dict(json.loads(raw)) if raw else None

    def load_events(self, event_ids: Sequence[str]) -> list[ChangeEvent]:
        """The stored ones among `event_ids`, in that order, in one round trip."""
        raws = self.redis.mget([self.event_key(i) for i in event_ids]) if event_ids else []
        return [event_from_dict(json.loads(r)) for r in raws if r]

    def mark_processed(self, event_id: str) -> None:
        self.redis.set(self._processed_key(event_id), "1", ex=int(EVENT_TTL.total_seconds()))

    def unmark_processed(self, event_id: str) -> None:
        """Plan the event again when it is next handed on (out of quarantine)."""
        self.redis.delete(self._processed_key(event_id))

    def is_processed(self, event_id: str) -> bool:
        return bool(self.redis.exists(self._processed_key(event_id)))


__all__ = ["EVENT_TTL", "EventStore"]
