"""Rules that decide to tell nobody are never silent.

Every rule that drops a change for a route (quiet hours in `suppress` mode; late news whose
only routes carry pages, which late news never makes) says so at INFO, with the
reason, and counts it through the caller's hook (the service counts
`notifier_events_dropped_total{reason}`, shown by `/metrics`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from notifier.models import ChangeEvent

log = logging.getLogger(__name__)

DropHook = Callable[[str], None]  # called with the reason, once per drop

QUIET_HOURS = "quiet_hours"
LATE_NEWS_NEVER_PAGES = "late_news_never_pages"
REASONS = (QUIET_HOURS, LATE_NEWS_NEVER_PAGES)


def dropped(event: ChangeEvent, reason: str, where: str, hook: DropHook | None) -> None:
    """Say that `event` is not sent to `where` (e.g. "ops/sms") because of `reason`."""
    # Ids come from the feed (untrusted): cut short.
    log.info(
        "not sent: %s of %s/%s to %s (%s)",
        event.kind.value,
        event.provider,
        event.incident_id[:60],
        where,
        reason,
        extra={"provider": event.provider, "reason": reason},
    )
    if hook is not None:
        hook(reason)


__all__ = ["LATE_NEWS_NEVER_PAGES", "QUIET_HOURS", "REASONS", "DropHook", "dropped"]
