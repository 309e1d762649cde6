"""Thin, named tasks: each decodes its arguments, calls the one entry function of its
stage in `notifier.pipeline` and maps a failure of our own infrastructure to Celery's
retry.

What a delivery failure leads to (the retry waiting in Redis, its backoff, when
trying stops), which work is planned inline and how a fan-out is split are the
pipeline's (`delivery.retry`, `delivery.stage`, `handoff`); only the retry of a task
our infrastructure failed is Celery's, with a short countdown. `CeleryQueues` is the
hand-off's queues: the pipeline hands work on through it and never imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from notifier.pipeline import history, sweeps
from notifier.pipeline.delivery import release, retry
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.handoff import PLANNING, DeliverInline, HandOff, Lane, PlanInline
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.ingest import tick as ticking
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.plan.fanout import PlanLater
from notifier.pipeline.runtime.wiring import Runtime, utcnow
from workers.app import MAX_INFRA_COUNTDOWN_S, app
from workers.process_state import loaded

# The failures a task retries with a Celery countdown: our infrastructure's, and a task
# cut short by its soft time limit.
INFRASTRUCTURE = (*retry.INFRASTRUCTURE, SoftTimeLimitExceeded)
INFRASTRUCTURE_RETRY: dict[str, Any] = {
    "autoretry_for": INFRASTRUCTURE,
    "retry_backoff": 2,
    "retry_backoff_max": MAX_INFRA_COUNTDOWN_S,
    "retry_jitter": True,
    "max_retries": 10,
}


class CeleryQueues:
    """The hand-off's queues as Celery tasks; a message is durable once Redis has it.
    A lane is the queue a message travels on (`notifier.pipeline.handoff`)."""

    def plan(self, event_ids: list[str]) -> None:
        process_events.apply_async((event_ids,), queue=PLANNING.queue)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        plan_chunk.apply_async((event_ids, number, subscribers), queue=PLANNING.queue)

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        # Only the key: the attempt number is the alert's own, in Redis.
        deliver_alert.apply_async((dedup_key,), queue=lane.queue)

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        deliver_chunk.apply_async((dedup_keys,), queue=lane.queue)


QUEUES = CeleryQueues()
PLAN_LATER_S = 0.5  # how soon a provider's next event looks again at a fan-out in chunks
PLAN_LATER_TRIES = 1200  # ten minutes of them: the lease lapses well before


def _rt() -> Runtime:
    return loaded().runtime()


def _plan_inline(rt: Runtime) -> PlanInline:
    def plan_now(event_ids: Sequence[str], handoff: HandOff) -> object:
        return plan.process(rt, event_ids, handoff, utcnow())

    return plan_now


def _deliver_inline(rt: Runtime) -> DeliverInline:
    def deliver_now(dedup_key: str, handoff: HandOff) -> object:
        # Not in its due set yet: the delivery puts it there if left unfinished.
        return delivery.deliver(rt, dedup_key, handoff, utcnow(), due_added=False)

    return deliver_now


def _to(rt: Runtime, *, detecting: bool = False) -> HandOff:
    """The hand-off of a task on `rt`. A detecting task (a poll, a probe) also delivers
    the first alerts of a fan-out it plans inline; the every-second tick never does, so
    a slow vendor cannot hold up the polls it starts."""
    return HandOff(
        rt, QUEUES, plan_inline=_plan_inline(rt),
        deliver_inline=_deliver_inline(rt) if detecting else None,
        transient=INFRASTRUCTURE, retry_later=(PlanLater,),
    )  # fmt: skip


@app.task(name="notifier.poll", ignore_result=True)
def poll_provider(provider_id: str) -> str:
    rt = _rt()
    return ingest.poll(rt, provider_id, _to(rt, detecting=True), utcnow()).outcome


@app.task(name="notifier.probe", ignore_result=True)
def probe_provider(provider_id: str, n: int) -> bool:
    rt = _rt()
    return ingest.probe(rt, provider_id, n, _to(rt, detecting=True), utcnow()).result.ok


def _start_poll(provider_id: str, expires_s: float) -> None:
    # A poll older than its interval is stale: the next one supersedes it.
    poll_provider.apply_async((provider_id,), queue="poll", expires=expires_s)


def _start_probe(provider_id: str, n: int, expires_s: float) -> None:
    probe_provider.apply_async((provider_id, n), queue="poll", expires=expires_s)


@app.task(name="notifier.tick", ignore_result=True)
def tick() -> int:
    """Merge webhook pushes; start the polls and probes that are due (every second)."""
    rt = _rt()
    result = ticking.tick(rt, _to(rt), _start_poll, _start_probe, utcnow())
    return len(result.polls) + len(result.probes) + result.pushes.merged


@app.task(bind=True, name="notifier.process", ignore_result=True, **INFRASTRUCTURE_RETRY)
def process_events(self: Task, event_ids: list[str]) -> int:
    rt = _rt()
    try:
        return plan.process(rt, event_ids, _to(rt), utcnow())
    except PlanLater as exc:  # the provider's earlier fan-out is still being planned
        raise self.retry(countdown=PLAN_LATER_S, max_retries=PLAN_LATER_TRIES, exc=exc) from None


@app.task(name="notifier.plan_chunk", ignore_result=True, **INFRASTRUCTURE_RETRY)
def plan_chunk(event_ids: list[str], number: int, subscribers: list[str]) -> int:
    """One chunk of a large fan-out (`notifier.pipeline.plan.fanout`); its time limit is
    retried, not counted as a poison try: what it claimed stays claimed."""
    rt = _rt()
    return plan.plan_chunk(rt, event_ids, number, subscribers, _to(rt), utcnow())


@app.task(
    bind=True, name="notifier.deliver", ignore_result=True, max_retries=retry.MAX_DELIVERY_RETRIES
)
def deliver_alert(self: Task, dedup_key: str) -> str:
    """The alert's next attempt. A retry of this task (Redis or the network blinked, not
    the vendor's answer) tries the same attempt again: its number is kept in Redis."""
    rt = _rt()
    try:
        return delivery.deliver(rt, dedup_key, _to(rt), utcnow())
    except INFRASTRUCTURE as exc:
        countdown = retry.backoff(self.request.retries, cap=MAX_INFRA_COUNTDOWN_S)
        raise self.retry(countdown=countdown, exc=exc) from None


