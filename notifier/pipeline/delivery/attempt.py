"""Deliver one alert, exactly once as far as we can tell, and record how it went.

`deliver_alert` is one attempt (`notifier.pipeline.delivery.stage` runs it for each
alert). It is idempotent: a short per-dedup_key lock keeps two workers apart, a finished
status in the alert's record (`notifier.store.delivery.status`) makes a rerun a no-op, and
per-target marks make a retry after a partial failure send only what is missing. So a task run
twice, `acks_late` redelivery after a crash, or a retry posts once.

Errors: a transient `DeliveryError` is re-raised for the stage to retry, unless
this is the `final` attempt; a permanent one (or the final attempt failing) is
recorded as failed and, if the subscriber names a `fallback` channel, the same
alert is claimed under the dedup_key `<key>:fallback:<channel>` and returned as
`fallback_key` for the caller to deliver as its own task, with its own retries.

Before the attempt, the gates (`notifier.pipeline.delivery.gates`): already finished,
held for quiet hours, silenced, paused by the vendor, or out of its turn in its thread.
A request an earlier attempt left unanswered is looked up at the vendor before it is
sent again (`notifier.pipeline.delivery.inflight`).

An escalation that carries an alert held for quiet hours (`Alert.carried`) marks
that one skipped ("carried by ...") with its own outcome, in the same round trip,
so the held alert is not sent when the quiet hours end.

A killed worker: the attempt record also schedules the next attempt `WATCHDOG`
later in the retry queue; a delivery that ends (in any outcome) removes it, a
transient failure replaces it with its own retry. So a delivery whose worker was
killed (a hard time limit, kill -9) is tried again within seconds instead of
waiting for the reconcile sweep, and takes the dead worker's lock over as soon as
that worker's heartbeat is stale (`notifier.pipeline.delivery.lock`), or once its
request may no longer land when it left one in flight.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from notifier.channels.base import Channel, DeliveryError, NotYet
from notifier.channels.build import stands_in
from notifier.channels.kinds import channel_kind
from notifier.channels.render import is_resolution
from notifier.channels.sms.pager import Recipients
from notifier.models import Alert, AlertKind
from notifier.pipeline.delivery.gates import held, silenced, take_turn
from notifier.pipeline.delivery.inflight import Progress
from notifier.pipeline.delivery.lock import (
    landing_ms,
    queue_lock,
    queue_release,
    release_after_failover,
    release_again,
)
from notifier.pipeline.delivery.retry import NextAttempt, OutOfTurn, is_last
from notifier.pipeline.delivery.targets import send_paced
from notifier.pipeline.delivery.threaded import KnownRefs, refs_ahead, send_threaded
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.conn.batch import Batch, Later, Pipe
from notifier.store.conn.durable import execute_confirmed
from notifier.store.delivery.alerts import dedup_key_for
from notifier.store.delivery.lease import lock_value
from notifier.store.delivery.pacing import Turn, wait_for
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import RefKey

log = logging.getLogger(__name__)

FALLBACK_MARK = ":fallback:"
# The next attempt of a delivery whose worker is killed mid-attempt comes this soon
# (see the module docstring); it takes the lock over once the dead worker's heartbeat
# is stale (`lease`: 3 heartbeat intervals). A live attempt still sending by then keeps
# its lock, and the watchdog's attempt waits its turn.
WATCHDOG = timedelta(seconds=15)
PRINTED_TTL_S = 30 * 24 * 3600  # as long as the alert's own claim


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """How one `deliver_alert` call ended.

    status: delivered | printed (the console stood in) | skipped | failed |
    already_delivered | already_failed | already_printed |
    already_skipped | silenced | already_silenced | missing | held.
    `check_escalation_at` asks the escalation sweep to look at `page_id`
    then; `not_before` asks to deliver again then.
    """

    dedup_key: str
    status: str
    channel: str = ""
    message_ids: tuple[str, ...] = ()
    error: str = ""
    page_id: str | None = None
    check_escalation_at: datetime | None = None
    not_before: datetime | None = None
    fallback_key: str | None = None


def deliver_alert(
    dedup_key: str, ctx: DeliveryWiring, now: datetime, *,
    attempt: int | NextAttempt = 0, final: bool | None = False,
    settle: Callable[[Pipe], None] | None = None,
) -> DeliveryOutcome:  # fmt: skip
    """Deliver the alert stored under `dedup_key`. A `DeliveryError` raised here always
    means "try again later" (a transient failure before the final attempt, or a
    `NotYet`); a permanent or final failure is returned as a `failed` outcome.
    `NextAttempt`: the alert's own attempt, read with the lock; `final` None: its last.
    `settle` queues the caller's writes for an alert that is done with (an outcome, not
    held) on the outcome's round trip."""
    lock_prefix, token = f"{ctx.prefix}:delivery:lock:", lock_value(secrets.token_hex(8))
    lock_key = lock_prefix + dedup_key
    # One round trip takes the lock and reads all a delivery decides on (the reads
    # run after the SET, so they see what the previous holder wrote).
    reads = Batch(ctx.client)
    # Free, or held by a worker whose heartbeat is gone (killed): taken over (`lease`),
    # once a request that worker left on its way can no longer reach the vendor.
    queue_lock(reads.pipe, ctx, dedup_key, lock_key, token, now)
    locked = reads.later(bool)
    reads.pipe.pttl(lock_key)
    lock_left = reads.later(int)
    loaded = ctx.alerts.load_into(reads, dedup_key)
    sent = ctx.log.sent_to_into(reads, dedup_key)
    flight = ctx.log.in_flight_into(reads, dedup_key)
    paused = ctx.pacing.pauses_into(reads, list(ctx.channels))
    earlier = ctx.alerts.earlier_into(
        reads, dedup_key, lock_prefix=lock_prefix, retries_key=ctx.retries.key
    )
    waiting = ctx.log.waiting_since_into(reads, dedup_key)
    silences = ctx.silences.all_into(reads, now)
    own = ctx.retries.attempt_into(reads, dedup_key) if isinstance(attempt, NextAttempt) else None
    try:
        reads.execute()
    except Exception:
        # The lock's SET may have been applied with its answer lost (Redis failed over
        # under it): this token's lock would then hold the alert for a whole lease behind
        # a live heartbeat. Release it, if it is ours, before the error goes up.
        release_again(ctx, lock_key, token)
        raise
    number = own.get() if own is not None else attempt if isinstance(attempt, int) else 0
    if isinstance(attempt, NextAttempt):
        attempt.number = number
    last = is_last(number) if final is None else final
    release_after_failover(ctx)  # when this process has just seen a new primary
    if not locked.get():
        # Try again when the holder's lock lapses at the latest (a killed holder's does).
        # A killed holder's lock is taken over once its heartbeat is stale, or fenced
        # while its request may still land (`lease`): look again soon.
        left = max(1.0, lock_left.get() / 1000)
        raise NotYet("delivery already in progress", retry_after=min(5.0, left))
    # What this delivery records goes in one more round trip, ending with the release.
    writes = Batch(ctx.client)
    ended = True  # False while a transient error goes up: its retry replaces the watchdog
    hold: datetime | None = None
    try:
        alert, state = loaded.get()
        if alert is None:
            log.warning("alert record missing (expired?)", extra={"dedup_key": dedup_key})
            return DeliveryOutcome(dedup_key, "missing")
        if state is not None and state.finished:
            return DeliveryOutcome(dedup_key, f"already_{state.value}", alert.channel)
        if (hold := held(alert, now)) is not None:
            return DeliveryOutcome(dedup_key, "held", alert.channel, not_before=hold)
        muted = silenced(alert, silences.get(), ctx, now)
        if muted is not None:  # decided at send time: a silence added now mutes at once
            ctx.log.attempt(alert, number, now)  # the record the log and console list
            _record(ctx, alert, AlertStatus.SILENCED, now, writes.pipe,
                    message_id=f"silence:{muted.id}")  # fmt: skip
            return DeliveryOutcome(dedup_key, AlertStatus.SILENCED, alert.channel,
                                   (f"silence:{muted.id}",))  # fmt: skip
        until = paused.get().get(alert.channel)
        wait = wait_for(until, now) if until is not None else None
        if wait is not None:
            ended = False
            raise NotYet(f"{alert.channel}: paused at the vendor's request", retry_after=wait)
        take_turn(alert, ctx, earlier.get(), waiting.get(), now, writes)
        progress = Progress(sent.get(), writes.pipe, flight.get())
        try:
            return _deliver(alert, ctx, now, number, last, progress)
        except DeliveryError:
            ended = False
            raise
    except OutOfTurn:
        ended = False
        raise
    except BaseException:
        settle = None  # not done with (a renderer's bug is tried again)
        raise
    finally:
        if ended:
            ctx.retries.forget(dedup_key, writes.pipe)
            if settle is not None and hold is None:
                settle(writes.pipe)
        queue_release(writes.pipe, lock_key, token)
        # Confirmed by a replica: sent marks, the thread's reference and the outcome
        # lost in a failover are a second send of what was delivered.
        try:
            writes.execute(confirm="a delivery's outcome")
        except Exception:
            release_again(ctx, lock_key, token)
            raise


