"""What the `providers` actions share: a fetcher with polling's limits, and words for a
feed read once."""

from __future__ import annotations

from dataclasses import dataclass

from notifier.config.settings import get_settings
from notifier.feeds import registry
from notifier.feeds.detect import detect, looks_like_html
from notifier.feeds.discover.components import listed_components
from notifier.feeds.errors import FeedError, HtmlPageError, cause_words
from notifier.feeds.fetch import Fetcher


def fetcher() -> Fetcher:
    """The poller's limits (NOTIFIER_HTTP_TIMEOUT, _MAX_FEED_BYTES): nothing here may do
    what a poll would not."""
    s = get_settings()
    return Fetcher(timeout=s.http_timeout, connect_timeout=s.http_connect_timeout,
                   max_bytes=s.max_feed_bytes, allow=s.allowed_networks())  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reading:
    """One feed fetched and parsed: `ok`, else `reason` in plain words."""

    ok: bool
    reason: str = ""
    format: str = ""
    components: tuple[str, ...] = ()
    open_incidents: int = 0
    format_note: str = ""  # the feed reads as another format than expected


def read_feed(f: Fetcher, url: str, fmt: str) -> Reading:
    try:
        result = f.fetch(url)
        body = result.body or b""
        if looks_like_html(body):
            raise HtmlPageError("answered with an HTML page, not a feed")
        try:
            seen = detect(body)
        except FeedError:
            seen = ""
        note = ""
        if fmt != "auto" and seen and seen != fmt:
            note = f"expected {fmt}, the document reads as {seen}"
        doc = registry.parse(body, fmt, "check")
    except FeedError as exc:
        return Reading(False, f"{cause_words(exc.cause_code)} ({exc})")
    except Exception as exc:  # a parser that chokes on what the server sent
        return Reading(False, f"unreadable feed: {type(exc).__name__}")
    opened = sum(1 for i in doc.incidents if i.is_active)
    return Reading(True, "", doc.format, listed_components(body, doc), opened, note)
