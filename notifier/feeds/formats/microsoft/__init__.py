"""Microsoft's status formats: Azure, Microsoft 365 (status.cloud.microsoft) and Xbox.

One module per document family; this package collects their `PARSERS`.
"""

from __future__ import annotations

from notifier.feeds.common import Parser
from notifier.feeds.formats.microsoft import azure, posts, rss, xbox

PARSERS: dict[str, Parser] = {
    **azure.PARSERS,
    "microsoft-posts-json": posts.parse_posts,
    "microsoft-portal-json": posts.parse_portal,
    "microsoft-rss": rss.parse_microsoft_rss,
    "xbox-xml": xbox.parse_xbox_xml,
    "xbox-json": xbox.parse_xbox_json,
}
