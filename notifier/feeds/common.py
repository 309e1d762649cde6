"""Helpers shared by the format parsers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from notifier.models import FeedDocument, Status, Update

# A parser reads one document of its format; it raises a `ParseError` subclass on
# anything it cannot read.
Parser = Callable[[bytes, str], FeedDocument]


def update_key(at: datetime, ordinal: int) -> str:
    """Identity of an update: its minute plus its place among updates of that minute.

    Minute precision because Statuspage Atom shows only minutes while its JSON shows
    seconds; the same update read from either must get the same key. The status is
    left out because Atom labels ("Update") differ from JSON statuses.
    """
    return f"{at.astimezone(UTC):%Y%m%dT%H%MZ}#{ordinal}"


def assign_update_keys(updates: Iterable[Update]) -> tuple[Update, ...]:
    """Sort oldest first and key them.

    The sort is stable: pass same-minute updates in the order they were posted
    (reverse a newest-first document before calling).
    """
    ordered = sorted(updates, key=lambda u: u.at)
    seen: Counter[str] = Counter()
    keyed = []
    for u in ordered:
        minute = f"{u.at.astimezone(UTC):%Y%m%dT%H%M}"
        seen[minute] += 1
        keyed.append(replace(u, key=update_key(u.at, seen[minute])))
    return tuple(keyed)


def closed_at(status: Status, updates: Sequence[Update]) -> datetime | None:
    """When a closed incident closed: its last resolved/completed update.

    None while the incident is open (a reopened incident is not resolved). A
    post-mortem keeps the time of the resolution it follows.
    """
    if not status.is_closed:
        return None
    ends = [u.at for u in updates if u.status in {Status.RESOLVED, Status.COMPLETED}]
    if ends:
        return max(ends)
    return max((u.at for u in updates), default=None)


def url_code(url: str, marker: str = "/incidents/") -> str | None:
    """The public code in an incident URL: `…/incidents/jmfzh1p2yrg2` -> `jmfzh1p2yrg2`."""
    path = urlsplit(url.strip()).path
    if marker not in path:
        return None
    code = path.split(marker, 1)[1].strip("/").split("/", 1)[0]
    return code or None


def tidy_url(url: str) -> str:
    """A URL with doubled slashes in its path collapsed (incident.io prints `//incidents`)."""
    parts = urlsplit(url.strip())
    return urlunsplit(parts._replace(path=re.sub("/{2,}", "/", parts.path)))