class _Attempt:
    """The attempt record: one round trip before the first request, with the in-flight
    marks of the targets about to be tried, the watchdog retry, and the first request's
    pacing turn (taken after its mark, as the channel would take it)."""

    def __init__(
        self, ctx: DeliveryWiring, alert: Alert, attempt: int, now: datetime,
        fallback_of: str, progress: Progress,
    ) -> None:  # fmt: skip
        self.ctx, self.alert, self.attempt, self.now = ctx, alert, attempt, now
        self.fallback_of, self.progress, self.written = fallback_of, progress, False
        self.refs: KnownRefs | None = None  # read ahead for the first target
        self.turn: Turn | None = None  # the first target's, taken ahead
        self.paced: Later[float | None] | None = None

    def begin(
        self, in_flight: list[str] | None = None, refs: list[RefKey] | None = None,
        turn: Turn | None = None,
    ) -> None:  # fmt: skip
        """Write the record; `refs` (`threaded.refs_ahead`) are read and `turn` taken in
        its round trip."""
        if self.written:
            return
        self.written = True
        batch = Batch(self.ctx.client)
        key, pipe = self.alert.dedup_key, batch.pipe
        self.ctx.log.attempt(self.alert, self.attempt, self.now, self.fallback_of, pipe=pipe)
        if in_flight:
            channel = self.ctx.channels.get(self.alert.channel)
            landing = landing_ms(channel, len(in_flight))  # one after another
            self.ctx.log.mark_in_flight(key, in_flight, self.now, pipe=pipe, landing_ms=landing)
            self.progress.marked = list(in_flight)
        # A killed worker's delivery is tried again this soon, as one more attempt.
        self.ctx.retries.schedule([key], self.attempt + 1, self.now + WATCHDOG, pipe=pipe)
        self.refs = self.ctx.threads.refs_into(batch, refs) if refs else None
        if turn is not None:
            self.turn, self.paced = turn, self.ctx.pacing.take_into(batch, turn)
        batch.execute()


