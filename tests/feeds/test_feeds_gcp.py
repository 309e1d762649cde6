"""Google Cloud parsers: `gcp-json` (incidents.json) and `gcp-atom` (feed.atom)."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from notifier.feeds.errors import EmptyFeedError, HostileDocumentError, ParseError
from notifier.feeds.formats.gcp import parse_gcp_json
from notifier.feeds.formats.gcp_atom import parse_gcp_atom
from notifier.models import DocumentKind, Impact, Status, iso


def _incident(**overrides: Any) -> dict[str, Any]:
    """made here, in the shape of status.cloud.google.com/incidents.json (current schema)"""
    incident: dict[str, Any] = {
        "id": "abcDEF123",
        "number": "123",
        "begin": "2022-07-01T13:37:00+00:00",
        "created": "2022-07-01T14:05:02+00:00",
        "end": None,  # ongoing
        "modified": "2022-07-01T15:00:00+00:00",
        "external_desc": "Elevated errors\nfor Cloud Run",
        "updates": [  # newest first
            {
                "when": "2022-07-01T15:00:00+00:00",
                "text": "Mitigation <b>in progress</b>.",
                "status": "SERVICE_OUTAGE",
                "affected_locations": [{"title": "Iowa (us-central1)", "id": "us-central1"}],
            },
            {
                "when": "2022-07-01T14:05:00+00:00",
                "text": "We are investigating.",
                "status": "SERVICE_DISRUPTION",
                "affected_locations": [
                    {"title": "Tokyo (asia-northeast1)", "id": "asia-northeast1"}
                ],
            },
        ],
        "most_recent_update": {},
        "status_impact": "SERVICE_OUTAGE",
        "severity": "high",
        "service_key": "k",
        "service_name": "Multiple Products",
        "affected_products": [
            {"title": "Cloud Run", "id": "1"},
            {"title": "Cloud Build", "id": "2"},
        ],
        "uri": "incidents/abcDEF123",
        "currently_affected_locations": [{"title": "Iowa (us-central1)", "id": "us-central1"}],
        "previously_affected_locations": [],
    }
    incident.update(overrides)
    return incident


def _parse(*incidents: dict[str, Any]):
    return parse_gcp_json(json.dumps(list(incidents)).encode(), "gcp")


def test_an_ongoing_incident_has_no_end_and_stays_open() -> None:
    doc = _parse(_incident())
    assert doc.kind is DocumentKind.HISTORY
    (incident,) = doc.incidents
    assert incident.status is Status.UPDATE
    assert incident.resolved_at is None
    assert incident.title == "Elevated errors for Cloud Run"  # one line
    assert incident.url == "https://status.cloud.google.com/incidents/abcDEF123"
    assert incident.components == ("Cloud Run", "Cloud Build")
    assert incident.regions == ("asia-northeast1", "us-central1")  # every location named
    assert [u.status for u in incident.updates] == [Status.INVESTIGATING, Status.UPDATE]
    assert incident.updates[1].body == "Mitigation in progress."


def test_an_absent_end_reads_like_a_null_one() -> None:
    raw = _incident()
    del raw["end"]
    (incident,) = _parse(raw).incidents
    assert incident.status is Status.UPDATE and incident.resolved_at is None


def test_an_incident_with_an_end_is_resolved_at_that_end() -> None:
    end = "2022-07-01T16:00:00+00:00"
    available = {"when": end, "text": "Resolved.", "status": "AVAILABLE", "affected_locations": []}
    (incident,) = _parse(_incident(end=end, updates=[available, *_incident()["updates"]])).incidents
    assert incident.status is Status.RESOLVED
    assert iso(incident.resolved_at) == "2022-07-01T16:00:00Z"
    assert incident.updates[-1].status is Status.RESOLVED


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("low", Impact.MINOR),  # SERVICE_INFORMATION-level incidents
        ("medium", Impact.MAJOR),  # disruption
        ("high", Impact.CRITICAL),  # outage
        (None, Impact.CRITICAL),  # no severity: the worst update status decides
    ],
)
def test_severity_maps_to_impact(severity: str | None, expected: Impact) -> None:
    (incident,) = _parse(_incident(severity=severity)).incidents
    assert incident.impact is expected


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", EmptyFeedError),
        (b'{"page": {}}', ParseError),  # a Statuspage document
        (json.dumps([_incident(id=None)]).encode(), ParseError),  # no id
        (json.dumps([_incident(updates=[{"status": "FINE", "when": "x"}])]).encode(), ParseError),
        (json.dumps([_incident(begin="yesterday")]).encode(), ParseError),
        (json.dumps([_incident(updates="many")]).encode(), ParseError),
    ],
)
def test_bad_incidents_json_ends_in_a_feed_error(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_gcp_json(body, "gcp")


# made here, in the shape of a real status.cloud.google.com/en/feed.atom capture (2022-04-01,
# found with the search tool): one entry per update, ids "…:feed:<incident>.<update>".
def _entry(
    title: str,
    incident: str,
    update: str,
    updated: str,
    span: str,
    text: str,
    products: str,
    locations: str,
) -> str:
    summary = (
        f"<p> Incident began at <strong>{span}</strong> <span>(all times are "
        f"<strong>US/Pacific</strong>).</span></p><div><p>{text}</p></div><hr>"
        f"<p>Affected products: {products}</p><p>Affected locations: {locations}</p>"
    )
    return (
        f"<entry><title>{title}</title>"
        f'<link href="https://status.cloud.google.com/incidents/{incident}" rel="alternate"/>'
        f"<id>tag:status.cloud.google.com,2022:feed:{incident}.{update}</id>"
        f'<updated>{updated}</updated><summary type="html">{html.escape(summary)}</summary>'
        "</entry>"
    )  # fmt: skip


ENDED = "2022-03-31 08:30</strong> and ended at <strong>2022-03-31 15:54"
ATOM = (
    '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    "<title>Google Cloud Service Health Updates</title>"
    '<link href="https://status.cloud.google.com/" rel="alternate" type="text/html"/>'
    + _entry("RESOLVED: Global: Cloud Monitoring metrics may be missing", "B1hD4KAt", "upd2",
             "2022-04-01T20:13:25+00:00", ENDED, "The issue is mitigated.",
             "Cloud Monitoring, Google Cloud Pub/Sub", "Global")
    + _entry("UPDATE: Global: Cloud Monitoring metrics may be missing", "B1hD4KAt", "upd1",
             "2022-03-31T16:00:00+00:00", "2022-03-31 08:30",
             "We are investigating &amp; will update.", "Cloud Monitoring", "Global")
    + _entry("UPDATE: Cloud Run deployments failing", "ZZZ9", "u1", "2022-04-01T19:00:00+00:00",
             "2022-04-01 11:30", "Deploys fail.", "Cloud Run",
             "Iowa (us-central1), Tokyo (asia-northeast1)")
    + "</feed>"
).encode()  # fmt: skip


def test_atom_entries_group_into_incidents_by_incident_id() -> None:
    doc = parse_gcp_atom(ATOM, "gcp")
    assert doc.kind is DocumentKind.HISTORY
    resolved, ongoing = doc.incidents
    assert resolved.id == "B1hD4KAt"
    assert resolved.title == "Global: Cloud Monitoring metrics may be missing"
    assert resolved.status is Status.RESOLVED
    assert iso(resolved.started_at) == "2022-03-31T15:30:00Z"  # 08:30 US/Pacific (PDT)
    assert iso(resolved.resolved_at) == "2022-03-31T22:54:00Z"  # 15:54 US/Pacific
    assert resolved.components == ("Cloud Monitoring", "Google Cloud Pub/Sub")
    assert resolved.regions == ("global",)
    assert [u.status for u in resolved.updates] == [Status.INVESTIGATING, Status.RESOLVED]
    assert resolved.updates[0].body == "We are investigating & will update."
    assert resolved.impact is Impact.MINOR  # the feed states no severity
    assert ongoing.status is Status.INVESTIGATING and ongoing.resolved_at is None
    assert ongoing.regions == ("asia-northeast1", "us-central1")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", EmptyFeedError),
        (b"<rss><channel><title>x</title></channel></rss>", ParseError),  # RSS, not Atom
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title>"
            b"<entry><title>x</title><updated>2022-01-01T00:00:00Z</updated></entry></feed>",
            ParseError,
        ),  # an entry naming no incident
        (
            b'<?xml version="1.0"?><!DOCTYPE feed SYSTEM "http://evil.example/x.dtd"><feed/>',
            HostileDocumentError,
        ),
    ],
)
def test_bad_atom_ends_in_a_feed_error(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_gcp_atom(body, "gcp")
