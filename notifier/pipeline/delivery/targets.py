"""A vendor's 429 pauses the target it limited, not the whole channel.

A webhook URL, a PagerDuty routing key, an Opsgenie key or an apprise URL answers for
itself: one subscriber's receiver asking us to slow down says nothing about another's.
For channels that declare `pauses_per_target`, a send first waits (`NotYet`) while its
target is paused, and a Retry-After it gets pauses that target alone; the error goes on
without its Retry-After, which would otherwise pause every subscriber of the channel
(the way Slack scopes its own pauses to one Slack channel).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from notifier.channels.base import Channel, DeliveryError, NotYet
from notifier.store.delivery.pacing import Pacing, wait_for

T = TypeVar("T")


def scope(channel: Channel, target_id: str) -> str:
    """The pause key's scope for one target (its id never holds a secret)."""
    return f"{channel.name}:target:{target_id}"


def send_paced(
    pacing: Pacing, channel: Channel, target_id: str, now: datetime, send: Callable[[], T]
) -> T:
    """`send()`, unless the target is paused; a 429 from it pauses it alone."""
    if not channel.pauses_per_target:
        return send()
    where = scope(channel, target_id)
    until = pacing.paused([where], now).get(where)
    wait = wait_for(until.timestamp(), now) if until is not None else None
    if wait is not None:
        raise NotYet(f"{channel.name}: {target_id} paused at the vendor's request",
                     retry_after=wait)  # fmt: skip
    try:
        return send()
    except DeliveryError as exc:
        if exc.retry_after is None or exc.permanent or isinstance(exc, NotYet):
            raise
        pacing.pause(where, exc.retry_after, now)
        raise DeliveryError(f"{exc.message} ({target_id} paused {exc.retry_after:.0f} s)",
                            permanent=False, unknown=exc.unknown) from None  # fmt: skip


__all__ = ["scope", "send_paced"]
