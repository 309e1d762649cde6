"""One delivery in words, for the incident page: sent, printed, held for quiet hours,
queued, retrying, failed (and what it fell back to), skipped; with the vendor's message
id, the SMS acknowledgement and the time of each step. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from notifier.channels.sms.cap import mask
from notifier.models import Alert, parse_iso
from notifier.store.delivery.deliverylog import DeliveryRecord
from notifier.store.delivery.pages import Page
from notifier.store.delivery.status import AlertStatus

FALLBACK_MARK = ":fallback:"  # as `notifier.pipeline.delivery.attempt` makes fallback keys


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime | None
    what: str


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    dedup_key: str
    subscriber: str
    channel: str
    alert_kind: str
    event_kind: str
    status: str  # sent, printed, held, queued, sending, retrying, failed, skipped
    detail: str  # plain words: why, until when, fell back to what
    message_id: str
    ack: str  # the SMS page's acknowledgement, "" when it is no page
    steps: tuple[Step, ...]


def when(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def hhmm(t: datetime | None) -> str:
    return t.astimezone(UTC).strftime("%d %b %H:%M:%S UTC") if t else "?"


def describe(
    alert: Alert,
    state: AlertStatus,
    record: DeliveryRecord | None,
    page: Page | None,
    fallbacks: Sequence[str],
    now: datetime,
) -> DeliveryRow:
    """`fallbacks`: the dedup keys of every alert of the incident (to find this one's)."""
    status, detail = _status(alert, state, record, now)
    fell = [k for k in fallbacks if k.startswith(alert.dedup_key + FALLBACK_MARK)]
    if status == AlertStatus.FAILED and fell:
        channel = fell[0].rsplit(FALLBACK_MARK, 1)[1]
        detail = f"{detail}; fell back to {channel}" if detail else f"fell back to {channel}"
    if FALLBACK_MARK in alert.dedup_key:
        of = alert.dedup_key.split(FALLBACK_MARK)[0].rsplit("/", 1)[-1]
        detail = f"fallback for {of}" + (f"; {detail}" if detail else "")
    steps = tuple(_steps(record))
    return DeliveryRow(
        alert.dedup_key, alert.subscriber, alert.channel, alert.kind.value,
        alert.event.kind.value, status, detail, record.message_id if record else "",
        _ack(page), steps,
    )  # fmt: skip


def _status(
    alert: Alert, state: AlertStatus, record: DeliveryRecord | None, now: datetime
) -> tuple[str, str]:
    """The words for the alert's status (`state`); the log's record, when it has one,
    tells a queued alert from one being sent or retried, and says why one failed."""
    if record is None:
        if alert.hold_until is not None and alert.hold_until > now:
            return "held", f"quiet hours, until {hhmm(alert.hold_until)}"
        return ("queued", "") if state is AlertStatus.PENDING else (state.value, "")
    if state is AlertStatus.DELIVERED:
        return "sent", ""
    if state is AlertStatus.PRINTED:
        return "printed", "no credentials for this channel: shown on the console instead"
    if state in (AlertStatus.FAILED, AlertStatus.SKIPPED):
        return state.value, record.error
    if record.error:
        return "retrying", f"after {record.attempts} attempt(s): {record.error}"
    return "sending", ""


def _steps(record: DeliveryRecord | None) -> list[Step]:
    if record is None:
        return []
    out = []
    for h in record.history:
        what = str(h.get("event", ""))
        if what == "attempt":
            what = f"attempt {int(h.get('attempt', 0)) + 1}"
        if h.get("error"):
            what += f": {h['error']}"
        out.append(Step(when(h.get("at")), what))
    return out


def _ack(page: Page | None) -> str:
    if page is None:
        return ""
    if page.acked_by:
        return f"acknowledged by {mask(page.acked_by)} at {hhmm(page.acked_at)} (code {page.code})"
    if page.resolved_at is not None:
        return f"not acknowledged; resolved at {hhmm(page.resolved_at)}"
    paged = ", ".join(mask(n) for n in page.paged) or "nobody yet"
    return f"not acknowledged yet (code {page.code}); paged {paged}"
