"""Google Cloud status: `gcp-json` (incidents.json) and `gcp-atom` (feed.atom).

`https://status.cloud.google.com/incidents.json` lists recent incidents (a history
document), each with `severity` (low/medium/high), `begin`, `end` (null or absent
while ongoing), `affected_products`, locations, and `updates` newest first, each
with a `status` of SERVICE_OUTAGE, SERVICE_DISRUPTION, SERVICE_INFORMATION or
AVAILABLE. The id is Google's incident `id`.

The Atom twin is in `gcp_atom`.
"""

from __future__ import annotations

from typing import Any

from notifier.feeds.common import Parser, assign_update_keys
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.gcp_atom import parse_gcp_atom
from notifier.feeds.formats.vendor_common import (
    as_dict,
    as_list,
    iso_time,
    load_json,
    one_line,
    phase_statuses,
    require,
    worst,
)
from notifier.feeds.html_text import plain_text
from notifier.models import (
    DocumentKind,
    FeedDocument,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)

DASHBOARD = "https://status.cloud.google.com/"

# Incident `severity` -> impact.
GCP_SEVERITY: dict[str, Impact] = {
    "low": Impact.MINOR,
    "medium": Impact.MAJOR,
    "high": Impact.CRITICAL,
}
# Update `status` -> (closing?, impact).
GCP_UPDATE_STATUS: dict[str, tuple[bool, Impact]] = {
    "SERVICE_INFORMATION": (False, Impact.MINOR),
    "SERVICE_DISRUPTION": (False, Impact.MAJOR),
    "SERVICE_OUTAGE": (False, Impact.CRITICAL),
    "AVAILABLE": (True, Impact.NONE),
}


def _update_status(value: object) -> tuple[bool, Impact]:
    if not isinstance(value, str) or value.upper() not in GCP_UPDATE_STATUS:
        raise ParseError(f"unknown Google Cloud update status {str(value)[:30]!r}")
    return GCP_UPDATE_STATUS[value.upper()]


def _locations(raw: dict[str, Any]) -> tuple[str, ...]:
    """Region ids of every location the incident ever named, sorted."""
    found: set[str] = set()
    lists = [raw.get("currently_affected_locations"), raw.get("previously_affected_locations")]
    lists += [u.get("affected_locations") for u in raw.get("updates") or [] if isinstance(u, dict)]
    for entries in lists:
        for entry in entries or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                found.add(entry["id"])
    return tuple(sorted(found))


def _products(raw: dict[str, Any]) -> tuple[str, ...]:
    products = [
        one_line(str(p.get("title")))
        for p in as_list(raw.get("affected_products") or [], "affected_products")
        if isinstance(p, dict) and p.get("title")
    ]
    if not products and raw.get("service_name"):
        products = [one_line(str(raw["service_name"]))]
    return tuple(products)


def _updates(raw: dict[str, Any]) -> tuple[tuple[Update, ...], list[Impact]]:
    entries = [as_dict(u, "update") for u in as_list(raw.get("updates") or [], "updates")]
    # Newest first in the document; reverse so same-minute updates keep their order.
    entries.reverse()
    entries.sort(key=lambda u: iso_time(u.get("when") or u.get("created")))
    readings = [_update_status(u.get("status")) for u in entries]
    statuses = phase_statuses([closing for closing, _ in readings])
    updates = [
        Update(
            at=iso_time(u.get("when") or u.get("created")),
            status=s,
            body=plain_text(str(u.get("text") or "")),
        )
        for u, s in zip(entries, statuses, strict=True)
    ]
    return assign_update_keys(updates), [impact for _, impact in readings]


def _incident(value: object, provider: str) -> Incident:
    raw = as_dict(value, "incident")
    incident_id = raw.get("id")
    require(isinstance(incident_id, str) and bool(incident_id), "incident without an id")
    assert isinstance(incident_id, str)
    updates, impacts = _updates(raw)
    end = iso_time(raw["end"]) if raw.get("end") else None
    closed = end is not None or bool(updates and updates[-1].status is Status.RESOLVED)
    severity = str(raw.get("severity") or "").lower()
    impact = GCP_SEVERITY.get(severity) or worst(impacts, floor=Impact.MINOR)
    begin = iso_time(raw["begin"]) if raw.get("begin") else None
    last = updates[-1].at if updates else begin
    uri = str(raw.get("uri") or f"incidents/{incident_id}")
    return Incident(
        provider=provider,
        id=incident_id,
        title=one_line(str(raw.get("external_desc") or raw.get("service_name") or incident_id)),
        url=DASHBOARD + uri.lstrip("/"),
        status=Status.RESOLVED if closed else (updates[-1].status if updates else Status.UPDATE),
        impact=impact,
        kind=IncidentKind.INCIDENT,
        started_at=begin or (updates[0].at if updates else None),
        updated_at=iso_time(raw["modified"]) if raw.get("modified") else last,
        resolved_at=(end or last) if closed else None,
        components=_products(raw),
        regions=_locations(raw),
        updates=updates,
    )


def parse_gcp_json(body: bytes, provider: str) -> FeedDocument:
    data = load_json(body)
    if isinstance(data, dict) and "incidents" in data:
        data = data["incidents"]  # some mirrors wrap the list
    if not isinstance(data, list):
        raise ParseError("not a Google Cloud incidents.json: expected a list of incidents")
    incidents = {i.id: i for i in (_incident(raw, provider) for raw in data)}
    return FeedDocument("gcp-json", DocumentKind.HISTORY, tuple(incidents.values()))


PARSERS: dict[str, Parser] = {"gcp-json": parse_gcp_json, "gcp-atom": parse_gcp_atom}
