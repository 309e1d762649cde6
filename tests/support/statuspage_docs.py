"""Builders of Statuspage `/api/v2/summary.json` documents, made here.

The shape follows the real GitHub capture in the corpus
(statuspage_json/githubstatus_summary_2022-11-25_active_incident.json): updates
newest first, ISO times with milliseconds and Z, affected_components per update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class FakeIncident:
    id: str
    name: str
    impact: str = "major"
    created_at: str = "2024-12-26T19:00:00.000Z"
    updates: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (status, at, body), oldest first
    components: list[str] = field(default_factory=list)

    def add(self, status: str, at: str, body: str) -> FakeIncident:
        self.updates.append((status, at, body))
        return self

    @property
    def status(self) -> str:
        return self.updates[-1][0] if self.updates else "investigating"

    def to_json(self, page_id: str) -> dict[str, object]:
        affected = [
            {"code": f"c{i}", "name": n, "old_status": "operational", "new_status": "major_outage"}
            for i, n in enumerate(self.components)
        ]
        updates = [
            {
                "id": f"{self.id}u{i}",
                "status": status,
                "body": body,
                "incident_id": self.id,
                "created_at": at,
                "updated_at": at,
                "display_at": at,
                "affected_components": affected or None,
                "deliver_notifications": True,
            }
            for i, (status, at, body) in enumerate(self.updates)
        ]
        last = self.updates[-1][1] if self.updates else self.created_at
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": last,
            "monitoring_at": None,
            "resolved_at": last if self.status == "resolved" else None,
            "impact": self.impact,
            "shortlink": f"https://stspg.io/{self.id}",
            "started_at": self.created_at,
            "page_id": page_id,
            "incident_updates": list(reversed(updates)),
        }


PAGE_ID = "acmepage0001"


def _page(name: str) -> dict[str, str]:
    return {
        "id": PAGE_ID,
        "name": name,
        "url": "https://status.acme.example",
        "time_zone": "Etc/UTC",
        "updated_at": "2024-12-26T19:00:00.000Z",
    }


def summary_json(incidents: list[FakeIncident], page: str = "Acme Cloud") -> bytes:
    """An active-only summary: resolved incidents are left out, as Statuspage does."""
    doc = {
        "page": _page(page),
        "components": [],
        "incidents": [i.to_json(PAGE_ID) for i in incidents if i.status != "resolved"],
        "scheduled_maintenances": [],
        "status": {"indicator": "major" if incidents else "none", "description": "x"},
    }
    return json.dumps(doc).encode()


def incidents_json(incidents: list[FakeIncident], page: str = "Acme Cloud") -> bytes:
    """A history window (`/api/v2/incidents.json`): resolved incidents stay listed."""
    doc = {"page": _page(page), "incidents": [i.to_json(PAGE_ID) for i in incidents]}
    return json.dumps(doc).encode()
