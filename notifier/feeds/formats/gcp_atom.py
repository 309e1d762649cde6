"""Google Cloud `https://status.cloud.google.com/en/feed.atom`: `gcp-atom`.

The shape follows a real capture of the feed (2022-04-01) found with the search
tool: one `<entry>` per update, its `<id>` `tag:status.cloud.google.com,2022:feed:
<incident id>.<update id>`, its `<link>` `.../incidents/<incident id>`, a title
prefixed with the update's state ("RESOLVED: ", "UPDATE: "), and an HTML summary:

    <p> Incident began at <strong>2022-03-31 08:30</strong> and ended at
    <strong>2022-03-31 15:54</strong> <span>(all times are <strong>US/Pacific</strong>).
    </span></p><div class="..status-update-text">..update text..</div><hr>
    <p>Affected products: Cloud Monitoring, ...</p><p>Affected locations: Global</p>

Entries are grouped by incident id into incidents (a history document). The feed
states no severity, so every incident reads as `minor`; use `gcp-json` for
Google's own severity.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifier.feeds.common import assign_update_keys
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.vendor_common import one_line, phase_statuses
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

# Title prefix -> closing?; an entry without a known prefix is an open update.
GCP_ATOM_PREFIX: dict[str, bool] = {"RESOLVED": True, "UPDATE": False, "MITIGATED": False}
GCP_ATOM_IMPACT = Impact.MINOR

_PREFIX = re.compile(r"^(" + "|".join(GCP_ATOM_PREFIX) + r")\s*:\s*")
_INCIDENT_LINK = re.compile(r"/incidents/(?P<id>[A-Za-z0-9_-]+)")
_TAG_ID = re.compile(r":feed:(?P<id>[A-Za-z0-9_-]+)")
_SPAN = re.compile(
    r"Incident began at (?P<begin>\d{4}-\d{2}-\d{2} \d{2}:\d{2})"
    r"(?: and ended at (?P<end>\d{4}-\d{2}-\d{2} \d{2}:\d{2}))?"
    r"\s*\(all times are (?P<tz>[A-Za-z_/+-]+)\)"
)
_FOOTER = re.compile(r"^Affected (products|locations):\s*(.*)$", re.MULTILINE)
_CODE = re.compile(r"\(([a-z0-9-]+)\)")


class _Entry:
    def __init__(self, node: Element) -> None:
        self.title = one_line(text(node, "title"))
        self.closing = False
        match = _PREFIX.match(self.title)
        if match:
            self.closing = GCP_ATOM_PREFIX[match.group(1)]
            self.title = self.title[match.end() :]
        at = parse_date(text(node, "updated") or text(node, "published"))
        if at is None:
            raise ParseError("Google Cloud Atom entry without a readable <updated>")
        self.at = at
        self.incident_id = _incident_id(node)
        summary = html_to_text(text(node, "summary") or text(node, "content"))
        self.begin, self.end = _span(summary)
        self.footer = {m.group(1): m.group(2) for m in _FOOTER.finditer(summary)}
        self.body = _body(summary)


def _incident_id(node: Element) -> str:
    for link in children(node, "link"):
        match = _INCIDENT_LINK.search(link.get("href", ""))
        if match:
            return match.group("id")
    match = _TAG_ID.search(text(node, "id"))
    if match:
        return match.group("id")
    raise ParseError("Google Cloud Atom entry without an incident link or id")


def _span(summary: str) -> tuple[datetime | None, datetime | None]:
    match = _SPAN.search(summary)
    if match is None:
        return None, None
    try:
        zone = ZoneInfo(match.group("tz"))
    except (ZoneInfoNotFoundError, ValueError):
        return None, None

    def at(value: str | None) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).replace(tzinfo=zone).astimezone(UTC)

    return at(match.group("begin")), at(match.group("end"))


def _body(summary: str) -> str:
    lines = [
        line for line in summary.splitlines() if not _SPAN.search(line) and not _FOOTER.match(line)
    ]
    return "\n".join(lines).strip()


def _regions(locations: str) -> tuple[str, ...]:
    """ "Global" -> global; "Iowa (us-central1)" -> us-central1."""
    out = set()
    for name in (n.strip() for n in locations.split(",")):
        code = _CODE.search(name)
        if code:
            out.add(code.group(1))
        elif name and " " not in name:
            out.add(name.lower())
    return tuple(sorted(out))


def _incident(incident_id: str, entries: list[_Entry], provider: str) -> Incident:
    entries.sort(key=lambda e: e.at)
    flags = [e.closing for e in entries]
    flags = [False] * (len(flags) - 1) + flags[-1:]  # only the latest entry can close
    updates = assign_update_keys(
        Update(at=e.at, status=s, body=e.body)
        for e, s in zip(entries, phase_statuses(flags), strict=True)
    )
    latest = entries[-1]
    closed = latest.closing
    products = latest.footer.get("products", "")
    begins = [e.begin for e in entries if e.begin]
    return Incident(
        provider=provider,
        id=incident_id,
        title=latest.title,
        url=f"https://status.cloud.google.com/incidents/{incident_id}",
        status=Status.RESOLVED if closed else updates[-1].status,
        impact=GCP_ATOM_IMPACT,
        kind=IncidentKind.INCIDENT,
        started_at=min(begins) if begins else entries[0].at,
        updated_at=latest.at,
        resolved_at=(latest.end or latest.at) if closed else None,
        components=tuple(p.strip() for p in products.split(",") if p.strip()),
        regions=_regions(latest.footer.get("locations", "")),
        updates=updates,
    )


def parse_gcp_atom(body: bytes, provider: str) -> FeedDocument:
    root = parse_xml(body)
    if local(root.tag) != "feed" or child(root, "title") is None:
        raise ParseError("not an Atom feed (no <feed><title>)")
    grouped: dict[str, list[_Entry]] = {}
    for node in children(root, "entry"):
        entry = _Entry(node)
        grouped.setdefault(entry.incident_id, []).append(entry)
    incidents = tuple(_incident(i, entries, provider) for i, entries in grouped.items())
    return FeedDocument("gcp-atom", DocumentKind.HISTORY, incidents)
