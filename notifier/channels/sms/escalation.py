"""Escalation: wake the next person on the rotation while a page stays unacknowledged.

An ack always wins: an escalation re-checks it, atomically with its lock, just before
it sends (`PageStore.still_unacked`), and the lock is released only by its owner.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from notifier.channels.sms.sender import PageSender
from notifier.route.oncall import PageState, next_escalation
from notifier.store.delivery.pages import Page, PageStore

log = logging.getLogger(__name__)


def page_state(page: Page) -> PageState:
    """`page` as the on-call rules read it (`notifier.route.oncall.next_escalation`)."""
    return PageState(
        order=tuple(page.order),
        level=page.level if page.escalates else len(page.order) - 1,
        last_paged_at=page.last_paged_at,
        escalate_after=page.escalate_after,
        acked=page.acked_by is not None,
        resolved=page.resolved_at is not None,
        paged=tuple(page.paged),
    )


class Escalation:
    def __init__(self, pages: PageStore, sender: PageSender) -> None:
        self.pages, self.sender = pages, sender

    def check(self, page_id: str, now: datetime) -> datetime | None:
        """Escalate `page_id` if due. Returns when to check again, or None when done."""
        owner = self.pages.lock_escalation(page_id)
        if owner is None:
            return now + timedelta(seconds=30)  # another worker is on it
        try:
            page = self.pages.load(page_id)
            if page is None or self.pages.page_resolved(page):
                return None
            step = next_escalation(page_state(page), now)
            if step is None or not step.due:
                return step.due_at if step else None
            # The ack may have come since the load: ask again, together with whether the
            # lock is still ours, just before waking the next person.
            if not self.pages.still_unacked(page_id, owner):
                log.info(
                    "escalation stopped: page acknowledged", extra={"dedup_key": page.dedup_key}
                )
                return None
            self.sender.send_all(page, [step.member.phone], page.text, "page", now)
            page.level, page.last_paged_at = step.level, now
            self.pages.save(page)
            log.info("page escalated to level %d", step.level, extra={"dedup_key": page.dedup_key})
            following = next_escalation(page_state(page), now)
            return following.due_at if following else None
        finally:
            self.pages.unlock_escalation(page_id, owner)  # not a lock another took since
