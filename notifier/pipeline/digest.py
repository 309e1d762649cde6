"""The daily email digest: a subscriber's last 24 hours of alerts in one message.

`send_digests(now, ctx)` is safe to run every minute: for each subscriber with a
`digest` whose local `daily_at` has passed today, it claims (subscriber, local
date, address) once in Redis and mails the alerts delivered to that subscriber in the 24
hours before `daily_at`, one line per incident (its latest state). A day with no
alerts sends nothing. A failed send releases the claim so the next run retries.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from notifier.channels.base import DeliveryError
from notifier.channels.email.channel import EmailChannel
from notifier.models import parse_iso
from notifier.store.deliverylog import DeliveryRecord
from notifier.text import one_line

log = logging.getLogger(__name__)

CLAIM_TTL = int(timedelta(days=3).total_seconds())


@dataclass(frozen=True, slots=True)
class DigestLine:
    provider: str
    title: str
    status: str
    impact: str
    last_at: datetime


def due(now: datetime, daily_at: Any, timezone: str) -> tuple[date, datetime] | None:
    """(local date, scheduled instant) when today's digest time has passed, else None."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    scheduled = datetime.combine(local.date(), daily_at, tzinfo=tz)
    return (local.date(), scheduled) if local >= scheduled else None


def collect(records: list[DeliveryRecord], subscriber: str, start: datetime, end: datetime
            ) -> list[DigestLine]:  # fmt: skip
    """One line per incident, its latest state, for records delivered in [start, end)."""
    latest: dict[tuple[str, str], DigestLine] = {}
    for rec in records:
        at = parse_iso(rec.updated_at)
        if rec.subscriber != subscriber or at is None or not start <= at < end:
            continue
        key = (rec.provider, rec.incident_id)
        if key not in latest or latest[key].last_at <= at:
            latest[key] = DigestLine(rec.provider, rec.title, rec.status, rec.impact, at)
    return sorted(latest.values(), key=lambda line: line.last_at)


def send_digests(now: datetime, ctx: Any) -> int:
    """Send every digest that is due; returns how many emails went out. `ctx` is a
    `notifier.pipeline.deliver.DeliveryContext`."""
    sent = 0
    for sub in getattr(ctx.destinations.config, "subscribers", []):
        spec = getattr(sub, "digest", None)
        if spec is None or sub.email is None:
            continue
        when = due(now, spec.daily_at, spec.timezone)
        if when is not None:
            sent += _send_due(ctx, sub, *when)
    return sent


def _send_due(ctx: Any, sub: Any, day: date, scheduled: datetime) -> int:
    email = ctx.channels.get("email")
    lines: list[DigestLine] | None = None
    sent = 0
    for address in sub.email.to:
        claim = f"{ctx.prefix}:digest:{sub.name}:{address.lower()}:{day.isoformat()}"
        if not ctx.client.set(claim, "1", nx=True, ex=CLAIM_TTL):
            continue  # sent (or being sent) already
        lines = lines if lines is not None else _lines(ctx, sub.name, scheduled)
        if not lines or not isinstance(email, EmailChannel):
            continue  # nothing to report, or no SMTP: the claim stands for today
        try:
            email.deliver(_message(email, address, lines, scheduled))
            sent += 1
        except DeliveryError as exc:
            ctx.client.delete(claim)  # the next run tries again
            log.warning("digest failed: %s", exc.message, extra={"subscriber": sub.name})
    return sent


def _lines(ctx: Any, subscriber: str, scheduled: datetime) -> list[DigestLine]:
    start = scheduled - timedelta(days=1)
    days = {t.astimezone(ZoneInfo("UTC")).date() for t in (start, scheduled)}
    records = [r for d in sorted(days) for r in ctx.log.delivered_on(d.isoformat())]
    return collect(records, subscriber, start, scheduled)


def _message(email: EmailChannel, address: str, lines: list[DigestLine], scheduled: datetime
             ) -> EmailMessage:  # fmt: skip
    subject = f"[notifier] Daily digest: {len(lines)} incident(s) to {scheduled:%Y-%m-%d}"
    msg = email.new_message(address, subject)
    msg.set_content(text_body(lines))
    msg.add_alternative(html_body(lines), subtype="html")
    return msg


def text_body(lines: list[DigestLine]) -> str:
    rows = [
        f"{line.last_at:%H:%M} UTC  [{line.impact.upper()}] {line.provider}: "
        f"{one_line(line.title)} ({line.status})"
        for line in lines
    ]
    return "Incidents in the last 24 hours:\n\n" + "\n".join(rows) + "\n"


def html_body(lines: list[DigestLine]) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td>{line.last_at:%H:%M} UTC</td><td>{esc(line.impact.upper())}</td>"
        f"<td>{esc(line.provider)}</td><td>{esc(one_line(line.title))}</td>"
        f"<td>{esc(line.status)}</td></tr>"
        for line in lines
    )
    return (
        f"<html><body><h2>Incidents in the last 24 hours</h2><table>{rows}</table></body></html>\n"
    )
