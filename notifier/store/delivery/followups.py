"""Follow-ups: the incidents that joined a cascade, batched per `group_interval`.

A cascade folds downstream incidents into the thread of the incident that was paged
(the group). Channels that carry pages only (SMS) would never hear of them; instead
the people paged for the group get a follow-up naming every incident that joined,
at most one per group per interval. The group's own page counts as its first
message, so a cascade of twenty in ten minutes is the page and two follow-ups.

A batch collects members until it is sent: `join` adds a member to the group's open
batch, or opens one due at the later of now and the interval's end; delivery calls
`close`, which stops the batch taking members (a later join opens the next one) and
returns the members, the same list on every call, so a retried send names the same
incidents. `join` is idempotent per member: re-planning an event after a crash finds
the batch it joined.

Redis keys (all expire 30 days after their last write), `<group>` being the cascade's
thread key, which starts with the route:

- `<prefix>:followup:<group>`: hash `next` (epoch seconds: no batch before this),
  `open` (the batch taking members), `seq`, `due:<batch>`, `member:<id>` -> batch;
- `<prefix>:followup-members:<batch>`: list of member JSON, first-come.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import redis

from notifier.models import FoldedIncident, folded_from_dict, to_jsonable
from notifier.store.conn.batch import text

FOLLOWUP_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Joined:
    """The batch a member joined: its id (the follow-up's dedup key) and when it is due."""

    batch: str
    due: datetime
    opened: bool  # this join opened the batch


class FollowUps(Protocol):
    """What planning and delivery need of the follow-up store."""

    def started(self, group: str, at: datetime, interval: timedelta) -> None:
        """The group paged at `at`: no follow-up before `at + interval`."""
        ...

    def join(
        self, group: str, member: FoldedIncident, member_id: str, now: datetime,
        interval: timedelta,
    ) -> Joined: ...  # fmt: skip

    def close(self, batch: str) -> list[FoldedIncident]:
        """Stop `batch` taking members; its members, first-come (the same on every call)."""
        ...


def batch_id(group: str, seq: int) -> str:
    return f"follow-up/{group}/{seq}"


def _encode(member: FoldedIncident) -> str:
    return json.dumps(to_jsonable(member), separators=(",", ":"))


# KEYS[1] the group hash, KEYS[2] the members-key prefix; ARGV: member id, member JSON,
# now (epoch s), interval (s), batch-id prefix, ttl. Returns {batch, due, opened}.
_JOIN = """
local known = redis.call('HGET', KEYS[1], 'member:' .. ARGV[1])
if known then
  return {known, redis.call('HGET', KEYS[1], 'due:' .. known), 0}
end
local now, interval, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local batch = redis.call('HGET', KEYS[1], 'open')
local opened = 0
local due
if batch then
  due = redis.call('HGET', KEYS[1], 'due:' .. batch)
else
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  batch = ARGV[5] .. seq
  local nxt = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
  local at = now
  if nxt > at then at = nxt end
  due = tostring(at)
  redis.call('HSET', KEYS[1], 'open', batch, 'due:' .. batch, due, 'next', tostring(at + interval))
  opened = 1
end
redis.call('HSET', KEYS[1], 'member:' .. ARGV[1], batch)
redis.call('RPUSH', KEYS[2] .. batch, ARGV[2])
redis.call('EXPIRE', KEYS[2] .. batch, ttl)
redis.call('EXPIRE', KEYS[1], ttl)
return {batch, due, opened}
"""

_CLOSE = """
if redis.call('HGET', KEYS[1], 'open') == ARGV[1] then redis.call('HDEL', KEYS[1], 'open') end
return redis.call('LRANGE', KEYS[2], 0, -1)
"""


class RedisFollowUps:
    """The service's follow-up store; the keys are listed in the module docstring."""

    def __init__(self, client: redis.Redis, prefix: str, ttl: int = FOLLOWUP_TTL_SECONDS) -> None:
        self._r, self._prefix, self._ttl = client, prefix, ttl
        self._join = client.register_script(_JOIN)
        self._close = client.register_script(_CLOSE)

    def _group(self, group: str) -> str:
        return f"{self._prefix}:followup:{group}"

    def _members(self) -> str:
        return f"{self._prefix}:followup-members:"

    def started(self, group: str, at: datetime, interval: timedelta) -> None:
        key = self._group(group)
        pipe = self._r.pipeline(transaction=False)
        pipe.hsetnx(key, "next", str((at + interval).timestamp()))
        pipe.expire(key, self._ttl)
        pipe.execute()

    def join(
        self, group: str, member: FoldedIncident, member_id: str, now: datetime,
        interval: timedelta,
    ) -> Joined:  # fmt: skip
        args: list[str | float] = [
            member_id, _encode(member), now.timestamp(), interval.total_seconds(),
            f"follow-up/{group}/", self._ttl,
        ]  # fmt: skip
        raw = self._join(keys=[self._group(group), self._members()], args=args)
        batch, due, opened = text(raw[0]), float(text(raw[1])), int(raw[2])
        return Joined(batch, datetime.fromtimestamp(due, UTC), bool(opened))

    def close(self, batch: str) -> list[FoldedIncident]:
        group = batch.removeprefix("follow-up/").rpartition("/")[0]
        raw = self._close(keys=[self._group(group), self._members() + batch], args=[batch])
        return [folded_from_dict(json.loads(text(m))) for m in raw]


@dataclass
class _GroupBatches:
    """One group's batches: when the next may be due, the open one, how many so far."""

    next_at: datetime | None = None
    open: str | None = None
    seq: int = 0


class InMemoryFollowUps:
    """The same semantics in dicts, for replays and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, _GroupBatches] = {}
        self._due: dict[str, datetime] = {}
        self._joined: dict[tuple[str, str], str] = {}
        self._members: dict[str, list[FoldedIncident]] = {}

    def started(self, group: str, at: datetime, interval: timedelta) -> None:
        with self._lock:
            g = self._groups.setdefault(group, _GroupBatches())
            if g.next_at is None:
                g.next_at = at + interval

    def join(
        self, group: str, member: FoldedIncident, member_id: str, now: datetime,
        interval: timedelta,
    ) -> Joined:  # fmt: skip
        with self._lock:
            known = self._joined.get((group, member_id))
            if known is not None:
                return Joined(known, self._due[known], False)
            g = self._groups.setdefault(group, _GroupBatches())
            opened = g.open is None
            if g.open is None:
                g.seq += 1
                g.open = batch_id(group, g.seq)
                due = max(now, g.next_at) if g.next_at else now
                self._due[g.open] = due
                g.next_at = due + interval
            self._joined[(group, member_id)] = g.open
            self._members.setdefault(g.open, []).append(member)
            return Joined(g.open, self._due[g.open], opened)

    def close(self, batch: str) -> list[FoldedIncident]:
        with self._lock:
            for g in self._groups.values():
                if g.open == batch:
                    g.open = None
            return list(self._members.get(batch, ()))

    def due(self) -> dict[str, datetime]:
        """Every batch and when it is due (for a replay to send them in time)."""
        return dict(self._due)


__all__ = [
    "FOLLOWUP_TTL_SECONDS",
    "FollowUps",
    "InMemoryFollowUps",
    "Joined",
    "RedisFollowUps",
    "batch_id",
]
