"""A page's texts, sent once per tag and number, under the per-number rate cap.

Every SMS a page causes is marked in the page's sent set *after* Twilio accepted it,
so a retry after a partial failure sends only what is missing. An SMS whose request
was never answered (the worker died, a read timeout) is looked up at Twilio
(`SmsChannel.find_text`) before it is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from notifier.channels.base import DeliveryError
from notifier.channels.sms import gsm
from notifier.channels.sms.cap import CAP_NOTICE, SmsRateCap, mask
from notifier.channels.sms.channel import SmsChannel
from notifier.store.delivery.pages import Page, PageStore

log = logging.getLogger(__name__)


class PageSender:
    def __init__(self, pages: PageStore, sms: SmsChannel, cap: SmsRateCap) -> None:
        self.pages, self.sms, self.cap = pages, sms, cap

    def send_all(
        self, page: Page, numbers: Sequence[str], text: str, tag: str, now: datetime
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Send `text` to each of `numbers` not yet sent `tag`: (message SIDs, the masked
        numbers held back by their rate cap)."""
        sent: list[str] = []
        held: list[str] = []
        for number in dict.fromkeys(numbers):
            marker = f"{tag}:{number}"
            done, since = self.pages.progress(page.id, marker)
            if done:
                continue
            sid = self._found(page, number, text, since) if since is not None else None
            if sid is None:
                self.pages.begin(page.id, marker, now)
                try:
                    sid = self._send_capped(number, text, page.code, now)
                except DeliveryError as exc:
                    if not exc.unknown and since is None:
                        self.pages.unbegin(page.id, marker)  # Twilio said no
                    raise
            self.pages.mark_sent(page.id, marker)
            if number not in page.paged and tag == "page":
                page.paged.append(number)
                self.pages.save(page)
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
