"""Quarantine for poison work: an event whose planning, or an alert whose delivery, fails with a bug
of ours (a parser or renderer that chokes on what a feed said) every time it is tried.

Without a limit such an item blocks what comes after it: a poll's events are planned
in order, so a poll whose planning raises is retried with the same batch forever, and
a delivery task stops at the alert. Each failed try is counted in Redis
(`notifier.store.ops.quarantine`); the `POISON_AFTER`-th is the last: the item is
quarantined (the stage and the exception's type, kept 30 days), logged at ERROR,
counted in `/metrics`, and finished, so the rest of its batch goes on. A later event
of the same incident that fails the same way (stage and exception type) is quarantined
at its first failure: a bug in an incident would otherwise cost three polls per event.

Not poison, and never counted: our own infrastructure failing (Redis, the network:
the harness retries those) and a channel's `DeliveryError` (a vendor's answer:
`notifier.pipeline.delivery.retry` decides). A task's time limit does count, against the item
it stopped: one that runs out of time three times (a parser stuck on hostile text) is
poison too.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import PurePath

import redis

from notifier.channels.base import DeliveryError
from notifier.pipeline.delivery.retry import INFRASTRUCTURE
from notifier.pipeline.runtime.due import Due
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.dueset import due_set
from notifier.store.delivery.status import AlertStatus
from notifier.store.feeds.events import EventStore
from notifier.store.ops.metrics import Metrics
from notifier.store.ops.quarantine import Kind, Quarantined, QuarantineStore, parse_member

log = logging.getLogger(__name__)

POISON_AFTER = 3  # failed tries of one item before it is quarantined
# A delivery that raised is tried again this soon (the watchdog's minute), not after
# the 30-minute reconcile sweep.
DELIVERY_RETRY = timedelta(seconds=60)


def is_poison(exc: BaseException) -> bool:
    """Whether `exc` is a failure of the item itself, to be counted."""
    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: never the item's
        return False
    return not isinstance(exc, (*INFRASTRUCTURE, DeliveryError))


def failed_try(
    store: QuarantineStore,
    metrics: Metrics,
    what: Quarantined,
    also: Sequence[str] = (),
) -> bool:
    """Count a failed try of `what` (and of `also`, ids of the same kind tried with it);
    True when this was the last try: they are quarantined now, and the caller finishes
    them and carries on. False: the caller tries again as it would have."""
    items = [what.id, *also]
    tries = store.failed(what.kind, items)
    ids = {"provider": what.provider, _field(what.kind): what.id}
    # An incident whose events fail one after another (a bug in its title, say) would
    # blind its provider for three polls per event: the next one failing the same way
    # goes at once.
    same = what.kind == "event" and store.known_bad(what.provider, what.incident_id, what.reason)
    if tries < POISON_AFTER and not same:
        log.warning("%s of %s %s failed (try %d of %d): %s at %s", what.stage, what.kind,
                    what.id, tries, POISON_AFTER, what.error, what.where or "?",
                    extra=ids)  # fmt: skip
        return False
    for item in items:
        entry = dataclasses.replace(what, id=item, tries=tries)
        store.add(entry)
        metrics.inc("notifier_quarantined_total", kind=what.kind, stage=what.stage)
    more = f" (and {len(also)} tried with it)" if also else ""
    after = ("as an earlier event of its incident" if tries < POISON_AFTER
             else f"after {tries} failed tries")  # fmt: skip
    log.error("quarantined %s %s%s of %s %s (%s: %s at %s); carrying on without it; "
              "`notifier quarantine retry %s` tries it again",
              what.kind, what.id, more, what.provider, after, what.stage, what.error,
              what.where or "?", what.member, extra=ids)  # fmt: skip
    return True


def entry(
    kind: Kind, item: str, provider: str, incident_id: str, stage: str, exc: BaseException,
    now: datetime, channel: str = "",
) -> Quarantined:  # fmt: skip
    """The record of one failed try; only the exception's type is kept, never its message."""
    return Quarantined(kind, item, provider, incident_id, stage, type(exc).__name__, now, 0,
                       channel, raised_at(exc))  # fmt: skip


def raised_at(exc: BaseException) -> str:
    """The innermost frame of `exc`'s traceback as `file.py:line in function`: where to
    look, and nothing of the values involved."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f"{PurePath(last.filename).name}:{last.lineno} in {last.name}"


def find(store: QuarantineStore, name: str) -> Quarantined | None:
    """The quarantined item `name` names: `event:<id>`, `alert:<dedup key>`, or a bare
    id (an event's, else an alert's)."""
    parsed = parse_member(name)
    if parsed is not None:
        return store.get(f"{parsed[0]}:{parsed[1]}")
    return store.get(f"event:{name}") or store.get(f"alert:{name}")


def release(client: redis.Redis, prefix: str, what: Quarantined, now: datetime) -> None:
    """Let `what` out of quarantine (after the fix is deployed): its tries are forgotten
    and it is due now in the reconcile sweep's set, which hands it on within a minute.
    An alert is made pending again first, so its delivery does not take it for done."""
    if what.kind == "event":
        EventStore(client, prefix).unmark_processed(what.id)
        due = due_set(client, prefix, Due.UNPROCESSED)
    else:
        AlertStore(client, prefix).finish(
            what.id, AlertStatus.PENDING, now, error=f"out of quarantine ({what.reason})"
        )
        due = due_set(client, prefix, Due.UNDELIVERED)
    QuarantineStore(client, prefix).release(what)
    due.add(what.id, now)
    log.info("%s %s let out of quarantine; the reconcile sweep hands it on", what.kind, what.id)


def _field(kind: Kind) -> str:
    return "event_id" if kind == "event" else "dedup_key"


__all__ = [
    "DELIVERY_RETRY",
    "POISON_AFTER",
    "entry",
    "failed_try",
    "find",
    "is_poison",
    "release",
]
