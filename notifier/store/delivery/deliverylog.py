"""The delivery log in Redis: what was tried for each alert, attempt by attempt.

It keeps the attempts, not the alert's status: that is the alert record's
(`notifier.store.delivery.status`), written by `AlertStore.finish`, which notes here how
the attempts ended (`ended`). Per dedup_key: a record (alert summary, provider
message id, last error, timestamps, attempt count), its attempt history, and the targets
already sent to (so a retry after a partial failure sends only what is
missing), and the targets a request is in flight to: written before the request,
removed when its answer is recorded. A mark still there when the next attempt
starts means that request's outcome is unknown (the worker died, or the answer
never came), and the next attempt asks the vendor before sending again. A capped
list of recent keys feeds `notifier deliveries`; a per-day
index feeds the email digest. Errors stored here are DeliveryError messages,
which never contain secrets.

Keys: <prefix>:dlog:<dedup_key> (hash), ...:attempts (list), ...:sent (hash),
...:inflight (hash: target id -> when the first request still unanswered began),
...:waiting (string: when the alert first waited for an earlier alert of its thread),
...:landing (string, expiring: while a request in flight may still reach its vendor),
<prefix>:dlog:recent (list), <prefix>:dlog:day:<YYYY-MM-DD> (list).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis

from notifier.models import Alert, ChangeEvent, iso, parse_iso
from notifier.store.conn.batch import Batch, Later, Pipe, read_now, text, writing
from notifier.store.delivery.eventrefs import EventRefs
from notifier.store.delivery.marks import Mark, parse_mark, route_of, split_key
from notifier.store.delivery.status import (
    FIELDS,
    LEGACY_OUTCOME,
    AlertStatus,
    from_reply,
    marks_key,
    record_key,
)
from notifier.store.ops import outbox
from notifier.text import one_line

RECORD_TTL = int(timedelta(days=30).total_seconds())
DAY_TTL = int(timedelta(days=3).total_seconds())
RECENT_MAX = 1000
ATTEMPTS_MAX = 25


@dataclass
class DeliveryRecord:
    dedup_key: str
    subscriber: str = ""
    channel: str = ""
    kind: str = ""
    provider: str = ""
    incident_id: str = ""
    title: str = ""
    status: str = ""
    impact: str = ""
    url: str = ""
    detected_at: str | None = None
    # The alert's status, read from its record with the log's (None: the record expired).
    outcome: AlertStatus | None = AlertStatus.PENDING
    attempts: int = 0
    message_id: str = ""
    error: str = ""
    first_attempt_at: str | None = None
    updated_at: str | None = None
    fallback_of: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _summary(alert: Alert) -> dict[str, str]:
    return {
        "subscriber": alert.subscriber,
        "channel": alert.channel,
        "kind": alert.kind.value,
        **_event_summary(alert.event),
    }


def _event_summary(event: ChangeEvent) -> dict[str, str]:
    inc = event.incident
    return {
        "provider": inc.provider,
        "incident_id": inc.id,
        "title": one_line(inc.title)[:300],
        "status": inc.status.value,
        "impact": inc.impact.value,
        "url": (inc.url or "")[:500],
        "detected_at": iso(event.detected_at) or "",
    }


def _times(raw: dict[bytes, bytes]) -> dict[str, datetime]:
    out = {}
    for k, v in raw.items():
        when = parse_iso(v.decode()) if v else None
        if when is not None:
            out[k.decode()] = when
    return out


class DeliveryLog:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r, self.prefix = client, prefix

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, "dlog", *parts))

    def record_keys(self, dedup_key: str) -> list[str]:
        """The alert's log: its record, then attempts, sent, in-flight, waiting and
        landing marks."""
        k = self._k(dedup_key)
        return [k, *(f"{k}:{s}" for s in ("attempts", "sent", "inflight", "waiting", "landing"))]

    def attempt(
        self, alert: Alert, attempt: int, now: datetime, fallback_of: str = "",
        pipe: Pipe | None = None,
    ) -> None:  # fmt: skip
        """Note that delivery of `alert` is being tried (creates the record)."""
        key = self._k(alert.dedup_key)
        fields: dict[Any, Any] = {
            **_summary(alert),
            "updated_at": iso(now) or "",
            "fallback_of": fallback_of,
        }
        # One round trip; each command touches one key, so no MULTI is needed.
        with writing(self.r, pipe) as pipe:
            self._attempt(key, alert, attempt, fields, now, pipe)

    def _attempt(
        self, key: str, alert: Alert, attempt: int, fields: dict[Any, Any], now: datetime,
        pipe: Pipe,
    ) -> None:  # fmt: skip
        pipe.hset(key, mapping=fields)
        pipe.hsetnx(key, "first_attempt_at", iso(now) or "")
        pipe.hincrby(key, "attempts", 1)
        pipe.expire(key, RECORD_TTL)
        # A retry pushes the key again; `recent` reads past the repeats.
        pipe.lpush(self._k("recent"), alert.dedup_key)
        pipe.ltrim(self._k("recent"), 0, RECENT_MAX - 1)
        self._history(
            alert.dedup_key, {"at": iso(now), "attempt": attempt, "event": "attempt"}, pipe
        )
        row = {"dedup_key": alert.dedup_key, "attempt": attempt, "channel": alert.channel,
               "subscriber": alert.subscriber, "fallback_of": fields["fallback_of"]}  # fmt: skip
        outbox.append(self.r, self.prefix, outbox.ATTEMPT, now, row, pipe)

    def ended(
        self, dedup_key: str, status: AlertStatus, now: datetime, message_id: str = "",
        error: str = "", pipe: Pipe | None = None,
    ) -> None:  # fmt: skip
        """Note how the attempts ended, or (PENDING) that they begin again (an alert let
        out of quarantine). Only `AlertStore.finish` calls it, as it writes the status;
        on `pipe` when the caller batches its writes."""
        key, error = self._k(dedup_key), error[:500]
        with writing(self.r, pipe) as pipe:
            if status is AlertStatus.PENDING:
                pipe.hset(key, "updated_at", iso(now) or "")
                # A record that had expired is created again here: never without its TTL.
                pipe.expire(key, RECORD_TTL)
                self._history(
                    dedup_key, {"at": iso(now), "event": "reopened", "error": error}, pipe
                )
                return
            fields: dict[Any, Any] = {"updated_at": iso(now) or "", "error": error}
            if message_id:
                fields["message_id"] = message_id
            pipe.hset(key, mapping=fields)
            pipe.expire(key, RECORD_TTL)
            if status.reached:
                day = self._k("day", now.strftime("%Y-%m-%d"))
                pipe.rpush(day, dedup_key)
                pipe.expire(day, DAY_TTL)
            self._history(dedup_key, {"at": iso(now), "event": status.value, "error": error}, pipe)
            row = {"dedup_key": dedup_key, "outcome": status.value, "message_id": message_id,
                   "error": error}  # fmt: skip
            outbox.append(self.r, self.prefix, outbox.FINISH, now, row, pipe)

    def error(
        self, dedup_key: str, attempt: int, now: datetime, error: str, permanent: bool,
        pipe: Pipe | None = None,
    ) -> None:  # fmt: skip
        """A failed attempt that the task layer will retry (or that ends in `ended`)."""
        event = {"at": iso(now), "attempt": attempt, "event": "error", "error": error[:500],
                 "permanent": permanent}  # fmt: skip
        with writing(self.r, pipe) as pipe:
            pipe.hset(
                self._k(dedup_key), mapping={"error": error[:500], "updated_at": iso(now) or ""}
            )
            self._history(dedup_key, event, pipe)
            row = {"dedup_key": dedup_key, "attempt": attempt, "error": error[:500],
                   "permanent": permanent}  # fmt: skip
            outbox.append(self.r, self.prefix, outbox.ERROR, now, row, pipe)

    def _history(self, dedup_key: str, event: dict[str, Any], pipe: Pipe | None = None) -> None:
        """Append to the attempt history, on `pipe` when the caller batches writes."""
        key = self._k(dedup_key, "attempts")
        with writing(self.r, pipe) as pipe:
            pipe.rpush(key, json.dumps(event))
            pipe.ltrim(key, -ATTEMPTS_MAX, -1)
            pipe.expire(key, RECORD_TTL)

    # ---- per-target progress ----------------------------------------------------

    def sent_to(self, dedup_key: str) -> dict[str, str]:
        return read_now(self.r, lambda batch: self.sent_to_into(batch, dedup_key))

    def sent_to_into(self, batch: Batch, dedup_key: str) -> Later[dict[str, str]]:
        """The targets an earlier attempt reached (target id → message id)."""
        batch.pipe.hgetall(self._k(dedup_key, "sent"))
        return batch.later(lambda raw: {k.decode(): v.decode() for k, v in raw.items()})

    def mark_sent(
        self, dedup_key: str, target_id: str, message_id: str, pipe: Pipe | None = None
    ) -> None:
        """The vendor took the message to `target_id`: its request is no longer in
        flight. On `pipe` when the caller batches its writes."""
        key = self._k(dedup_key, "sent")
        with writing(self.r, pipe) as pipe:
            pipe.hset(key, target_id, message_id)
            pipe.expire(key, RECORD_TTL)
            pipe.hdel(self._k(dedup_key, "inflight"), target_id)

    def landing_key(self, dedup_key: str) -> str:
        """The key that exists while a request this alert has in flight may still reach
        its vendor (a dead holder's lock is fenced that long: `notifier.store.delivery.lease`)."""
        return self._k(dedup_key, "landing")

    def in_flight_into(self, batch: Batch, dedup_key: str) -> Later[dict[str, datetime]]:
        """Targets whose request an earlier attempt began and never saw answered
        (target id → when the first such request began): their outcome is unknown."""
        batch.pipe.hgetall(self._k(dedup_key, "inflight"))
        return batch.later(_times)

    def mark_in_flight(
        self, dedup_key: str, target_ids: Sequence[str], now: datetime, pipe: Pipe | None = None,
        landing_ms: int = 0,
    ) -> None:  # fmt: skip
        """A request to each of `target_ids` is about to be written. An older mark stays:
        its time is where a later lookup must start. `landing_ms`: how long from now
        these requests may still reach their vendors (the landing key lives that long)."""
        if not target_ids:
            return
        key = self._k(dedup_key, "inflight")
        with writing(self.r, pipe) as pipe:
            for target_id in target_ids:
                pipe.hsetnx(key, target_id, iso(now) or "")
            pipe.expire(key, RECORD_TTL)
            if landing_ms > 0:
                pipe.set(self.landing_key(dedup_key), "1", px=landing_ms)

    def clear_in_flight(
        self, dedup_key: str, target_ids: Sequence[str], pipe: Pipe | None = None
    ) -> None:
        """These requests were never written, or the vendor answered that it did not
        take them: nothing to look for."""
        if target_ids:
            with writing(self.r, pipe) as pipe:
                pipe.hdel(self._k(dedup_key, "inflight"), *target_ids)

    # ---- waiting for an earlier alert of the thread -------------------------------

    def waiting_since_into(self, batch: Batch, dedup_key: str) -> Later[datetime | None]:
        """When the alert first waited for an earlier alert of its thread, if it has."""
        batch.pipe.get(self._k(dedup_key, "waiting"))
        return batch.later(lambda raw: parse_iso(text(raw)) if raw else None)

    def note_waiting(self, dedup_key: str, now: datetime, pipe: Pipe) -> None:
        """The alert waits for an earlier one; the first such time is kept (on `pipe`)."""
        pipe.set(self._k(dedup_key, "waiting"), iso(now) or "", nx=True, ex=RECORD_TTL)

    # ---- reading -----------------------------------------------------------------

    def get(self, dedup_key: str) -> DeliveryRecord | None:
        return self.get_many([dedup_key]).get(dedup_key)

    def get_many(
        self, dedup_keys: list[str], alerts: Mapping[str, Alert] | None = None
    ) -> dict[str, DeliveryRecord]:
        """The records that exist among `dedup_keys`, with their histories, in one
        round trip; a shrunk alert's from its marker, found through its event: the one
        in `alerts` (what the caller loaded), else the one its key names."""
        if not dedup_keys:
            return {}
        pipe = self.r.pipeline(transaction=False)
        for key in dedup_keys:
            pipe.hgetall(self._k(key))
            pipe.lrange(self._k(key, "attempts"), 0, -1)
            # The status is the alert record's; the log's own `outcome` is the previous
            # release's, read for one release (`status.decode`).
            pipe.hmget(record_key(self.prefix, key), list(FIELDS))
        replies = pipe.execute()
        out = {}
        for n, key in enumerate(dedup_keys):
            raw, history, fields = replies[3 * n : 3 * n + 3]
            if raw:
                rec = _record(key, raw, history)
                rec.outcome = from_reply(fields, raw.get(LEGACY_OUTCOME.encode()))
                out[key] = rec
        missing = [k for k in dedup_keys if k not in out]
        return out | (self._shrunk(missing, alerts or {}) if missing else {})

    def _shrunk(
        self, dedup_keys: list[str], alerts: Mapping[str, Alert]
    ) -> dict[str, DeliveryRecord]:
        """The records of shrunk alerts (`notifier.store.delivery.marks`) among
        `dedup_keys`: what their markers and their events' records say."""
        events = EventRefs(self.r, self.prefix)
        found: list[tuple[str, ChangeEvent]] = []
        for key in dedup_keys:
            parts = split_key(key)
            known = alerts.get(key)
            event = known.event if known else events.event(parts[0]) if parts else None
            if event is not None:
                found.append((key, event))
        pipe = self.r.pipeline(transaction=False)
        for key, ev in found:
            pipe.hget(marks_key(self.prefix, ev.provider, ev.incident_id), key)
        out = {}
        for (key, event), raw in zip(found, pipe.execute() if found else [], strict=True):
            mark = parse_mark(raw)
            route = route_of(key, mark) if mark else None
            if mark is not None and route is not None:
                out[key] = shrunk_record(key, route[1], route[2], event, mark)
        return out

    def recent(self, limit: int = 50) -> list[DeliveryRecord]:
        keys = self.r.lrange(self._k("recent"), 0, max(0, limit * 4 - 1))
        unique = list(dict.fromkeys(text(k) for k in keys))[:limit]  # retries push a key again
        records = [self.get(k) for k in unique]
        return [r for r in records if r is not None]

    def delivered_on(self, day: str) -> list[DeliveryRecord]:
        """Records delivered on a UTC day (`YYYY-MM-DD`), oldest first, once each."""
        keys = dict.fromkeys(text(k) for k in self.r.lrange(self._k("day", day), 0, -1))
        records = [self.get(k) for k in keys]
        return [r for r in records if r is not None]


def shrunk_record(
    dedup_key: str, subscriber: str, channel: str, event: ChangeEvent, mark: Mark
) -> DeliveryRecord:
    """A shrunk alert's log record: no attempt history (the history database has it)."""
    when = iso(mark.finished_at)
    rec = DeliveryRecord(dedup_key, subscriber, channel, mark.kind)
    for name, value in _event_summary(event).items():
        setattr(rec, name, value)
    rec.outcome, rec.attempts, rec.message_id, rec.updated_at = (
        mark.status, mark.attempts, mark.message_id, when,
    )  # fmt: skip
    return rec


def _record(dedup_key: str, raw: dict[bytes, bytes], history: list[bytes]) -> DeliveryRecord:
    d = {k.decode(): v.decode() for k, v in raw.items()}
    rec = DeliveryRecord(dedup_key=dedup_key)
    for name in rec.__dataclass_fields__:
        if name in d and name not in ("attempts", "history", "outcome"):
            setattr(rec, name, d[name] or (None if name.endswith("_at") else ""))
    rec.attempts = int(d.get("attempts", 0))
    rec.history = [json.loads(h) for h in history]
    return rec
