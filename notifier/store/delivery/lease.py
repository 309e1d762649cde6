"""The delivery lock's holder, so a dead holder's lock is taken over in seconds.

`{p}:delivery:lock:<dedup_key>` holds `<node>|<token>`: the Celery node (`celery@host`)
whose process took it, and a random token only the taker knows. The lock lapses after
`LOCK_MS` in any case, but a worker killed mid-delivery would keep its alert waiting that
long. So taking the lock also takes it *over* when its node's heartbeat
(`{p}:heartbeat:workers`, `notifier.store.ops.heartbeats`) is missing or older than
`stale_after_s` (3 heartbeat intervals): that node is gone, and with it the attempt.

A process that is not a Celery worker (a test, a replay) has no node: its locks can only
lapse or be released. Taking over is judged from Redis alone, so any process may take over
the lock of a node whose heartbeat is gone.

A dead holder may have left a request on its way to a vendor: its in-flight marks are
still there. That request can still reach the vendor until its client's timeout has run
out, later than the lookup that decides whether to send again would look. So such a lock
is not taken over at once: it is *fenced* instead, held by nobody (`|fence`, no node, so
it cannot be taken over itself) for `fence_ms`, the longest a request may still land; the
lock lapses then, and the next attempt looks the request up and sends only what is not
there. The fence lives in Redis, so every copy of the alert's task (a watchdog retry, a
broker redelivery) waits for it alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifier.store.conn.batch import Pipe

# KEYS: lock, workers heartbeat set, the alert's in-flight marks. ARGV: value, px,
# stale-before (epoch seconds), fence ms. 1: taken (free, or its node is gone and left no
# request in flight: taken over); 0: held by a live holder, or fenced (now or before).
_TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
local node = string.match(held, '^(.-)|')
if not node or node == '' then return 0 end
local seen = redis.call('ZSCORE', KEYS[2], node)
if seen and tonumber(seen) >= tonumber(ARGV[3]) then return 0 end
if tonumber(ARGV[4]) > 0 and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('SET', KEYS[1], '|fence', 'PX', ARGV[4])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


@dataclass
class Holder:
    """Who this process is, for the locks it takes: set once when a worker starts."""

    node: str = ""
    stale_after_s: float = 15.0


HOLDER = Holder()


def identify(node: str, stale_after_s: float) -> None:
    """This process works for Celery node `node`, whose heartbeat is stale after
    `stale_after_s` seconds."""
    HOLDER.node, HOLDER.stale_after_s = node, stale_after_s


def lock_value(token: str) -> str:
    return f"{HOLDER.node}|{token}"


def queue_take(
    pipe: Pipe, prefix: str, lock_key: str, value: str, lock_ms: int, now: datetime,
    in_flight_key: str, fence_ms: int,
) -> None:  # fmt: skip
    """Queue taking `lock_key` with `value` (or over, from a gone node) on `pipe`;
    its reply is 1 when taken. A gone node's lock whose alert has requests in flight
    (`in_flight_key` exists) is fenced for `fence_ms` instead (0: taken over at once)."""
    stale_before = now.timestamp() - HOLDER.stale_after_s
    workers = f"{prefix}:heartbeat:workers"
    pipe.eval(_TAKE, 3, lock_key, workers, in_flight_key, value, lock_ms, repr(stale_before),
              max(0, int(fence_ms)))  # fmt: skip