@app.task(name="notifier.deliver_chunk", ignore_result=True, **INFRASTRUCTURE_RETRY)
def deliver_chunk(dedup_keys: list[str]) -> int:
    rt = _rt()
    return delivery.deliver_chunk(rt, dedup_keys, _to(rt), utcnow())


@app.task(name="notifier.release_retries", ignore_result=True)
def release_retries() -> int:
    rt = _rt()
    return release.release_retries(rt, _to(rt), utcnow())


@app.task(name="notifier.release_held", ignore_result=True)
def release_held() -> int:
    rt = _rt()
    return release.release_held(rt, _to(rt), utcnow())


@app.task(name="notifier.reconcile", ignore_result=True)
def reconcile() -> tuple[int, int]:
    rt = _rt()
    return release.reconcile(rt, _to(rt), utcnow())


@app.task(name="notifier.final_lookups", ignore_result=True)
def final_lookups() -> int:
    rt = _rt()
    return ingest.look_for_final_words(rt, _to(rt), utcnow())


@app.task(name="notifier.escalate", ignore_result=True)
def escalate() -> int:
    return sweeps.escalate_due(_rt(), utcnow())


@app.task(name="notifier.digests", ignore_result=True)
def send_digests() -> int:
    return sweeps.send_digests(_rt(), utcnow())


@app.task(name="notifier.history_drain", ignore_result=True)
def drain_history() -> int:
    """Write the history outbox to the database (a few seconds apart)."""
    return history.drain_history(_rt(), utcnow()).entries


@app.task(name="notifier.alerts_shrink", ignore_result=True)
def shrink_alerts() -> int:
    """Shrink alerts finished more than NOTIFIER_ALERT_PAYLOAD_DAYS ago to their markers."""
    return sweeps.shrink_finished(_rt(), utcnow())


@app.task(name="notifier.history_sweep", ignore_result=True)
def sweep_history() -> int:
    return history.sweep_history(_rt(), utcnow())
