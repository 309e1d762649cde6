"""History lookups: the provider's own record of incidents that left an active list.

An active list (Statuspage or incident.io `summary.json`, `incidents/unresolved.json`)
shows only open incidents, so when one leaves it the list says nothing of how it
ended. The same host keeps the history: `/api/v2/incidents.json` (the newest
incidents, closed ones with their final update). `look_up` fetches it once for all
the incidents that left the list in one poll.

Formats with no such history (Azure's RSS, AWS's current events, Slack's current
status) have no lookup: `history_url` gives None and the diff says that no final
update was published.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from notifier.feeds import registry
from notifier.feeds.errors import FeedError
from notifier.models import Incident

log = logging.getLogger(__name__)

# Active lists of the Statuspage API (incident.io serves a compatible copy).
_ACTIVE_JSON = re.compile(r"^(?P<base>.*/api/v2/)(summary|incidents/unresolved)\.json$")
HISTORY_FORMAT = "statuspage-json"

Lookups = dict[str, Incident | None]


class _HistoryBody(Protocol):
    @property
    def body(self) -> bytes | None: ...


class HistoryFetcher(Protocol):
    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> _HistoryBody: ...


def history_url(feed_url: str) -> str | None:
    """The history document on the same host as an active list, or None."""
    parts = urlsplit(feed_url)
    match = _ACTIVE_JSON.match(parts.path)
    if match is None or parts.scheme not in ("http", "https"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, match["base"] + "incidents.json", "", ""))


def look_up(fetcher: HistoryFetcher, feed_url: str, provider: str, ids: Iterable[str]) -> Lookups:
    """Each id → the incident as the provider's history shows it, or None when the
    history is unreachable, unreadable or lacks it. Empty when the feed has no history.
    Never raises: a lookup is a bonus, the absence rule still resolves the incident."""
    wanted = list(dict.fromkeys(ids))
    url = history_url(feed_url)
    if url is None or not wanted:
        return {}
    try:
        body = fetcher.fetch(url).body
        return read_history(body, provider, wanted)
    except Exception as exc:  # unreachable or unreadable: the incidents stay unconfirmed
        said = str(exc) if isinstance(exc, FeedError) else type(exc).__name__  # safe line
        log.info("history lookup failed: %s", said, extra={"provider": provider})
    return {iid: None for iid in wanted}


def read_history(body: bytes | None, provider: str, ids: Iterable[str]) -> Lookups:
    """Each id → the incident as the history document `body` shows it (None: absent).
    Raises `FeedError` when the document cannot be parsed. `notifier replay` reads
    saved history documents with it, the way a live poll reads a fetched one."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Incident] = {}
    if body is not None:
        doc = registry.parse(body, HISTORY_FORMAT, provider)
        found = {i.id: i for i in doc.incidents if i.id in wanted}
    return {iid: found.get(iid) for iid in wanted}


__all__ = ["HISTORY_FORMAT", "Lookups", "history_url", "look_up", "read_history"]
