"""status.cloud.microsoft's JSON: `microsoft-posts-json` and `microsoft-portal-json`.

`microsoft-posts-json` reads `https://status.cloud.microsoft/api/posts/{mac|m365Consumer|ppac|azure}`.
From real captures (2026-08-01, all quiet): `mac` and `azure` answer one object
`{Id, AuthoredDateTime, InternalDateTime, LastUpdatedTime, Title, Message, Status}`
(`mac` with a GUID `Id` and an HTML `Message`, `azure` with `Id: null` and "No Azure
issues detected at this time."), `m365Consumer` an array of such objects, one per
service, each with `ServiceDisplayName` and `ServiceWorkloadName`, `Status:
"Operational"`, empty `Title`/`Message`. Times are .NET ISO stamps with seven
fractional digits; `0001-01-01T00:00:00+00:00` means "none".

Inferred, not yet seen: during an incident a post carries a non-empty `Title`,
an HTML `Message` and a non-healthy `Status` (the words in
`notifier.feeds.formats.microsoft.words`), and keeps its `Id` while it lasts.
So each object is a service state (`FeedDocument.services`): with an `Id`, that
id and title name the incident (the feed's word opens and resolves it); without
one, the diff synthesizes an incident with a short hysteresis
(`notifier.diff.synth`). Components are the catalog workloads the post names
(Exchange Online, Microsoft Teams, Outlook.com, …), else its service; Azure
posts also give regions.

`microsoft-portal-json` reads the older consumer endpoint
`https://portal.office.com/api/servicestatus/index` (real capture 2026-07-30):
`{Title, SubTitle, Services: [{Id, Name, IsUp, Messages}], LastRefreshed, IsAllUp}`.
`IsUp: false` is degraded; the shape of `Messages` when not null is not known, so
only its strings are kept.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from notifier.feeds.errors import ParseError
from notifier.feeds.formats.microsoft.azure import regions_in
from notifier.feeds.formats.microsoft.words import dotnet_time, impact_of, workloads_in
from notifier.feeds.formats.vendor_common import load_json, one_line
from notifier.feeds.html_text import html_to_text
from notifier.models import DocumentKind, FeedDocument, Impact, ServiceState

STATUS_PAGE = "https://status.cloud.microsoft"
POST_KEYS = ("Status", "LastUpdatedTime")
_REFRESHED = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)")


def is_post(value: Any) -> bool:
    return isinstance(value, dict) and all(k in value for k in POST_KEYS)


def _text(value: Any) -> str:
    return html_to_text(value) if isinstance(value, str) else ""


def _service_name(post: dict[str, Any], words: str) -> str:
    named = post.get("ServiceDisplayName")
    if isinstance(named, str) and named.strip():
        return one_line(named)
    # The single-object endpoints name no service: the Azure one speaks of Azure.
    return "Azure" if "azure" in words.lower() else "Microsoft 365"


def _post(post: dict[str, Any], provider: str) -> ServiceState:
    status = post.get("Status")
    if not isinstance(status, str) or not status.strip():
        raise ParseError("a Microsoft status post without a Status")
    title = one_line(post["Title"]) if isinstance(post.get("Title"), str) else ""
    message = _text(post.get("Message"))
    name = _service_name(post, f"{title} {message}")
    post_id = post.get("Id")
    ref = post_id.strip() if isinstance(post_id, str) else ""
    at = dotnet_time(post.get("LastUpdatedTime")) or dotnet_time(post.get("AuthoredDateTime"))
    words = f"{title} {message}"
    return ServiceState(
        provider=provider,
        name=name,
        state=one_line(status),
        impact=impact_of(status),
        at=at,
        message=message,
        url=STATUS_PAGE,
        regions=regions_in(words) if name == "Azure" else (),
        ref=ref,
        title=title,
        components=workloads_in(words) or (name,),
    )


def parse_posts(body: bytes, provider: str) -> FeedDocument:
    doc = load_json(body)
    posts = doc if isinstance(doc, list) else [doc]
    if not posts or not all(is_post(p) for p in posts):
        raise ParseError("not a status.cloud.microsoft posts document (Status, LastUpdatedTime)")
    services = tuple(_post(p, provider) for p in posts)
    return FeedDocument("microsoft-posts-json", DocumentKind.ACTIVE, (), services)


def is_portal(value: Any) -> bool:
    return isinstance(value, dict) and "Services" in value and "IsAllUp" in value


def _refreshed(value: Any) -> datetime | None:
    match = _REFRESHED.search(value) if isinstance(value, str) else None
    return dotnet_time(f"{match.group(1)}T{match.group(2)}+00:00") if match else None


def _messages(value: Any) -> str:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return " ".join(_text(v) for v in value if isinstance(v, str))
    return ""


def parse_portal(body: bytes, provider: str) -> FeedDocument:
    doc = load_json(body)
    if not is_portal(doc) or not isinstance(doc["Services"], list):
        raise ParseError("not a portal.office.com service status document (Services, IsAllUp)")
    at = _refreshed(doc.get("LastRefreshed"))
    services = []
    for raw in doc["Services"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("Name"), str):
            raise ParseError("a portal.office.com service without a Name")
        up = raw.get("IsUp")
        # Anything but a plain `true` is not known to be up: degraded, as written.
        state = "IsUp: true" if up is True else f"IsUp: {str(up).lower()}"
        services.append(
            ServiceState(
                provider=provider,
                name=one_line(raw["Name"]),
                state=state,
                impact=Impact.NONE if up is True else Impact.MINOR,
                at=at,
                message=_messages(raw.get("Messages")),
                url="https://portal.office.com/servicestatus",
            )
        )
    return FeedDocument("microsoft-portal-json", DocumentKind.ACTIVE, (), tuple(services))
