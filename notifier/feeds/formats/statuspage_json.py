"""Statuspage's JSON API (and incident.io's compatible copy of it).

Shapes, told apart by their keys:
- `summary.json`: `{page, components, incidents, scheduled_maintenances?, status}`;
  only open incidents and upcoming/in-progress maintenance -> `active`.
- `incidents.json` / `incidents/unresolved.json`: `{page, incidents}`. The two are
  indistinguishable by content; a list holding no closed incident is read as
  `active` (true for unresolved.json, and harmless for a history whose incidents
  are all open), otherwise `history`.
- `incidents/<code>.json`: `{page, incident}` -> `history` with one incident.
- `scheduled-maintenances*.json`: `{page, scheduled_maintenances}` -> `history`.
- A quiet `summary.json` may leave the incident lists out entirely (incident.io's
  does: `{page, status, components}`, real capture): `active`, with no incidents.
- A component webhook `{meta, page, component, component_update}` is one
  component's state (`FeedDocument.services`), turned into an incident by the diff.
Updates arrive newest first; they are reversed to posting order before keying.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifier.feeds.common import assign_update_keys, closed_at
from notifier.feeds.errors import ParseError
from notifier.feeds.html_text import plain_text
from notifier.feeds.json_doc import load_json, mapping, records
from notifier.models import (
    DocumentKind,
    FeedDocument,
    Impact,
    Incident,
    IncidentKind,
    ServiceState,
    Status,
    Update,
    parse_iso,
)

STATUS: dict[str, Status] = {
    "investigating": Status.INVESTIGATING,
    "identified": Status.IDENTIFIED,
    "monitoring": Status.MONITORING,
    "resolved": Status.RESOLVED,
    "postmortem": Status.POSTMORTEM,
    "scheduled": Status.SCHEDULED,
    "in_progress": Status.IN_PROGRESS,
    "verifying": Status.VERIFYING,
    "completed": Status.COMPLETED,
}
IMPACT: dict[str, Impact] = {
    "none": Impact.NONE,
    "minor": Impact.MINOR,
    "major": Impact.MAJOR,
    "critical": Impact.CRITICAL,
    "maintenance": Impact.MAINTENANCE,
}
MAINTENANCE_STATUSES = frozenset(
    {Status.SCHEDULED, Status.IN_PROGRESS, Status.VERIFYING, Status.COMPLETED}
)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise ParseError(f"bad timestamp {value[:40]!r}") from None


def _status(value: Any) -> Status:
    # An unknown status is still an update: keep the incident, don't guess it closed.
    return STATUS.get(str(value).lower(), Status.UPDATE)


def _updates(raw: list[dict[str, Any]]) -> tuple[Update, ...]:
    updates = []
    for u in reversed(raw):  # newest first in the API; posting order for keys
        at = _time(u.get("display_at")) or _time(u.get("created_at"))
        if at is None:
            continue
        body = plain_text(str(u.get("body") or ""))
        updates.append(Update(at=at, status=_status(u.get("status")), body=body))
    return assign_update_keys(updates)


def _components(raw: dict[str, Any]) -> tuple[str, ...]:
    """The incident's components, then any other named in its updates (oldest first)."""
    found = records(raw.get("components"), "components")
    for u in reversed(records(raw.get("incident_updates"), "incident_updates")):
        found += records(u.get("affected_components"), "affected_components")
    names = (c.get("name") for c in found)
    return tuple(dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()))


