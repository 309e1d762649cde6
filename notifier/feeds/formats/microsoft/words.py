"""Microsoft's status words and workload names, shared by its status formats.

Seen in real captures: "Available" (status.cloud.microsoft posts and RSS) and
"Operational" (the consumer posts). The other words are inferred: they are the
service-health statuses Microsoft documents for the Graph service-communications
API, which the public posts appear to share. A word not listed is kept as
written and read as degraded (`Impact.MINOR`), never as healthy.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from notifier.models import Impact

HEALTHY_WORDS = frozenset(
    {
        "available", "operational", "serviceoperational", "servicerestored", "resolved",
        "resolvedexternal", "mitigated", "mitigatedexternal", "falsepositive",
        "postincidentreviewpublished", "investigationsuspended", "normal", "healthy",
    }
)  # fmt: skip
MAJOR_WORDS = frozenset(
    {"serviceinterruption", "interruption", "outage", "unavailable", "down", "majoroutage"}
)

# Workloads worth filtering on, as the catalog spells them; longest first so that
# "Microsoft Teams Free" wins over "Microsoft Teams".
WORKLOADS = sorted(
    [
        "Exchange Online", "Microsoft Teams", "Microsoft Teams Free", "SharePoint Online",
        "OneDrive", "Outlook.com", "Microsoft 365 admin center", "Microsoft 365 (Consumer)",
        "Microsoft Copilot", "Microsoft Entra", "Microsoft Intune", "Microsoft Purview",
        "Power Platform", "Microsoft Lists", "Microsoft To-Do", "Office for the web",
        "Microsoft Whiteboard", "Phone Link",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
# Bare words a post may use for a catalog workload.
_ALIASES = {
    "teams": "Microsoft Teams",
    "exchange": "Exchange Online",
    "sharepoint": "SharePoint Online",
}
_WORKLOAD = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(w) for w in [*WORKLOADS, *_ALIASES]) + r")(?![\w])",
    re.IGNORECASE,
)
_CANONICAL = {w.lower(): w for w in WORKLOADS} | _ALIASES
_NOT_LETTERS = re.compile(r"[^a-z]")


def impact_of(word: str) -> Impact:
    """The impact a Microsoft status word stands for; unknown words are degraded."""
    key = _NOT_LETTERS.sub("", word.lower())
    if key in HEALTHY_WORDS:
        return Impact.NONE
    if key in MAJOR_WORDS:
        return Impact.MAJOR
    return Impact.MINOR


def workloads_in(text: str) -> tuple[str, ...]:
    """Catalog workload names a post's title or text mentions, in order of mention."""
    found = [_CANONICAL[m.group(1).lower()] for m in _WORKLOAD.finditer(text)]
    return tuple(dict.fromkeys(found))


def dotnet_time(value: object) -> datetime | None:
    """A .NET ISO time; None for missing, unreadable, or `0001-01-01` (.NET's "no value")."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.year < 1900 or parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)
