"""The sweeps that hand waiting work on again: held alerts whose time has come, due
retries, and whatever a lost task left behind (reconcile). Each hands on through the
hand-off (`notifier.pipeline.handoff`), so the due sets are kept in one place.
"""

from __future__ import annotations

import logging
from datetime import datetime

from notifier.pipeline.handoff import HandOff
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime

log = logging.getLogger(__name__)


def release_held(rt: Runtime, handoff: HandOff, now: datetime) -> int:
    """Hand on alerts held for quiet hours (or a rate cap) whose time has come."""
    held = rt.due(Due.HELD)
    with held.sweeping() as mine:
        if not mine:
            return 0
        keys = held.due(now)
        if keys:
            handoff.alerts(keys, now)
            held.discard(*keys)
        return len(keys)


def release_retries(rt: Runtime, handoff: HandOff, now: datetime) -> int:
    """Hand on every retry whose time has come, at most once per scheduled attempt; the
    attempt's number stays with the alert in Redis (`RetryQueue.attempt`)."""
    retries = rt.retries
    with retries.sweeping() as mine:
        due = retries.due(now) if mine else []
        keys = [k for k, _ in due]
        if keys:
            log.info("handing on %d delivery retries", len(keys))
            handoff.retries(keys)
        # After the hand-on: a crash in between re-sends (harmless), never loses.
        retries.handed_on(keys, now)
        return len(due)


def reconcile(rt: Runtime, handoff: HandOff, now: datetime) -> tuple[int, int]:
    """Re-send what a lost task left behind: events never processed, alerts never
    finished. Both stages are idempotent, so a re-send of live work is harmless; each
    straggler is re-sent at most once per its interval (the hand-off puts it back in
    its due set, `RECONCILE_AFTER` from now)."""
    counts = []
    stages = ((Due.UNPROCESSED, handoff.events), (Due.UNDELIVERED, handoff.alerts))
    for due, send in stages:
        pending = rt.due(due)
        with pending.sweeping() as mine:
            items = pending.due(now) if mine else []
            if items:
                log.warning("re-sending %d %s item(s) left behind", len(items), due.value)
                send(items, now)
        counts.append(len(items))
    return counts[0], counts[1]


__all__ = ["reconcile", "release_held", "release_retries"]
