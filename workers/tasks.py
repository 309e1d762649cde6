"""Thin, named tasks: each decodes its arguments, calls a `notifier.pipeline` function
and maps a failure of our own infrastructure to Celery's retry.

What a delivery failure leads to (the retry waiting in Redis, its backoff, when
trying stops), which work is planned inline and how a fan-out is split are the
pipeline's (`retry`, `attempts`, `dispatch`); only the retry of a task our
infrastructure failed is Celery's, with a short countdown.
"""

from __future__ import annotations

from celery import Task

from notifier.pipeline import attempts, history, service
from notifier.pipeline.delivery import retry
from notifier.pipeline.dispatch import PLANNING, Lane, QueueDispatcher
from notifier.pipeline.fanout import PlanLater
from notifier.pipeline.service import Runtime
from notifier.store.delivery.shrink import shrink_due
from workers.app import INFRASTRUCTURE, INFRASTRUCTURE_RETRY, MAX_INFRA_COUNTDOWN_S, app
from workers.context import context


class CeleryQueues:
    """The pipeline's queues as Celery tasks; a message is durable once Redis has it.
    A lane is the queue a message travels on (`notifier.pipeline.dispatch`)."""

    def plan(self, event_ids: list[str]) -> None:
        process_events.apply_async((event_ids,), queue=PLANNING.queue)

    def deliver(self, dedup_key: str, attempt: int, lane: Lane) -> None:
        # The attempt number travels as Celery's retry count (see deliver_alert).
        deliver_alert.apply_async((dedup_key,), retries=attempt, queue=lane.queue)

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        deliver_chunk.apply_async((dedup_keys,), queue=lane.queue)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        plan_chunk.apply_async((event_ids, number, subscribers), queue=PLANNING.queue)


QUEUES = CeleryQueues()
PLAN_LATER_S = 0.5  # how soon a provider's next event looks again at a fan-out in chunks
PLAN_LATER_TRIES = 1200  # ten minutes of them: the lease lapses well before


def _rt() -> Runtime:
    return context().runtime()


def _to(rt: Runtime) -> QueueDispatcher:
    return QueueDispatcher(rt, QUEUES, INFRASTRUCTURE)


@app.task(name="notifier.poll", ignore_result=True)
def poll_provider(provider_id: str) -> str:
    rt = _rt()
    return service.poll(rt, provider_id, _to(rt), service.utcnow()).outcome


@app.task(name="notifier.probe", ignore_result=True)
def probe_provider(provider_id: str, n: int) -> bool:
    rt = _rt()
    return service.probe(rt, provider_id, n, _to(rt), service.utcnow()).result.ok


def _start_poll(provider_id: str, expires_s: float) -> None:
    # A poll older than its interval is stale: the next one supersedes it.
    poll_provider.apply_async((provider_id,), queue="poll", expires=expires_s)


def _start_probe(provider_id: str, n: int, expires_s: float) -> None:
    probe_provider.apply_async((provider_id, n), queue="poll", expires=expires_s)


@app.task(name="notifier.tick", ignore_result=True)
def tick() -> int:
    """Merge webhook pushes; start the polls and probes that are due (every second)."""
    rt = _rt()
    result = service.tick(rt, _to(rt), _start_poll, _start_probe, service.utcnow())
    return len(result.polls) + len(result.probes) + result.pushes.merged


@app.task(bind=True, name="notifier.process", ignore_result=True, **INFRASTRUCTURE_RETRY)
def process_events(self: Task, event_ids: list[str]) -> int:
    rt = _rt()
    try:
        return service.process(rt, event_ids, _to(rt), service.utcnow())
    except PlanLater as exc:  # the provider's earlier fan-out is still being planned
        raise self.retry(countdown=PLAN_LATER_S, max_retries=PLAN_LATER_TRIES, exc=exc) from None


@app.task(name="notifier.plan_chunk", ignore_result=True, **INFRASTRUCTURE_RETRY)
def plan_chunk(event_ids: list[str], number: int, subscribers: list[str]) -> int:
    """One chunk of a large fan-out (`notifier.pipeline.fanout`); its time limit is
    retried, not counted as a poison try: what it claimed stays claimed."""
    rt = _rt()
    return service.plan_chunk(rt, event_ids, number, subscribers, _to(rt), service.utcnow())


@app.task(
    bind=True, name="notifier.deliver", ignore_result=True, max_retries=retry.MAX_DELIVERY_RETRIES
)
def deliver_alert(self: Task, dedup_key: str) -> str:
    attempt = self.request.retries  # set by the retry sweep's hand-on
    rt = _rt()
    try:
        return attempts.deliver(rt, dedup_key, _to(rt), service.utcnow(), attempt)
    except INFRASTRUCTURE as exc:  # Redis or the network blinked: not the vendor's answer
        countdown = retry.backoff(attempt, cap=MAX_INFRA_COUNTDOWN_S)
        raise self.retry(countdown=countdown, exc=exc) from None


@app.task(name="notifier.deliver_chunk", ignore_result=True, **INFRASTRUCTURE_RETRY)
def deliver_chunk(dedup_keys: list[str]) -> int:
    rt = _rt()
    return attempts.deliver_chunk(rt, dedup_keys, _to(rt), service.utcnow())


@app.task(name="notifier.release_retries", ignore_result=True)
def release_retries() -> int:
    rt = _rt()
    return service.release_retries(rt, _to(rt), service.utcnow())


@app.task(name="notifier.release_held", ignore_result=True)
def release_held() -> int:
    rt = _rt()
    return service.release_held(rt, _to(rt), service.utcnow())


@app.task(name="notifier.reconcile", ignore_result=True)
def reconcile() -> tuple[int, int]:
    rt = _rt()
    return service.reconcile(rt, _to(rt), service.utcnow())


@app.task(name="notifier.final_lookups", ignore_result=True)
def final_lookups() -> int:
    rt = _rt()
    return service.look_for_final_words(rt, _to(rt), service.utcnow())


@app.task(name="notifier.escalate", ignore_result=True)
def escalate() -> int:
    return service.escalate_due(_rt(), service.utcnow())


@app.task(name="notifier.digests", ignore_result=True)
def send_digests() -> int:
    return service.send_digests(_rt(), service.utcnow())


@app.task(name="notifier.history_drain", ignore_result=True)
def drain_history() -> int:
    """Write the history outbox to the database (a few seconds apart)."""
    return history.drain_history(_rt(), service.utcnow()).entries


@app.task(name="notifier.alerts_shrink", ignore_result=True)
def shrink_alerts() -> int:
    """Shrink alerts finished more than NOTIFIER_ALERT_PAYLOAD_DAYS ago to their markers."""
    rt = _rt()
    days = rt.settings.alert_payload_days
    return shrink_due(rt.client, rt.settings.key_prefix, service.utcnow(), days)


@app.task(name="notifier.history_sweep", ignore_result=True)
def sweep_history() -> int:
    return history.sweep_history(_rt(), service.utcnow())
