"""Keep a delivered alert's dedup marker 30 days, its payload only a few.

A finished alert (delivered, printed, silenced, skipped or failed) is never sent again,
so after `NOTIFIER_ALERT_PAYLOAD_DAYS` (default 3) its record (`alert:<key>`: the alert,
its route and status) and its delivery log (`dlog:<key>` with its attempt history, sent
marks, in-flight and waiting marks) are replaced by one short marker in its incident's
marks hash (`notifier.store.delivery.marks`), kept as long as the incident's other
alerts (30 days). The claim reads the marks, so a shrunk alert is never claimed or sent
again. Thread order is unaffected: a later alert that names it as its earlier one finds
no record and does not wait for it (as for an expired one), and the thread's entry and
vendor reference (`notifier.store.delivery.threads`) keep their own 30 days, so the
incident's next update still replies in its thread.

Nothing is lost: every row (the alert, each attempt, its end) went to the history outbox
when it was written, and the outbox keeps a row until the database has it.

The sweep reads `<prefix>:alerts-finished` (a sorted set by finish time, written by
`AlertStore.finish`), oldest first, `limit` at a time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import redis

from notifier.models import parse_iso
from notifier.store.conn.batch import text
from notifier.store.delivery.deliverylog import RECORD_TTL, DeliveryLog
from notifier.store.delivery.marks import Mark
from notifier.store.delivery.status import AlertStatus, finished_key, parse, record_key

SHRINK_BATCH = 500
# Re-checked where it is written: an alert opened again since it was read stays whole.
_SHRINK = """
redis.call('ZREM', KEYS[2], ARGV[1])
local rec = redis.call('HMGET', KEYS[1], 'status', 'of')
if not rec[1] or rec[1] == 'pending' or rec[2] ~= ARGV[2] then return 0 end
redis.call('HSET', ARGV[2], ARGV[1], ARGV[3])
if redis.call('TTL', ARGV[2]) < 0 then redis.call('EXPIRE', ARGV[2], ARGV[4]) end
redis.call('DEL', unpack(KEYS))
return 1
"""


def shrink_finished(
    client: redis.Redis, prefix: str, now: datetime, days: float, limit: int = SHRINK_BATCH
) -> int:
    """Shrink up to `limit` alerts finished more than `days` ago; how many were looked at
    (0: none is due; call again while it returns `limit`)."""
    index = finished_key(prefix)
    cutoff = (now - timedelta(days=days)).timestamp()
    due = [text(k) or "" for k in client.zrangebyscore(index, "-inf", cutoff, 0, limit)]
    if not due:
        return 0
    log = DeliveryLog(client, prefix)
    reads = client.pipeline(transaction=False)
    for key in due:
        reads.hmget(record_key(prefix, key), ["status", "of", "alert"])
        reads.hmget(log.record_keys(key)[0], ["updated_at", "attempts", "message_id"])
    replies = reads.execute()
    writes = client.pipeline(transaction=False)
    for n, key in enumerate(due):
        (status, of, body), (updated, attempts, message_id) = replies[2 * n : 2 * n + 2]
        mark = _mark(parse(text(status)), body, text(updated), text(attempts), text(message_id))
        keys = [record_key(prefix, key), index, *log.record_keys(key)]
        args = [key, text(of) or "", mark.encode() if mark else "", RECORD_TTL]
        if mark is None or not of:  # pending, gone, or written before the marks
            writes.zrem(index, key)
            continue
        writes.eval(_SHRINK, len(keys), *keys, *args)
    writes.execute()
    return len(due)


def _mark(
    status: AlertStatus | None, body: object, updated: str | None, attempts: str | None,
    message_id: str | None,
) -> Mark | None:  # fmt: skip
    if status is None or not status.finished:
        return None
    try:
        kind = str(json.loads(body).get("kind", "")) if isinstance(body, bytes | str) else ""
    except ValueError:
        kind = ""
    return Mark(status, kind, parse_iso(updated), int(attempts or 0), message_id or "")


def shrink_due(
    client: redis.Redis, prefix: str, now: datetime, days: float, budget: int = 20_000
) -> int:
    """`shrink_finished` in batches until none is due or `budget` alerts were looked at
    (the periodic sweep's one call; the next run goes on)."""
    done = 0
    while done < budget:
        n = shrink_finished(client, prefix, now, days)
        done += n
        if n < SHRINK_BATCH:
            break
    return done
