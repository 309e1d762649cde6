"""A provider known by its status page: recall its feed, find it, and follow it when it moves.

The first poll discovers the feed and remembers it in Redis; later polls use what is
remembered. When the feed answers 404 or 410, or turns into an HTML page, discovery
runs again: status pages move. A feed found at a new address is a move: remembered,
logged, and shown by `notifier status`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from notifier.feeds.discover.find import Fetches, discover
from notifier.store.feeds.discovered import DiscoveredStore, Move, Remembered

log = logging.getLogger(__name__)

# After a discovery that found nothing, the next waits this long.
RETRY_AFTER_S = 300
# Failure causes (feeds.errors codes) that mean "the feed is no longer here".
MOVED_CAUSES = frozenset({"http:404", "http:410", "html"})


def current_feed(
    provider: str, page: str, store: DiscoveredStore, fetcher: Fetches, now: datetime
) -> Remembered | None:
    """The feed to poll for `page`: remembered, else discovered now (None: none found)."""
    known = store.get(provider, page)
    if known is not None:
        return known
    found = _find(provider, page, store, fetcher, now, "first discovery")
    return found[0] if found else None


def after_failure(
    provider: str, page: str, cause: str | None, store: DiscoveredStore, fetcher: Fetches,
    now: datetime,
) -> Move | None:  # fmt: skip
    """Discover again when `cause` says the feed moved; the move, if the feed is elsewhere."""
    if cause not in MOVED_CAUSES:
        return None
    why = "feed answered HTML" if cause == "html" else f"feed answered HTTP {cause.split(':')[1]}"
    found = _find(provider, page, store, fetcher, now, why)
    return found[1] if found else None


def _find(
    provider: str, page: str, store: DiscoveredStore, fetcher: Fetches, now: datetime, why: str
) -> tuple[Remembered, Move | None] | None:
    if store.searched_in_vain(provider):
        return None
    result = discover(page, fetcher)
    best = result.best
    if best is None:
        store.found_nothing(provider, RETRY_AFTER_S)
        tried = f"{result.tried} request{'s' if result.tried != 1 else ''}"
        log.warning("no feed found behind the status page (%s, %s)", why, tried,
                    extra={"provider": provider})  # fmt: skip
        return None
    found = Remembered(page, best.url, best.format, result.platform, now.isoformat())
    move = store.remember(provider, found, now, why)
    if best.components:
        store.saw_components(provider, best.components)
    if move is not None:
        log.warning("status feed moved: %s -> %s (%s)", move.old, move.new, why,
                    extra={"provider": provider})  # fmt: skip
    else:
        log.info("status feed discovered: %s (%s, %s)", best.url, best.format,
                 result.platform or "no known platform", extra={"provider": provider})  # fmt: skip
    return found, move
