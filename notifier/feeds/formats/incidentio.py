"""incident.io status pages (status.openai.com): `feed.rss` and `feed.atom`.

One item per incident; its body shows only the latest state:
`<b>Status: Resolved</b><br/><br/>message<br/><br/><b>Affected components</b>
<ul><li>Video generation (Operational)</li></ul>`. So each incident carries a
single update (the latest), posted at the item's date. The id is the ULID in the
link (`…/incidents/01KHRP7P1JF885BYA8SDWBDBR1`), whose first 10 characters encode
when the incident was opened (its `started_at`); it is the same id incident.io's
Statuspage-compatible `summary.json` uses. The summary.json itself is read by the
`statuspage-json` parser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from notifier.feeds.common import assign_update_keys, closed_at, tidy_url, url_code
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

# "Status: X" in the body, lower-cased, to the normalized status.
STATUS: dict[str, Status] = {
    "investigating": Status.INVESTIGATING,
    "identified": Status.IDENTIFIED,
    "monitoring": Status.MONITORING,
    "resolved": Status.RESOLVED,
    "scheduled": Status.SCHEDULED,
    "in progress": Status.IN_PROGRESS,
    "maintenance in progress": Status.IN_PROGRESS,
    "under maintenance": Status.IN_PROGRESS,
    "verifying": Status.VERIFYING,
    "completed": Status.COMPLETED,
    "maintenance complete": Status.COMPLETED,
    "maintenance completed": Status.COMPLETED,
}
# The worst component state listed, lower-cased, to an impact (while it lasts).
COMPONENT_IMPACT: dict[str, Impact] = {
    "operational": Impact.NONE,
    "degraded performance": Impact.MINOR,
    "partial outage": Impact.MAJOR,
    "full outage": Impact.CRITICAL,
    "under maintenance": Impact.MAINTENANCE,
}
MAINTENANCE_STATUSES = frozenset(
    {Status.SCHEDULED, Status.IN_PROGRESS, Status.VERIFYING, Status.COMPLETED}
)

_STATUS_LINE = re.compile(r"^Status:\s*(?P<status>.+)$", re.IGNORECASE)
_COMPONENT = re.compile(r"^- (?P<name>.+?)(?: \((?P<state>[^()]*)\))?$")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_time(code: str) -> datetime | None:
    """The creation instant a ULID encodes in its first 10 characters (ms since epoch)."""
    if len(code) != 26 or any(c not in _CROCKFORD for c in code.upper()):
        return None
    millis = 0
    for c in code[:10].upper():
        millis = millis * 32 + _CROCKFORD.index(c)
    try:
        return datetime.fromtimestamp(millis // 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _read_body(html: str) -> tuple[Status, str, list[tuple[str, str]]]:
    """(status, message, [(component, state)]) from an item's HTML."""
    status = Status.UPDATE
    message: list[str] = []
    components: list[tuple[str, str]] = []
    in_components = False
    for line in html_to_text(html).splitlines():
        if (m := _STATUS_LINE.match(line)) and status is Status.UPDATE and not message:
            status = STATUS.get(" ".join(m["status"].lower().split()), Status.UPDATE)
        elif line.strip().lower() == "affected components":
            in_components = True
        elif in_components and (c := _COMPONENT.match(line)):
            components.append((c["name"].strip(), (c["state"] or "").strip().lower()))
        elif not in_components:
            message.append(line)
    return status, "\n".join(message).strip(), components


def _impact(states: list[str], maintenance: bool) -> Impact:
    if maintenance:
        return Impact.MAINTENANCE
    impacts = [COMPONENT_IMPACT.get(s, Impact.NONE) for s in states]
    return max(impacts, key=lambda i: i.rank, default=Impact.NONE)


def _incident(item: Element, link: str, when: str, html: str, provider: str) -> Incident | None:
    url = tidy_url(link) if link else ""
    code = url_code(url) or url_code(text(item, "guid") or text(item, "id"))
    at = parse_date(when)
    if code is None or at is None:
        return None
    status, message, components = _read_body(html)
    maintenance = status in MAINTENANCE_STATUSES
    # The item is dated by its latest update; the ULID says when the incident opened.
    created = ulid_time(code)
    started = created if created is not None and created <= at else at
    updates = assign_update_keys([Update(at=at, status=status, body=message)])
    return Incident(
        provider=provider,
        id=code,
        title=" ".join(text(item, "title").split()),
        url=url or None,
        status=status,
        impact=_impact([s for _, s in components], maintenance),
        kind=IncidentKind.MAINTENANCE if maintenance else IncidentKind.INCIDENT,
        started_at=started,
        updated_at=at,
        resolved_at=closed_at(status, updates),
        components=tuple(dict.fromkeys(name for name, _ in components)),
        updates=updates,
    )


def _items(root: Element, provider: str) -> list[Incident | None]:
    if local(root.tag) == "rss" and (channel := child(root, "channel")) is not None:
        return [
            _incident(i, text(i, "link"), text(i, "pubDate"), _html(i), provider)
            for i in children(channel, "item")
        ]
    if local(root.tag) == "feed":
        return [
            _incident(e, _atom_link(e), _atom_date(e), _html(e), provider)
            for e in children(root, "entry")
        ]
    raise ParseError(f"expected an RSS or Atom feed, got <{local(root.tag)}>")


def _html(item: Element) -> str:
    return text(item, "encoded") or text(item, "description") or text(item, "content")


def _atom_date(entry: Element) -> str:
    return text(entry, "updated") or text(entry, "published")


def _atom_link(entry: Element) -> str:
    links = children(entry, "link")
    return links[0].get("href", "") if links else ""


def parse(body: bytes, provider: str) -> FeedDocument:
    incidents = [i for i in _items(parse_xml(body), provider) if i is not None]
    return FeedDocument("incidentio-rss", DocumentKind.HISTORY, tuple(incidents))


PARSERS = {"incidentio-rss": parse}
