"""Drain the Redis outbox into the database, in batches, losing nothing.

Each batch: read the oldest entries (left in place), write them in one transaction,
and only once it committed drop them from the outbox. A database that is slow, down
or not migrated yet leaves every entry where it is, to be written by a later drain;
a batch written again (a crash between the commit and the drop) changes nothing.
An entry that cannot be read, or that the database refuses as bad data, is logged
and dropped: it would otherwise block every entry behind it forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from notifier.history.apply import gather, write
from notifier.store.ops.outbox import Outbox, OutboxEntry, parse_entry

log = logging.getLogger(__name__)

LOCK_S = 120  # longer than a batch takes; a killed drainer's lock lapses
WARN_EVERY_S = 60.0  # while the database stays away, say so once a minute, not every drain
_outage: dict[str, float] = {}  # this process: when it last warned


@dataclass(frozen=True, slots=True)
class Drained:
    entries: int  # taken off the outbox (written, or dropped as unreadable)
    left: int  # still waiting
    error: str = ""  # why the drain stopped early (the database did not take a batch)


def drain(
    box: Outbox, engine: Engine, names: Mapping[str, str], batch: int = 500,
    max_batches: int = 50, budget_s: float = 30.0,
) -> Drained:  # fmt: skip
    """Write up to `max_batches` batches, for about `budget_s` at most (the next drain
    goes on); another drainer at work makes this a no-op."""
    token = box.lock(LOCK_S)
    if token is None:
        return Drained(0, box.depth(), "another drain is running")
    taken, error, until = 0, "", time.monotonic() + budget_s
    try:
        for _ in range(max_batches):
            if time.monotonic() > until or not box.extend(token, LOCK_S):
                break
            raws = box.peek(batch)
            if not raws:
                break
            entries = _read(raws)
            try:
                _write(engine, entries, names)
            except SQLAlchemyError as exc:
                error = f"{type(exc).__name__}: {_first_line(exc)}"
                _tell_outage(box.depth(), error)
                break
            if not box.done(raws):
                break  # another drainer took this batch on: it is written, and it is theirs
            taken += len(raws)
            if _outage.pop("warned", None) is not None:
                log.warning("history: the database takes rows again")
    finally:
        box.unlock(token)
    return Drained(taken, box.depth(), error)


def _tell_outage(waiting: int, error: str) -> None:
    now = time.monotonic()
    last = _outage.get("warned")
    level = logging.WARNING if last is None or now - last >= WARN_EVERY_S else logging.DEBUG
    if level == logging.WARNING:
        _outage["warned"] = now
    log.log(level, "history: the database did not take the rows; %d wait in the outbox (%s)",
            waiting, error)  # fmt: skip


def _read(raws: list[bytes]) -> list[OutboxEntry]:
    entries = []
    for raw in raws:
        found = parse_entry(raw)
        if found is None:
            log.error("history: dropped an outbox entry that is not ours: %.200r", raw)
            continue
        entries.append(found)
    return entries


def _write(engine: Engine, entries: list[OutboxEntry], names: Mapping[str, str]) -> None:
    """One transaction for the batch; if the database refuses it as bad data, one
    transaction per entry, dropping (and logging) those it refuses."""
    try:
        with engine.begin() as conn:
            write(conn, gather(entries, names))
        return
    except (IntegrityError, DataError):
        pass
    for e in entries:
        try:
            with engine.begin() as conn:
                write(conn, gather([e], names))
        except (IntegrityError, DataError) as exc:
            log.error("history: the database refused a %s row, dropped: %s", e.kind,
                      _first_line(exc))  # fmt: skip


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]
