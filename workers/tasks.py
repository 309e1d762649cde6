"""Thin, named tasks. Each takes ids, builds nothing itself, and calls notifier.service.

Retries belong here alone: channels raise DeliveryError(permanent=...) and never
sleep; this layer turns a transient one into a countdown retry with exponential
backoff, jitter and a cap, honouring Retry-After.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

import redis
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from notifier import service
from notifier.channels.base import DeliveryError
from notifier.settings import get_settings
from workers.app import MAX_COUNTDOWN_S, app

log = logging.getLogger(__name__)
MAX_DELIVERY_RETRIES = 8
# Failures of our own infrastructure, retried with backoff; the reconcile sweep
# re-sends whatever still slips through.
INFRASTRUCTURE = (redis.RedisError, OSError, TimeoutError, SoftTimeLimitExceeded)


def _rt() -> service.Runtime:
    return service.runtime(get_settings(), app.conf.notifier_redis_url)


class CeleryDispatcher:
    """Enqueues the next stage; a message is durable once Redis has it."""

    def process(self, event_ids: Sequence[str]) -> None:
        # One message per poll: its events are planned in order (see service.process).
        process_events.apply_async((list(event_ids),), queue="deliver")

    def deliver(self, dedup_keys: Sequence[str]) -> None:
        for key in dedup_keys:
            deliver_alert.apply_async((key,), queue="deliver")


DISPATCHER = CeleryDispatcher()


@app.task(name="notifier.poll", ignore_result=True)
def poll_provider(provider_id: str) -> str:
    return service.poll(_rt(), provider_id, DISPATCHER, service.utcnow()).outcome


@app.task(
    name="notifier.process",
    ignore_result=True,
    autoretry_for=INFRASTRUCTURE,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def process_events(event_ids: list[str]) -> int:
    return service.process(_rt(), event_ids, DISPATCHER, service.utcnow())


def backoff(retries: int, base: float = 5.0, cap: float = MAX_COUNTDOWN_S) -> float:
    """Full-jitter exponential backoff: spreads a burst of retries after an outage."""
    return random.uniform(base / 2, min(cap, base * 2**retries))


@app.task(bind=True, name="notifier.deliver", ignore_result=True, max_retries=MAX_DELIVERY_RETRIES)
def deliver_alert(self: Task, dedup_key: str) -> str:
    retries = self.request.retries
    final = retries >= MAX_DELIVERY_RETRIES
    try:
        outcome = service.deliver(_rt(), dedup_key, DISPATCHER, service.utcnow(), retries, final)
    except DeliveryError as exc:
        if exc.permanent or final:
            log.warning("delivery failed for good: %s", exc, extra={"dedup_key": dedup_key})
            return "failed"
        countdown = min(exc.retry_after or backoff(retries), MAX_COUNTDOWN_S)
        log.info("delivery will retry in %.0fs: %s", countdown, exc, extra={"dedup_key": dedup_key})
        raise self.retry(countdown=countdown, exc=exc) from None
    except INFRASTRUCTURE as exc:  # Redis or the network blinked: not the vendor's answer
        raise self.retry(countdown=backoff(retries), exc=exc) from None
    return outcome.status


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
