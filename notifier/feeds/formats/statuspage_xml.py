"""Statuspage `history.atom` and `history.rss`: one entry per incident.

The entry carries the title, the public link (`…/incidents/CODE`, whose CODE is
the id the JSON API uses too) and the whole update history as one HTML blob
(see `statuspage_blob`). Neither format states impact, so incidents get `none`
and maintenance gets `maintenance`. The feed is a window of the newest 25
entries: `history` kind, absence means nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from xml.etree.ElementTree import Element

from notifier.feeds.common import assign_update_keys, closed_at, url_code
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.statuspage_blob import Blob, RawUpdate, parse_blob
from notifier.feeds.stamps import parse_stamp
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

log = logging.getLogger(__name__)

# The bold label of each update, lower-cased, to the normalized status.
LABEL_STATUS: dict[str, Status] = {
    "investigating": Status.INVESTIGATING,
    "identified": Status.IDENTIFIED,
    "update": Status.UPDATE,
    "monitoring": Status.MONITORING,
    "resolved": Status.RESOLVED,
    "postmortem": Status.POSTMORTEM,
    "scheduled": Status.SCHEDULED,
    "in progress": Status.IN_PROGRESS,
    "verifying": Status.VERIFYING,
    "completed": Status.COMPLETED,
}
MAINTENANCE_STATUSES = frozenset(
    {Status.SCHEDULED, Status.IN_PROGRESS, Status.VERIFYING, Status.COMPLETED}
)
SCHEDULED_MARK = "THIS IS A SCHEDULED EVENT"


@dataclass(frozen=True)
class FeedEntry:
    """The fields of one Atom entry or RSS item that matter to us."""

    ident: str  # <id> or <guid>
    link: str
    title: str
    html: str
    reference: datetime | None  # latest of published/updated: anchors year inference


def label_status(label: str) -> Status:
    # Unknown labels are still updates; never drop the text a provider posted.
    return LABEL_STATUS.get(" ".join(label.lower().split()), Status.UPDATE)


def _updates(raw: list[RawUpdate], reference: datetime) -> list[Update]:
    """Newest-first raw updates to Updates in posting order (oldest first)."""
    updates: list[Update] = []
    for item in raw:
        at = parse_stamp(item.stamp, reference)
        if at is None:
            # A <small> inside a body, not a new update: keep its text with the update.
            if updates:
                prev = updates[-1]
                extra = " ".join(p for p in (item.stamp, item.label, item.body) if p)
                updates[-1] = Update(prev.at, prev.status, f"{prev.body}\n{extra}".strip())
            continue
        updates.append(Update(at=at, status=label_status(item.label), body=item.body))
    updates.reverse()
    return updates


def _is_maintenance(blob: Blob, updates: list[Update]) -> bool:
    return SCHEDULED_MARK in blob.preamble.upper() or any(
        u.status in MAINTENANCE_STATUSES for u in updates
    )


def entry_incident(entry: FeedEntry, provider: str) -> Incident | None:
    """One entry as an Incident, or None when it has no usable id or date."""
    code = url_code(entry.link) or entry.ident.rsplit("Incident/", 1)[-1] or entry.link
    if not code or entry.reference is None:
        log.warning("skipping a %s feed entry without an id or a date", provider)
        return None
    blob = parse_blob(entry.html)
    updates = assign_update_keys(_updates(blob.updates, entry.reference))
    maintenance = _is_maintenance(blob, list(updates))
    default = Status.SCHEDULED if maintenance else Status.INVESTIGATING
    status = updates[-1].status if updates else default
    window_start = parse_stamp(blob.preamble, entry.reference) if maintenance else None
    first = updates[0].at if updates else entry.reference
    return Incident(
        provider=provider,
        id=code,
        title=" ".join(entry.title.split()),
        url=entry.link or None,
        status=status,
        impact=Impact.MAINTENANCE if maintenance else Impact.NONE,
        kind=IncidentKind.MAINTENANCE if maintenance else IncidentKind.INCIDENT,
        started_at=window_start or first,
        updated_at=updates[-1].at if updates else entry.reference,
        resolved_at=closed_at(status, updates),
        components=blob.components,
        updates=updates,
    )


def _latest(*values: str) -> datetime | None:
    dates = [d for d in (parse_date(v) for v in values) if d is not None]
    return max(dates, default=None)


def atom_entries(root: Element) -> list[FeedEntry]:
    if local(root.tag) != "feed":
        raise ParseError(f"expected an Atom <feed>, got <{local(root.tag)}>")
    entries = []
    for e in children(root, "entry"):
        links = children(e, "link")
        alternate = [x for x in links if x.get("rel", "alternate") == "alternate"] or links
        entries.append(
            FeedEntry(
                ident=text(e, "id"),
                link=(alternate[0].get("href", "") if alternate else "").strip(),
                title=text(e, "title"),
                html=text(e, "content") or text(e, "summary"),
                reference=_latest(text(e, "published"), text(e, "updated")),
            )
        )
    return entries


def rss_entries(root: Element) -> list[FeedEntry]:
    channel = child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise ParseError(f"expected an RSS <rss><channel>, got <{local(root.tag)}>")
    return [
        FeedEntry(
            ident=text(item, "guid"),
            link=text(item, "link"),
            title=text(item, "title"),
            html=text(item, "description") or text(item, "encoded"),
            reference=_latest(text(item, "pubDate")),
        )
        for item in children(channel, "item")
    ]


# A history window re-serves the same entries poll after poll (24 of 25 unchanged in a
# daily capture), and reading an entry's HTML blob is most of a parse: an entry read
# once is not read again while it stays in this cache. Entries and incidents are
# immutable, so sharing them is safe. (Measured in bench/bench_replay.py.)
_entry_incident = lru_cache(maxsize=4096)(entry_incident)


def _document(fmt: str, entries: list[FeedEntry], provider: str) -> FeedDocument:
    incidents = [i for i in (_entry_incident(e, provider) for e in entries) if i is not None]
    return FeedDocument(format=fmt, kind=DocumentKind.HISTORY, incidents=tuple(incidents))


def parse_atom(body: bytes, provider: str) -> FeedDocument:
    return _document("statuspage-atom", atom_entries(parse_xml(body)), provider)


def parse_rss(body: bytes, provider: str) -> FeedDocument:
    return _document("statuspage-rss", rss_entries(parse_xml(body)), provider)


PARSERS = {"statuspage-atom": parse_atom, "statuspage-rss": parse_rss}
