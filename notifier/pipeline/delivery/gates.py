"""The gates an alert passes before its attempt, once its status says it is not
finished: held (quiet hours), silenced, paused (the vendor asked us to wait) and its
turn in its thread.

A gate that stops an alert for now raises `NotYet` (not an attempt: the attempt
number stays); one that finishes it (a silence) is recorded by the attempt.
"""

from __future__ import annotations

import logging
from datetime import datetime

from notifier.channels.kinds import channel_kind
from notifier.channels.render import is_resolution
from notifier.models import Alert
from notifier.pipeline.delivery.retry import TURN_WAIT_MAX, OutOfTurn, turn_wait
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.route.silencing import silence_for
from notifier.store.conn.batch import Batch
from notifier.store.delivery.alerts import Earlier, dedup_key_for
from notifier.store.delivery.status import AlertStatus
from notifier.store.ops.silences import Silence

log = logging.getLogger(__name__)


def held(alert: Alert, now: datetime) -> datetime | None:
    """Until when quiet hours (or a rate cap) hold `alert`; None: it may go now."""
    return alert.hold_until if alert.hold_until is not None and alert.hold_until > now else None


def take_turn(
    alert: Alert, ctx: DeliveryWiring, earlier: Earlier | None, since: datetime | None,
    now: datetime, writes: Batch,
) -> None:  # fmt: skip
    """Raise `OutOfTurn` while the alert planned before this one in its thread is still
    on its way (see `retry.turn_wait`); past the longest wait, go with a warning."""
    if earlier is None or _orders_itself(alert):
        return
    carried = {dedup_key_for(e.event_id, alert.subscriber, alert.channel) for e in alert.carried}
    wait = turn_wait(earlier, carried, since, now)
    if wait is not None:
        ctx.log.note_waiting(alert.dedup_key, now, writes.pipe)
        raise OutOfTurn(f"waiting for {earlier.dedup_key}, earlier in its thread",
                        retry_after=wait)  # fmt: skip
    if turn_wait(earlier, carried, None, now) is not None:  # it would wait, but waited enough
        log.warning("sending out of order: %s, earlier in its thread, is still pending after "
                    "%d min", earlier.dedup_key, TURN_WAIT_MAX.total_seconds() // 60,
                    extra={"dedup_key": alert.dedup_key})  # fmt: skip


def _orders_itself(alert: Alert) -> bool:
    """An all-clear on a channel that pages goes at once: the pager already makes a page
    that comes after its all-clear send nothing, so nobody is paged for an incident
    that is over, and the all-clear needs no page before it."""
    kind = channel_kind(alert.channel)
    return kind is not None and kind.sends_by_paging and is_resolution(alert)


def silenced(
    alert: Alert, silences: list[Silence], ctx: DeliveryWiring, now: datetime
) -> Silence | None:
    """The silence muting `alert`; a resolution still goes to a route that heard the opening."""

    def opening_sent() -> bool:
        entry = ctx.threads.get((alert.subscriber, alert.channel), _ref(alert))
        opener = entry.opened_by if entry is not None else None
        return opener is not None and ctx.alerts.status(opener) in (
            AlertStatus.DELIVERED, AlertStatus.PRINTED,
        )  # fmt: skip

    return silence_for(alert, silences, now, opening_sent) if silences else None


def _ref(alert: Alert) -> tuple[str, str]:
    return (alert.event.provider, alert.event.incident_id)
