"""The delivery log in Redis: what was tried for each alert, and how it ended.

Per dedup_key: a record (alert summary, outcome, provider message id, last
error, timestamps, attempt count), its attempt history, and the targets
already sent to (so a retry after a partial failure sends only what is
missing). A capped list of recent keys feeds `notifier deliveries`; a per-day
index feeds the email digest. Errors stored here are DeliveryError messages,
which never contain secrets.

Keys: <prefix>:dlog:<dedup_key> (hash), ...:attempts (list), ...:sent (hash),
<prefix>:dlog:recent (list), <prefix>:dlog:day:<YYYY-MM-DD> (list).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import redis

from notifier.models import Alert, iso
from notifier.store.batch import Batch, Later, Pipe, read_now, text, writing
from notifier.text import one_line

RECORD_TTL = int(timedelta(days=30).total_seconds())
DAY_TTL = int(timedelta(days=3).total_seconds())
RECENT_MAX = 1000
ATTEMPTS_MAX = 25

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
FAILED: Final = "failed"
SKIPPED: Final = "skipped"
# The console stood in for a vendor with no credentials: shown on stdout, not sent.
PRINTED: Final = "printed"
# A silence muted it on purpose: not sent; `message_id` is "silence:<id>".
SILENCED: Final = "silenced"


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
    outcome: str = PENDING
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
    inc = alert.event.incident
    return {
        "subscriber": alert.subscriber,
        "channel": alert.channel,
        "kind": alert.kind.value,
        "provider": inc.provider,
        "incident_id": inc.id,
        "title": one_line(inc.title)[:300],
        "status": inc.status.value,
        "impact": inc.impact.value,
        "url": (inc.url or "")[:500],
        "detected_at": iso(alert.event.detected_at) or "",
    }


class DeliveryLog:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r, self.prefix = client, prefix

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, "dlog", *parts))

    def attempt(self, alert: Alert, attempt: int, now: datetime, fallback_of: str = "") -> None:
        """Note that delivery of `alert` is being tried (creates the record)."""
        key = self._k(alert.dedup_key)
        fields: dict[Any, Any] = {
            **_summary(alert),
            "updated_at": iso(now) or "",
            "fallback_of": fallback_of,
        }
        # One round trip; each command touches one key, so no MULTI is needed.
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(key, mapping=fields)
        pipe.hsetnx(key, "first_attempt_at", iso(now) or "")
        pipe.hsetnx(key, "outcome", PENDING)
        pipe.hincrby(key, "attempts", 1)
        pipe.expire(key, RECORD_TTL)
        # A retry pushes the key again; `recent` reads past the repeats.
        pipe.lpush(self._k("recent"), alert.dedup_key)
        pipe.ltrim(self._k("recent"), 0, RECENT_MAX - 1)
        self._history(
            alert.dedup_key, {"at": iso(now), "attempt": attempt, "event": "attempt"}, pipe
        )
        pipe.execute()

    def finish(
        self,
        dedup_key: str,
        outcome: str,
        now: datetime,
        message_id: str = "",
        error: str = "",
        pipe: Pipe | None = None,
    ) -> None:
        """Record how delivery ended; on `pipe` when the caller batches its writes."""
        key, error = self._k(dedup_key), error[:500]
        fields: dict[Any, Any] = {"outcome": outcome, "updated_at": iso(now) or "", "error": error}
        if message_id:
            fields["message_id"] = message_id
        with writing(self.r, pipe) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, RECORD_TTL)
            if outcome in (DELIVERED, PRINTED):
                day = self._k("day", now.strftime("%Y-%m-%d"))
                pipe.rpush(day, dedup_key)
                pipe.expire(day, DAY_TTL)
            self._history(dedup_key, {"at": iso(now), "event": outcome, "error": error}, pipe)

    def error(
        self, dedup_key: str, attempt: int, now: datetime, error: str, permanent: bool,
        pipe: Pipe | None = None,
    ) -> None:  # fmt: skip
        """A failed attempt that the task layer will retry (or that ends in `finish`)."""
        event = {"at": iso(now), "attempt": attempt, "event": "error", "error": error[:500],
                 "permanent": permanent}  # fmt: skip
        with writing(self.r, pipe) as pipe:
            pipe.hset(
                self._k(dedup_key), mapping={"error": error[:500], "updated_at": iso(now) or ""}
            )
            self._history(dedup_key, event, pipe)

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
        """On `pipe` when the caller batches its writes."""
        key = self._k(dedup_key, "sent")
        with writing(self.r, pipe) as pipe:
            pipe.hset(key, target_id, message_id)
            pipe.expire(key, RECORD_TTL)

    # ---- reading -----------------------------------------------------------------

    def get(self, dedup_key: str) -> DeliveryRecord | None:
        raw = self.r.hgetall(self._k(dedup_key))
        if not raw:
            return None
        d = {k.decode(): v.decode() for k, v in raw.items()}  # type: ignore[union-attr]
        rec = DeliveryRecord(dedup_key=dedup_key)
        for name in rec.__dataclass_fields__:
            if name in d and name not in ("attempts", "history"):
                setattr(rec, name, d[name] or (None if name.endswith("_at") else ""))
        rec.attempts = int(d.get("attempts", 0))
        history = self.r.lrange(self._k(dedup_key, "attempts"), 0, -1)
        rec.history = [json.loads(h) for h in history]
        return rec

    def outcome(self, dedup_key: str) -> str | None:
        return read_now(self.r, lambda batch: self.outcome_into(batch, dedup_key))

    def outcome_into(self, batch: Batch, dedup_key: str) -> Later[str | None]:
        batch.pipe.hget(self._k(dedup_key), "outcome")
        return batch.later(lambda value: text(value) if value else None)

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
