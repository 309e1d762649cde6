"""AWS per-service RSS (`status.aws.amazon.com/rss/<service>-<region>.rss`): `aws-rss`.

One item per update and no incident id. The severity is a title prefix
("Informational message:", "Service degradation:", "Service disruption:",
"Service is operating normally:") and closing items often add "[RESOLVED]".
Titles in Japanese regions are bilingual, `JA | EN`: the English half becomes
the title, the item body keeps both languages.

Grouping items into incidents (oldest first):
- items belong together when they share a service key (from the guid,
  `#ec2-ap-northeast-1_1566559115`) and the same English title once the
  severity prefix and "[RESOLVED]" are removed;
- an item joins the latest open incident with that key if it comes at most
  `CHAIN_GAP` after the incident's last item;
- a closing item ends the incident, except that another closing item within
  `RESTATEMENT_GAP` joins it: AWS restates resolutions and re-titles earlier
  items when it resolves (an item titled "operating normally" may say "We are
  investigating"), so only the last item of an incident can close it.
The id is `<service key>-<first item time as YYYYmmddTHHMMSSZ>`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element

from notifier.feeds.common import assign_update_keys
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.aws_common import (
    DASHBOARD_URL,
    derived_id,
    is_resolved,
    region_of,
    strip_resolved,
)
from notifier.feeds.formats.vendor_common import epoch, one_line, phase_statuses, worst
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

# Title prefix -> (closing?, impact); the RSS twin of aws.AWS_STATUS.
AWS_RSS_SEVERITY: dict[str, tuple[bool, Impact]] = {
    "service is operating normally": (True, Impact.NONE),
    "informational message": (False, Impact.MINOR),
    "service degradation": (False, Impact.MAJOR),
    "service disruption": (False, Impact.CRITICAL),
}
CHAIN_GAP = timedelta(hours=24)
RESTATEMENT_GAP = timedelta(hours=1)

_PREFIX = re.compile(r"^\s*(" + "|".join(AWS_RSS_SEVERITY) + r")\s*:\s*", re.IGNORECASE)
_GUID = re.compile(r"#(?P<key>[a-z0-9-]+)_(?P<epoch>\d{9,11})$")
_CHANNEL = re.compile(r"^(?P<service>.+?)\s+\((?P<where>[^()]*)\)\s+Service Status$")
_ESCAPED_TAG = re.compile(r"&lt;/?[a-zA-Z]")


@dataclass(frozen=True, slots=True)
class _Item:
    key: str
    at: datetime
    title: str  # English, without prefix or [RESOLVED]
    closing: bool
    impact: Impact
    body: str


@dataclass(slots=True)
class _ItemChain:
    """Items with one key and title, each within `CHAIN_GAP` of the one before: one incident."""

    items: list[_Item] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.items[-1].closing


def split_title(raw: str) -> tuple[str, bool, Impact]:
    """(English title, closing?, impact) of an item title."""
    title = one_line(raw)
    closing, impact = False, Impact.MINOR  # no prefix: a plain informational item
    match = _PREFIX.match(title)
    if match:
        closing, impact = AWS_RSS_SEVERITY[match.group(1).lower()]
        title = title[match.end() :]
    return strip_resolved(title), closing or is_resolved(title), impact


def _body(raw: str) -> str:
    # AWS escapes its markup inside CDATA ("&lt;br&gt;"): unescape once, then strip.
    if _ESCAPED_TAG.search(raw):
        raw = html.unescape(raw)
    return html_to_text(raw)


def _item(node: Element, fallback_key: str) -> _Item:
    guid = _GUID.search(text(node, "guid"))
    at = parse_date(text(node, "pubDate")) or (epoch(guid.group("epoch")) if guid else None)
    if at is None:
        raise ParseError("AWS RSS item without a readable pubDate or guid time")
    title, closing, impact = split_title(text(node, "title"))
    key = guid.group("key") if guid else fallback_key
    return _Item(key, at, title, closing, impact, _body(text(node, "description")))


def _group(items: list[_Item]) -> list[_ItemChain]:
    groups: list[_ItemChain] = []
    latest: dict[tuple[str, str], _ItemChain] = {}
    for item in sorted(items, key=lambda i: i.at):
        group_key = (item.key, item.title.lower())
        group = latest.get(group_key)
        gap = item.at - group.items[-1].at if group else None
        joins = gap is not None and gap <= CHAIN_GAP
        if group is not None and group.closed:
            joins = joins and item.closing and gap is not None and gap <= RESTATEMENT_GAP
        if not joins or group is None:
            group = _ItemChain()
            groups.append(group)
            latest[group_key] = group
        group.items.append(item)
    return groups


def _incident(group: _ItemChain, provider: str, component_of: dict[str, str]) -> Incident:
    items = group.items
    flags = [False] * (len(items) - 1) + [items[-1].closing]
    updates = assign_update_keys(
        Update(at=i.at, status=s, body=i.body)
        for i, s in zip(items, phase_statuses(flags), strict=True)
    )
    closed = group.closed
    first, last = items[0], items[-1]
    status = Status.RESOLVED if closed else updates[-1].status
    return Incident(
        provider=provider,
        id=derived_id(first.key, first.at),
        title=last.title or first.title,
        url=DASHBOARD_URL,
        status=status,
        impact=worst((i.impact for i in items), floor=Impact.MINOR),
        kind=IncidentKind.INCIDENT,
        started_at=first.at,
        updated_at=last.at,
        resolved_at=last.at if closed else None,
        components=(component_of.get(first.key, first.key),),
        regions=region_of(first.key),
        updates=updates,
    )


def _components(channel: Element, keys: set[str]) -> dict[str, str]:
    """Service key -> service name. A single-service feed's channel title names it."""
    names = {k: k.removesuffix("-" + r[0]) if (r := region_of(k)) else k for k in keys}
    match = _CHANNEL.match(one_line(text(channel, "title")))
    if match and len(keys) == 1:
        names = {next(iter(keys)): match.group("service")}
    return names


def parse_aws_rss(body: bytes, provider: str) -> FeedDocument:
    root = parse_xml(body)
    channel = child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise ParseError("not an RSS 2.0 document (no <rss><channel>)")
    fallback = one_line(text(channel, "title")) or "aws"
    items = [_item(node, fallback) for node in children(channel, "item")]
    component_of = _components(channel, {i.key for i in items})
    incidents = [_incident(g, provider, component_of) for g in _group(items)]
    incidents.sort(key=lambda i: i.started_at or i.updated_at or datetime.min, reverse=True)
    return FeedDocument("aws-rss", DocumentKind.HISTORY, tuple(incidents))
