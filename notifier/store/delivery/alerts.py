"""Deliver each alert at most once: claim its dedup key before handing it on.

An alert's key is derived from the change event's identity (its `event_id`, which
the diff makes stable across re-diffs, replays and the provider's alternative feeds),
the subscriber and the channel. `AlertStore.claim` creates `<prefix>:alert:<key>`
only if it does not exist (the healthchecks "claim the state change" idea as Redis
SET-NX semantics), holding the alert JSON and its delivery status
(`notifier.store.delivery.status`): pending, then one finished status that `finish`
writes, the only writer after the claim. Each claim also adds its key to the incident's
marks, `<prefix>:alert-marks:<provider>/<incident_id>` (a hash, 30 days): the web console
shows every alert one incident made. The record lives 30 days, in Redis, so a restarted
worker does not send the same alert again; once finished for `NOTIFIER_ALERT_PAYLOAD_DAYS`
the shrink sweep (`notifier.store.delivery.shrink`) replaces it by a short marker in the
incident's marks, which the claim reads too: a shrunk alert is never claimed again.

Order within a thread: each claim also notes the alert that was claimed before it in
the same thread on the same route (`<prefix>:thread-seq:<subscriber>:<channel>:<thread
key>` holds the last one, 30 days), as the record's `after` field. The claim writes it
once, so planning again after a crash never changes an alert's place. Delivery reads
that earlier alert's status with its own record (`earlier_into`) to send a thread's
replies in the order they were planned.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import redis

from notifier.models import (
    Alert,
    AlertKind,
    Annotation,
    ChangeEvent,
    annotation_from_dict,
    parse_iso,
)
from notifier.store.conn.batch import Batch, Later, Pipe, read_now, text
from notifier.store.conn.durable import confirmed
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.eventrefs import EventRefs
from notifier.store.delivery.marks import Mark, parse_mark, route_of
from notifier.store.delivery.status import (
    FIELDS,
    LEGACY_OUTCOME,
    AlertStatus,
    finished_key,
    from_reply,
    legacy_log_key,
    legacy_of_key,
    marks_key,
    notes_key,
    parse,
    record_key,
    sequence_key,
)
from notifier.store.ops import outbox
from notifier.store.ops.outbox import alert_row

ALERT_TTL_SECONDS = 30 * 24 * 3600


def dedup_key_for(event_id: str, subscriber: str, channel: str) -> str:
    """One key per (incident change, subscriber, channel)."""
    return f"{event_id}/{subscriber}/{channel}"


class AlertClaims(Protocol):
    """What the planner needs from an alert store."""

    def claim(self, alert: Alert, ttl: int = ALERT_TTL_SECONDS) -> bool: ...

    def load(self, dedup_key: str) -> tuple[Alert | None, AlertStatus | None]: ...

    def update_pending(self, alert: Alert) -> bool:
        """Replace the record of an alert still pending (False: not pending)."""
        ...


# Atomic "create with both fields or do nothing": a hash cannot be SET NX'd directly.
# The same script takes the alert's place in its thread (KEYS[3] holds the thread's
# last claimed alert), so an alert gets its place exactly when it is created.
_CLAIM_TEMPLATE = """
if redis.call('EXISTS', KEYS[{k0}]) == 1 then return 0 end
if redis.call('HEXISTS', KEYS[{k1}], ARGV[{a2}]) == 1 then return 0 end
local body = ARGV[{a0}]
if ARGV[{a3}] ~= '' and redis.call('EXISTS', KEYS[{k3}]) == 0 then body = ARGV[{a3}] end
redis.call('HSET', KEYS[{k0}], 'alert', body, 'status', 'pending', 'of', KEYS[{k1}])
local earlier = redis.call('GET', KEYS[{k2}])
if earlier and earlier ~= ARGV[{a2}] then redis.call('HSET', KEYS[{k0}], 'after', earlier) end
redis.call('SET', KEYS[{k2}], ARGV[{a2}], 'EX', ARGV[{a1}])
redis.call('EXPIRE', KEYS[{k0}], ARGV[{a1}])
redis.call('HSET', KEYS[{k1}], ARGV[{a2}], '')
redis.call('EXPIRE', KEYS[{k1}], ARGV[{a1}])
redis.call('RPUSH', KEYS[{k4}], ARGV[{a4}])
return 1
"""


def claim_lua(k: int, a: int) -> str:
    """The claim as Lua, its keys from KEYS[k] on (the record, the incident's marks,
    the thread's last alert, the event's record, the history outbox) and its arguments
    from ARGV[a] on (the record naming its event, the TTL, the dedup key, the record with
    the event in it, the history's row); `claim_parts` gives both lists. It returns 1
    when it created the record, else 0: the record exists, or the incident's marks name
    the alert (its record was shrunk, `notifier.store.delivery.shrink`)."""
    n = {f"k{i}": k + i for i in range(5)} | {f"a{i}": a + i for i in range(5)}
    return _CLAIM_TEMPLATE.format(**n)


_CLAIM = claim_lua(1, 1)
# The earlier alert of the thread, as delivery needs it: its status (a record of the
# previous release: its `state`, which tells pending from finished), its quiet-hours
# hold, whether a worker holds its delivery lock, and when its retry is due. Its key
# comes from the record, so the script reads keys it was not given: fine on the one
# Redis notifier runs on (it does not support Redis Cluster).
_EARLIER = """
local earlier = redis.call('HGET', KEYS[1], 'after')
if not earlier then return false end
local rec = redis.call('HMGET', ARGV[1] .. earlier, 'status', 'state', 'alert')
local status = rec[1] or rec[2]
if not status then return {earlier} end
local hold = ''
if status == 'pending' and rec[3] then
  local ok, alert = pcall(cjson.decode, rec[3])
  if ok and type(alert) == 'table' and type(alert['hold_until']) == 'string' then
    hold = alert['hold_until']
  end
end
local running = redis.call('EXISTS', ARGV[2] .. earlier)
local retry = redis.call('ZSCORE', KEYS[2], earlier) or ''
return {earlier, status, hold, running, retry}
"""
_UPDATE_PENDING = """
local rec = redis.call('HMGET', KEYS[1], 'status', 'state')
if (rec[1] or rec[2]) ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'alert', ARGV[1])
return 1
"""
# The one status write: never creates a record (an expired claim stays expired), and
# drops the previous release's field, which `status` now says instead.
_SET_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
redis.call('HDEL', KEYS[1], 'state')
if ARGV[1] == 'pending' then redis.call('ZREM', KEYS[2], ARGV[3])
else redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) end
return 1
"""


