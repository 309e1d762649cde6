"""The delivery stage's entries: one alert, or a chunk of one fan-out, and what a
transient failure leads to.

`deliver` is what the `notifier.deliver` task runs, `deliver_chunk` the
`notifier.deliver_chunk` task. The attempt number is the alert's own, kept in Redis
(`notifier.store.delivery.retries`: the retry sweep's entry stays until the alert
finishes), never the harness's: a task the harness retries after our infrastructure
failed tries the same attempt again, and spends none.

A transient `DeliveryError` becomes the next attempt, waiting in Redis at the time
`notifier.pipeline.delivery.retry` picks; `notifier.pipeline.delivery.release` hands it
on. A delivery that raises anything else (a renderer's bug) is tried again in a minute
and quarantined at its third failed try (`notifier.pipeline.delivery.quarantine`).
Failures of our own infrastructure are raised for the harness to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from notifier.channels.base import DeliveryError
from notifier.pipeline.delivery import parallel, quarantine, retry
from notifier.pipeline.delivery.attempt import DeliveryOutcome, deliver_alert
from notifier.pipeline.handoff import HandOff
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime, utcnow
from notifier.store.conn.batch import Pipe
from notifier.store.delivery.status import AlertStatus

log = logging.getLogger(__name__)

RETRYING = "retrying"  # the status of an attempt whose successor waits in Redis


def deliver(
    rt: Runtime, dedup_key: str, handoff: HandOff, now: datetime, *, due_added: bool = True
) -> str:
    """The alert's next attempt (its number read from Redis with its lock); its status,
    or `RETRYING`. Without `due_added` (an alert its planner delivers inline, not yet in
    its due set: `handoff.DeliverInline`) the alert goes there after the attempt, only
    if it is left unfinished."""
    attempt = retry.NextAttempt()
    try:
        outcome = attempt_one(rt, dedup_key, handoff, now, attempt, due_added=due_added)
    except DeliveryError as exc:  # always "try again later"; failures come back as outcomes
        # From the vendor's answer, not the task's start: a Retry-After is never cut short.
        retry_later(rt, [dedup_key], attempt.number, exc, utcnow())
        if not due_added:
            handoff.undelivered([dedup_key], now)
        return RETRYING
    return outcome.status


def deliver_chunk(rt: Runtime, dedup_keys: Sequence[str], handoff: HandOff, now: datetime) -> int:
    """A chunk of one fan-out; how many alerts were dealt with. The alerts that must
    wait go on the normal retry path, each with its own error (a wait for its turn),
    or with the transient one that stopped the chunk."""
    result = deliver_keys(rt, dedup_keys, handoff, now)
    by_error: dict[int, tuple[DeliveryError, list[tuple[str, int]]]] = {}
    for key, attempt, exc in result.waiting:
        by_error.setdefault(id(exc), (exc, []))[1].append((key, attempt))
    for exc, waiting in by_error.values():
        for attempt in sorted({a for _, a in waiting}):
            keys = [k for k, a in waiting if a == attempt]
            retry_later(rt, keys, attempt, exc, utcnow())
    return result.delivered


def retry_later(
    rt: Runtime, dedup_keys: Sequence[str], attempt: int, exc: DeliveryError, now: datetime
) -> None:
    """Attempt `attempt` of these alerts failed with the transient `exc`: schedule the next."""
    number, when = retry.next_try(exc, attempt, now, rt.settings.retry_base)
    ids = {"dedup_key": dedup_keys[0]} if len(dedup_keys) == 1 else {}
    log.info("%d alert(s): attempt %d at %s: %s", len(dedup_keys), number,
             when.strftime("%H:%M:%S"), exc, extra=ids)  # fmt: skip
    rt.retries.schedule(dedup_keys, number, when)


def attempt_one(
    rt: Runtime,
    dedup_key: str,
    handoff: HandOff,
    now: datetime,
    attempt: int | retry.NextAttempt | None = None,
    final: bool | None = None,
    *,
    due_added: bool = True,
) -> DeliveryOutcome:
    """Attempt `attempt` (None or `NextAttempt`: the alert's own, read from Redis with
    its lock) of one alert; raises `DeliveryError` to be tried again. `final` (None:
    from the attempt number) makes a transient failure a final one. `due_added`: the
    alert is in its due set, to leave once finished; else it goes there unless finished
    (see `deliver`)."""
    number = retry.NextAttempt() if attempt is None else attempt
    finished: list[str] = []
    outcome = _deliver_one(rt, dedup_key, handoff, now, number, final, finished)
    if due_added:
        rt.due(Due.UNDELIVERED).discard(*finished)
    elif dedup_key not in finished:
        handoff.undelivered([dedup_key], now)
    return outcome


@dataclass(frozen=True)
class ChunkResult:
    """How a chunk went: `delivered` keys were dealt with (sent, skipped, failed for
    good); each of `waiting` must be tried again (key, its attempt number), with the
    transient error that says when (its own, or the one that stopped the chunk before
    it was tried)."""

    delivered: int
    waiting: tuple[tuple[str, int, DeliveryError], ...] = ()


def deliver_keys(
    rt: Runtime, dedup_keys: Sequence[str], handoff: HandOff, now: datetime
) -> ChunkResult:
    """Deliver the keys of one fan-out, overlapping their vendors' waits (at most
    `delivery_in_flight` at once, `notifier.pipeline.delivery.parallel`), each
    idempotent on its own, each at its own attempt number (read with its lock). An alert
    done with leaves its due set on its outcome's round trip."""
    finished: list[str] = []  # appended from the sending threads (list.append is atomic)
    settled: list[str] = []  # of those, the ones that left their due set with the outcome
    attempts = {key: retry.NextAttempt() for key in dedup_keys}
    read: set[str] = set()  # the keys whose attempt number their first round trip read
    undelivered = rt.due(Due.UNDELIVERED)

    def one(key: str) -> None:
        def settle(pipe: Pipe) -> None:
            undelivered.discard(key, pipe=pipe)
            settled.append(key)

        try:
            _deliver_one(rt, key, handoff, now, attempts[key], None, finished, settle)
        finally:
            read.add(key)

    try:
        waiting = parallel.deliver_all(dedup_keys, one, rt.settings.delivery_in_flight)
        # The keys never tried (a failure stopped the chunk): their numbers, only now.
        untried = rt.retries.attempts([k for k, _ in waiting if k not in read])
        number = {k: attempts[k].number if k in read else untried.get(k, 0) for k, _ in waiting}
        return ChunkResult(len(finished), tuple((k, number[k], e) for k, e in waiting))
    finally:
        # What did not leave its due set on its own round trip (a quarantined alert); a
        # crash before this only makes the reconcile sweep re-send it, a no-op then.
        undelivered.discard(*sorted(set(finished) - set(settled)))


