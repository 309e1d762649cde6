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
    At the first transient failure the vendor is struggling: that key and the rest of
    the chunk go on the normal retry path. An alert that waits for an earlier one of
    its thread waits alone."""
    result = service.deliver_chunk(rt, dedup_keys, dispatcher, now)
    for key, wait in result.waiting:
        retry_later(rt, [key], 0, wait, service.utcnow())
    if result.error is not None and result.stopped_at is not None:
        retry_later(rt, dedup_keys[result.stopped_at :], 0, result.error, service.utcnow())
    return result.delivered


def retry_later(
    rt: Runtime, dedup_keys: Sequence[str], attempt: int, exc: DeliveryError, now: datetime
) -> None:
    """Attempt `attempt` of these alerts failed with the transient `exc`: schedule the next."""
    number, when = retry.next_try(exc, attempt, now)
    ids = {"dedup_key": dedup_keys[0]} if len(dedup_keys) == 1 else {}
    log.info("%d alert(s): attempt %d at %s: %s", len(dedup_keys), number,
             when.strftime("%H:%M:%S"), exc, extra=ids)  # fmt: skip
    service.retry_later(rt, dedup_keys, number, when)
