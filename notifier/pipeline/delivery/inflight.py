"""Outcome unknown: what earlier attempts reached, and the lookup that keeps a request
whose answer never came from being sent twice.

The attempt record marks each target's request "in flight" before it is made, and
the answer clears the mark. A mark an earlier attempt left means its worker died or
its answer never came: this attempt asks the vendor (`Channel.find_sent`) and
records what it finds instead of sending again. Where the vendor cannot be asked, the
message is sent again (at-least-once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifier.channels.base import Channel, DeliveryError, SendResult
from notifier.models import Alert

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """What earlier attempts reached, the pipeline this attempt's writes go on, and
    which requests are in flight."""

    sent: dict[str, str]  # target id -> message id
    writes: Any
    unknown: dict[str, datetime] = field(default_factory=dict)  # earlier attempts' marks
    marked: list[str] = field(default_factory=list)  # targets this attempt marked in flight
    trying: str | None = None  # the target whose request is being made

    def unanswered(self, exc: DeliveryError) -> list[str]:
        """The in-flight marks this attempt wrote that `exc` shows were not needed: the
        targets never tried, and the one tried unless its outcome is unknown. Marks of
        earlier attempts stay until an answer clears them."""
        keep = {self.trying} if exc.unknown else set()
        return [t for t in self.marked if t not in keep and t not in self.unknown]


def send_once(
    alert: Alert, channel: Channel, target: Any, ref: str | None, since: datetime | None
) -> SendResult:
    """Send, unless an earlier attempt whose outcome is unknown (begun at `since`)
    reached the vendor: then that message's result, found by asking the vendor."""
    if since is not None:
        try:
            found = channel.find_sent(alert, target, ref, since)
        except DeliveryError as exc:
            if not exc.permanent:  # ask again next time: the earlier outcome stays unknown
                raise DeliveryError(exc.message, permanent=False, retry_after=exc.retry_after,
                                    unknown=True) from None  # fmt: skip
            # We may not ask (a missing scope): send again, at-least-once, and say so.
            log.warning("%s: cannot look for an earlier attempt's message (%s); sending "
                        "again", channel.name, exc.message,
                        extra={"dedup_key": alert.dedup_key})  # fmt: skip
            found = None
        if found is not None:
            log.info("%s: an earlier attempt's message to %s was delivered; not sending "
                     "again", channel.name, target.id,
                     extra={"dedup_key": alert.dedup_key})  # fmt: skip
            return found
    return channel.send(alert, target, ref)
