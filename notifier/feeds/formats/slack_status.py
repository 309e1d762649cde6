"""Slack status API v2.0.0: `slack-json`.

- `https://slack-status.com/api/v2.0.0/current`: `{status, active_incidents: [...]}`,
  only open issues, so an active document (leaving it means resolved).
- `https://slack-status.com/api/v2.0.0/history`: a list of past issues, a history
  document.

Each issue has an integer id (a string in Slack's own docs example), a `type`
(incident, notice or outage), a `status` (active or resolved; scheduled and
completed for maintenance), times with local offsets ("-07:00", converted to
UTC), `services` (the components) and `notes` newest first with `\\r\\n` line ends.
"""

from __future__ import annotations

from typing import Any

from notifier.feeds.common import Parser, assign_update_keys
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.vendor_common import (
    as_dict,
    as_list,
    iso_time,
    load_json,
    one_line,
    phase_statuses,
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

# Issue `type` -> (kind, impact). Slack calls an outage "outage" and a partial
# problem "incident"; a notice is information with no loss of service.
SLACK_TYPE: dict[str, tuple[IncidentKind, Impact]] = {
    "outage": (IncidentKind.INCIDENT, Impact.MAJOR),
    "incident": (IncidentKind.INCIDENT, Impact.MINOR),
    "notice": (IncidentKind.INCIDENT, Impact.NONE),
    "maintenance": (IncidentKind.MAINTENANCE, Impact.MAINTENANCE),
}
# Issue `status` -> the incident's status (None: derived from the notes).
SLACK_STATUS: dict[str, Status | None] = {
    "active": None,
    "resolved": Status.RESOLVED,
    "scheduled": Status.SCHEDULED,
    "completed": Status.COMPLETED,
}


def _notes(issue: dict[str, Any], closed: bool) -> tuple[Update, ...]:
    notes = [as_dict(n, "note") for n in as_list(issue.get("notes") or [], "notes")]
    notes.reverse()  # newest first in the document; keep same-minute notes in posting order
    notes.sort(key=lambda n: iso_time(n.get("date_created")))
    # Slack marks no note as the resolving one: the newest note of a resolved issue is.
    flags = [closed and i == len(notes) - 1 for i in range(len(notes))]
    return assign_update_keys(
        Update(
            at=iso_time(n.get("date_created")),
            status=s,
            body=plain_text(str(n.get("body") or "").replace("\r\n", "\n")),
        )
        for n, s in zip(notes, phase_statuses(flags), strict=True)
    )


def _issue(value: object, provider: str) -> Incident:
    issue = as_dict(value, "issue")
    raw_id = issue.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or raw_id == "":
        raise ParseError("Slack issue without an id")
    kind, impact = SLACK_TYPE.get(str(issue.get("type", "")).lower(), SLACK_TYPE["incident"])
    state = str(issue.get("status", "")).lower()
    if state not in SLACK_STATUS:
        raise ParseError(f"unknown Slack issue status {state[:20]!r}")
    fixed = SLACK_STATUS[state]
    closed = fixed is not None and fixed.is_closed
    updates = _notes(issue, closed)
    created = iso_time(issue["date_created"]) if issue.get("date_created") else None
    updated = iso_time(issue["date_updated"]) if issue.get("date_updated") else None
    last = updates[-1].at if updates else created
    open_status = updates[-1].status if updates else Status.INVESTIGATING
    services = as_list(issue.get("services") or [], "services")
    return Incident(
        provider=provider,
        id=str(raw_id),
        title=one_line(str(issue.get("title") or "")),
        url=str(issue["url"]) if issue.get("url") else None,
        status=fixed or open_status,
        impact=impact,
        kind=kind,
        started_at=created or (updates[0].at if updates else None),
        updated_at=updated or last,
        resolved_at=(updated or last) if closed else None,
        components=tuple(one_line(str(s)) for s in services),
        regions=(),
        updates=updates,
    )


def parse_slack_json(body: bytes, provider: str) -> FeedDocument:
    data = load_json(body)
    if isinstance(data, dict) and "active_incidents" in data:
        kind, issues = DocumentKind.ACTIVE, data["active_incidents"] or []
    elif isinstance(data, list):
        kind, issues = DocumentKind.HISTORY, data
    else:
        raise ParseError("not a Slack status document: expected `current` or `history`")
    incidents = {i.id: i for i in (_issue(raw, provider) for raw in as_list(issues, "issues"))}
    return FeedDocument("slack-json", kind, tuple(incidents.values()))


PARSERS: dict[str, Parser] = {"slack-json": parse_slack_json}
