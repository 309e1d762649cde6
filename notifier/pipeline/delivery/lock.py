"""The delivery lock of one alert: taken (or over, from a dead worker) before an attempt,
released by the attempt's last round trip.

Its holder and the take-over are the store's (`notifier.store.delivery.lease`); here is
what the delivery stage decides about it: how long it lasts, how long a dead worker's
lock stays fenced while that worker's request may still reach a vendor, and a second
release when the last round trip fails.
"""

from __future__ import annotations

import logging
from datetime import datetime

from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.conn.batch import Pipe
from notifier.store.delivery.lease import RELEASE, queue_take

log = logging.getLogger(__name__)

# No holder outlives its lock: the harness kills a task at its hard time limit (90 s,
# workers/app.py), and a lock is taken after its task began. A killed holder's lock
# lapses at most this long after it was taken.
LOCK_MS = 90_000
# Between an attempt's in-flight mark and its request: the thread's reference read, the
# pacing turn. A dead worker's lock stays fenced this much longer than a request's timeout.
LANDING_MARGIN_S = 2.0


def fence_ms(ctx: DeliveryWiring) -> int:
    """How long a dead worker's lock stays fenced when it left requests in flight
    (`lease`): the longest any configured channel's request may still take to reach its
    vendor (`Channel.request_timeout_s`), and a margin for the moments between the
    in-flight mark and the request. 0 when no channel can look for an earlier message."""
    longest = max((c.request_timeout_s() for c in ctx.channels.values()), default=0.0)
    return int((longest + LANDING_MARGIN_S) * 1000) if longest > 0 else 0


def queue_lock(
    pipe: Pipe, ctx: DeliveryWiring, dedup_key: str, lock_key: str, token: str, now: datetime
) -> None:
    """Queue taking the alert's lock on `pipe` (its reply is 1 when taken): free, or held
    by a worker whose heartbeat is gone (killed), once a request that worker left on its
    way can no longer reach the vendor."""
    queue_take(pipe, ctx.prefix, lock_key, token, LOCK_MS, now,
               ctx.log.in_flight_key(dedup_key), fence_ms(ctx))  # fmt: skip


def queue_release(pipe: Pipe, lock_key: str, token: str) -> None:
    """Queue releasing the lock on `pipe`, while it is still `token`'s. EVAL, not a
    registered script: see AlertStore.finish for why."""
    pipe.eval(RELEASE, 1, lock_key, token)


def release_again(ctx: DeliveryWiring, lock_key: str, token: str) -> None:
    """The last round trip failed (Redis failed over under it, or went away): the attempt
    is over, so its lock must not wait out `LOCK_MS` behind a live heartbeat, holding
    up the alert's retry and every later alert of its thread. One more release, on a
    connection of its own (the client waits for a new primary); if that fails too, the
    lock lapses as before."""
    try:
        ctx.client.eval(RELEASE, 1, lock_key, token)
    except Exception as exc:  # the outcome's error is the one to raise
        log.warning("delivery lock not released (%s); it lapses within %d s",
                    type(exc).__name__, LOCK_MS // 1000, extra={"lock": lock_key})  # fmt: skip


__all__ = ["LOCK_MS", "fence_ms", "queue_lock", "queue_release", "release_again"]