def _deliver(
    alert: Alert, ctx: DeliveryWiring, now: datetime, attempt: int, final: bool,
    progress: Progress,
) -> DeliveryOutcome:  # fmt: skip
    key = alert.dedup_key
    fallback_of = key.split(FALLBACK_MARK)[0] if FALLBACK_MARK in key else ""
    if alert.kind is AlertKind.FOLLOW_UP:
        alert = _with_members(alert, ctx)
    # Its own round trip, before the send: a crash mid-send still leaves the attempt.
    started = _Attempt(ctx, alert, attempt, now, fallback_of, progress)
    if alert.kind is AlertKind.FOLLOW_UP and not alert.folded:
        started.begin()
        _record(ctx, alert, AlertStatus.SKIPPED, now, progress.writes, error="no members")
        return DeliveryOutcome(key, AlertStatus.SKIPPED, alert.channel, error="no members")
    try:
        outcome = _send(alert, ctx, now, progress, started)
    except DeliveryError as exc:
        started.begin()
        ctx.log.clear_in_flight(key, progress.unanswered(exc), pipe=progress.writes)
        ctx.log.error(key, attempt, now, exc.message, exc.permanent, pipe=progress.writes)
        if exc.retry_after and not exc.permanent and not isinstance(exc, NotYet):
            # The vendor asked us to slow down.
            ctx.pacing.pause(alert.channel, exc.retry_after, now, progress.writes)
        if isinstance(exc, NotYet) or not (exc.permanent or final):
            log.info("transient delivery error: %s", exc.message, extra={"dedup_key": key})
            raise
        log.warning("delivery failed: %s", exc.message, extra={"dedup_key": key})
        _record(ctx, alert, AlertStatus.FAILED, now, progress.writes, error=exc.message)
        fb = None if fallback_of else _fallback(alert, ctx)
        return DeliveryOutcome(key, AlertStatus.FAILED, alert.channel, error=exc.message,
                               fallback_key=fb)  # fmt: skip
    ids = ",".join(outcome.message_ids)
    _record(ctx, alert, AlertStatus(outcome.status), now, progress.writes, message_id=ids)
    if outcome.status in (AlertStatus.DELIVERED, AlertStatus.PRINTED) and not fallback_of:
        _fold_carried(ctx, alert, now, progress.writes)
    _tell(alert, outcome)
    return outcome


