"""One delivery in words (pure): each status of the alert, quiet-hours holds, retries,
fallbacks, and an SMS page's acknowledgement with masked numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from notifier.store.delivery.deliverylog import DeliveryRecord
from notifier.store.delivery.pages import Page
from notifier.store.delivery.status import AlertStatus
from notifier.web.console.deliveries import describe
from tests.fakes import sample

NOW = datetime(2024, 12, 26, 23, tzinfo=UTC)


def record(outcome: str, **kw: object) -> DeliveryRecord:
    return DeliveryRecord(dedup_key="k", outcome=AlertStatus(outcome), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rec", "hold", "status", "detail"),
    [
        (None, None, "queued", ""),
        (None, NOW + timedelta(hours=8), "held", "quiet hours, until 27 Dec 07:00:00 UTC"),
        (record("delivered", message_id="SM1"), None, "sent", ""),
        (record("printed"), None, "printed", "no credentials for this channel: shown on the "
         "console instead"),
        (record("pending", attempts=2, error="slack: HTTP 503"), None, "retrying",
         "after 2 attempt(s): slack: HTTP 503"),
        (record("pending", attempts=1), None, "sending", ""),
        (record("failed", error="sms: invalid number"), None, "failed", "sms: invalid number"),
        (record("skipped", error="not a page"), None, "skipped", "not a page"),
    ],
)  # fmt: skip
def test_each_delivery_reads_as_its_status(
    rec: DeliveryRecord | None, hold: datetime | None, status: str, detail: str
) -> None:
    alert = replace(sample.alert(channel="slack"), hold_until=hold)
    state = rec.outcome if rec is not None and rec.outcome else AlertStatus.PENDING
    row = describe(alert, state, rec, None, [], NOW)
    assert (row.status, row.detail) == (status, detail)


def test_a_failed_delivery_names_its_fallback_and_the_fallback_names_its_origin() -> None:
    alert = sample.alert(channel="sms")
    fallback_key = f"{alert.dedup_key}:fallback:email"
    row = describe(alert, AlertStatus.FAILED, record("failed", error="sms: down"), None,
                   [alert.dedup_key, fallback_key], NOW)  # fmt: skip
    assert row.detail == "sms: down; fell back to email"
    fb = replace(alert, dedup_key=fallback_key, channel="email")
    assert describe(fb, AlertStatus.DELIVERED, record("delivered"), None, [], NOW).detail == (
        "fallback for sms"
    )


def test_an_sms_page_shows_its_acknowledgement_with_masked_numbers() -> None:
    alert = sample.alert(channel="sms")
    page = Page(id="p", code="K7", thread_key="t", dedup_key=alert.dedup_key, subscriber="s",
                text="x", resolved_text="y", order=[], level=0, last_paged_at=NOW,
                escalate_after=timedelta(minutes=5), escalates=False,
                paged=["+15550100001"])  # fmt: skip
    waiting = describe(alert, AlertStatus.DELIVERED, record("delivered"), page, [], NOW)
    assert waiting.ack == "not acknowledged yet (code K7); paged ***0001"
    acked = replace(page, acked_by="+15550100001", acked_at=NOW)
    assert describe(alert, AlertStatus.DELIVERED, record("delivered"), acked, [], NOW).ack == (
        "acknowledged by ***0001 at 26 Dec 23:00:00 UTC (code K7)"
    )
    assert "+1555" not in waiting.ack
