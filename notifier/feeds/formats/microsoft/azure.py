"""Azure status RSS (`https://azure.status.microsoft/en-us/status/feed/`): `azure-rss`.

An active-only feed: each `<item>` is an issue open now and an empty channel is
the normal healthy state, so an item that leaves the feed has been resolved. The
shape follows real captures found with the search tool (an RSS 2.0 document
written by .NET's syndication writer, `xmlns:a10` Atom namespace, channel title
"Azure Status", dates like `Mon, 12 Nov 2018 16:25:40 Z`): per item a title such
as "Virtual Machines/VM Scale Sets - East US 2", an HTML description, a pubDate,
and optionally `<guid>`, `<link>` and `<category>` elements naming the service
area and region.

Azure states no severity in the feed. Its public status page carries only issues
broad enough to post there (narrower ones go to each subscription's Service
Health), so every item reads as `major`. The id is the guid, else the link, else
`azure-<hash of the title>`; the title is the least stable of these, so a guid
or link is preferred whenever Azure sends one. The description at the item's
pubDate is one update; a later poll with a new pubDate adds another.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from notifier.feeds.common import Parser, assign_update_keys
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.vendor_common import one_line, short_hash
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

AZURE_IMPACT = Impact.MAJOR
STATUS_PAGE = "https://azure.status.microsoft/en-us/status"

# Azure region display names, longest first so "East US 2" wins over "East US".
AZURE_REGIONS = sorted(
    [
        "East US", "East US 2", "East US 3", "West US", "West US 2", "West US 3",
        "Central US", "North Central US", "South Central US", "West Central US",
        "Canada Central", "Canada East", "Brazil South", "Brazil Southeast", "Mexico Central",
        "North Europe", "West Europe", "UK South", "UK West", "France Central", "France South",
        "Germany West Central", "Germany North", "Norway East", "Norway West", "Sweden Central",
        "Switzerland North", "Switzerland West", "Poland Central", "Italy North",
        "Spain Central", "Austria East", "Belgium Central", "Southeast Asia", "East Asia",
        "Australia East", "Australia Southeast", "Australia Central", "Central India",
        "South India", "West India", "Japan East", "Japan West", "Korea Central",
        "Korea South", "UAE North", "UAE Central", "South Africa North", "South Africa West",
        "Qatar Central", "Israel Central", "New Zealand North", "Indonesia Central",
        "Malaysia West", "Chile Central", "Taiwan North", "US Gov Virginia",
        "US Gov Arizona", "US Gov Texas",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_REGION = re.compile(
    r"(?<![A-Za-z])(" + "|".join(re.escape(r) for r in AZURE_REGIONS) + r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CANONICAL = {r.lower(): r for r in AZURE_REGIONS}
# "Summary of impact:" opens Azure's statement once an issue is mitigated.
_MITIGATED = re.compile(r"^\s*(summary of impact|mitigated|resolved)\b", re.IGNORECASE)
_RESOLVED_TITLE = re.compile(r"^\s*[\[(]?\s*(resolved|mitigated)\b", re.IGNORECASE)


# Azure's own statement of the start: "Starting at 18:05 UTC on 26 Dec 2024, ...",
# "Between 23:20 UTC on 25 January 2023 and ...". The pubDate is only when it posted.
_STATED_START = re.compile(
    r"\b(?:starting|beginning|from|since|between)\s+(?:at\s+)?(\d{1,2}:\d{2})\s*UTC\s+on\s+"
    r"(\d{1,2}\s+[A-Za-z]{3,9}\s+\d{4})",
    re.IGNORECASE,
)


def stated_start(body: str) -> datetime | None:
    """The impact start Azure states in its text, if any (UTC)."""
    match = _STATED_START.search(body)
    if match is None:
        return None
    stamp = f"{match.group(2)} {match.group(1)}"
    for fmt in ("%d %b %Y %H:%M", "%d %B %Y %H:%M"):
        try:
            return datetime.strptime(stamp, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


# Azure's public id is the incident's tracking id, carried in the guid or link.
_TRACKING_ID = re.compile(r"tracking-?id[-=/]([A-Za-z0-9][A-Za-z0-9-]{2,30})", re.IGNORECASE)


def public_id(guid: str, link: str, title: str) -> str:
    for candidate in (guid, link):
        match = _TRACKING_ID.search(candidate)
        if match:
            return match.group(1).upper()
    return guid or link or f"azure-{short_hash(title)}"


def regions_in(text_: str) -> tuple[str, ...]:
    """Azure region names in `text_`, canonical spelling, sorted."""
    return tuple(sorted({_CANONICAL[m.group(1).lower()] for m in _REGION.finditer(text_)}))


def _components(title: str, categories: list[str]) -> tuple[str, ...]:
    """Service names: categories that are not regions, else the title's first part."""
    names = [c for c in categories if not regions_in(c)]
    head = title.split(" - ")[0].strip() if " - " in title else ""
    if not names and head and not regions_in(head):
        names = [head]
    return tuple(dict.fromkeys(names))


def _item(node: Element, provider: str) -> Incident:
    title = one_line(text(node, "title"))
    if not title:
        raise ParseError("Azure status item without a title")
    at = parse_date(text(node, "pubDate")) or parse_date(text(node, "updated"))
    if at is None:
        raise ParseError("Azure status item without a readable pubDate")
    body = html_to_text(text(node, "description"))
    closed = bool(_RESOLVED_TITLE.match(title) or _MITIGATED.match(body))
    status = Status.RESOLVED if closed else Status.INVESTIGATING
    categories = [one_line(c.text or "") for c in children(node, "category") if c.text]
    link = text(node, "link")
    guid = text(node, "guid")
    start = stated_start(body)
    return Incident(
        provider=provider,
        id=public_id(guid, link, title),
        title=title,
        url=link if link.startswith("https://") else STATUS_PAGE,
        status=status,
        impact=AZURE_IMPACT,
        kind=IncidentKind.INCIDENT,
        started_at=start if start is not None and start <= at else at,
        updated_at=at,
        resolved_at=at if closed else None,
        components=_components(title, categories),
        regions=regions_in(" ".join([title, *categories])),
        updates=assign_update_keys([Update(at=at, status=status, body=body)]),
    )


def parse_azure_rss(body: bytes, provider: str) -> FeedDocument:
    root = parse_xml(body)
    channel = child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise ParseError("not an RSS 2.0 document (no <rss><channel>)")
    # Items sometimes follow </channel> (seen in a 2018 capture): accept both places.
    nodes = children(channel, "item") + children(root, "item")
    incidents = {i.id: i for i in (_item(node, provider) for node in nodes)}
    return FeedDocument("azure-rss", DocumentKind.ACTIVE, tuple(incidents.values()))


PARSERS: dict[str, Parser] = {"azure-rss": parse_azure_rss}
