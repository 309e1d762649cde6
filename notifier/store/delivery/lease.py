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

A dead holder may have left a request on its way to a vendor. That request can still
reach the vendor until its client's timeout has run out, later than the lookup that
decides whether to send again would look. The attempt that made it wrote a *landing key*
with its in-flight marks, living as long as its requests may still land (their timeouts
and a margin, from the moment they were marked). While that key lives, a dead holder's
lock is not taken over: it is *fenced* instead, held by nobody (`|fence`, no node, so it
cannot be taken over itself) for what is left of the landing key; the lock lapses then,
and the next attempt looks the request up and sends only what is not there. Usually the
heartbeat goes stale after the window has closed, and the lock is taken over at once
(the lookup still runs, from the in-flight marks). The fence lives in Redis, so every
copy of the alert's task (a watchdog retry, a broker redelivery) waits for it alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifier.store.conn.batch import Pipe

# KEYS: lock, workers heartbeat set, the alert's landing key. ARGV: value, px,
# stale-before (epoch seconds). 1: taken (free, or its node is gone and no request of it
# can land any more: taken over); 0: held by a live holder, or fenced (now or before).
_TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
local node = string.match(held, '^(.-)|')
if not node or node == '' then return 0 end
local seen = redis.call('ZSCORE', KEYS[2], node)
if seen and tonumber(seen) >= tonumber(ARGV[3]) then return 0 end
local landing = redis.call('PTTL', KEYS[3])
if landing > 0 then
  redis.call('SET', KEYS[1], '|fence', 'PX', landing)
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
    landing_key: str,
) -> None:  # fmt: skip
    """Queue taking `lock_key` with `value` (or over, from a gone node) on `pipe`;
    its reply is 1 when taken. A gone node's lock whose alert has a request that may
    still land (`landing_key` lives) is fenced for what is left of it instead."""
    stale_before = now.timestamp() - HOLDER.stale_after_s
    workers = f"{prefix}:heartbeat:workers"
    pipe.eval(_TAKE, 3, lock_key, workers, landing_key, value, lock_ms, repr(stale_before))
