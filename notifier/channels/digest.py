"""What a digest says, before any channel renders it: one line per incident.

The pipeline collects the lines from the delivery log; the channel that
`sends_digests` turns them into its own medium (see `Channel.send_digest`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One incident's latest known state in the digest's window."""

    provider: str
    title: str
    status: str
    impact: str
    last_at: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    """A subscriber's incidents in the 24 hours up to `until`, oldest first."""

    lines: tuple[DigestLine, ...]
    until: datetime
