"""Outbox entries to table rows, written in one transaction.

Each entry kind says what it adds: an event its incident (with updates and impact
over time) and its own row; a claimed alert its row; an attempt, an error or a finish
the delivery attempt's row (a finish also the alert's outcome, and for a silenced
alert the silence's record of it); a page its state and the level it reached; an
acknowledgement; a silence. Everything is an upsert on a natural key or an update of
a row by its key, so writing a batch twice changes nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection, and_, bindparam, func, select, update

from notifier.history import tables as t
from notifier.history.rows import LIVE, Row, impact_row, incident_row, update_rows
from notifier.history.upsert import upsert
from notifier.models import EventKind, event_from_dict, parse_iso
from notifier.store.delivery.status import AlertStatus
from notifier.store.ops import outbox
from notifier.store.ops.outbox import OutboxEntry

log = logging.getLogger(__name__)

NOT_INCIDENTS = frozenset(
    {EventKind.FEED_UNREACHABLE, EventKind.FEED_RECOVERED, EventKind.PROBE_FAILURE,
     EventKind.PROBE_RECOVERED}
)  # fmt: skip
OPENS_AN_IMPACT = frozenset({EventKind.NEW_INCIDENT, EventKind.IMPACT_CHANGED, EventKind.REOPENED})


class Rows:
    """What one batch writes, gathered per table before any statement runs."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names
        self.tables: dict[str, list[Row]] = defaultdict(list)
        self.finishes: list[OutboxEntry] = []
        self.acks: list[Row] = []

    def add(self, table: str, row: Row) -> None:
        self.tables[table].append(row)


def _event(e: OutboxEntry, out: Rows) -> None:
    ev = event_from_dict(e.row)
    out.add("change_events", {
        "event_id": ev.event_id, "provider": ev.provider, "incident_id": ev.incident_id,
        "kind": ev.kind.value, "detected_at": ev.detected_at, "previous": ev.previous,
        "current": ev.current, "late": ev.late, "note": ev.note,
    })  # fmt: skip
    if ev.kind in NOT_INCIDENTS:
        return
    inc = ev.incident
    out.add("providers", {"id": inc.provider, "name": out.names.get(inc.provider, inc.provider)})
    out.add("incidents", incident_row(inc, LIVE))
    for row in update_rows(inc):
        out.add("updates", row)
    if ev.kind in OPENS_AN_IMPACT:
        began = inc.started_at if ev.kind is EventKind.NEW_INCIDENT else None
        out.add("incident_impacts", impact_row(inc, began or ev.detected_at))


def _alert(e: OutboxEntry, out: Rows) -> None:
    r = e.row
    out.add("alerts", {**r, "page": bool(r["page"]), "detected_at": parse_iso(r["detected_at"]),
                       "claimed_at": e.at})  # fmt: skip


def _attempt(e: OutboxEntry, out: Rows) -> None:
    r = e.row
    out.add("deliveries", {
        "dedup_key": r["dedup_key"], "attempt": int(r["attempt"]), "channel": r["channel"],
        "subscriber": r["subscriber"], "fallback_of": r.get("fallback_of") or None,
        "started_at": e.at,
    })  # fmt: skip


def _error(e: OutboxEntry, out: Rows) -> None:
    r = e.row
    out.add("deliveries", {
        "dedup_key": r["dedup_key"], "attempt": int(r["attempt"]), "ended_at": e.at,
        "outcome": "error", "error": r["error"],
        "error_class": "permanent" if r["permanent"] else "transient",
    })  # fmt: skip


def _finish(e: OutboxEntry, out: Rows) -> None:
    out.finishes.append(e)
    r = e.row
    if r["outcome"] == AlertStatus.SILENCED and str(r["message_id"]).startswith("silence:"):
        silence_id = str(r["message_id"]).removeprefix("silence:")
        out.add("silence_mutes", {"silence_id": silence_id, "dedup_key": r["dedup_key"],
                                  "at": e.at})  # fmt: skip


def _page(e: OutboxEntry, out: Rows) -> None:
    """A page's record as the pager stores it; the history keeps who was in line by name
    (never their numbers)."""
    r = e.row
    last = parse_iso(r["last_paged_at"])
    order = [str(member[0]) for member in r["order"]]
    out.add("pages", {
        "page_id": r["id"], "dedup_key": r["dedup_key"], "thread_key": r["thread_key"],
        "subscriber": r["subscriber"], "order": order, "escalates": bool(r["escalates"]),
        "level": int(r["level"]), "first_paged_at": last, "last_paged_at": last,
        "detected_at": parse_iso(r["detected_at"]), "acked_by": r["acked_by"],
        "acked_at": parse_iso(r["acked_at"]), "resolved_at": parse_iso(r["resolved_at"]),
    })  # fmt: skip
    level = int(r["level"])
    if last is not None and 0 <= level < len(order):
        out.add("page_escalations", {"page_id": r["id"], "level": level,
                                     "member": order[level], "at": last})  # fmt: skip


