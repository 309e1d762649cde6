"""The due sets the stages share: work that is due at a time, in Redis (`DueSet`).

Named once here, so a typo cannot make a set of its own: each is a sorted set under
`<prefix>:due:<value>`, swept by beat.
"""

from __future__ import annotations

from enum import StrEnum


class Due(StrEnum):
    """Which due set: what waits in it, and for what."""

    UNPROCESSED = "unprocessed"  # events saved, not planned yet (the reconcile re-sends)
    UNDELIVERED = "undelivered"  # alerts handed on, not finished yet (the reconcile re-sends)
    HELD = "held"  # alerts held for quiet hours or a rate cap, until their time
    ESCALATIONS = "escalations"  # pages to check for an acknowledgement
    FINAL_LOOKUPS = "final-lookups"  # incidents whose final update is looked for again
