"""Acknowledgements: `4 K7` by SMS, or the "Acknowledge" button in Slack. Either stops
escalation; the first acknowledgement stands (`PageStore.take_ack`)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from notifier.models import iso
from notifier.store.delivery.pages import PageStore
from notifier.store.ops import outbox

log = logging.getLogger(__name__)

ACK_PATTERN = re.compile(r"^\s*(?:4|ack)\s*[:#-]?\s*([a-z]{1,2}[0-9]{1,2})\b", re.IGNORECASE)


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


class Acks:
    def __init__(self, pages: PageStore) -> None:
        self.pages = pages

    def by_sms(self, from_number: str, body: str, now: datetime) -> AckResult:
        """An SMS reply from `from_number`: the ack of the page its code names, if that
        page paged this number."""
        code = parse_ack(body)
        if code is None:
            return AckResult(False, "Reply 4 <code> (or ACK <code>) to acknowledge a page.")
        page = self.pages.by_code(code)
        if page is None or from_number not in {m.phone for m in page.order}:
            return AckResult(False, f"No open page {code} for this number.")
        if page.acked_by is None:
            member = next(m for m in page.order if m.phone == from_number)
            # Confirmed by a replica: an ack lost in a failover lets escalation go on.
            if self.pages.take_ack(page.id, member.name, now, confirm=True):
                page.acked_by, page.acked_at = member.name, now
                row = {"page_id": page.id, "by": member.name, "at": iso(now)}
                outbox.append(self.pages.r, self.pages.prefix, outbox.ACK, now, row)
                log.info("page acknowledged", extra={"dedup_key": page.dedup_key})
            else:  # acknowledged a moment ago by someone else: theirs stands
                page = self.pages.load(page.id) or page
        return AckResult(
            True,
            f"Acknowledged {code} ({page.acked_by}). Escalation stopped.",
            page.id,
            page.acked_by,
        )

    def by_name(self, page_id: str, by: str, now: datetime) -> AckResult:
        """Acknowledge `page_id` for `by`, someone who answered elsewhere than by SMS (the
        "Acknowledge" button in Slack): escalation stops exactly as after an SMS ACK."""
        page = self.pages.load(page_id)
        if page is None or self.pages.page_resolved(page):
            return AckResult(False, "No open page for this incident.")
        if page.acked_by is None:
            # The ack key, as an SMS ACK writes it: no save of the record (an escalation
            # running now) can overwrite it, and the first acknowledgement stands.
            if self.pages.take_ack(page.id, by, now):
                page.acked_by, page.acked_at = by, now
                log.info("page acknowledged by %s", by, extra={"dedup_key": page.dedup_key})
            else:
                page = self.pages.load(page.id) or page
        return AckResult(
            True,
            f"Acknowledged {page.code} ({page.acked_by}). Escalation stopped.",
            page.id,
            page.acked_by,
        )
