"""Many deliveries at once: this process's sending threads, bounded.

A delivery spends almost all of its time waiting for the vendor (100-400 ms for a
Slack post, more for Twilio), so a chunk of a fan-out overlaps those waits: its
deliveries run on a pool of threads, at most `in_flight` at once per process
(NOTIFIER_DELIVERY_IN_FLIGHT). Each delivery is still `deliver_alert`'s own, with
its lock, marks and idempotence; only their waits overlap. Vendor connections stay
pooled: each sending thread keeps its own kept-alive connection (Slack) or takes a
session from the process's bounded pool (SMTP).

When one delivery fails in a way that says the vendor is struggling (a transient
error, not a wait for its turn), the deliveries not yet started are not started:
they wait with that error, as the rest of a chunk always has.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from notifier.channels.base import DeliveryError, NotYet

_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def pool(size: int) -> ThreadPoolExecutor:
    """This process's sending threads (made again after a fork: threads do not survive one)."""
    key = (os.getpid(), size)
    with _pools_lock:
        found = _pools.get(key)
        if found is None:
            found = _pools[key] = ThreadPoolExecutor(size, thread_name_prefix="send")
        return found


class _Untried:
    """A delivery never started: a failure before it stopped the rest."""


UNTRIED = _Untried()
Outcome = DeliveryError | _Untried | BaseException | None  # None: dealt with


def deliver_all(
    keys: Sequence[str], deliver: Callable[[str], object], in_flight: int
) -> list[tuple[str, DeliveryError]]:
    """Run `deliver(key)` for every key, at most `in_flight` at once; the keys that must
    wait, each with the `DeliveryError` that says why (its own, or the one that stopped
    the rest). Any other exception (our infrastructure failing) is raised once every
    started delivery has ended."""
    stop: list[BaseException] = []  # the first failure that stops new deliveries

    def one(key: str) -> Outcome:
        if stop:
            return UNTRIED
        try:
            deliver(key)
        except NotYet as exc:  # its own wait (its turn, its lock): the others go on
            return exc
        except BaseException as exc:  # DeliveryError: the vendor struggles; else ours
            stop.append(exc)
            return exc
        return None

    if in_flight <= 1 or len(keys) <= 1:
        outcomes = [one(k) for k in keys]
    else:
        outcomes = [f.result() for f in [pool(in_flight).submit(one, k) for k in keys]]
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, DeliveryError):
            raise outcome
    waiting: list[tuple[str, DeliveryError]] = []
    for key, outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, DeliveryError):
            waiting.append((key, outcome))
        elif outcome is UNTRIED and isinstance(stop[0], DeliveryError):
            waiting.append((key, stop[0]))
    return waiting
