"""The short marker a finished alert keeps once its payload is shrunk.

After `NOTIFIER_ALERT_PAYLOAD_DAYS` the shrink sweep (`notifier.store.delivery.shrink`)
deletes a finished alert's record and its delivery log and keeps, in its incident's
marks hash (`status.marks_key`, 30 days), one value per alert:
`<status>|<alert kind>|<finished, epoch seconds>|<attempts>|<message id>`, where the kind
is followed by `/<event id>/<subscriber>/<channel>` when the dedup key does not say them
(a follow-up's batch, a catch-up's group, a fallback: see `split_key`). The message id
is left out when it would make the value longer than 64 bytes, so that an incident's
marks stay a compact listpack (Redis `hash-max-listpack-value`); the history database
keeps it. A value of "" marks an alert whose record is whole.

What reads a marker: the claim (the alert is never claimed again), the console and
`notifier deliveries` (the alert is shown with its status, time, attempts and message
id). Its event comes from the event's own record (30 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from notifier.store.conn.batch import text
from notifier.store.delivery.status import AlertStatus, parse

MARK_MAX = 64


@dataclass(frozen=True, slots=True)
class Mark:
    status: AlertStatus
    kind: str
    finished_at: datetime | None
    attempts: int
    message_id: str = ""
    route: tuple[str, str, str] | None = None  # (event id, subscriber, channel), if not the key's

    def encode(self) -> str:
        when = str(int(self.finished_at.timestamp())) if self.finished_at else ""
        kind = self.kind if self.route is None else "/".join((self.kind, *self.route))
        head = f"{self.status.value}|{kind}|{when}|{self.attempts}|"
        return head + self.message_id if len(head) + len(self.message_id) <= MARK_MAX else head


def parse_mark(raw: bytes | str | None) -> Mark | None:
    """A stored marker; None for "" (the record is whole) or a value not ours."""
    parts = (text(raw) or "").split("|", 4)
    status = parse(parts[0]) if len(parts) == 5 else None
    if status is None or not status.finished:
        return None
    when = datetime.fromtimestamp(int(parts[2]), UTC) if parts[2].isdigit() else None
    attempts = int(parts[3]) if parts[3].isdigit() else 0
    kind, _, route = parts[1].partition("/")
    return Mark(status, kind, when, attempts, parts[4], split_key(route) if route else None)


def route_of(dedup_key: str, mark: Mark) -> tuple[str, str, str] | None:
    """(event id, subscriber, channel) of a shrunk alert."""
    return mark.route or split_key(dedup_key)


def split_key(dedup_key: str) -> tuple[str, str, str] | None:
    """(event id, subscriber, channel) of a key made by `dedup_key_for`; None for one
    whose first part is not an event's id (the reader then finds no event record)."""
    event_id, sep, rest = dedup_key.partition("/")
    subscriber, sep2, channel = rest.rpartition("/")
    return (event_id, subscriber, channel) if sep and sep2 and event_id else None
