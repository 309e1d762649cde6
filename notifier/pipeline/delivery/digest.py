"""The daily digest: a subscriber's last 24 hours of alerts in one message.

`send_digests(now, ctx)` is safe to run every minute: for each subscriber with a
`digest` whose local `daily_at` has passed today, it claims (subscriber, local
date, target) once in Redis and sends the alerts delivered to that subscriber in the
24 hours before `daily_at`, one line per incident (its latest state), through the
channel that `sends_digests` (email) to that channel's targets. A day with no
alerts sends nothing. A failed send releases the claim so the next run retries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifier.channels.base import Channel, DeliveryError
from notifier.channels.digest import Digest, DigestLine
from notifier.config.schema.subscribers import Subscriber
from notifier.models import parse_iso
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.delivery.deliverylog import DeliveryRecord

log = logging.getLogger(__name__)

CLAIM_TTL = int(timedelta(days=3).total_seconds())


def due(now: datetime, daily_at: time, timezone: str) -> tuple[date, datetime] | None:
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


def digest_channel(channels: Iterable[Channel]) -> Channel | None:
    """The channel that sends digests, if one is configured (the console standing in
    for email does not)."""
    return next((c for c in channels if c.sends_digests), None)


def send_digests(now: datetime, ctx: DeliveryWiring) -> int:
    """Send every digest that is due; returns how many went out."""
    channel = digest_channel(ctx.channels.values())
    if channel is None:
        return 0  # nothing could carry it; the schedule is checked again next run
    sent = 0
    for sub in ctx.destinations.subscribers():
        if sub.digest is None:
            continue
        when = due(now, sub.digest.daily_at, sub.digest.timezone)
        if when is not None:
            sent += _send_due(ctx, channel, sub, *when)
    return sent


def _send_due(
    ctx: DeliveryWiring, channel: Channel, sub: Subscriber, day: date, scheduled: datetime
) -> int:
    digest: Digest | None = None
    sent = 0
    for target in channel.targets(sub):
        claim = f"{ctx.prefix}:digest:{sub.name}:{target.id}:{day.isoformat()}"
        if not ctx.client.set(claim, "1", nx=True, ex=CLAIM_TTL):
            continue  # sent (or being sent) already
        digest = digest or Digest(tuple(_lines(ctx, sub.name, scheduled)), scheduled)
        if not digest.lines:
            continue  # nothing to report: the claim stands for today
        try:
            channel.send_digest(target, digest)
            sent += 1
        except DeliveryError as exc:
            ctx.client.delete(claim)  # the next run tries again
            log.warning("digest failed: %s", exc.message, extra={"subscriber": sub.name})
    return sent


def _lines(ctx: DeliveryWiring, subscriber: str, scheduled: datetime) -> list[DigestLine]:
    start = scheduled - timedelta(days=1)
    days = {t.astimezone(ZoneInfo("UTC")).date() for t in (start, scheduled)}
    records = [r for d in sorted(days) for r in ctx.log.delivered_on(d.isoformat())]
    return collect(records, subscriber, start, scheduled)
