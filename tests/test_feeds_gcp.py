"""Google Cloud parsers: `gcp-json` (incidents.json) and `gcp-atom` (feed.atom)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifier.feeds.errors import EmptyFeedError, HostileDocumentError, ParseError
from notifier.feeds.gcp import parse_gcp_json
from notifier.feeds.gcp_atom import parse_gcp_atom
from notifier.models import DocumentKind, Impact, Status, iso


def _incident(**overrides: Any) -> dict[str, Any]:
    """made here, in the shape of status.cloud.google.com/incidents.json (current schema)"""
    incident = {
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
                "affected_locations": [{"title": "Tokyo (asia-northeast1)", "id": "asia-northeast1"}],
            },
        ],
        "most_recent_update": {},
        "status_impact": "SERVICE_OUTAGE",
        "severity": "high",
        "service_key": "k",
        "service_name": "Multiple Products",
        "affected_products": [{"title": "Cloud Run", "id": "1"}, {"title": "Cloud Build", "id": "2"}],
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
ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Google Cloud Service Health Updates</title><updated>2022-04-01T20:13:25+00:00</updated>
  <link href="https://status.cloud.google.com/" rel="alternate" type="text/html"></link>
  <id>https://status.cloud.google.com/</id>
  <entry>
    <title>RESOLVED: Global: Cloud Monitoring metrics may be missing</title>
    <link href="https://status.cloud.google.com/incidents/B1hD4KAt" rel="alternate"></link>
    <id>tag:status.cloud.google.com,2022:feed:B1hD4KAt.upd2</id>
    <updated>2022-04-01T20:13:25+00:00</updated>
    <summary type="html">&lt;p&gt; Incident began at &lt;strong&gt;2022-03-31 08:30&lt;/strong&gt; and ended at &lt;strong&gt;2022-03-31 15:54&lt;/strong&gt; &lt;span&gt;(all times are &lt;strong&gt;US/Pacific&lt;/strong&gt;).&lt;/span&gt;&lt;/p&gt;&lt;div&gt;&lt;p&gt;The issue is mitigated.&lt;/p&gt;&lt;/div&gt;&lt;hr&gt;&lt;p&gt;Affected products: Cloud Monitoring, Google Cloud Pub/Sub&lt;/p&gt;&lt;p&gt;Affected locations: Global&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>UPDATE: Global: Cloud Monitoring metrics may be missing</title>
    <link href="https://status.cloud.google.com/incidents/B1hD4KAt" rel="alternate"></link>
    <id>tag:status.cloud.google.com,2022:feed:B1hD4KAt.upd1</id>
    <updated>2022-03-31T16:00:00+00:00</updated>
    <summary type="html">&lt;p&gt; Incident began at &lt;strong&gt;2022-03-31 08:30&lt;/strong&gt; &lt;span&gt;(all times are &lt;strong&gt;US/Pacific&lt;/strong&gt;).&lt;/span&gt;&lt;/p&gt;&lt;div&gt;&lt;p&gt;We are investigating &amp;amp; will update.&lt;/p&gt;&lt;/div&gt;&lt;hr&gt;&lt;p&gt;Affected products: Cloud Monitoring&lt;/p&gt;&lt;p&gt;Affected locations: Global&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>UPDATE: Cloud Run deployments failing</title>
    <link href="https://status.cloud.google.com/incidents/ZZZ9" rel="alternate"></link>
    <id>tag:status.cloud.google.com,2022:feed:ZZZ9.u1</id>
    <updated>2022-04-01T19:00:00+00:00</updated>
    <summary type="html">&lt;p&gt; Incident began at &lt;strong&gt;2022-04-01 11:30&lt;/strong&gt; &lt;span&gt;(all times are &lt;strong&gt;US/Pacific&lt;/strong&gt;).&lt;/span&gt;&lt;/p&gt;&lt;div&gt;&lt;p&gt;Deploys fail.&lt;/p&gt;&lt;/div&gt;&lt;hr&gt;&lt;p&gt;Affected products: Cloud Run&lt;/p&gt;&lt;p&gt;Affected locations: Iowa (us-central1), Tokyo (asia-northeast1)&lt;/p&gt;</summary>
  </entry>
</feed>
"""


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
