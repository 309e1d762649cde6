"""Keep a delivered alert's dedup marker 30 days, its payload only a few.

A finished alert (delivered, printed, silenced, skipped or failed) is never sent again,
so after `NOTIFIER_ALERT_PAYLOAD_DAYS` (default 3) its record (`alert:<key>`: the alert,
its route and status) and its delivery log (`dlog:<key>` with its attempt history, sent
marks, in-flight and waiting marks) are replaced by one short marker in its incident's
marks hash (`notifier.store.delivery.marks`), kept as long as the incident's other
alerts (30 days); its annotations are kept once per incident (`status.notes_key`).

The claim reads the marks, so a shrunk alert is never claimed or sent again. Thread
order is unaffected: a later alert that names it as its earlier one finds no record and
does not wait for it (as for an expired one); when it is still its thread's last alert,
the thread's sequence key goes with it (the next alert then has no earlier one to wait
for, which is right: this one is finished). The thread's entry and vendor
reference (`notifier.store.delivery.threads`) keep their own 30 days, so the incident's
next update still replies in its thread. The console and `notifier deliveries` read
the marker (`AlertStore.of_incidents`, `DeliveryLog.get_many`).

Nothing is lost: every row (the alert, each attempt, its end) went to the history outbox
when it was written, and the outbox keeps a row until the database has it.

The sweep reads `<prefix>:alerts-finished` (a sorted set by finish time, written by
`AlertStore.finish`), oldest first, `limit` at a time; the periodic task
`notifier.alerts_shrink` (every 10 minutes) calls `shrink_due`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import redis

from notifier.models import parse_iso
from notifier.store.conn.batch import Pipe, text
from notifier.store.delivery.deliverylog import RECORD_TTL, DeliveryLog
from notifier.store.delivery.marks import Mark, split_key
from notifier.store.delivery.status import (
    AlertStatus,
    finished_key,
    notes_key,
    parse,
    record_key,
    sequence_key,
)

SHRINK_BATCH = 500
# Re-checked where it is written: an alert opened again since it was read stays whole.
_SHRINK = """
redis.call('ZREM', KEYS[2], ARGV[1])
local rec = redis.call('HMGET', KEYS[1], 'status', 'of')
if not rec[1] or rec[1] == 'pending' or rec[2] ~= ARGV[2] then return 0 end
redis.call('HSET', ARGV[2], ARGV[1], ARGV[3])
if redis.call('TTL', ARGV[2]) < 0 then redis.call('EXPIRE', ARGV[2], ARGV[4]) end
redis.call('DEL', unpack(KEYS))
if ARGV[5] ~= '' and redis.call('GET', ARGV[5]) == ARGV[1] then redis.call('DEL', ARGV[5]) end
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
        mark = _mark(
            key, parse(text(status)), body, text(updated), text(attempts), text(message_id)
        )
        keys = [record_key(prefix, key), index, *log.record_keys(key)]
        args = [key, text(of) or "", mark.encode() if mark else "", RECORD_TTL,
                _sequence(prefix, body)]  # fmt: skip
        if mark is None or not of:  # pending, gone, or written before the marks
            writes.zrem(index, key)
            continue
        writes.eval(_SHRINK, len(keys), *keys, *args)
        _keep_notes(writes, prefix, text(of) or "", body)
    writes.execute()
    return len(due)


def _sequence(prefix: str, body: object) -> str:
    """The alert's thread sequence key ("" when its record cannot say): dropped with it
    when it is still the thread's last alert, since a later one has nothing to wait for."""
    try:
        d = json.loads(body) if isinstance(body, bytes | str) else {}
        return sequence_key(prefix, d["subscriber"], d["channel"], d["thread_key"])
    except (ValueError, KeyError, TypeError):
        return ""


def _keep_notes(writes: Pipe, prefix: str, of: str, body: object) -> None:
    """Keep the alert's annotations once per incident (`status.notes_key`): the console
    shows them, and draws its links from them, after the record is gone."""
    try:
        notes = json.loads(body).get("annotations", []) if isinstance(body, bytes | str) else []
    except ValueError:
        return
    ref = of.rpartition(":alert-marks:")[2]
    provider, _, incident_id = ref.partition("/")
    if not notes or not provider:
        return
    key = notes_key(prefix, provider, incident_id)
    for note in notes:
        raw = json.dumps(note, sort_keys=True, separators=(",", ":"))
        writes.hset(key, hashlib.sha256(raw.encode()).hexdigest()[:12], raw)
    writes.expire(key, RECORD_TTL)


def _mark(
    key: str, status: AlertStatus | None, body: object, updated: str | None, attempts: str | None,
    message_id: str | None,
) -> Mark | None:  # fmt: skip
    if status is None or not status.finished:
        return None
    try:
        d = json.loads(body) if isinstance(body, bytes | str) else {}
        event_id = d.get("event_id") or d["event"]["event_id"]  # named, or copied in
        route = (str(event_id), str(d["subscriber"]), str(d["channel"]))
    except (ValueError, KeyError, TypeError):
        d, route = {}, None
    kind = str(d.get("kind", ""))
    own = route is None or split_key(key) == route
    return Mark(status, kind, parse_iso(updated), int(attempts or 0), message_id or "",
                None if own else route)  # fmt: skip


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
