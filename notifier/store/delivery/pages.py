"""Pages in Redis: who was paged for an incident, its ack code, its ack, what was sent.

A page is made once per paging alert (its id derives from the dedup_key, so a
retried delivery finds the same page and code). The pager (`notifier.channels.sms`)
decides what to send; this store keeps what it decided and what went out, so a
retry, an escalation and the web console read the same records. The clock is always
passed in.

Keys (all under `prefix`):
  page:<id>            JSON record               page:code:<CODE>  -> page id
  page:thread:<tk>     -> latest page id          page:sent:<id>    set of sent tags
  page:lock:<id>       escalation lock (owner)
  page:resolved:<tk>   JSON {at, text}: the incident resolved (set even when nobody was paged)
  page:ack:<id>        JSON {by, at}: the first acknowledgement, written once (SET NX)
  page:inflight:<id>   hash tag:number -> when its SMS request began, until it is answered

An ack always wins: it lives in its own key, which no save of the page record can
overwrite, and an escalation re-checks it, atomically with its lock, just before
it sends. The escalation lock is released only by its owner.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from redis.client import Pipeline

from notifier.config.schema.oncall import Member
from notifier.models import iso, parse_iso
from notifier.store.conn.durable import confirmed
from notifier.store.ops import outbox

PAGE_TTL = int(timedelta(days=30).total_seconds())
CODE_TTL = int(timedelta(days=7).total_seconds())
# Longer than one escalation step's worst case (a lookup and a send, each under the
# SMS timeout); a lock is only ever released by its owner, so a lapse is safe.
ESCALATION_LOCK_MS = 60_000
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read as 1 and 0
CODE_DIGITS = "23456789"


@dataclass
class Page:
    id: str
    code: str
    thread_key: str
    dedup_key: str
    subscriber: str
    text: str  # the page's SMS text, re-sent on escalation
    resolved_text: str
    order: list[Member]
    level: int
    last_paged_at: datetime
    escalate_after: timedelta
    escalates: bool
    paged: list[str] = field(default_factory=list)
    acked_by: str | None = None
    acked_at: datetime | None = None
    resolved_at: datetime | None = None
    detected_at: datetime | None = None  # when the paging change was detected

    def to_json(self) -> str:
        d: dict[str, Any] = dict(self.__dict__)
        d["order"] = [[m.name, m.phone] for m in self.order]
        d["last_paged_at"] = iso(self.last_paged_at)
        d["acked_at"] = iso(self.acked_at)
        d["resolved_at"] = iso(self.resolved_at)
        d["detected_at"] = iso(self.detected_at)
        d["escalate_after"] = self.escalate_after.total_seconds()
        return json.dumps(d)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Page:
        d = json.loads(raw)
        # Stored as [name, phone] pairs, checked when they were written: trusted, not
        # re-validated, so a record outlives a stricter phone rule.
        d["order"] = [Member.model_construct(name=n, phone=p) for n, p in d["order"]]
        d["last_paged_at"] = parse_iso(d["last_paged_at"])
        d["acked_at"] = parse_iso(d.get("acked_at"))
        d["resolved_at"] = parse_iso(d.get("resolved_at"))
        d["detected_at"] = parse_iso(d.get("detected_at"))
        d["escalate_after"] = timedelta(seconds=d["escalate_after"])
        return cls(**d)


def page_id(dedup_key: str) -> str:
    """The id of the page the paging alert `dedup_key` starts (a retry finds the same)."""
    return hashlib.sha256(dedup_key.encode()).hexdigest()[:16]


class PageStore:
    """The page records, their codes and acks, the resolved markers, the sent and
    in-flight marks and the escalation locks."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r, self.prefix = client, prefix

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # ---- records -------------------------------------------------------------

    def load(self, page_id: str) -> Page | None:
        raw, ack = self.r.mget(self._k("page", page_id), self._k("page", "ack", page_id))
        if not raw:
            return None
        page = Page.from_json(raw)
        if ack:  # the ack key is the truth; the record may predate it
            by_at = json.loads(ack)
            page.acked_by, page.acked_at = by_at["by"], parse_iso(by_at["at"])
        return page

    def save(self, page: Page) -> None:
        key, body = self._k("page", page.id), page.to_json()

        def writes(pipe: Pipeline) -> None:
            pipe.set(key, body, ex=PAGE_TTL)
            # The history keeps each page's state: the levels reached, the ack, the end.
            outbox.append(self.r, self.prefix, outbox.PAGE, datetime.now(UTC), json.loads(body),
                          pipe)  # fmt: skip

        # Confirmed by a replica: a page record lost in a failover is a page sent again.
        confirmed(self.r, "a page record", writes)

    def start(self, page: Page) -> None:
        """Save a new page and make it its thread's latest."""
        self.save(page)
        key = self._k("page", "thread", page.thread_key)
        confirmed(self.r, "a page record", lambda p: p.set(key, page.id, ex=PAGE_TTL))

    def for_thread(self, thread_key: str) -> Page | None:
        page_id = self.r.get(self._k("page", "thread", thread_key))
        return self.load(page_id.decode()) if page_id else None  # type: ignore[union-attr]

    def by_code(self, code: str) -> Page | None:
        page_id = self.r.get(self._k("page", "code", code.upper()))
        return self.load(page_id.decode()) if page_id else None  # type: ignore[union-attr]

    def new_code(self, page_id: str) -> str | None:
        """A short ack code no open page holds, now held by `page_id`; None if none is free."""
        for attempt in range(40):  # allocation, not a retry: codes are few and short
            digits = 1 if attempt < 20 else 2
            code = secrets.choice(CODE_LETTERS) + "".join(
                secrets.choice(CODE_DIGITS) for _ in range(digits)
            )
            if self.r.set(self._k("page", "code", code), page_id, nx=True, ex=CODE_TTL):
                return code
        return None

    # ---- acknowledgements ------------------------------------------------------

    def take_ack(self, page_id: str, by: str, now: datetime, *, confirm: bool = False) -> bool:
        """Record `by` as the one who acknowledged `page_id`, unless someone already did
        (SET NX: the first stands). `confirm`: wait for a replica to hold it."""
        value = json.dumps({"by": by, "at": iso(now)})
        key = self._k("page", "ack", page_id)
        if not confirm:
            return bool(self.r.set(key, value, nx=True, ex=PAGE_TTL))
        (taken,) = confirmed(self.r, "an ack", lambda p: p.set(key, value, nx=True, ex=PAGE_TTL))
        return bool(taken)

    # ---- resolution ------------------------------------------------------------

    def resolved_marker(self, thread_key: str) -> dict[str, str] | None:
        raw = self.r.get(self._k("page", "resolved", thread_key))
        return dict(json.loads(raw)) if raw else None

    def mark_resolved(self, thread_key: str, detected_at: datetime, text: str) -> None:
        """Leave the thread's resolved marker: a change detected no later than
        `detected_at` pages nobody from now on."""
        marker = self.resolved_marker(thread_key)
        previous = parse_iso(marker.get("at")) if marker else None
        if previous is not None and previous > detected_at:
            return  # a stale resolution retried late must not move the marker back
        value = json.dumps({"at": iso(detected_at), "text": text})
        self.r.set(self._k("page", "resolved", thread_key), value, ex=PAGE_TTL)

    def thread_resolved(self, thread_key: str, detected_at: datetime | None) -> bool:
        """Whether the thread resolved at or after a change detected at `detected_at`
        (a reopened incident's later page is not held back by the old resolution)."""
        marker = self.resolved_marker(thread_key)
        return marker is not None and covers(marker, detected_at)

    def page_resolved(self, page: Page) -> bool:
        """Resolved by its record or by the thread's marker (which a concurrent save
        of the record cannot overwrite)."""
        return page.resolved_at is not None or self.thread_resolved(
            page.thread_key, page.detected_at
        )

    # ---- sent and in-flight marks, per tag and number ---------------------------

    def progress(self, page_id: str, marker: str) -> tuple[bool, datetime | None]:
        """(whether `marker`'s SMS was sent, when its unanswered request began)."""
        pipe = self.r.pipeline(transaction=False)
        pipe.sismember(self._k("page", "sent", page_id), marker)
        pipe.hget(self._k("page", "inflight", page_id), marker)
        done, began = pipe.execute()
        return bool(done), parse_iso(began.decode()) if began else None

    def begin(self, page_id: str, marker: str, now: datetime) -> None:
        """Before the request: if no answer is recorded, the next try looks it up."""
        key = self._k("page", "inflight", page_id)
        pipe = self.r.pipeline(transaction=False)
        pipe.hsetnx(key, marker, iso(now) or "")
        pipe.expire(key, PAGE_TTL)
        pipe.execute()

    def unbegin(self, page_id: str, marker: str) -> None:
        """The vendor refused the request: there is nothing to look for."""
        self.r.hdel(self._k("page", "inflight", page_id), marker)

    def mark_sent(self, page_id: str, marker: str) -> None:
        sent_key = self._k("page", "sent", page_id)
        pipe = self.r.pipeline(transaction=False)
        pipe.sadd(sent_key, marker)
        pipe.expire(sent_key, PAGE_TTL)
        pipe.hdel(self._k("page", "inflight", page_id), marker)
        pipe.execute()

    # ---- the escalation lock ----------------------------------------------------

    def lock_escalation(self, page_id: str) -> str | None:
        """The owner token of `page_id`'s escalation lock, or None when another holds it."""
        owner = secrets.token_hex(8)
        taken = self.r.set(self._k("page", "lock", page_id), owner, nx=True, px=ESCALATION_LOCK_MS)
        return owner if taken else None

    def still_unacked(self, page_id: str, owner: str) -> bool:
        """Whether the lock is still `owner`'s and nobody has acknowledged, asked at once."""
        keys = (self._k("page", "lock", page_id), self._k("page", "ack", page_id))
        return bool(self.r.eval(_STILL_UNACKED, 2, *keys, owner))

    def unlock_escalation(self, page_id: str, owner: str) -> None:
        self.r.eval(_RELEASE, 1, self._k("page", "lock", page_id), owner)


# Compare-and-delete: release the escalation lock only while it is still ours.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
# 1 while the escalation lock is ours and nobody has acknowledged the page.
_STILL_UNACKED = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('exists', KEYS[2]) == 1 then return 0 end
return 1
"""


def pages_of(client: redis.Redis, prefix: str, dedup_keys: Sequence[str]) -> dict[str, Page]:
    """The pages the alerts `dedup_keys` started, by dedup key, in one round trip
    (for the web console: no SMS channel needed to read them)."""
    if not dedup_keys:
        return {}
    raws = client.mget([f"{prefix}:page:{page_id(k)}" for k in dedup_keys])
    return {k: Page.from_json(raw) for k, raw in zip(dedup_keys, raws, strict=True) if raw}


def covers(marker: dict[str, str], detected_at: datetime | None) -> bool:
    """A resolution marker holds back changes detected at or before it."""
    resolved_at = parse_iso(marker.get("at"))
    if resolved_at is None:
        return False
    return detected_at is None or detected_at <= resolved_at
