"""Atlassian Statuspage webhook deliveries: what one push says.

Two payload kinds, told apart by their keys (Atlassian's "Webhook notifications"):
- `{meta, page, incident}`: an incident with its `incident_updates` (newest first),
  the same shape as the JSON API's, so it is read by the same code and its updates
  get the same keys as a poll of the page would give them (`feeds.common.update_key`);
- `{meta, page, component_update, component}`: one component changed status.

A push is a *partial* document: it names one incident or one component, and says
nothing about any other. Feed text is untrusted; it is made inert downstream like a
poll's. Malformed input raises `ParseError` with a short, safe message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifier.feeds.bounds import bounded_incident
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.statuspage_json import parse_incident
from notifier.feeds.json_doc import load_json, mapping
from notifier.models import DocumentKind, FeedDocument, Incident, parse_iso
from notifier.text import one_line

FORMAT = "statuspage-webhook"


@dataclass(frozen=True, slots=True)
class ComponentChange:
    """A `component_update` delivery: which component, from what to what."""

    component: str  # its name, cleaned to one line
    old_status: str
    new_status: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Push:
    """One delivery: an incident (its whole update list) or a component change."""

    provider: str
    incident: Incident | None = None
    component: ComponentChange | None = None

    def document(self) -> FeedDocument:
        """The incident as a partial document: a window in which absence means nothing."""
        incidents = (self.incident,) if self.incident is not None else ()
        return FeedDocument(FORMAT, DocumentKind.HISTORY, incidents)


def parse(body: bytes, provider: str) -> Push:
    """Read one delivery; `ParseError` when it is neither kind or is malformed."""
    doc = mapping(load_json(body), "the webhook body")
    if "incident" in doc:
        raw = mapping(doc["incident"], "incident")
        incident = bounded_incident(parse_incident(raw, provider, None, False))
        return Push(provider, incident=incident)
    if "component_update" in doc:
        update = mapping(doc["component_update"], "component_update")
        component = mapping(doc.get("component") or {}, "component")
        name = one_line(str(component.get("name") or update.get("component_id") or ""))[:200]
        if not name:
            raise ParseError("a component_update names no component")
        at = _time(update.get("created_at"))
        old, new = (one_line(str(update.get(k) or ""))[:40] for k in ("old_status", "new_status"))
        return Push(provider, component=ComponentChange(name, old, new, at))
    raise ParseError("not a Statuspage webhook (no incident, no component_update)")


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise ParseError(f"bad timestamp {value[:40]!r}") from None


__all__ = ["FORMAT", "ComponentChange", "Push", "parse"]
