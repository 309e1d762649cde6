"""The delivery lock of one alert: taken (or over, from a dead worker) before an attempt,
released by the attempt's last round trip.

Its holder and the take-over are the store's (`notifier.store.delivery.lease`); here is
what the delivery stage decides about it: how long it lasts, how long a dead worker's
lock stays fenced while that worker's request may still reach a vendor, and releasing it
again when Redis may have lost the release:
- the last round trip failed (the primary died under it): released again at once, on a
  connection of its own, which waits for the new primary;
- the last round trip was answered, but the primary died before a replica had it (the
  `WAIT` after it timed out, or the primary died right after): the promoted replica still
  holds the lock, for a worker whose heartbeat is alive. So each process keeps the locks
  it released within a lease (`LOCK_MS`) and, the first time it sees a new primary
  (`notifier.store.conn.watch`), releases them again in one round trip.
Releasing is compare-and-delete on the attempt's own random token: a lock taken since by
another attempt is never touched, so no release lets two attempts send at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime

from notifier.channels.base import Channel
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.conn.batch import Pipe
from notifier.store.conn.watch import WATCH
from notifier.store.delivery.lease import RELEASE, queue_take

log = logging.getLogger(__name__)

# No holder outlives its lock: the harness kills a task at its hard time limit (90 s,
# workers/app.py), and a lock is taken after its task began. A killed holder's lock
# lapses at most this long after it was taken.
LOCK_MS = 90_000
# Between an attempt's in-flight mark and its request: the thread's reference read, the
# pacing turn. A dead worker's lock stays fenced this much longer than a request's timeout.
LANDING_MARGIN_S = 2.0
# The locks this process released within a lease, to release again after a failover.
RECENT_MAX = 20_000


class _Released:
    """The locks this process released lately, and the last primary change it acted on."""

    def __init__(self) -> None:
        self.locks: deque[tuple[float, str, str]] = deque(maxlen=RECENT_MAX)
        self.seen_change = 0.0
        self.lock = threading.Lock()  # deliveries run on several threads

    def add(self, lock_key: str, token: str) -> None:
        self.locks.append((time.monotonic(), lock_key, token))

    def after_change(self) -> list[tuple[str, str]]:
        """The locks released within a lease, once per change of primary this process
        has seen (none when there was no change since the last call)."""
        changed = max(WATCH.changed_at.values(), default=0.0)
        with self.lock:
            if changed <= self.seen_change:
                return []
            self.seen_change = changed
            cutoff = time.monotonic() - LOCK_MS / 1000
            return [(key, token) for at, key, token in list(self.locks) if at >= cutoff]


RELEASED = _Released()


def landing_ms(channel: Channel | None, requests: int) -> int:
    """How long from their in-flight mark `requests` requests of `channel`, made one after
    another, may still reach its vendor: each its client's timeout
    (`Channel.request_timeout_s`) and a margin for the moments between the mark and the
    request. A dead worker's lock stays fenced that long (`lease`); 0 when the channel
    cannot look for an earlier message (nothing to wait for)."""
    timeout = channel.request_timeout_s() if channel is not None else 0.0
    return int((timeout + LANDING_MARGIN_S) * 1000) * requests if timeout > 0 else 0


def queue_lock(
    pipe: Pipe, ctx: DeliveryWiring, dedup_key: str, lock_key: str, token: str, now: datetime
) -> None:
    """Queue taking the alert's lock on `pipe` (its reply is 1 when taken): free, or held
    by a worker whose heartbeat is gone (killed), once a request that worker left on its
    way can no longer reach the vendor."""
    queue_take(pipe, ctx.prefix, lock_key, token, LOCK_MS, now, ctx.log.landing_key(dedup_key))


def queue_release(pipe: Pipe, lock_key: str, token: str) -> None:
    """Queue releasing the lock on `pipe`, while it is still `token`'s (and remember it,
    to release it again after a failover). EVAL, not a registered script: see
    AlertStore.finish for why."""
    pipe.eval(RELEASE, 1, lock_key, token)
    RELEASED.add(lock_key, token)


def release_after_failover(ctx: DeliveryWiring) -> None:
    """After this process first sees a new primary: release again the locks it released
    within a lease, any of which the promoted replica may still hold."""
    again = RELEASED.after_change()
    if not again:
        return
    pipe = ctx.client.pipeline(transaction=False)
    for lock_key, token in again:
        pipe.eval(RELEASE, 1, lock_key, token)
    try:
        freed = sum(1 for n in pipe.execute() if n)
    except Exception as exc:  # they lapse within a lease, as before
        log.warning("delivery locks not released again after a failover (%s)",
                    type(exc).__name__)  # fmt: skip
        return
    if freed:
        log.warning("after a Redis failover: %d of the %d delivery locks this process "
                    "released lately were held again; released", freed, len(again))  # fmt: skip


def release_again(ctx: DeliveryWiring, lock_key: str, token: str) -> None:
    """The last round trip failed (Redis failed over under it, or went away): the attempt
    is over, so its lock must not wait out `LOCK_MS` behind a live heartbeat, holding
    up the alert's retry and every later alert of its thread. One more release, on a
    connection of its own (the client waits for a new primary), and once more on the
    first delivery through a new primary (`release_after_failover`); if all fail, the
    lock lapses as before."""
    RELEASED.add(lock_key, token)
    try:
        ctx.client.eval(RELEASE, 1, lock_key, token)
    except Exception as exc:  # the outcome's error is the one to raise
        log.warning("delivery lock not released (%s); it lapses within %d s",
                    type(exc).__name__, LOCK_MS // 1000, extra={"lock": lock_key})  # fmt: skip


__all__ = [
    "LOCK_MS",
    "landing_ms",
    "queue_lock",
    "queue_release",
    "release_after_failover",
    "release_again",
]
