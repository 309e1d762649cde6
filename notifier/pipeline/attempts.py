"""A delivery task's body: one attempt, and what a transient failure leads to.

A transient `DeliveryError` becomes the next attempt, waiting in Redis
(`RetryQueue`) at the time `notifier.pipeline.delivery.retry` picks; `release_retries` hands
it on. Failures of our own infrastructure are raised for the harness to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from notifier.channels.base import DeliveryError
from notifier.pipeline import service
from notifier.pipeline.delivery import retry
from notifier.pipeline.service import Dispatcher, Runtime

log = logging.getLogger(__name__)

RETRYING = "retrying"  # the status of an attempt whose successor waits in Redis


def deliver(
    rt: Runtime, dedup_key: str, dispatcher: Dispatcher, now: datetime, attempt: int
) -> str:
    """Attempt `attempt` (0 = the first) of one alert; its status, or `RETRYING`."""
    try:
        outcome = service.deliver(
            rt, dedup_key, dispatcher, now, attempt, final=retry.is_last(attempt)
        )
    except DeliveryError as exc:  # always "try again later"; failures come back as outcomes
        # From the vendor's answer, not the task's start: a Retry-After is never cut short.
        retry_later(rt, [dedup_key], attempt, exc, service.utcnow())
        return RETRYING
    return outcome.status


def deliver_chunk(
    rt: Runtime, dedup_keys: Sequence[str], dispatcher: Dispatcher, now: datetime
) -> int:
    """The first attempt of a chunk of one fan-out; how many alerts were dealt with.
    The alerts that must wait go on the normal retry path, each with its own error
    (a wait for its turn), or with the transient one that stopped the chunk."""
    result = service.deliver_chunk(rt, dedup_keys, dispatcher, now)
    by_error: dict[int, tuple[DeliveryError, list[str]]] = {}
    for key, exc in result.waiting:
        by_error.setdefault(id(exc), (exc, []))[1].append(key)
    for exc, keys in by_error.values():
        retry_later(rt, keys, 0, exc, service.utcnow())
    return result.delivered


def retry_later(
    rt: Runtime, dedup_keys: Sequence[str], attempt: int, exc: DeliveryError, now: datetime
) -> None:
    """Attempt `attempt` of these alerts failed with the transient `exc`: schedule the next."""
    number, when = retry.next_try(exc, attempt, now, rt.settings.retry_base)
    ids = {"dedup_key": dedup_keys[0]} if len(dedup_keys) == 1 else {}
    log.info("%d alert(s): attempt %d at %s: %s", len(dedup_keys), number,
             when.strftime("%H:%M:%S"), exc, extra=ids)  # fmt: skip
    service.retry_later(rt, dedup_keys, number, when)