def _fold_carried(ctx: DeliveryWiring, alert: Alert, now: datetime, pipe: Pipe) -> None:
    """The held alerts an escalation carried reached the subscriber with it: they are
    finished, and their release at the end of quiet hours is a no-op."""
    for event in alert.carried:
        held = dedup_key_for(event.event_id, alert.subscriber, alert.channel)
        ctx.alerts.finish(held, AlertStatus.SKIPPED, now, error=f"carried by {alert.dedup_key}",
                          pipe=pipe)  # fmt: skip


def _tell(alert: Alert, outcome: DeliveryOutcome) -> None:
    """The story line of a finished delivery: INFO when something reached someone."""
    inc = alert.event.incident
    what = f"{alert.event.kind.value} {inc.provider}/{inc.id} to {alert.subscriber}"
    ids = {"dedup_key": alert.dedup_key}
    if outcome.status == AlertStatus.DELIVERED:
        log.info("delivered %s %s (%s)", alert.channel, what, ", ".join(outcome.message_ids),
                 extra=ids)  # fmt: skip
    elif outcome.status == AlertStatus.PRINTED:
        log.info("%s: %s", outcome.message_ids[0], what, extra=ids)
    else:
        log.debug("%s %s %s: %s", outcome.status, alert.channel, what, outcome.error, extra=ids)


def _send(
    alert: Alert, ctx: DeliveryWiring, now: datetime, progress: Progress, started: _Attempt
) -> DeliveryOutcome:
    channel = ctx.channels.get(alert.channel)
    if channel is None:
        raise DeliveryError(f"{alert.channel}: no credentials configured", permanent=True)
    # The route's declared kind, not the instance: the console standing in for SMS
    # still carries only what SMS would.
    kind = channel_kind(alert.channel) or type(channel)
    if kind.pages_only and not (alert.page or is_resolution(alert)):
        started.begin()
        return DeliveryOutcome(alert.dedup_key, AlertStatus.SKIPPED, alert.channel,
                               error="not a page")  # fmt: skip
    if stands_in(channel, alert.channel):
        started.begin()
        return _print(alert, channel, ctx)
    if channel.sends_by_paging:
        started.begin()  # the pager keeps its own in-flight marks, per number
        return _page(alert, ctx, now)
    sub = ctx.destinations.subscriber(alert.subscriber)
    targets = channel.targets(sub) if sub is not None else []
    unusable = [t for t in targets if not channel.can_send(t)]
    if unusable:  # e.g. a channel route with only a webhook configured
        raise DeliveryError(f"{alert.channel}: cannot reach {unusable[0].id} with the "
                            "configured credentials", permanent=True)  # fmt: skip
    if not targets:
        raise DeliveryError(f"{alert.channel}: no destination configured", permanent=True)
    pending = [t for t in targets if t.id not in progress.sent]
    # The first request's turn goes with its mark, unless an earlier attempt's request
    # is looked up first (the lookup may find it: nothing to send).
    ahead = pending[0] if pending and pending[0].id not in progress.unknown else None
    started.begin(
        in_flight=[t.id for t in pending],
        refs=refs_ahead(alert, channel, pending[0].id) if pending else None,
        turn=channel.turn(ahead) if ahead is not None else None,
    )
    ids: list[str] = []
    for target in targets:
        if target.id in progress.sent:  # sent by an earlier attempt
            ids.append(progress.sent[target.id])
            continue
        progress.trying = target.id
        since = progress.unknown.get(target.id)
        first = target is pending[0]
        known = started.refs if first else None
        send = partial(send_threaded, alert, channel, target, ctx, progress.writes, since, known)
        with ctx.pacing.ahead(started.turn if first else None, started.paced):
            result = send_paced(ctx.pacing, channel, target.id, now, send)
        progress.trying = None
        ctx.log.mark_sent(alert.dedup_key, target.id, result.message_id, pipe=progress.writes)
        if target is not pending[-1]:
            # Recorded as soon as it returns: a crash while the next target is tried
            # must not leave this one to be looked up (or, for email, sent) again. The
            # last target's mark goes with the outcome, which follows without any I/O.
            execute_confirmed(ctx.client, progress.writes, "a sent mark")
        ids.append(result.message_id)
    return DeliveryOutcome(alert.dedup_key, AlertStatus.DELIVERED, alert.channel, tuple(ids))


