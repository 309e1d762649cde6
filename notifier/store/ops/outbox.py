"""The history outbox: rows on their way to the database, kept in Redis until it has them.

Every place that already records something the history keeps (an event, a claimed
alert, a delivery attempt and its end, a page, an acknowledgement, a silence) also
appends one entry here, on the same pipeline as its own record where it has one. A
worker drains the list in batches (`notifier.history.drain`): it reads the oldest
entries, writes them to the database in one transaction, and only after the commit
removes them. So a slow or absent database never delays a page (an append is one
RPUSH) and never loses a row; a batch read again after a crash between the commit
and the removal changes nothing (the database upserts on natural ids).

Key: `<prefix>:history:outbox` (list, oldest first). Each entry is JSON
`{"k": kind, "at": ISO time, "r": row}`. `<prefix>:history:drain-lock` keeps two
drainers apart.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import redis

from notifier.models import Alert, iso, parse_iso
from notifier.store.conn.batch import Pipe, writing

EVENT: Final = "event"
ALERT: Final = "alert"
ATTEMPT: Final = "attempt"
ERROR: Final = "error"
FINISH: Final = "finish"
PAGE: Final = "page"
ACK: Final = "ack"
SILENCE: Final = "silence"
KINDS: Final = frozenset({EVENT, ALERT, ATTEMPT, ERROR, FINISH, PAGE, ACK, SILENCE})

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
# Drop the batch that was read only if it is still the head (its first and last entries
# where they were): a drainer whose lock lapsed never drops rows another one moved on to.
_DONE = """
local n = tonumber(ARGV[3])
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return 0 end
if redis.call('LINDEX', KEYS[1], n - 1) ~= ARGV[2] then return 0 end
redis.call('LTRIM', KEYS[1], n, -1)
return 1
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def outbox_key(prefix: str) -> str:
    return f"{prefix}:history:outbox"


def entry(kind: str, at: datetime, row: dict[str, Any]) -> str:
    """One outbox entry as stored."""
    return json.dumps({"k": kind, "at": iso(at), "r": row}, separators=(",", ":"))


def entry_of_json(kind: str, at: datetime, row_json: str) -> str:
    """`entry` for a row already encoded as a JSON object: the same entry once parsed."""
    return f'{{"k":{json.dumps(kind)},"at":{json.dumps(iso(at))},"r":{row_json}}}'


def append(
    client: redis.Redis, prefix: str, kind: str, at: datetime, row: dict[str, Any],
    pipe: Pipe | None = None,
) -> None:  # fmt: skip
    """Queue one row for the history; on `pipe` when the caller batches its writes."""
    with writing(client, pipe) as p:
        p.rpush(outbox_key(prefix), entry(kind, at, row))


def alert_row(alert: Alert) -> dict[str, Any]:
    """What the history keeps of a claimed alert (the event itself has its own row)."""
    ev = alert.event
    return {
        "dedup_key": alert.dedup_key, "thread_key": alert.thread_key, "kind": alert.kind.value,
        "subscriber": alert.subscriber, "channel": alert.channel, "page": alert.page,
        "event_id": ev.event_id, "provider": ev.provider, "incident_id": ev.incident_id,
        "detected_at": iso(ev.detected_at), "attached_to": alert.attached_to,
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    kind: str
    at: datetime
    row: dict[str, Any]


def parse_entry(raw: bytes | str) -> OutboxEntry | None:
    """An entry read back; None for one that is not ours (reported by the drain)."""
    try:
        d = json.loads(raw)
        at = parse_iso(d["at"])
        if d["k"] not in KINDS or at is None or not isinstance(d["r"], dict):
            return None
        return OutboxEntry(d["k"], at, d["r"])
    except (ValueError, KeyError, TypeError):
        return None


class Outbox:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r, self.prefix = client, prefix
        self.key = outbox_key(prefix)
        self.lock_key = f"{prefix}:history:drain-lock"

    def depth(self) -> int:
        return int(self.r.llen(self.key))

    def oldest(self) -> datetime | None:
        """When the oldest entry still waiting was queued (None: the outbox is empty)."""
        raw = self.r.lindex(self.key, 0)
        found = parse_entry(raw) if raw else None
        return found.at if found else None

    def peek(self, n: int) -> list[bytes]:
        """The oldest `n` entries, left in place."""
        return [
            r if isinstance(r, bytes) else r.encode() for r in self.r.lrange(self.key, 0, n - 1)
        ]

    def done(self, batch: list[bytes]) -> bool:
        """`batch`, read from the head, is in the database: drop it. Entries only ever join
        at the tail, so the head is still that batch, unless another drainer (one whose
        lock lapsed) dropped it first: then nothing is dropped, and False says so."""
        if not batch:
            return True
        return bool(self.r.eval(_DONE, 1, self.key, batch[0], batch[-1], len(batch)))

    def lock(self, ttl_s: int) -> str | None:
        """Take the drain lock; its token, or None when another drainer holds it."""
        token = secrets.token_hex(8)
        return token if self.r.set(self.lock_key, token, nx=True, ex=ttl_s) else None

    def extend(self, token: str, ttl_s: int) -> bool:
        """Keep the drain lock for another `ttl_s`; False when it is no longer ours."""
        return bool(self.r.eval(_EXTEND, 1, self.lock_key, token, ttl_s))

    def unlock(self, token: str) -> None:
        self.r.eval(_RELEASE, 1, self.lock_key, token)


__all__ = [
    "ACK",
    "ALERT",
    "ATTEMPT",
    "ERROR",
    "EVENT",
    "FINISH",
    "PAGE",
    "SILENCE",
    "Outbox",
    "OutboxEntry",
    "alert_row",
    "append",
    "entry",
    "outbox_key",
    "parse_entry",
]