@dataclass(frozen=True, slots=True)
class Earlier:
    """The alert claimed just before one alert in its thread (on the same route)."""

    dedup_key: str
    status: AlertStatus | None  # None: its record expired
    hold_until: datetime | None = None  # quiet hours hold it (while pending)
    running: bool = False  # a worker holds its delivery lock: an attempt is under way
    retry_at: datetime | None = None  # when its next attempt is due, if one waits


class AlertStore:
    """Redis-backed claims: `<prefix>:alert:<dedup_key>` = hash {alert: JSON, status,
    of: the incident's marks key, after: the thread's earlier alert}."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._r = client
        self._prefix = prefix
        self._claim = client.register_script(_CLAIM)
        self._set_status = client.register_script(_SET_STATUS)
        self._update_pending = client.register_script(_UPDATE_PENDING)
        self._events = EventRefs(client, prefix)
        self._log = DeliveryLog(client, prefix)

    def key(self, dedup_key: str) -> str:
        return record_key(self._prefix, dedup_key)

    def of_key(self, provider: str, incident_id: str) -> str:
        """The incident's marks: every alert claimed for it (`status.marks_key`)."""
        return marks_key(self._prefix, provider, incident_id)

    def sequence_key(self, alert: Alert) -> str:
        """The key naming the last alert claimed in `alert`'s thread on its route."""
        return sequence_key(self._prefix, alert.subscriber, alert.channel, alert.thread_key)

    def claim_parts(
        self, alert: Alert, ttl: int = ALERT_TTL_SECONDS, whole: bool = True
    ) -> tuple[list[str], list[str | int]]:
        """The keys and arguments of the claim's script (`claim_lua`). Without `whole`
        (the caller knows the event's record exists) the copy with the event in it is
        not built or sent, and the record names its event."""
        ev = alert.event
        keys = [
            self.key(alert.dedup_key), self.of_key(ev.provider, ev.incident_id),
            self.sequence_key(alert), self._events.key(ev.event_id),
            outbox.outbox_key(self._prefix),
        ]  # fmt: skip
        ref, full = self._events.bodies(alert, whole)
        # The history's row goes in the same script: a claimed alert always has one.
        row = outbox.entry(outbox.ALERT, datetime.now(UTC), alert_row(alert))
        return keys, [ref, ttl, alert.dedup_key, full, row]

    def events_saved(self, events: list[ChangeEvent]) -> None:
        """Records this process has just stored (`EventStore.save`): remembered as read."""
        self._events.saved(events)

    def event_stored(self, event_id: str) -> bool:
        """The event has its own record (asked once per event and process)."""
        return self._events.stored(event_id)

    def claim(self, alert: Alert, ttl: int = ALERT_TTL_SECONDS) -> bool:
        """True for the one caller that created the record; False if it existed."""
        keys, args = self.claim_parts(alert, ttl)
        # Confirmed by a replica: a claim lost in a failover is a duplicate alert.
        (created,) = confirmed(
            self._r, "a dedup claim",
            # EVAL, not EVALSHA: a pipeline would ask SCRIPT EXISTS first (a round trip),
            # and a newly promoted primary has no script cache.
            lambda pipe: pipe.eval(_CLAIM, len(keys), *keys, *args),
        )  # fmt: skip
        return bool(created)

    def keys_of(self, provider: str, incident_id: str) -> list[str]:
        """The dedup keys of every alert claimed for one incident (30 days), sorted."""
        pipe = self._r.pipeline(transaction=False)
        pipe.hkeys(self.of_key(provider, incident_id))
        pipe.smembers(legacy_of_key(self._prefix, provider, incident_id))  # for one release
        marked, legacy = pipe.execute()
        return sorted({text(k) or "" for k in (*marked, *legacy)})

    def of_incidents(self, refs: Sequence[tuple[str, str]]) -> list[tuple[Alert, AlertStatus]]:
        """Every alert claimed for the incidents `refs` (provider, incident id), with its
        status, those shrunk (`notifier.store.delivery.marks`) included: the console's."""
        if not refs:
            return []
        pipe = self._r.pipeline(transaction=False)
        for provider, iid in refs:
            pipe.hgetall(self.of_key(provider, iid))
            pipe.smembers(legacy_of_key(self._prefix, provider, iid))  # for one release
            pipe.hvals(notes_key(self._prefix, provider, iid))
        replies = pipe.execute()
        marks: dict[str, bytes] = {}
        notes: dict[tuple[str, str], tuple[Annotation, ...]] = {}
        for n, ref in enumerate(refs):
            marked, legacy, kept = replies[3 * n : 3 * n + 3]
            marks.update({text(k) or "": v for k, v in marked.items()})
            for k in legacy:
                marks.setdefault(text(k) or "", b"")
            notes[ref] = tuple(annotation_from_dict(json.loads(raw)) for raw in sorted(kept))
        found = self.load_many(sorted(marks))
        whole = {a.dedup_key for a, _ in found}
        for key in sorted(set(marks) - whole):
            shrunk = self._shrunk(key, parse_mark(marks[key]), notes)
            if shrunk is not None:
                found.append(shrunk)
        return found

    def _shrunk(
        self, key: str, mark: Mark | None, notes: dict[tuple[str, str], tuple[Annotation, ...]]
    ) -> tuple[Alert, AlertStatus] | None:
        """A shrunk alert as the console shows it: its route, kind and event, with the
        annotations its incident's alerts carried."""
        parts = route_of(key, mark) if mark else None
        event = self._events.event(parts[0]) if parts else None
        if parts is None or mark is None or event is None:
            return None
        _, sub, channel = parts
        kind = next((k for k in AlertKind if k.value == mark.kind), AlertKind.UPDATE)
        ref = (event.provider, event.incident_id)
        own = f"{sub}/{channel}/{ref[0]}/{ref[1]}"
        return Alert(key, own, kind, sub, channel, event, notes.get(ref, ())), mark.status

    def load_many(self, dedup_keys: list[str]) -> list[tuple[Alert, AlertStatus]]:
        """The stored ones among `dedup_keys` with their statuses, in one round trip."""
        if not dedup_keys:
            return []
        batch = Batch(self._r)
        found = [self.load_into(batch, k) for k in dedup_keys]
        batch.execute()
        loaded = [later.get() for later in found]
        return [(a, s or AlertStatus.PENDING) for a, s in loaded if a is not None]

    def routing(self, dedup_keys: Sequence[str]) -> dict[str, str]:
        """The channel of each stored alert among `dedup_keys`, in one round trip: what
        the dispatcher needs to pick an alert's queue."""
        pipe = self._r.pipeline(transaction=False)
        for k in dedup_keys:
            pipe.hget(self.key(k), "alert")
        found: dict[str, str] = {}
        for k, raw in zip(dedup_keys, pipe.execute() if dedup_keys else [], strict=True):
            if raw is not None:
                found[k] = str(json.loads(raw).get("channel", ""))
        return found

    def update_pending(self, alert: Alert) -> bool:
        """Replace the record of an alert not yet delivered (a follow-up batch that a
        critical member released from quiet hours); False when it is no longer pending."""
        body = self._events.bodies(alert)[1]  # rare (a released follow-up): whole
        return bool(self._update_pending(keys=[self.key(alert.dedup_key)], args=[body]))

    def get(self, dedup_key: str) -> Alert | None:
        return self.load(dedup_key)[0]

    def load(self, dedup_key: str) -> tuple[Alert | None, AlertStatus | None]:
        """The alert and its delivery status, in one round trip."""
        return read_now(self._r, lambda batch: self.load_into(batch, dedup_key))

    def load_into(
        self, batch: Batch, dedup_key: str
    ) -> Later[tuple[Alert | None, AlertStatus | None]]:
        """`load` as part of the caller's round trip."""
        batch.pipe.hmget(self.key(dedup_key), ["alert", *FIELDS])
        record = batch.later(list)
        status = self._decode_after(batch, dedup_key, lambda: record.get()[1:])
        return batch.later(lambda _: (self._alert(record.get()[0]), status.get()))

    def _alert(self, raw: bytes | None) -> Alert | None:
        return None if raw is None else self._events.alert(raw)

    def status(self, dedup_key: str) -> AlertStatus | None:
        """The alert's delivery status; None when it was never claimed (or expired)."""
        return read_now(self._r, lambda batch: self.status_into(batch, dedup_key))

    def status_into(self, batch: Batch, dedup_key: str) -> Later[AlertStatus | None]:
        """`status` as part of the caller's round trip."""
        batch.pipe.hmget(self.key(dedup_key), list(FIELDS))
        record = batch.later(list)
        return self._decode_after(batch, dedup_key, record.get)

    def _decode_after(
        self, batch: Batch, dedup_key: str, fields: Callable[[], list[Any]]
    ) -> Later[AlertStatus | None]:
        """The status from the record's fields (`fields()`, once the batch has run) and
        the log's outcome of the previous release, queued here on the same round trip:
        the one place a status is read."""
        # For one release: a record written before `status` existed needs the outcome.
        batch.pipe.hget(legacy_log_key(self._prefix, dedup_key), LEGACY_OUTCOME)
        return batch.later(lambda outcome: from_reply(fields(), outcome))

    def earlier_into(
        self, batch: Batch, dedup_key: str, *, lock_prefix: str, retries_key: str
    ) -> Later[Earlier | None]:
        """The alert claimed before `dedup_key` in its thread (None: it is the first,
        or was claimed before threads were ordered), as part of the caller's round trip.
        `lock_prefix` + a key is that alert's delivery lock; `retries_key` is the sorted
        set of retries waiting (`notifier.store.delivery.retries`)."""
        # EVAL, as in finish: a registered script on a pipeline costs a round trip.
        batch.pipe.eval(_EARLIER, 2, self.key(dedup_key), retries_key, self.key(""), lock_prefix)
        return batch.later(_parse_earlier)

    def finish(
        self, dedup_key: str, status: AlertStatus, now: datetime, *, message_id: str = "",
        error: str = "", pipe: Pipe | None = None,
    ) -> bool:  # fmt: skip
        """Record how the alert's delivery ended (or, with PENDING, that it is open
        again): the one writer of its status, which goes in its record, while the
        delivery log notes the end of its attempts (message id, error, history). False
        if the alert was never claimed (or expired); on `pipe`, the writes are only
        queued (and True returned)."""
        status = AlertStatus(status)
        # A finished alert joins the index the shrink sweep reads; one opened again leaves it.
        keys = [self.key(dedup_key), finished_key(self._prefix)]
        args = [status.value, now.timestamp(), dedup_key]
        if pipe is not None:
            self._log.ended(dedup_key, status, now, message_id, error, pipe)
            # EVAL, not the registered script: a script on a pipeline costs a SCRIPT
            # EXISTS round trip first, and Redis caches the compiled text anyway.
            pipe.eval(_SET_STATUS, 2, *keys, *args)
            return True
        self._log.ended(dedup_key, status, now, message_id, error)
        return bool(self._set_status(keys=keys, args=args))


