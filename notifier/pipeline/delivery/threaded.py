"""Sending one alert to one target in its incident's thread.

The parent's reference on the target (the thread's first message) decides between
opening the thread and replying in it; a cascade alert replies in its upstream's
thread. The references of the first target are read ahead, with the attempt record
(`refs_ahead`): one round trip fewer before the vendor request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from notifier.channels.base import Channel, NotYet, SendResult
from notifier.models import Alert, AlertKind
from notifier.pipeline.delivery.inflight import send_once
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import RefKey

# The references read ahead (`refs_ahead`), once the attempt record's round trip ran.
KnownRefs = Callable[[], dict[RefKey, str | None]]


def refs_ahead(alert: Alert, channel: Channel, target_id: str) -> list[RefKey]:
    """The parent references `send_threaded` reads for one target."""
    if not channel.supports_threads:
        return []
    own = [(alert.thread_key, channel.name, target_id)]
    return [*own, (alert.attached_to, channel.name, target_id)] if alert.attached_to else own


def send_threaded(
    alert: Alert, channel: Channel, target: Any, ctx: DeliveryWiring, writes: Any,
    since: datetime | None, known: KnownRefs | None = None,
) -> SendResult:  # fmt: skip
    """Send in the incident's thread; a cascade alert replies in its upstream's thread.
    `since`: an earlier attempt's request to `target` from then on is unanswered.
    `known`: the references read ahead for `target` (`refs_ahead`)."""
    if not channel.supports_threads:
        return send_once(alert, channel, target, None, since)
    ahead = known() if known is not None else {}

    def ref(thread_key: str) -> str | None:
        key = (thread_key, channel.name, target.id)
        return ahead[key] if key in ahead else ctx.threads.ref(*key)

    upstream = ref(alert.attached_to) if alert.attached_to else None
    own = ref(alert.thread_key)
    if own is None and not upstream:
        _wait_for_opener(alert, ctx)
    if upstream and not own:
        # a reply; the parent stays the upstream's
        return send_once(alert, channel, target, upstream, since)
    result = send_once(alert, channel, target, own, since)
    if result.thread_ref and result.thread_ref != own:
        ctx.threads.set_ref(
            alert.thread_key, channel.name, target.id, result.thread_ref, pipe=writes
        )
    return result


def _wait_for_opener(alert: Alert, ctx: DeliveryWiring) -> None:
    """A follow-up must not open the thread while its opener is still on its way
    (retrying): it would post a second parent. Retry shortly instead."""
    if alert.kind in (AlertKind.NEW, AlertKind.CATCH_UP):
        return  # it opens its thread (NEW: the common fan-out case, no lookup)
    entry = ctx.threads.get((alert.subscriber, alert.channel), _ref(alert))
    opener = entry.opened_by if entry is not None else None
    if opener and opener != alert.dedup_key and ctx.alerts.status(opener) is AlertStatus.PENDING:
        raise NotYet("waiting for the thread's first message", retry_after=5.0)


def _ref(alert: Alert) -> tuple[str, str]:
    return (alert.event.provider, alert.event.incident_id)


__all__ = ["KnownRefs", "refs_ahead", "send_threaded"]