def _print(alert: Alert, console: Channel, ctx: DeliveryWiring) -> DeliveryOutcome:
    """The console stands in for `alert.channel` (no vendor has credentials). Every
    route of a subscriber maps to it, so the same change would print once per route
    (slack, email, ...): the first route to get here prints it, once per (event,
    subscriber), and every route records that it was printed, not delivered."""
    key = f"{ctx.prefix}:console:printed:{alert.event.event_id}:{alert.subscriber}"
    sub = ctx.destinations.subscriber(alert.subscriber)
    if sub is not None and ctx.client.set(key, alert.channel, nx=True, ex=PRINTED_TTL_S):
        for target in console.targets(sub):
            console.send(alert, target, None)
    kind = channel_kind(alert.channel)
    label = (kind.label if kind is not None else "") or alert.channel
    note = f"printed (no {label} credentials)"
    return DeliveryOutcome(alert.dedup_key, AlertStatus.PRINTED, alert.channel, (note,))


def _page(alert: Alert, ctx: DeliveryWiring, now: datetime) -> DeliveryOutcome:
    """Hand an alert for a channel that `sends_by_paging` to the pager: a resolution
    is the all-clear, anything else (_send let only pages through) a page."""
    if ctx.pager is None:
        raise DeliveryError(f"{alert.channel}: no pager configured", permanent=True)
    if is_resolution(alert):
        done = ctx.pager.resolve(alert, now)
    else:
        subscriber = ctx.destinations.subscriber(alert.subscriber)
        recipients = Recipients.of(subscriber, ctx.destinations.config.oncall)
        if recipients is None:
            raise DeliveryError(
                f"{alert.channel}: no numbers or rotation configured", permanent=True
            )
        done = ctx.pager.page(alert, recipients, now)
    outcome = AlertStatus.DELIVERED if done.message_ids else AlertStatus.SKIPPED
    capped = "rate capped: " + ",".join(done.suppressed) if done.suppressed else ""
    return DeliveryOutcome(
        alert.dedup_key, outcome, alert.channel, done.message_ids, page_id=done.page_id,
        check_escalation_at=done.check_at,
        error=done.skipped or capped,
    )  # fmt: skip


def _with_members(alert: Alert, ctx: DeliveryWiring) -> Alert:
    """A follow-up names every incident that joined its batch up to now; closing the
    batch here sends later joiners to the next one (the same members on a retry)."""
    if ctx.followups is None:
        return alert
    batch = alert.dedup_key.split(FALLBACK_MARK)[0]
    return dataclasses.replace(alert, folded=tuple(ctx.followups.close(batch)))


def _fallback(alert: Alert, ctx: DeliveryWiring) -> str | None:
    """Claim the alert again on the subscriber's fallback channel; its key, or None."""
    name = ctx.destinations.fallback(alert.subscriber)
    if not name or name == alert.channel:
        return None
    key = f"{alert.dedup_key}{FALLBACK_MARK}{name}"
    kind = channel_kind(name)
    if alert.kind is AlertKind.CATCH_UP and kind is not None and kind.pages_only:
        return None  # late news never pages
    page = alert.page or (kind is not None and kind.fallback_pages)
    ctx.alerts.claim(dataclasses.replace(alert, dedup_key=key, channel=name, page=page))
    return key  # claimed now or by an earlier run: delivering it again is a no-op


def _record(
    ctx: DeliveryWiring, alert: Alert, status: AlertStatus, now: datetime,
    pipe: Pipe, message_id: str = "", error: str = "",
) -> None:  # fmt: skip
    """The alert's status (with the end of its attempts) and the metrics, on `pipe`."""
    ctx.alerts.finish(alert.dedup_key, status, now, message_id=message_id, error=error, pipe=pipe)
    if ctx.metrics is not None:
        latency = None
        if status is AlertStatus.DELIVERED:
            latency = max(0.0, (now - alert.event.detected_at).total_seconds())
        ctx.metrics.record_delivery(alert.channel, status, latency, pipe=pipe)


__all__ = [
    "DeliveryOutcome",
    "deliver_alert",
]