class InMemoryAlertStore:
    """The same contract in a dict, for replays and pure tests (no delivery log)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alerts: dict[str, tuple[Alert, AlertStatus]] = {}

    def claim(self, alert: Alert, ttl: int = ALERT_TTL_SECONDS) -> bool:
        with self._lock:
            if alert.dedup_key in self._alerts:
                return False
            self._alerts[alert.dedup_key] = (alert, AlertStatus.PENDING)
            return True

    def update_pending(self, alert: Alert) -> bool:
        with self._lock:
            found = self._alerts.get(alert.dedup_key)
            if found is None or found[1] is not AlertStatus.PENDING:
                return False
            self._alerts[alert.dedup_key] = (alert, AlertStatus.PENDING)
            return True

    def get(self, dedup_key: str) -> Alert | None:
        found = self._alerts.get(dedup_key)
        return None if found is None else found[0]

    def load(self, dedup_key: str) -> tuple[Alert | None, AlertStatus | None]:
        found = self._alerts.get(dedup_key)
        return (None, None) if found is None else found

    def status(self, dedup_key: str) -> AlertStatus | None:
        found = self._alerts.get(dedup_key)
        return None if found is None else found[1]

    def finish(
        self, dedup_key: str, status: AlertStatus, now: datetime | None = None, *,
        message_id: str = "", error: str = "", pipe: Pipe | None = None,
    ) -> bool:  # fmt: skip
        status = AlertStatus(status)
        with self._lock:
            found = self._alerts.get(dedup_key)
            if found is None:
                return False
            self._alerts[dedup_key] = (found[0], status)
            return True


def _parse_earlier(reply: list[Any] | None) -> Earlier | None:
    if not reply:
        return None
    key = text(reply[0])
    if len(reply) == 1:
        return Earlier(key, None)
    status, hold, running, retry = (text(x) for x in reply[1:])
    return Earlier(
        key, parse(status), parse_iso(hold or None), running == "1",
        datetime.fromtimestamp(float(retry), UTC) if retry else None,
    )  # fmt: skip
