"""The words for a feed's state: one per state, the same in every surface.

The startup banner, the console (Now, Feeds), `notifier status`, `/healthz` and the
dry run all say a feed's state with `feed_state(raw)`, read from the provider hash
the poll writes (`notifier.store.feeds.providers`):

- `unknown`: never polled (no poll has recorded anything). Never "operational".
- `ok`: the last poll worked.
- `failing`: the last poll failed, fewer times in a row than the threshold that
  announces it (NOTIFIER_FEED_FAILURE_THRESHOLD).
- `unreachable`: announced down: the page could not be reached (DNS, refused,
  timeout, TLS, an HTTP error).
- `unreadable`: announced down: the page answered, but not with a feed we can read.

A provider's state on the Now page is its feed's state unless the feed is `ok`; then
it is what its open incidents say (`operational`, `minor`, `major`, `critical`,
`maintenance`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from notifier.feeds.errors import is_unreadable


class FeedState(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    FAILING = "failing"
    UNREACHABLE = "unreachable"
    UNREADABLE = "unreadable"

    @property
    def blind(self) -> bool:
        """We cannot see what the provider says now."""
        return self is not FeedState.OK


def feed_state(raw: Mapping[str, str]) -> FeedState:
    """The state of a provider's feed from its hash (`ProviderStore.status`)."""
    if not raw.get("polled_at"):
        return FeedState.UNKNOWN
    if raw.get("unreachable") == "1":
        cause = raw.get("cause") or None
        return FeedState.UNREADABLE if is_unreadable(cause) else FeedState.UNREACHABLE
    if int(raw.get("failures") or 0) > 0:
        return FeedState.FAILING
    return FeedState.OK


__all__ = ["FeedState", "feed_state"]
