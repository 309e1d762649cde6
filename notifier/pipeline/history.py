"""The history's stage: drain the outbox into the database, sweep what is past retention.

Entered by the beat's `notifier.history_drain` and `notifier.history_sweep` tasks. The
database is optional for everything else: when it is down, these log and return, and
the outbox keeps every row until it is back (`notifier.history.drain`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from notifier.history import db, retention
from notifier.history.drain import Drained, drain
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.ops.outbox import Outbox

log = logging.getLogger(__name__)


def drain_history(rt: Runtime, now: datetime) -> Drained:
    """Write what waits in the outbox, in batches of `NOTIFIER_HISTORY_BATCH`."""
    box = Outbox(rt.client, rt.settings.key_prefix)
    url = db.database_url(rt.settings)
    try:
        # A SQLite file is migrated first, once per process, as `notifier run` migrates it
        # at start: the default needs no step of its own under `notifier worker` and
        # `notifier beat` either (systemd, compose). Others: `notifier db upgrade`.
        engine = db.ready(url)
    except (SQLAlchemyError, OSError) as exc:  # a bad URL, a missing driver: say so, keep rows
        log.error("history: cannot use %s: %s", db.shown(url), exc)
        return Drained(0, box.depth(), str(exc))
    names = {p.id: p.name for p in rt.config.resolved_providers()}
    return drain(box, engine, names, rt.settings.history_batch)


def sweep_history(rt: Runtime, now: datetime) -> int:
    """Delete the rows older than `NOTIFIER_HISTORY_RETENTION_DAYS`."""
    cutoff = now - timedelta(days=rt.settings.history_retention_days)
    try:
        gone = retention.sweep(db.ready(db.database_url(rt.settings)), cutoff)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("history: retention sweep not done: %s", type(exc).__name__)
        return 0
    if gone:
        log.info("history: %d rows older than %s removed", gone, cutoff.date())
    return gone
