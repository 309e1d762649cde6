"""Poison work kept aside: the failed tries of each event or alert, and the quarantine
of those given up on, with the reason and the time (30 days).

Keys (all under `prefix`):
- `{p}:quarantine:tries:{kind}:{id}`: how many tries of one item failed (30 days, as
  long as the event or alert itself). Never cleared on success: an item is planned or
  delivered once, and clearing would cost every healthy item a round trip.
- `{p}:quarantine:{kind}` sorted set: the quarantined ids of one kind by the time each
  was given up on; entries older than `KEEP` are trimmed on every write and never read.
- `{p}:quarantine:records` hash: `{kind}:{id}` → the record (JSON).
- `{p}:quarantine:bad:{provider}/{incident_id}` set: the reasons (`stage: error`) events
  of that incident were quarantined for (30 days), so the next event of the incident
  that fails the same way need not be tried three times too.

`kind` is `event` (its planning failed) or `alert` (its delivery failed). What counts
as a failure and how many make an item poison is the pipeline's policy
(`notifier.pipeline.delivery.quarantine`); only the bookkeeping lives here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import redis

from notifier.models import iso, parse_iso
from notifier.store.conn.batch import text

Kind = Literal["event", "alert"]
KINDS: tuple[Kind, ...] = ("event", "alert")
KEEP = timedelta(days=30)

# Trim what has outlived KEEP, then add one record; both keys live KEEP past the last add.
_ADD = """
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, m in ipairs(old) do redis.call('HDEL', KEYS[2], ARGV[4] .. m) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[4] .. ARGV[3], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"""


@dataclass(frozen=True, slots=True)
class Quarantined:
    """One item given up on. `stage` is where it failed (planning, catch-up, delivery),
    `error` the exception's type name only: its message may hold feed text or a secret;
    `where` names the code that raised (file, line, function), for whoever fixes it."""

    kind: Kind
    id: str  # the event id, or the alert's dedup key
    provider: str
    incident_id: str
    stage: str
    error: str
    at: datetime
    tries: int
    channel: str = ""  # an alert's channel
    where: str = ""  # the innermost frame: `blocks.py:132 in parent_message` (no values)

    @property
    def member(self) -> str:
        """How commands name it: `event:<id>` or `alert:<dedup key>`."""
        return f"{self.kind}:{self.id}"

    @property
    def reason(self) -> str:
        return f"{self.stage}: {self.error}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "provider": self.provider,
            "incident_id": self.incident_id,
            "channel": self.channel,
            "stage": self.stage,
            "error": self.error,
            "reason": self.reason,
            "at": iso(self.at),
            "tries": self.tries,
            "where": self.where,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Quarantined:
        at = parse_iso(d.get("at"))
        if at is None:
            raise ValueError("a quarantine record without its time")
        kind: Kind = "alert" if d.get("kind") == "alert" else "event"
        return cls(kind, str(d["id"]), str(d.get("provider", "")), str(d.get("incident_id", "")),
                   str(d.get("stage", "")), str(d.get("error", "")), at, int(d.get("tries", 0)),
                   str(d.get("channel", "")), str(d.get("where", "")))  # fmt: skip


def index_key(prefix: str, kind: Kind) -> str:
    """The sorted set of quarantined `kind` ids (for readers that batch their reads)."""
    return f"{prefix}:quarantine:{kind}"


class QuarantineStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        self._add = client.register_script(_ADD)

    def _tries_key(self, kind: Kind, item: str) -> str:
        return f"{self.prefix}:quarantine:tries:{kind}:{item}"

    def _index_key(self, kind: Kind) -> str:
        return index_key(self.prefix, kind)

    @property
    def _records_key(self) -> str:
        return f"{self.prefix}:quarantine:records"

    def _bad_key(self, provider: str, incident_id: str) -> str:
        return f"{self.prefix}:quarantine:bad:{provider}/{incident_id}"

    def known_bad(self, provider: str, incident_id: str, reason: str) -> bool:
        """Whether an event of this incident was quarantined for `reason` already."""
        return bool(self.client.sismember(self._bad_key(provider, incident_id), reason))

    def failed(self, kind: Kind, items: Sequence[str]) -> int:
        """Count one more failed try of each of `items` (tried together); the most
        tries any of them has now. One round trip."""
        if not items:
            return 0
        ttl = int(KEEP.total_seconds())
        pipe = self.client.pipeline(transaction=False)
        for item in items:
            pipe.incr(self._tries_key(kind, item))
            pipe.expire(self._tries_key(kind, item), ttl)
        return max(int(n) for n in pipe.execute()[::2])

    def tries(self, kind: Kind, item: str) -> int:
        return int(text(self.client.get(self._tries_key(kind, item))) or 0)

    def add(self, entry: Quarantined) -> None:
        """Quarantine `entry` (again: its record is replaced)."""
        oldest, ttl = (entry.at - KEEP).timestamp(), int(KEEP.total_seconds())
        body = json.dumps(entry.to_json(), separators=(",", ":"), ensure_ascii=False)
        self._add(
            keys=[self._index_key(entry.kind), self._records_key],
            args=[oldest, entry.at.timestamp(), entry.id, f"{entry.kind}:", body, ttl],
        )
        if entry.kind == "event" and entry.incident_id:
            bad = self._bad_key(entry.provider, entry.incident_id)
            pipe = self.client.pipeline(transaction=False)
            pipe.sadd(bad, entry.reason)
            pipe.expire(bad, ttl)
            pipe.execute()

    def counts(self, now: datetime) -> dict[Kind, int]:
        """How many items of each kind were quarantined within `KEEP` of `now`."""
        pipe = self.client.pipeline(transaction=False)
        for kind in KINDS:
            pipe.zcount(self._index_key(kind), (now - KEEP).timestamp(), "+inf")
        return {kind: int(n) for kind, n in zip(KINDS, pipe.execute(), strict=True)}

    def listed(self, now: datetime, limit: int = 50) -> list[Quarantined]:
        """The newest `limit` of each kind quarantined within `KEEP`, newest first."""
        pipe = self.client.pipeline(transaction=False)
        for kind in KINDS:
            pipe.zrevrangebyscore(
                self._index_key(kind), "+inf", (now - KEEP).timestamp(), start=0, num=limit
            )
        members = [
            f"{kind}:{text(m)}"
            for kind, found in zip(KINDS, pipe.execute(), strict=True)
            for m in found
        ]
        raws = self.client.hmget(self._records_key, members) if members else []
        out = [Quarantined.from_json(json.loads(r)) for r in raws if r]
        out.sort(key=lambda q: q.at, reverse=True)
        return out

    def get(self, member: str) -> Quarantined | None:
        raw = self.client.hget(self._records_key, member)
        return Quarantined.from_json(json.loads(raw)) if raw else None

    def release(self, entry: Quarantined) -> None:
        """Take `entry` out of quarantine with its tries forgotten: it gets three more."""
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self._index_key(entry.kind), entry.id)
        pipe.hdel(self._records_key, entry.member)
        pipe.delete(self._tries_key(entry.kind, entry.id))
        if entry.kind == "event" and entry.incident_id:  # its siblings get their own tries
            pipe.srem(self._bad_key(entry.provider, entry.incident_id), entry.reason)
        pipe.execute()


def parse_member(member: str) -> tuple[Kind, str] | None:
    """`event:<id>` or `alert:<dedup key>` as (kind, id); None for anything else."""
    kind, sep, item = member.partition(":")
    if not sep or not item:
        return None
    if kind == "event":
        return "event", item
    if kind == "alert":
        return "alert", item
    return None


__all__ = [
    "KEEP",
    "KINDS",
    "Kind",
    "QuarantineStore",
    "Quarantined",
    "index_key",
    "parse_member",
]
