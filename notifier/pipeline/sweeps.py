"""The beat's sweeps over delivered work: escalating unacknowledged pages, the daily
digests, and shrinking finished alerts to their markers. Each is a task's one entry;
what is due is read from Redis.
"""

from __future__ import annotations

from datetime import datetime

from notifier.pipeline.delivery import digest
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.delivery.shrink import shrink_due


def escalate_due(rt: Runtime, now: datetime) -> int:
    """Page the next person for every unacknowledged page that is due."""
    pages = rt.due(Due.ESCALATIONS)
    with pages.sweeping() as mine:
        if not mine:
            return 0
        due = pages.due(now)
        for page_id in due:
            again = check_escalation(page_id, rt.delivery, now)
            if again is None:
                pages.discard(page_id)
            else:
                pages.add(page_id, again)
        return len(due)


def check_escalation(page_id: str, wiring: DeliveryWiring, now: datetime) -> datetime | None:
    """Escalate an unacknowledged page if due; when to check again (None: never)."""
    if wiring.pager is None:
        return None
    return wiring.pager.check_escalation(page_id, now)


def send_digests(rt: Runtime, now: datetime) -> int:
    """Send each subscriber's daily digest that is due (`notifier.pipeline.delivery.digest`)."""
    return digest.send_digests(now, rt.delivery)


def shrink_finished(rt: Runtime, now: datetime) -> int:
    """Shrink the alerts finished more than `alert_payload_days` ago to their markers
    (`notifier.store.delivery.shrink`); how many were shrunk."""
    days = rt.settings.alert_payload_days
    return shrink_due(rt.client, rt.settings.key_prefix, now, days)
