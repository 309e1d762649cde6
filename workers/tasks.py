"""Thin, named tasks. Each takes ids, builds nothing itself, and calls notifier.pipeline.service.

Retries belong here alone: channels raise DeliveryError(permanent=...) and never
sleep; this layer turns a transient one into a retry with exponential backoff,
jitter and a cap, honouring Retry-After. The retry waits in Redis
(notifier.store.retries) and beat hands it on; only a failure of our own
infrastructure is retried with a (short) Celery countdown.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import redis
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from notifier.channels.base import DeliveryError
from notifier.config.settings import get_settings
from notifier.pipeline import service
from notifier.store import retries
from workers.app import MAX_INFRA_COUNTDOWN_S, app

log = logging.getLogger(__name__)
MAX_DELIVERY_RETRIES = 8
INLINE_PLAN_MAX = 50  # subscribers; a larger fan-out is planned by its own task
DELIVERY_CHUNK = 10  # alerts per task; small enough to finish inside the soft time limit
# Failures of our own infrastructure, retried with backoff; the reconcile sweep
# re-sends whatever still slips through.
INFRASTRUCTURE = (redis.RedisError, OSError, TimeoutError, SoftTimeLimitExceeded)
INFRASTRUCTURE_RETRY: dict[str, Any] = {
    "autoretry_for": INFRASTRUCTURE,
    "retry_backoff": 2,
    "retry_backoff_max": MAX_INFRA_COUNTDOWN_S,
    "retry_jitter": True,
    "max_retries": 10,
}


def _rt() -> service.Runtime:
    return service.runtime(get_settings(), app.conf.notifier_redis_url)


class CeleryDispatcher:
    """Enqueues the next stage; a message is durable once Redis has it."""

    def process(self, event_ids: Sequence[str]) -> None:
        # One batch per poll: its events are planned in order (see service.process).
        rt = _rt()
        if len(rt.config.subscribers) <= INLINE_PLAN_MAX:
            # Planning a small fan-out takes milliseconds; doing it here saves a broker
            # hop (most of the detection-to-delivery overhead). The events are already
            # saved and the poll has not committed, so a failure here loses nothing.
            try:
                service.process(rt, list(event_ids), self, service.utcnow())
                return
            except INFRASTRUCTURE as exc:
                log.warning("inline planning failed (%s); queueing it", type(exc).__name__)
        process_events.apply_async((list(event_ids),), queue="deliver")

    def deliver(self, dedup_keys: Sequence[str], attempt: int = 0) -> None:
        keys = list(dedup_keys)
        if len(keys) == 1 or attempt:
            for key in keys:
                deliver_alert.apply_async((key,), retries=attempt, queue="deliver")
            return
        # A fan-out goes in chunks: one task per alert costs more than the alert.
        for i in range(0, len(keys), DELIVERY_CHUNK):
            deliver_chunk.apply_async((keys[i : i + DELIVERY_CHUNK],), queue="deliver")


DISPATCHER = CeleryDispatcher()


@app.task(name="notifier.poll", ignore_result=True)
def poll_provider(provider_id: str) -> str:
    return service.poll(_rt(), provider_id, DISPATCHER, service.utcnow()).outcome


@app.task(
    name="notifier.process",
    ignore_result=True,
    **INFRASTRUCTURE_RETRY,
)
def process_events(event_ids: list[str]) -> int:
    return service.process(_rt(), event_ids, DISPATCHER, service.utcnow())


def retry_later(dedup_keys: list[str], attempt: int, exc: DeliveryError) -> None:
    """Attempt `attempt` of these alerts failed with the transient `exc`: schedule the next."""
    number, when = retries.next_try(exc, attempt, service.utcnow())
    ids = {"dedup_key": dedup_keys[0]} if len(dedup_keys) == 1 else {}
    log.info("%d alert(s): attempt %d at %s: %s", len(dedup_keys), number,
             when.strftime("%H:%M:%S"), exc, extra=ids)  # fmt: skip
    service.retry_later(_rt(), dedup_keys, number, when)


@app.task(bind=True, name="notifier.deliver", ignore_result=True, max_retries=MAX_DELIVERY_RETRIES)
def deliver_alert(self: Task, dedup_key: str) -> str:
    attempt = self.request.retries  # set by the retry sweep's hand-on
    final = attempt >= MAX_DELIVERY_RETRIES
    try:
        outcome = service.deliver(_rt(), dedup_key, DISPATCHER, service.utcnow(), attempt, final)
    except DeliveryError as exc:  # always "try again later"; failures come back as outcomes
        retry_later([dedup_key], attempt, exc)
        return "retrying"
    except INFRASTRUCTURE as exc:  # Redis or the network blinked: not the vendor's answer
        countdown = retries.backoff(attempt, cap=MAX_INFRA_COUNTDOWN_S)
        raise self.retry(countdown=countdown, exc=exc) from None
    return outcome.status


@app.task(
    name="notifier.deliver_chunk",
    ignore_result=True,
    **INFRASTRUCTURE_RETRY,
)
def deliver_chunk(dedup_keys: list[str]) -> int:
    """Deliver a chunk of one fan-out. At the first transient failure the vendor is
    struggling: that key and the rest of the chunk go on the normal retry path."""
    result = service.deliver_chunk(_rt(), dedup_keys, DISPATCHER, service.utcnow())
    if result.error is not None and result.stopped_at is not None:
        retry_later(dedup_keys[result.stopped_at :], 0, result.error)
    return result.delivered


@app.task(name="notifier.release_retries", ignore_result=True)
def release_retries() -> int:
    return service.release_retries(_rt(), DISPATCHER, service.utcnow())


@app.task(name="notifier.release_held", ignore_result=True)
def release_held() -> int:
    return service.release_held(_rt(), DISPATCHER, service.utcnow())


@app.task(name="notifier.reconcile", ignore_result=True)
def reconcile() -> tuple[int, int]:
    return service.reconcile(_rt(), DISPATCHER, service.utcnow())


@app.task(name="notifier.escalate", ignore_result=True)
def escalate() -> int:
    return service.escalate_due(_rt(), service.utcnow())


@app.task(name="notifier.digests", ignore_result=True)
def send_digests() -> int:
    return service.send_digests(_rt(), service.utcnow())