def _ack(e: OutboxEntry, out: Rows) -> None:
    r = e.row
    out.acks.append({"p": r["page_id"], "by": r["by"], "at": parse_iso(r["at"]) or e.at})


def _silence(e: OutboxEntry, out: Rows) -> None:
    r = e.row
    out.add("silences", {
        "silence_id": r["id"], "provider": r["provider"], "component": r.get("component"),
        "subscriber": r.get("subscriber"), "max_impact": r.get("max_impact"),
        "created_by": r["created_by"], "reason": r["reason"],
        "starts_at": parse_iso(r["starts_at"]), "ends_at": parse_iso(r["ends_at"]),
        "expired_by": r.get("expired_by"),
    })  # fmt: skip


HANDLERS: dict[str, Callable[[OutboxEntry, Rows], None]] = {
    outbox.EVENT: _event, outbox.ALERT: _alert, outbox.ATTEMPT: _attempt,
    outbox.ERROR: _error, outbox.FINISH: _finish, outbox.PAGE: _page, outbox.ACK: _ack,
    outbox.SILENCE: _silence,
}  # fmt: skip

# Written in this order, so a row another refers to is there first; kept columns keep
# what was first written.
ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("providers", ()), ("incidents", ("source",)), ("updates", ()),
    ("incident_impacts", ()), ("change_events", ()), ("alerts", ("claimed_at",)),
    ("deliveries", ("started_at",)), ("pages", ("first_paged_at",)),
    ("page_escalations", ("at",)), ("silences", ()), ("silence_mutes", ("at",)),
)  # fmt: skip


def gather(entries: Sequence[OutboxEntry], names: Mapping[str, str]) -> Rows:
    """The rows of a batch; an entry that does not read is logged and left out."""
    out = Rows(names)
    for e in entries:
        try:
            HANDLERS[e.kind](e, out)
        except (KeyError, ValueError, TypeError) as exc:
            log.error("history: outbox entry %s left out: %s: %s", e.kind,
                      type(exc).__name__, exc)  # fmt: skip
    return out


def write(conn: Connection, out: Rows) -> int:
    """Write a gathered batch on `conn` (inside the caller's transaction); rows written."""
    finished = _finished_attempts(conn, out)
    written = 0
    for name, keep in ORDER:
        rows = out.tables.get(name)
        if name == "deliveries":
            rows = [*(rows or []), *finished]
        if rows:
            written += upsert(conn, t.metadata.tables[name], rows, keep)
    if out.finishes:
        conn.execute(
            update(t.alerts).where(t.alerts.c.dedup_key == bindparam("k")),
            [{"k": e.row["dedup_key"], "outcome": e.row["outcome"],
              "message_id": e.row["message_id"] or None, "error": e.row["error"] or None,
              "finished_at": e.at} for e in out.finishes],
        )  # fmt: skip
    if out.acks:
        conn.execute(
            update(t.pages)
            .where(and_(t.pages.c.page_id == bindparam("p"), t.pages.c.acked_by.is_(None)))
            .values(acked_by=bindparam("by"), acked_at=bindparam("at")),
            out.acks,
        )
    return written


def _finished_attempts(conn: Connection, out: Rows) -> list[Row]:
    """A finish ends its alert's latest attempt (from this batch, else the database)."""
    if not out.finishes:
        return []
    latest: dict[str, int] = {}
    for row in out.tables.get("deliveries", []):
        latest[row["dedup_key"]] = max(latest.get(row["dedup_key"], 0), row["attempt"])
    missing = sorted({e.row["dedup_key"] for e in out.finishes} - set(latest))
    if missing:
        q = (
            select(t.deliveries.c.dedup_key, func.max(t.deliveries.c.attempt))
            .where(t.deliveries.c.dedup_key.in_(missing))
            .group_by(t.deliveries.c.dedup_key)
        )
        latest.update({k: int(n) for k, n in conn.execute(q)})
    rows = []
    for e in out.finishes:
        r = e.row
        row = {"dedup_key": r["dedup_key"], "attempt": latest.get(r["dedup_key"], 0),
               "ended_at": e.at, "outcome": r["outcome"],
               "message_id": r["message_id"] or None}  # fmt: skip
        if r["error"]:
            row["error"] = r["error"]
        rows.append(row)
    return rows
