"""URL checks shared by config validation and the channels."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def split_clean(url: str) -> SplitResult | None:
    """The URL's parts when it has a host, a valid port and no whitespace or control
    characters; None otherwise. Never echoes the URL (it may be a secret)."""
    if not url.isprintable() or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError:
        return None
    return parts if parts.hostname else None
