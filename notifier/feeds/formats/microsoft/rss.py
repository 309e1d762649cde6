"""status.cloud.microsoft RSS (`https://status.cloud.microsoft/api/feed/mac`): `microsoft-rss`.

From a real capture (2026-08-01, quiet): RSS 2.0 written by .NET's syndication
writer (`xmlns:a10`), channel title "Microsoft Admin Center Status", one item per
post with `guid` (the same id as the posts JSON), `link`, `title`, an HTML
`description`, `pubDate` and a non-standard `<status>` element ("Available").
The quiet item is a standing placeholder, not an incident.

Inferred, not yet seen: an incident is an item whose `<status>` is not healthy
(`notifier.feeds.formats.microsoft.words`), with its own guid and title. Each
item is a service state keyed by its guid: the feed's word opens and resolves
it (`notifier.diff.synth`). An item with no `<status>` at all is kept as
"(no status)" and read as degraded.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from notifier.feeds.errors import ParseError
from notifier.feeds.formats.microsoft.words import impact_of, workloads_in
from notifier.feeds.formats.vendor_common import one_line
from notifier.feeds.html_text import html_to_text
from notifier.feeds.xml import child, children, local, parse_date, parse_xml, text
from notifier.models import DocumentKind, FeedDocument, ServiceState

SERVICE = "Microsoft 365"


def is_microsoft_rss(root: Element) -> bool:
    """An RSS channel from status.cloud.microsoft whose items carry `<status>`."""
    channel = child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        return False
    return "status.cloud.microsoft" in text(channel, "link") or any(
        child(item, "status") is not None for item in children(channel, "item")
    )


def _item(node: Element, provider: str) -> ServiceState:
    status = text(node, "status") or "(no status)"
    title = one_line(text(node, "title"))
    message = html_to_text(text(node, "description"))
    link = text(node, "link")
    return ServiceState(
        provider=provider,
        name=SERVICE,
        state=status,
        impact=impact_of(status),
        at=parse_date(text(node, "pubDate")),
        message=message,
        url=link if link.startswith("https://") else "https://status.cloud.microsoft",
        ref=text(node, "guid"),
        title=title,
        components=workloads_in(f"{title} {message}") or (SERVICE,),
    )


def parse_microsoft_rss(body: bytes, provider: str) -> FeedDocument:
    root = parse_xml(body)
    channel = child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise ParseError("not an RSS 2.0 document (no <rss><channel>)")
    services = tuple(_item(node, provider) for node in children(channel, "item"))
    return FeedDocument("microsoft-rss", DocumentKind.ACTIVE, (), services)
