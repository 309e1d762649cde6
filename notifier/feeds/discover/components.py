"""The component names a feed lists, spelled as the feed spells them."""

from __future__ import annotations

from typing import Any

from notifier.feeds.errors import FeedError
from notifier.feeds.json_doc import load_json
from notifier.models import FeedDocument

MAX_COMPONENTS = 500


def listed_components(body: bytes, doc: FeedDocument | None) -> tuple[str, ...]:
    """A summary's component list (groups left out: they only hold others), else the
    components and services the document's incidents name; sorted, at most 500."""
    names: set[str] = set(_summary_components(body))
    if doc is not None:
        for incident in doc.incidents:
            names.update(incident.components)
        for service in doc.services:
            names.add(service.name)
            names.update(service.components)
    clean = {" ".join(n.split()) for n in names if isinstance(n, str) and n.strip()}
    return tuple(sorted(clean, key=str.lower))[:MAX_COMPONENTS]


def _summary_components(body: bytes) -> list[str]:
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return []
    try:
        doc: Any = load_json(body)
    except FeedError:
        return []
    raw = doc.get("components") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        return []
    return [
        c["name"]
        for c in raw
        if isinstance(c, dict) and isinstance(c.get("name"), str) and not c.get("group")
    ]
