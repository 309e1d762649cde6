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
    try:
        engine = db.engine(rt.settings)
    except SQLAlchemyError as exc:  # a malformed URL or a missing driver: say so, keep rows
        log.error("history: cannot use NOTIFIER_DATABASE_URL: %s", exc)
        return Drained(0, box.depth(), str(exc))
    names = {p.id: p.name for p in rt.config.resolved_providers()}
    return drain(box, engine, names, rt.settings.history_batch)


def sweep_history(rt: Runtime, now: datetime) -> int:
    """Delete the rows older than `NOTIFIER_HISTORY_RETENTION_DAYS`."""
    cutoff = now - timedelta(days=rt.settings.history_retention_days)
    try:
        gone = retention.sweep(db.engine(rt.settings), cutoff)
    except SQLAlchemyError as exc:
        log.warning("history: retention sweep not done: %s", type(exc).__name__)
        return 0
    if gone:
        log.info("history: %d rows older than %s removed", gone, cutoff.date())
    return gone
