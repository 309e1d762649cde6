"""Any RSS 2.0 or Atom feed: the fallback when no richer format applies.

Each item/entry is one incident with one update (its text). Generic feeds state
no status, so it is read from the first status word in the title or body
(`KEYWORD_STATUS`, first match wins); with none, the item is an `update`.
The feed is a window of recent items: `history` kind.
"""

from __future__ import annotations

import hashlib
import re
from xml.etree.ElementTree import Element

from notifier.feeds.common import assign_update_keys, closed_at
from notifier.feeds.errors import ParseError
from notifier.feeds.html_text import html_to_text
from notifier.feeds.xml import child, children, local, parse_date, parse_xml, text
from notifier.models import (
    DocumentKind,
    FeedDocument,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)

# Status words a generic feed's title or body may start with, in priority order.
KEYWORD_STATUS: dict[str, Status] = {
    "resolved": Status.RESOLVED,
    "completed": Status.COMPLETED,
    "postmortem": Status.POSTMORTEM,
    "monitoring": Status.MONITORING,
    "identified": Status.IDENTIFIED,
    "investigating": Status.INVESTIGATING,
    "in progress": Status.IN_PROGRESS,
    "scheduled": Status.SCHEDULED,
}
_WORDS = re.compile(r"\b(" + "|".join(KEYWORD_STATUS) + r")\b", re.IGNORECASE)
MAINTENANCE_STATUSES = frozenset({Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED})


def keyword_status(*texts: str) -> Status:
    """The status named near the start of the title or body, else `update`."""
    for t in texts:
        match = _WORDS.search(t[:120])
        if match:
            return KEYWORD_STATUS[" ".join(match[1].lower().split())]
    return Status.UPDATE


def _incident(ident: str, link: str, title: str, html: str, when: str, provider: str) -> Incident:
    at = parse_date(when)
    if at is None:
        raise ParseError(f"an item has no readable date ({when[:40]!r})")
    body = html_to_text(html)
    title = " ".join(html_to_text(title).split())
    status = keyword_status(title, body)
    # Items without guid or link still need a stable id: hash what identifies them.
    code = ident or link or hashlib.sha256(f"{title}\n{when}".encode()).hexdigest()[:16]
    maintenance = status in MAINTENANCE_STATUSES
    updates = assign_update_keys([Update(at=at, status=status, body=body)])
    return Incident(
        provider=provider,
        id=code,
        title=title,
        url=link or None,
        status=status,
        impact=Impact.MAINTENANCE if maintenance else Impact.NONE,
        kind=IncidentKind.MAINTENANCE if maintenance else IncidentKind.INCIDENT,
        started_at=at,
        updated_at=at,
        resolved_at=closed_at(status, updates),
        updates=updates,
    )


def _entry_link(entry: Element) -> str:
    links = children(entry, "link")
    alternate = [x for x in links if x.get("rel", "alternate") == "alternate"] or links
    return alternate[0].get("href", "").strip() if alternate else ""


def parse_rss(body: bytes, provider: str) -> FeedDocument:
    root = parse_xml(body)
    channel = child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise ParseError(f"expected an RSS <rss><channel>, got <{local(root.tag)}>")
    incidents = [
        _incident(
            text(i, "guid"),
            text(i, "link"),
            text(i, "title"),
            text(i, "description") or text(i, "encoded"),
            text(i, "pubDate") or text(i, "date"),
            provider,
        )
        for i in children(channel, "item")
    ]
    return FeedDocument("rss", DocumentKind.HISTORY, tuple(incidents))


def parse_atom(body: bytes, provider: str) -> FeedDocument:
    root = parse_xml(body)
    if local(root.tag) != "feed":
        raise ParseError(f"expected an Atom <feed>, got <{local(root.tag)}>")
    incidents = [
        _incident(
            text(e, "id"),
            _entry_link(e),
            text(e, "title"),
            text(e, "content") or text(e, "summary"),
            text(e, "updated") or text(e, "published"),
            provider,
        )
        for e in children(root, "entry")
    ]
    return FeedDocument("atom", DocumentKind.HISTORY, tuple(incidents))


PARSERS = {"rss": parse_rss, "atom": parse_atom}
