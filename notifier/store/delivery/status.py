"""An alert's delivery status: one enum, kept in one place.

The status lives in the alert's own record (`<prefix>:alert:<dedup_key>`, the claim),
as its `status` field, next to the payload: the claim writes it `pending`, and
`AlertStore.finish` is its only writer after that. The delivery log
(`notifier.store.delivery.deliverylog`) keeps the attempts, not a status.

The release before this one kept two: the record's `state` (pending, delivered,
failed) and the log's `outcome` (the six values below). A record written by it has no
`status` field; `decode` reads those two instead, as that release merged them. Drop
the fallback (and the log's `outcome` read) one release after this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from notifier.store.conn.batch import text

STATUS = "status"  # the record's field
LEGACY_STATE = "state"  # the previous release's field in the record
LEGACY_OUTCOME = "outcome"  # the previous release's field in the log record


class AlertStatus(StrEnum):
    """Where one alert's delivery stands. Only PENDING is unfinished."""

    PENDING = "pending"  # claimed; not delivered yet (queued, held, retrying)
    DELIVERED = "delivered"
    # The console stood in for a vendor with no credentials: shown on stdout, not sent.
    PRINTED = "printed"
    # A silence muted it on purpose: not sent; the log's message id is "silence:<id>".
    SILENCED = "silenced"
    SKIPPED = "skipped"  # nothing to send (no members, not a page), or carried by another
    FAILED = "failed"  # permanently, or at its final attempt

    @property
    def finished(self) -> bool:
        return self is not AlertStatus.PENDING

    @property
    def reached(self) -> bool:
        """It reached the subscriber: sent, or printed in the vendor's stead."""
        return self in (AlertStatus.DELIVERED, AlertStatus.PRINTED)


def parse(value: str | None) -> AlertStatus | None:
    """A stored value as a status (None: absent or not one)."""
    try:
        return AlertStatus(value) if value else None
    except ValueError:
        return None


def decode(
    status: str | None, legacy_state: str | None = None, legacy_outcome: str | None = None
) -> AlertStatus | None:
    """The status from the stored fields: the record's `status`, or, in a record the
    previous release wrote, its `state` refined by the log's `outcome` (that release
    wrote a skipped, printed or silenced alert as state `delivered`; a finished outcome
    wins, as it did then). None: no record."""
    found = parse(status)
    if found is not None:
        return found
    state, outcome = parse(legacy_state), parse(legacy_outcome)
    if state is None:
        return None
    return outcome if outcome is not None and outcome.finished else state


def from_reply(fields: Sequence[object], legacy_outcome: object) -> AlertStatus | None:
    """`decode` of the replies to HMGET `FIELDS` (of the record) and HGET `LEGACY_OUTCOME`
    (of the log record)."""
    status, state = (text(v) for v in fields)
    return decode(status, state, text(legacy_outcome))


def legacy_log_key(prefix: str, dedup_key: str) -> str:
    """The log record that held the previous release's `outcome`."""
    return f"{prefix}:dlog:{dedup_key}"


# The record's fields `decode` reads, in its order (the log's `outcome` comes apart).
FIELDS = (STATUS, LEGACY_STATE)


def record_key(prefix: str, dedup_key: str) -> str:
    """The alert's record: its claim, holding the payload and the status."""
    return f"{prefix}:alert:{dedup_key}"


def marks_key(prefix: str, provider: str, incident_id: str) -> str:
    """One incident's alerts (a hash, 30 days): each dedup key -> "" while its record
    holds the alert, or its shrunk marker (`notifier.store.delivery.shrink`)."""
    return f"{prefix}:alert-marks:{provider}/{incident_id}"


def notes_key(prefix: str, provider: str, incident_id: str) -> str:
    """The annotations one incident's shrunk alerts carried, once each (a hash, 30 days:
    a digest of each -> its JSON), for the console."""
    return f"{prefix}:alert-notes:{provider}/{incident_id}"


def legacy_of_key(prefix: str, provider: str, incident_id: str) -> str:
    """The set of one incident's dedup keys the previous release wrote (read for one
    release, until its 30 days are over)."""
    return f"{prefix}:alerts-of:{provider}/{incident_id}"


def finished_key(prefix: str) -> str:
    """The finished alerts whose records are still whole (a sorted set by finish time)."""
    return f"{prefix}:alerts-finished"


def sequence_key(prefix: str, subscriber: str, channel: str, thread_key: str) -> str:
    """The last alert claimed in a thread on one route (`AlertStore.sequence_key`)."""
    return f"{prefix}:thread-seq:{subscriber}:{channel}:{thread_key}"
