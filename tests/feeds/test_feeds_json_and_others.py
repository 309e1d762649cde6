"""Statuspage JSON shapes, incident.io RSS/Atom, generic RSS/Atom and `auto` detection."""

from __future__ import annotations

import json
from html import escape
from typing import Any

import pytest

from notifier.feeds.detect import detect
from notifier.feeds.registry import parse
from notifier.models import DocumentKind, Impact, IncidentKind, Status, iso


def sp_incident(code: str, status: str, impact: str = "minor", **extra: Any) -> dict[str, Any]:
    """A Statuspage API incident made here; updates newest first, as the API sends them."""
    return {
        "id": code,
        "name": f"Incident {code}",
        "status": status,
        "impact": impact,
        "created_at": "2024-05-01T09:00:00.123Z",
        "started_at": "2024-05-01T09:00:00.100Z",
        "updated_at": "2024-05-01T10:00:00Z",
        "resolved_at": "2024-05-01T10:00:00Z" if status == "resolved" else None,
        "incident_updates": [
            {
                "status": status,
                "body": "Second &amp; <b>last</b>",
                "display_at": "2024-05-01T09:30:40Z",
            },
            {
                "status": "investigating",
                "body": "First\n\nline",
                "display_at": "2024-05-01T09:30:10Z",
            },
        ],
        **extra,
    }


def doc(**keys: Any) -> bytes:
    return json.dumps({"page": {"url": "https://status.example.com"}, **keys}).encode()


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        # summary.json: only open incidents
        (doc(components=[], incidents=[], scheduled_maintenances=[], status={}), "active"),
        # incidents/unresolved.json (nothing closed in it)
        (doc(incidents=[sp_incident("a", "monitoring")]), "active"),
        # incidents.json: a history holding closed incidents
        (doc(incidents=[sp_incident("a", "monitoring"), sp_incident("b", "resolved")]), "history"),
        # a single incidents/<code>.json
        (doc(incident=sp_incident("a", "investigating")), "history"),
    ],
)
def test_statuspage_json_document_kinds(body: bytes, kind: str) -> None:
    assert parse(body, "statuspage-json", "p").kind == DocumentKind(kind)


def test_statuspage_json_updates_are_reversed_keyed_and_plain_text() -> None:
    (incident,) = parse(
        doc(incident=sp_incident("a", "resolved")), "statuspage-json", "p"
    ).incidents
    first, last = incident.updates
    assert (first.body, first.key) == ("First\n\nline", "20240501T0930Z#1")
    assert (last.body, last.key, last.status) == (
        "Second & last",
        "20240501T0930Z#2",
        Status.RESOLVED,
    )
    assert incident.url == "https://status.example.com/incidents/a"
    assert iso(incident.resolved_at) == "2024-05-01T10:00:00Z"


def test_summary_maintenance_is_maintenance_and_starts_at_its_window() -> None:
    maint = sp_incident("m", "scheduled", "maintenance", scheduled_for="2024-06-01T02:00:00Z")
    body = doc(components=[], incidents=[], scheduled_maintenances=[maint], status={})
    (incident,) = parse(body, "statuspage-json", "p").incidents
    assert (incident.kind, incident.impact) == (IncidentKind.MAINTENANCE, Impact.MAINTENANCE)
    assert iso(incident.started_at) == "2024-06-01T02:00:00Z"


INCIDENTIO_HTML = (
    "<b>Status: Identified</b><br/><br/>We found it.<br/><br/><b>Affected components</b>"
    "<ul><li>API (Partial outage)</li><li>Chat (Degraded performance)</li></ul>"
)
ULID_URL = "https://status.example.com//incidents/01KHRP7P1JF885BYA8SDWBDBR1"
INCIDENTIO_ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example status</title>
<generator>incident.io</generator>
<entry><title>API errors</title><id>{ULID_URL}</id><link href="{ULID_URL}"/>
<updated>2026-02-18T16:40:22Z</updated>
<content type="html">{escape(INCIDENTIO_HTML)}</content>
</entry></feed>""".encode()  # made here, shaped like incident.io's feed.rss


def test_incidentio_atom_reads_status_components_and_worst_impact() -> None:
    assert detect(INCIDENTIO_ATOM) == "incidentio-rss"
    (incident,) = parse(INCIDENTIO_ATOM, "incidentio-rss", "openai").incidents
    assert (incident.id, incident.status) == ("01KHRP7P1JF885BYA8SDWBDBR1", Status.IDENTIFIED)
    assert incident.components == ("API", "Chat")
    assert incident.impact is Impact.MAJOR  # worst listed component state
    assert incident.updates[0].body == "We found it."
    assert iso(incident.started_at) == "2026-02-18T15:34:54Z"  # from the ULID


GENERIC_RSS = b"""<rss version="2.0"><channel><title>Vendor</title>
<item><title>Resolved: queue delays</title><guid>q-1</guid><link>https://v.example.com/q1</link>
<pubDate>Mon, 10 Jun 2024 11:10:42 +0000</pubDate>
<description>&lt;p&gt;All &lt;i&gt;good&lt;/i&gt;&lt;/p&gt;</description></item>
<item><title>Login failures</title><link>https://v.example.com/l</link>
<pubDate>Mon, 10 Jun 2024 10:00:00 GMT</pubDate>
<description>We are investigating.</description></item>
</channel></rss>"""  # made here


def test_generic_rss_reads_one_incident_per_item_with_keyword_status() -> None:
    assert detect(GENERIC_RSS) == "rss"
    resolved, open_ = parse(GENERIC_RSS, "rss", "v").incidents
    assert (resolved.id, resolved.status, resolved.updates[0].body) == (
        "q-1",
        Status.RESOLVED,
        "All good",
    )
    assert (open_.id, open_.status) == ("https://v.example.com/l", Status.INVESTIGATING)
    assert resolved.resolved_at is not None and open_.resolved_at is None


def test_generic_atom_reads_entries() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry><id>e1</id>
    <title>Scheduled maintenance</title><updated>2024-06-10T11:10:42Z</updated>
    <summary>Upgrade</summary></entry></feed>"""  # made here
    (incident,) = parse(body, "auto", "v").incidents
    assert (incident.id, incident.kind, incident.status) == (
        "e1",
        IncidentKind.MAINTENANCE,
        Status.SCHEDULED,
    )


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (b'{"archive": [], "current": []}', "aws-json"),  # AWS legacy data.json
        (b'[{"arn": "x", "event_log": []}]', "aws-json"),  # AWS Health currentevents
        (b'[{"id": "a", "affected_products": []}]', "gcp-json"),  # Google Cloud incidents.json
        (b'{"status": "ok", "active_incidents": []}', "slack-json"),  # Slack current
        (b'[{"id": 1, "type": "incident", "notes": [], "services": []}]', "slack-json"),
        (
            b"<rss version='2.0'><channel><link>http://status.aws.amazon.com/</link></channel></rss>",
            "aws-rss",
        ),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><link href='https://status.cloud.google.com/'/></feed>",
            "gcp-atom",
        ),
        (
            b"<rss version='2.0'><channel><link>https://azure.status.microsoft/status</link></channel></rss>",
            "azure-rss",
        ),
    ],
)
def test_auto_detects_the_other_vendor_formats(body: bytes, name: str) -> None:
    # All made here: only the marks detection looks at.
    assert detect(body) == name
