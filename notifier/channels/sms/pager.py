"""The pager: who is woken for an incident, and the all-clear when it resolves.

A page is made once per paging alert (its id derives from the dedup_key, so a retried
delivery finds the same page and code); its records live in the page store
(`notifier.store.delivery.pages`). Sending goes through `PageSender` (once per number,
under the rate cap), acknowledgements through `Acks`, escalation through `Escalation`.
The clock is always passed in.

The thread's resolved marker is what stops a late page: a paging alert whose change was
detected no later than the resolution sends nothing, so a page retried after the
all-clear went out (to nobody, if the first attempt failed) never wakes anyone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from notifier.channels.base import DeliveryError
from notifier.channels.render import Presentation
from notifier.channels.sms.acks import AckResult, Acks
from notifier.channels.sms.cap import SmsRateCap
from notifier.channels.sms.channel import SmsChannel, page_text, resolved_text
from notifier.channels.sms.escalation import Escalation, page_state
from notifier.channels.sms.sender import PageSender
from notifier.config.schema.oncall import Member, Oncall, Rotation
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert
from notifier.route.oncall import escalate_after, escalation_order, next_escalation
from notifier.store.delivery.pages import Page, PageStore, covers, page_id

log = logging.getLogger(__name__)


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
        self.pages = PageStore(client, prefix)
        self.cap = SmsRateCap(client, prefix, rate_limit, rate_window)
        self.sender = PageSender(self.pages, sms, self.cap)
        self.acks = Acks(self.pages)
        self.escalation = Escalation(self.pages, self.sender)

    def page(self, alert: Alert, recipients: Recipients, now: datetime) -> PageOutcome:
        """Page for `alert`: start a page, or update the incident's open one.

        Sends nothing when the incident resolved after this change was detected
        (a retried page must not outlive its all-clear)."""
        if self.pages.thread_resolved(alert.thread_key, alert.event.detected_at):
            return self._skip_resolved(alert)
        existing = self.pages.for_thread(alert.thread_key)
        if existing and existing.resolved_at is None and existing.dedup_key != alert.dedup_key:
            text = page_text(alert, existing.code, self.presentation)
            sent, held = self.sender.send_all(
                existing, existing.paged, text, f"upd:{alert.dedup_key}", now
            )
            return PageOutcome(existing.id, existing.code, sent, None, held)
        page = self.pages.load(page_id(alert.dedup_key))
        if page is not None and page.resolved_at is not None:
            return self._skip_resolved(alert, page)
        page = page or self._start(alert, recipients, now)
        first = page.order[: 1 if page.escalates else len(page.order)]
        sent, held = self.sender.send_all(page, [m.phone for m in first], page.text, "page", now)
        if self._late_all_clear(page, alert, now):
            return PageOutcome(page.id, page.code, sent, None, held)
        step = next_escalation(page_state(page), now)
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
        marker = self.pages.resolved_marker(alert.thread_key)
        if marker is None or not covers(marker, alert.event.detected_at):
            return False
        self.sender.send_all(page, page.paged, marker["text"], "resolved", now)
        return True

    def _start(self, alert: Alert, recipients: Recipients, now: datetime) -> Page:
        rotation = recipients.rotation
        if rotation is not None:
            order = list(escalation_order(rotation, now))
        else:
            # A static number is its own name (shown as who acknowledged).
            order = [Member.model_construct(name=n, phone=n) for n in recipients.numbers]
        if not order:
            raise DeliveryError("sms: nobody to page (empty list or rotation)", permanent=True)
        new_id = page_id(alert.dedup_key)
        code = self.pages.new_code(new_id)
        if code is None:
            raise DeliveryError("sms: no free ack code", permanent=False)
        page = Page(
            id=new_id, code=code, thread_key=alert.thread_key, dedup_key=alert.dedup_key,
            subscriber=alert.subscriber, text=page_text(alert, code, self.presentation),
            resolved_text="", order=order, level=0, last_paged_at=now,
            escalate_after=escalate_after(rotation) if rotation else timedelta(0),
            escalates=rotation is not None, detected_at=alert.event.detected_at,
        )  # fmt: skip
        self.pages.start(page)
        return page

    def resolve(self, alert: Alert, now: datetime) -> PageOutcome:
        """One short 'resolved' SMS to everyone paged for the incident; stops escalation.

        Leaves the thread's resolved marker first, even when nobody was paged yet,
        so a page still in flight or retried later sends nothing."""
        text = resolved_text(alert, self.presentation)
        self.pages.mark_resolved(alert.thread_key, alert.event.detected_at, text)
        page = self.pages.for_thread(alert.thread_key)
        if page is None:
            return PageOutcome(None, None, (), None, skipped="nobody was paged")
        if page.resolved_at is None:
            page.resolved_at = now
            page.resolved_text = text
            self.pages.save(page)
        sent, held = self.sender.send_all(page, page.paged, page.resolved_text, "resolved", now)
        return PageOutcome(page.id, page.code, sent, None, held)

    def ack(self, from_number: str, body: str, now: datetime) -> AckResult:
        """An SMS reply (`4 K7`): acknowledges the page its code names."""
        return self.acks.by_sms(from_number, body, now)

    def acknowledge(self, page_id: str, by: str, now: datetime) -> AckResult:
        """Acknowledge `page_id` for `by`, who answered elsewhere than by SMS."""
        return self.acks.by_name(page_id, by, now)

    def check_escalation(self, page_id: str, now: datetime) -> datetime | None:
        """Escalate `page_id` if due. Returns when to check again, or None when done."""
        return self.escalation.check(page_id, now)