def _deliver_one(
    rt: Runtime,
    dedup_key: str,
    handoff: HandOff,
    now: datetime,
    attempt: int | retry.NextAttempt,
    final: bool | None,
    finished: list[str],
    settle: Callable[[Pipe], None] | None = None,
) -> DeliveryOutcome:
    try:
        outcome = deliver_alert(
            dedup_key, rt.delivery, now, attempt=attempt, final=final, settle=settle
        )
    except Exception as exc:
        if not quarantine.is_poison(exc):
            raise
        number = attempt.number if isinstance(attempt, retry.NextAttempt) else attempt
        return _poisoned(rt, dedup_key, number, exc, now, finished)
    if outcome.not_before is not None:
        rt.due(Due.HELD).add(dedup_key, outcome.not_before)
    else:
        finished.append(dedup_key)
    if outcome.page_id and outcome.check_escalation_at is not None:
        rt.due(Due.ESCALATIONS).add(outcome.page_id, outcome.check_escalation_at)
    if outcome.fallback_key:
        handoff.alerts([outcome.fallback_key], now)
    return outcome


def _poisoned(
    rt: Runtime, dedup_key: str, attempt: int, exc: Exception, now: datetime, finished: list[str]
) -> DeliveryOutcome:
    """A delivery raised something other than a `DeliveryError` (a renderer's bug): try
    it again in a minute, like a killed worker's, and at the third failed try give up on
    it (failed, quarantined) instead of stopping the batch it came in."""
    try:
        alert = rt.alerts.get(dedup_key)
    except Exception as again:  # the record itself may be what cannot be read
        if not quarantine.is_poison(again):
            raise
        alert = None
    provider, incident, channel = (
        (alert.event.provider, alert.event.incident_id, alert.channel) if alert else ("", "", "")
    )
    what = quarantine.entry("alert", dedup_key, provider, incident, "delivery", exc, now, channel)
    if not quarantine.failed_try(rt.quarantine, rt.metrics, what):
        rt.retries.schedule([dedup_key], attempt + 1, now + quarantine.DELIVERY_RETRY)
        return DeliveryOutcome(dedup_key, "retrying", channel, error=what.reason)
    pipe = rt.client.pipeline(transaction=False)
    rt.alerts.finish(
        dedup_key, AlertStatus.FAILED, now, error=f"quarantined: {what.reason}", pipe=pipe
    )
    rt.metrics.record_delivery(channel or "unknown", AlertStatus.FAILED, None, pipe=pipe)
    pipe.execute()
    finished.append(dedup_key)
    return DeliveryOutcome(dedup_key, "quarantined", channel, error=what.reason)
