"""Noticing that Redis lost its data, and making that cost no alert twice.

Every process that knows the generation marker (`notifier.store.conn.generation`) checks it:
the start of `notifier run|worker|beat`, the beat on every tick, a poll that finds it
missing. When it is gone where it was known, the first to notice writes a new one and
marks every provider for a silent baseline, in one step, and logs the one WARNING:
the next poll of each provider remembers what is open without alerting on it, because
those alerts were sent before the loss and their dedup claims went with it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from notifier.store.conn.generation import Generation, remember

log = logging.getLogger(__name__)

LOST = (
    "Redis lost its data (the generation marker %s is gone): every provider is baselined "
    "again without alerts, so nothing already sent is sent again; what changed while the "
    "data was missing is not alerted, and the next update of an open incident starts a "
    "new thread"
)


def check(
    gen: Generation,
    seen: str | None,
    providers: Sequence[str],
    now: datetime,
    data_dir: Path | None = None,
) -> str | None:
    """Compare the marker with the one this process knew (`seen`, None: none yet).

    Missing and never known: a first start, which writes it. Missing where known: a
    loss, declared (once across the fleet). Returns the marker now in Redis, to
    remember; it differs from `seen` after a loss, whoever declared it."""
    current = gen.current()
    if current is None:
        if seen is None:
            gen.create(now)
        elif gen.declare_lost(list(providers), now):
            log.warning(LOST, seen)
        current = gen.current()
    if data_dir is not None and current is not None and current != seen:
        remember(data_dir, current)
    return current


def lost_since(gen: Generation, seen: str | None, providers: Sequence[str], now: datetime) -> bool:
    """For a poll that found no marker: declare the loss if this process knew one.
    True when the provider's baseline must be silent."""
    if seen is None:
        return False  # nothing known to compare with (tests, a process started blank)
    if gen.declare_lost(list(providers), now):
        log.warning(LOST, seen)
    return True
