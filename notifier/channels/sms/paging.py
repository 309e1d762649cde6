"""Pages in Redis: who was paged for an incident, ack codes, escalation, rate caps.

A page is made once per paging alert (its id derives from the dedup_key, so a
retried delivery finds the same page and code). Every SMS it causes is marked
in a per-page set *after* Twilio accepted it, so a retry after a partial
failure sends only what is missing. The clock is always passed in.

Keys (all under `prefix`):
  page:<id>            JSON record               page:code:<CODE>  -> page id
  page:thread:<tk>     -> latest page id          page:sent:<id>    set of sent tags
  page:lock:<id>       escalation lock (owner)   sms:rate:<number>  see notifier.channels.sms.cap
  page:resolved:<tk>   JSON {at, text}: the incident resolved (set even when nobody was paged)
  page:ack:<id>        JSON {by, at}: the first acknowledgement, written once (SET NX)
  page:inflight:<id>   hash tag:number -> when its SMS request began, until it is answered

An ack always wins: it lives in its own key, which no save of the page record can
overwrite, and an escalation re-checks it, atomically with its lock, just before
it sends. The escalation lock is released only by its owner. An SMS whose request
was never answered (the worker died, a read timeout) is looked up at Twilio
(`SmsChannel.find_text`) before it is sent again.

The resolved marker is what stops a late page: a paging alert whose change was
detected no later than the resolution sends nothing, so a page retried after the
all-clear went out (to nobody, if the first attempt failed) never wakes anyone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from redis.client import Pipeline

from notifier.channels.base import DeliveryError
from notifier.channels.render import Presentation
from notifier.channels.sms import gsm
from notifier.channels.sms.cap import CAP_NOTICE, SmsRateCap, mask
from notifier.channels.sms.channel import SmsChannel, page_text, resolved_text
from notifier.config.schema.oncall import Member, Oncall, Rotation
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert, iso, parse_iso
from notifier.route.oncall import PageState, escalate_after, escalation_order, next_escalation
from notifier.store.conn.durable import confirmed
from notifier.store.ops import outbox

log = logging.getLogger(__name__)

PAGE_TTL = int(timedelta(days=30).total_seconds())
CODE_TTL = int(timedelta(days=7).total_seconds())
# Longer than one escalation step's worst case (a lookup and a send, each under the
# SMS timeout); a lock is only ever released by its owner, so a lapse is safe.
ESCALATION_LOCK_MS = 60_000
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read as 1 and 0
CODE_DIGITS = "23456789"
ACK_PATTERN = re.compile(r"^\s*(?:4|ack)\s*[:#-]?\s*([a-z]{1,2}[0-9]{1,2})\b", re.IGNORECASE)


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

    def state(self) -> PageState:
        return PageState(
            order=tuple(self.order),
            level=self.level if self.escalates else len(self.order) - 1,
            last_paged_at=self.last_paged_at,
            escalate_after=self.escalate_after,
            acked=self.acked_by is not None,
            resolved=self.resolved_at is not None,
            paged=tuple(self.paged),
        )

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


@dataclass(frozen=True, slots=True)
class Recipients:
    """A static list of numbers (paged at once) or a rotation (escalating).

    Numbers are E.164, as validated by the subscription file (`SmsRoute.to`)."""

    numbers: tuple[str, ...] = ()
    rotation: Rotation | None = None

    @classmethod
    def of(cls, subscriber: Subscriber | None, oncall: Oncall) -> Recipients | None:
        """Whom `subscriber`'s SMS route pages: its rotation or its numbers; None if it
        has no SMS route or names a rotation the file does not define."""
        route = subscriber.sms if subscriber is not None else None
        if route is None:
            return None
        if route.rotation:
            rotation = oncall.rotations.get(route.rotation)
            return cls(rotation=rotation) if rotation is not None else None
        return cls(numbers=tuple(route.to or ()))


@dataclass(frozen=True, slots=True)
class PageOutcome:
    page_id: str | None
    code: str | None
    message_ids: tuple[str, ...]
    check_at: datetime | None  # when to call check_escalation, if ever
    suppressed: tuple[str, ...] = ()  # masked numbers (last 4 digits) over their rate cap
    skipped: str = ""  # why nothing was sent on purpose (e.g. the incident resolved)


@dataclass(frozen=True, slots=True)
class AckResult:
    ok: bool
    reply: str  # the SMS reply text
    page_id: str | None = None
    by: str | None = None  # who acknowledged the page first (it may be someone else)


def parse_ack(body: str) -> str | None:
    """The code in `4 K7` / `ACK K7` (any case), else None."""
    match = ACK_PATTERN.match(body or "")
    return match.group(1).upper() if match else None


class Pager:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        sms: SmsChannel,
        rate_limit: int = 10,
        rate_window: timedelta = timedelta(hours=1),
        presentation: Presentation | None = None,
    ) -> None:
        self.r, self.prefix, self.sms = client, prefix, sms
        self.presentation = presentation or Presentation()
        self.cap = SmsRateCap(client, prefix, rate_limit, rate_window)

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

    def for_thread(self, thread_key: str) -> Page | None:
        page_id = self.r.get(self._k("page", "thread", thread_key))
        return self.load(page_id.decode()) if page_id else None  # type: ignore[union-attr]

    def by_code(self, code: str) -> Page | None:
        page_id = self.r.get(self._k("page", "code", code.upper()))
        return self.load(page_id.decode()) if page_id else None  # type: ignore[union-attr]

    def _new_code(self, page_id: str) -> str:
        for attempt in range(40):  # allocation, not a retry: codes are few and short
            digits = 1 if attempt < 20 else 2
            code = secrets.choice(CODE_LETTERS) + "".join(
                secrets.choice(CODE_DIGITS) for _ in range(digits)
            )
            if self.r.set(self._k("page", "code", code), page_id, nx=True, ex=CODE_TTL):
                return code
        raise DeliveryError("sms: no free ack code", permanent=False)

    # ---- paging --------------------------------------------------------------

    def page(self, alert: Alert, recipients: Recipients, now: datetime) -> PageOutcome:
        """Page for `alert`: start a page, or update the incident's open one.

        Sends nothing when the incident resolved after this change was detected
        (a retried page must not outlive its all-clear)."""
        if self._resolved_since(alert):
            return self._skip_resolved(alert)
        existing = self.for_thread(alert.thread_key)
        if existing and existing.resolved_at is None and existing.dedup_key != alert.dedup_key:
            text = page_text(alert, existing.code, self.presentation)
            sent, held = self._send_all(
                existing, existing.paged, text, f"upd:{alert.dedup_key}", now
            )
            return PageOutcome(existing.id, existing.code, sent, None, held)
        page = self.load(_page_id(alert.dedup_key))
        if page is not None and page.resolved_at is not None:
            return self._skip_resolved(alert, page)
        page = page or self._start(alert, recipients, now)
        first = page.order[: 1 if page.escalates else len(page.order)]
        sent, held = self._send_all(page, [m.phone for m in first], page.text, "page", now)
        if self._late_all_clear(page, alert, now):
            return PageOutcome(page.id, page.code, sent, None, held)
        step = next_escalation(page.state(), now)
        return PageOutcome(page.id, page.code, sent, step.due_at if step else None, held)

    def _skip_resolved(self, alert: Alert, page: Page | None = None) -> PageOutcome:
        log.info("page skipped: incident already resolved", extra={"dedup_key": alert.dedup_key})
        return PageOutcome(
            page.id if page else None, page.code if page else None, (), None,
            skipped="incident resolved before the page went out",
        )  # fmt: skip

    def _late_all_clear(self, page: Page, alert: Alert, now: datetime) -> bool:
        """If the all-clear landed while we were sending, it may have missed whoever we
        just paged: they get it here (the sent set keeps it to one per number)."""
        marker = self._resolved_marker(alert.thread_key)
        if marker is None or not _covers(marker, alert.event.detected_at):
            return False
        self._send_all(page, page.paged, marker["text"], "resolved", now)
        return True

    def _resolved_marker(self, thread_key: str) -> dict[str, str] | None:
        raw = self.r.get(self._k("page", "resolved", thread_key))
        return dict(json.loads(raw)) if raw else None

    def _resolved_since(self, alert: Alert) -> bool:
        return self._thread_resolved(alert.thread_key, alert.event.detected_at)

    def _thread_resolved(self, thread_key: str, detected_at: datetime | None) -> bool:
        """Whether the thread resolved at or after a change detected at `detected_at`
        (a reopened incident's later page is not held back by the old resolution)."""
        marker = self._resolved_marker(thread_key)
        return marker is not None and _covers(marker, detected_at)

    def _page_resolved(self, page: Page) -> bool:
        """Resolved by its record or by the thread's marker (which a concurrent save
        of the record cannot overwrite)."""
        return page.resolved_at is not None or self._thread_resolved(
            page.thread_key, page.detected_at
        )

    def _start(self, alert: Alert, recipients: Recipients, now: datetime) -> Page:
        rotation = recipients.rotation
        if rotation is not None:
            order = list(escalation_order(rotation, now))
        else:
            # A static number is its own name (shown as who acknowledged).
            order = [Member.model_construct(name=n, phone=n) for n in recipients.numbers]
        if not order:
            raise DeliveryError("sms: nobody to page (empty list or rotation)", permanent=True)
        page_id = _page_id(alert.dedup_key)
        code = self._new_code(page_id)
        page = Page(
            id=page_id, code=code, thread_key=alert.thread_key, dedup_key=alert.dedup_key,
            subscriber=alert.subscriber, text=page_text(alert, code, self.presentation),
            resolved_text="", order=order, level=0, last_paged_at=now,
            escalate_after=escalate_after(rotation) if rotation else timedelta(0),
            escalates=rotation is not None, detected_at=alert.event.detected_at,
        )  # fmt: skip
        self.save(page)
        key = self._k("page", "thread", alert.thread_key)
        confirmed(self.r, "a page record", lambda p: p.set(key, page_id, ex=PAGE_TTL))
        return page

    def resolve(self, alert: Alert, now: datetime) -> PageOutcome:
        """One short 'resolved' SMS to everyone paged for the incident; stops escalation.

        Leaves the thread's resolved marker first, even when nobody was paged yet,
        so a page still in flight or retried later sends nothing."""
        text = resolved_text(alert, self.presentation)
        self._mark_resolved(alert, text)
        page = self.for_thread(alert.thread_key)
        if page is None:
            return PageOutcome(None, None, (), None, skipped="nobody was paged")
        if page.resolved_at is None:
            page.resolved_at = now
            page.resolved_text = text
            self.save(page)
        sent, held = self._send_all(page, page.paged, page.resolved_text, "resolved", now)
        return PageOutcome(page.id, page.code, sent, None, held)

    def _mark_resolved(self, alert: Alert, text: str) -> None:
        marker = self._resolved_marker(alert.thread_key)
        previous = parse_iso(marker.get("at")) if marker else None
        if previous is not None and previous > alert.event.detected_at:
            return  # a stale resolution retried late must not move the marker back
        value = json.dumps({"at": iso(alert.event.detected_at), "text": text})
        self.r.set(self._k("page", "resolved", alert.thread_key), value, ex=PAGE_TTL)

    def ack(self, from_number: str, body: str, now: datetime) -> AckResult:
        code = parse_ack(body)
        if code is None:
            return AckResult(False, "Reply 4 <code> (or ACK <code>) to acknowledge a page.")
        page = self.by_code(code)
        if page is None or from_number not in {m.phone for m in page.order}:
            return AckResult(False, f"No open page {code} for this number.")
        if page.acked_by is None:
            member = next(m for m in page.order if m.phone == from_number)
            value = json.dumps({"by": member.name, "at": iso(now)})
            key = self._k("page", "ack", page.id)
            # Confirmed by a replica: an ack lost in a failover lets escalation go on.
            (taken,) = confirmed(
                self.r, "an ack", lambda p: p.set(key, value, nx=True, ex=PAGE_TTL)
            )
            if taken:
                page.acked_by, page.acked_at = member.name, now
                row = {"page_id": page.id, "by": member.name, "at": iso(now)}
                outbox.append(self.r, self.prefix, outbox.ACK, now, row)
                log.info("page acknowledged", extra={"dedup_key": page.dedup_key})
            else:  # acknowledged a moment ago by someone else: theirs stands
                page = self.load(page.id) or page
        return AckResult(
            True,
            f"Acknowledged {code} ({page.acked_by}). Escalation stopped.",
            page.id,
            page.acked_by,
        )

    def acknowledge(self, page_id: str, by: str, now: datetime) -> AckResult:
        """Acknowledge `page_id` for `by`, someone who answered elsewhere than by SMS (the
        "Acknowledge" button in Slack): escalation stops exactly as after an SMS ACK."""
        page = self.load(page_id)
        if page is None or self._page_resolved(page):
            return AckResult(False, "No open page for this incident.")
        if page.acked_by is None:
            # The ack key, as an SMS ACK writes it: no save of the record (an escalation
            # running now) can overwrite it, and the first acknowledgement stands.
            value = json.dumps({"by": by, "at": iso(now)})
            if self.r.set(self._k("page", "ack", page.id), value, nx=True, ex=PAGE_TTL):
                page.acked_by, page.acked_at = by, now
                log.info("page acknowledged by %s", by, extra={"dedup_key": page.dedup_key})
            else:
                page = self.load(page.id) or page
        return AckResult(
            True,
            f"Acknowledged {page.code} ({page.acked_by}). Escalation stopped.",
            page.id,
            page.acked_by,
        )

    def check_escalation(self, page_id: str, now: datetime) -> datetime | None:
        """Escalate `page_id` if due. Returns when to check again, or None when done."""
        lock, owner = self._k("page", "lock", page_id), secrets.token_hex(8)
        if not self.r.set(lock, owner, nx=True, px=ESCALATION_LOCK_MS):
            return now + timedelta(seconds=30)  # another worker is on it
        try:
            page = self.load(page_id)
            if page is None or self._page_resolved(page):
                return None
            step = next_escalation(page.state(), now)
            if step is None or not step.due:
                return step.due_at if step else None
            # The ack may have come since the load: ask again, together with whether the
            # lock is still ours, just before waking the next person.
            if not self.r.eval(_STILL_UNACKED, 2, lock, self._k("page", "ack", page_id), owner):
                log.info(
                    "escalation stopped: page acknowledged", extra={"dedup_key": page.dedup_key}
                )
                return None
            self._send_all(page, [step.member.phone], page.text, "page", now)
            page.level, page.last_paged_at = step.level, now
            self.save(page)
            log.info("page escalated to level %d", step.level, extra={"dedup_key": page.dedup_key})
            following = next_escalation(page.state(), now)
            return following.due_at if following else None
        finally:
            self.r.eval(_RELEASE, 1, lock, owner)  # not a lock another worker took since

    # ---- sending, once per tag and number, under the rate cap --------------------

    def _send_all(
        self, page: Page, numbers: Sequence[str], text: str, tag: str, now: datetime
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        sent: list[str] = []
        held: list[str] = []
        sent_key, flight_key = (
            self._k("page", "sent", page.id),
            self._k("page", "inflight", page.id),
        )
        for number in dict.fromkeys(numbers):
            marker = f"{tag}:{number}"
            pipe = self.r.pipeline(transaction=False)
            pipe.sismember(sent_key, marker)
            pipe.hget(flight_key, marker)
            done, began = pipe.execute()
            if done:
                continue
            since = parse_iso(began.decode()) if began else None
            sid = self._found(page, number, text, since) if since is not None else None
            if sid is None:
                # Before the request: if no answer is recorded, the next try asks Twilio.
                pipe = self.r.pipeline(transaction=False)
                pipe.hsetnx(flight_key, marker, iso(now) or "")
                pipe.expire(flight_key, PAGE_TTL)
                pipe.execute()
                try:
                    sid = self._send_capped(number, text, page.code, now)
                except DeliveryError as exc:
                    if not exc.unknown and since is None:
                        self.r.hdel(flight_key, marker)  # Twilio said no: nothing to look for
                    raise
            pipe = self.r.pipeline(transaction=False)
            pipe.sadd(sent_key, marker)
            pipe.expire(sent_key, PAGE_TTL)
            pipe.hdel(flight_key, marker)
            pipe.execute()
            if number not in page.paged and tag == "page":
                page.paged.append(number)
                self.save(page)
            if sid:
                sent.append(sid)
            else:
                held.append(mask(number))
                log.warning(
                    "sms rate cap: message to %s suppressed", mask(number),
                    extra={"dedup_key": page.dedup_key},
                )  # fmt: skip
        return tuple(sent), tuple(held)

    def _found(self, page: Page, number: str, text: str, since: datetime) -> str | None:
        """The SID of the SMS an earlier try sent to `number` without hearing back, or
        None (not there, or Twilio may not be asked: then it is sent again)."""
        texts = {text, gsm.append(text, CAP_NOTICE, keep=f"Reply 4 {page.code} to ack").text}
        try:
            sid = self.sms.find_text(number, texts, since)
        except DeliveryError as exc:
            if not exc.permanent:
                raise DeliveryError(exc.message, permanent=False, retry_after=exc.retry_after,
                                    unknown=True) from None  # fmt: skip
            log.warning("sms: cannot look for an earlier try's message (%s); sending again",
                        exc.message, extra={"dedup_key": page.dedup_key})  # fmt: skip
            return None
        if sid is not None:
            log.info("sms: an earlier try's message to %s was delivered; not sending again",
                     mask(number), extra={"dedup_key": page.dedup_key})  # fmt: skip
        return sid

    def _send_capped(self, number: str, text: str, code: str, now: datetime) -> str | None:
        """Send unless `number` is at its rate cap; the last allowed message still
        carries its content, with a short held-back notice in the same segment."""
        slot = self.cap.take(number, now)
        if slot is None:
            return None
        if slot.last:
            text = gsm.append(text, CAP_NOTICE, keep=f"Reply 4 {code} to ack").text
        try:
            return self.sms.send_text(number, text)
        except DeliveryError:
            self.cap.release(slot)  # the attempt did not reach the phone
            raise


# Compare-and-delete: release the escalation lock only while it is still ours.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
# 1 while the escalation lock is ours and nobody has acknowledged the page.
_STILL_UNACKED = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('exists', KEYS[2]) == 1 then return 0 end
return 1
"""


def _page_id(dedup_key: str) -> str:
    return hashlib.sha256(dedup_key.encode()).hexdigest()[:16]


def pages_of(client: redis.Redis, prefix: str, dedup_keys: Sequence[str]) -> dict[str, Page]:
    """The pages the alerts `dedup_keys` started, by dedup key, in one round trip
    (for the web console: no SMS channel needed to read them)."""
    if not dedup_keys:
        return {}
    raws = client.mget([f"{prefix}:page:{_page_id(k)}" for k in dedup_keys])
    return {k: Page.from_json(raw) for k, raw in zip(dedup_keys, raws, strict=True) if raw}


def _covers(marker: dict[str, str], detected_at: datetime | None) -> bool:
    """A resolution marker holds back changes detected at or before it."""
    resolved_at = parse_iso(marker.get("at"))
    if resolved_at is None:
        return False
    return detected_at is None or detected_at <= resolved_at