def _incident(raw: dict[str, Any], provider: str, base_url: str | None, maint: bool) -> Incident:
    code = str(raw.get("id") or "")
    if not code:
        raise ParseError("an incident has no id")
    updates = _updates(records(raw.get("incident_updates"), "incident_updates"))
    status = _status(raw.get("status")) if raw.get("status") else Status.INVESTIGATING
    impact = IMPACT.get(str(raw.get("impact")).lower(), Impact.NONE)
    maint = maint or impact is Impact.MAINTENANCE or status in MAINTENANCE_STATUSES
    started = _time(raw.get("scheduled_for")) if maint else None
    started = started or _time(raw.get("started_at")) or _time(raw.get("created_at"))
    return Incident(
        provider=provider,
        id=code,
        title=" ".join(str(raw.get("name") or "").split()),
        url=f"{base_url.rstrip('/')}/incidents/{code}" if base_url else raw.get("shortlink"),
        status=status,
        impact=Impact.MAINTENANCE if maint and impact is Impact.NONE else impact,
        kind=IncidentKind.MAINTENANCE if maint else IncidentKind.INCIDENT,
        started_at=started,
        updated_at=_time(raw.get("updated_at")) or (updates[-1].at if updates else None),
        resolved_at=(_time(raw.get("resolved_at")) or closed_at(status, updates))
        if status.is_closed
        else None,
        components=_components(raw),
        updates=updates,
    )


def _kind(doc: dict[str, Any], incidents: list[Incident]) -> DocumentKind:
    if "incident" in doc:
        return DocumentKind.HISTORY
    if "status" in doc or "components" in doc:  # summary.json
        return DocumentKind.ACTIVE
    if "incidents" in doc and not any(i.status.is_closed for i in incidents):
        return DocumentKind.ACTIVE
    return DocumentKind.HISTORY


COMPONENT_IMPACT: dict[str, Impact] = {
    "operational": Impact.NONE,
    "degraded_performance": Impact.MINOR,
    "partial_outage": Impact.MAJOR,
    "major_outage": Impact.CRITICAL,
    "under_maintenance": Impact.MAINTENANCE,
}


def is_quiet_summary(doc: dict[str, Any]) -> bool:
    """A summary.json with nothing open: incident.io leaves the incident lists out."""
    return isinstance(doc.get("page"), dict) and isinstance(doc.get("status"), dict)


def is_component_update(doc: dict[str, Any]) -> bool:
    """A Statuspage component webhook: `{meta, page, component, component_update}`."""
    return isinstance(doc.get("component"), dict) and isinstance(doc.get("component_update"), dict)


def _component_state(doc: dict[str, Any], provider: str) -> ServiceState:
    component, change = doc["component"], doc["component_update"]
    name = component.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ParseError("a Statuspage component update without a component name")
    state = str(change.get("new_status") or component.get("status") or "(no status)")
    return ServiceState(
        provider=provider,
        name=" ".join(name.split()),
        state=state,
        # An unknown component status is kept as written and read as degraded.
        impact=COMPONENT_IMPACT.get(state.lower(), Impact.MINOR),
        at=_time(change.get("created_at")) or _time(component.get("updated_at")),
    )


def parse(body: bytes, provider: str) -> FeedDocument:
    doc = mapping(load_json(body), "the document")
    if is_component_update(doc):
        services = (_component_state(doc, provider),)
        return FeedDocument("statuspage-json", DocumentKind.ACTIVE, (), services)
    if not any(k in doc for k in ("incident", "incidents", "scheduled_maintenances")):
        if is_quiet_summary(doc):
            return FeedDocument("statuspage-json", DocumentKind.ACTIVE, ())
        raise ParseError("not a Statuspage API document (no incidents)")
    page = doc["page"] if isinstance(doc.get("page"), dict) else {}
    base_url = page.get("url") if isinstance(page.get("url"), str) else None
    raws = [(r, False) for r in records(doc.get("incidents"), "incidents")]
    if "incident" in doc:
        raws.append((mapping(doc["incident"], "incident"), False))
    raws += [(r, True) for r in records(doc.get("scheduled_maintenances"), "maintenances")]
    seen: dict[str, Incident] = {}
    for raw, maint in raws:
        incident = _incident(raw, provider, base_url, maint)
        seen.setdefault(incident.id, incident)
    incidents = list(seen.values())
    return FeedDocument("statuspage-json", _kind(doc, incidents), tuple(incidents))


def parse_incident(
    raw: dict[str, Any], provider: str, base_url: str | None, maint: bool
) -> Incident:
    """One incident object as the API (and a webhook delivery) shapes it."""
    return _incident(raw, provider, base_url, maint)


PARSERS = {"statuspage-json": parse}
