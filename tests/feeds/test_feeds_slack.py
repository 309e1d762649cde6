"""Slack status API v2.0.0: `slack-json` (current and history)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifier.feeds.errors import EmptyFeedError, ParseError
from notifier.feeds.formats.slack_status import parse_slack_json
from notifier.models import DocumentKind, Impact, IncidentKind, Status, iso


def _issue(**overrides: Any) -> dict[str, Any]:
    """made here, in the shape of slack-status.com/api/v2.0.0 issues"""
    issue = {
        "id": 791,
        "date_created": "2019-12-09T16:34:53-08:00",
        "date_updated": "2019-12-09T16:49:34-08:00",
        "title": "Server errors",
        "type": "incident",
        "status": "active",
        "url": "https://status.slack.com/2019-12/779e440f3e5f7339",
        "services": ["Connections", "Messaging"],
        "notes": [  # newest first
            {"date_created": "2019-12-09T16:49:34-08:00", "body": "Line one.\r\n\r\nLine two."},
            {"date_created": "2019-12-09T16:34:53-08:00", "body": "Investigating."},
        ],
    }
    issue.update(overrides)
    return issue


def _current(*issues: dict[str, Any]) -> bytes:
    return json.dumps({"status": "active", "active_incidents": list(issues)}).encode()


def test_current_is_an_active_document_in_utc() -> None:
    doc = parse_slack_json(_current(_issue()), "slack")
    assert doc.kind is DocumentKind.ACTIVE
    (incident,) = doc.incidents
    assert incident.id == "791"
    assert iso(incident.started_at) == "2019-12-10T00:34:53Z"  # -08:00 to UTC
    assert [iso(u.at) for u in incident.updates] == ["2019-12-10T00:34:53Z", "2019-12-10T00:49:34Z"]
    assert [u.status for u in incident.updates] == [Status.INVESTIGATING, Status.UPDATE]
    assert incident.updates[1].body == "Line one.\n\nLine two."
    assert incident.components == ("Connections", "Messaging")
    assert incident.status is Status.UPDATE and incident.resolved_at is None


def test_an_all_clear_current_has_no_incidents() -> None:
    body = b'{"status":"ok","active_incidents":[],"date_created":"2018-09-07T18:34:15-07:00"}'
    assert parse_slack_json(body, "slack").incidents == ()


def test_history_is_a_history_document_of_resolved_issues() -> None:
    body = json.dumps([_issue(status="resolved", id="546")]).encode()  # a string id, as in docs
    doc = parse_slack_json(body, "slack")
    assert doc.kind is DocumentKind.HISTORY
    (incident,) = doc.incidents
    assert incident.id == "546"
    assert incident.status is Status.RESOLVED
    assert iso(incident.resolved_at) == "2019-12-10T00:49:34Z"
    assert incident.updates[-1].status is Status.RESOLVED


@pytest.mark.parametrize(
    ("type_", "kind", "impact"),
    [
        ("outage", IncidentKind.INCIDENT, Impact.MAJOR),  # Slack's word for a full outage
        ("incident", IncidentKind.INCIDENT, Impact.MINOR),  # a partial problem
        ("notice", IncidentKind.INCIDENT, Impact.NONE),  # information only
        ("maintenance", IncidentKind.MAINTENANCE, Impact.MAINTENANCE),
    ],
)
def test_issue_type_maps_to_kind_and_impact(type_: str, kind: IncidentKind, impact: Impact) -> None:
    (incident,) = parse_slack_json(_current(_issue(type=type_)), "slack").incidents
    assert (incident.kind, incident.impact) == (kind, impact)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", EmptyFeedError),
        (b'{"status": "ok"}', ParseError),  # neither current nor history
        (_current(_issue(status="exploded")), ParseError),
        (_current(_issue(id=None)), ParseError),
        (_current(_issue(date_created="2019-12-09T16:34:53")), ParseError),  # no offset
        (_current(_issue(notes={"a": 1})), ParseError),
    ],
)
def test_bad_input_ends_in_a_feed_error(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_slack_json(body, "slack")
