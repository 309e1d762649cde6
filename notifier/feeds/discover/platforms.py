"""Hosted status-page platforms: how a page is recognised, and where each keeps its feeds.

Each endpoint says whether the platform documents it (`documented=True`) or whether the
path is a convention seen on its pages and in public aggregator lists (inferred). The
order is the order of preference: a full history before an active-only summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str  # appended to the page's origin (and base path)
    format: str  # the parser expected there; `auto` when the platform varies
    documented: bool
    why: str  # where the path comes from, for `discover` and the docs


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    marks: tuple[str, ...]  # lower-case strings its HTML carries
    endpoints: tuple[Endpoint, ...]


_SP_SUMMARY = Endpoint(
    "/api/v2/summary.json", "statuspage-json", True,
    "Statuspage public page API (described on each page's /api)",
)  # fmt: skip
STATUSPAGE = Platform(
    "statuspage",
    ("statuspage.io", "dka575ofm4ao0.cloudfront.net", "stspg-customer",
     "powered by atlassian statuspage"),
    (
        Endpoint("/history.atom", "statuspage-atom", False,
                 "platform convention: Statuspage /history.atom (aggregator lists)"),
        _SP_SUMMARY,
    ),
)  # fmt: skip
INCIDENT_IO = Platform(
    "incident.io",
    ("incident.io", "incidentio"),
    (
        Endpoint("/api/v2/summary.json", "statuspage-json", False,
                 "platform convention: incident.io's Statuspage-compatible summary"),
        Endpoint("/feed.rss", "incidentio-rss", False,
                 "platform convention: incident.io /feed.rss"),
    ),
)  # fmt: skip
BETTER_STACK = Platform(
    "better-stack",
    ("betteruptime", "betterstack", "better stack"),
    (
        Endpoint(
            "/feed.rss", "rss", True, "vendor docs: Better Stack status pages publish /feed.rss"
        ),
    ),
)
INSTATUS = Platform(
    "instatus",
    ("instatus",),
    (
        Endpoint("/feed.rss", "auto", False, "platform convention: Instatus feed"),
        Endpoint("/history.rss", "auto", False, "platform convention: Instatus history feed"),
    ),
)
CACHET = Platform(
    "cachet",
    ("cachet",),
    (
        Endpoint("/atom", "auto", False, "platform convention: Cachet /atom"),
        Endpoint("/rss", "auto", False, "platform convention: Cachet /rss"),
    ),
)
STATUS_IO = Platform("status.io", ("status.io", "statusio"), ())  # its feed path holds a page id

PLATFORMS: tuple[Platform, ...] = (
    INCIDENT_IO,
    STATUSPAGE,
    BETTER_STACK,
    INSTATUS,
    CACHET,
    STATUS_IO,
)

# Paths where any site's feed usually is, tried last (inferred: common practice).
USUAL_PATHS: tuple[str, ...] = (
    "/history.atom", "/api/v2/summary.json", "/feed.rss", "/feed", "/rss", "/atom.xml",
    "/feed.xml", "/rss.xml", "/index.xml",
)  # fmt: skip

_STATUS_IO_PAGE = re.compile(r"/pages/([0-9a-f]{24})\b")


def fingerprint(html: str) -> Platform | None:
    """The platform whose marks the page's HTML carries (the first match in PLATFORMS)."""
    low = html.lower()
    for platform in PLATFORMS:
        if any(mark in low for mark in platform.marks):
            return platform
    return None


def status_io_feed(html: str) -> str | None:
    """status.io's feed path, `/pages/<page id>/rss`, from the id its HTML carries."""
    m = _STATUS_IO_PAGE.search(html)
    return f"/pages/{m.group(1)}/rss" if m else None
