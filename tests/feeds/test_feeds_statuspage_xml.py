"""Statuspage history.atom / history.rss: hand-written entries for the tricky cases."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pytest

from notifier.feeds.registry import parse
from notifier.feeds.stamps import parse_stamp
from notifier.models import Impact, Incident, IncidentKind, Status, iso


def stamp(mon: str, day: str, time: str, zone: str = "UTC") -> str:
    return (
        f"<small>{mon} <var data-var='date'>{day}</var>, "
        f"<var data-var='time'>{time}</var> {zone}</small>"
    )


def update(mon: str, day: str, time: str, label: str, body: str, zone: str = "UTC") -> str:
    return f"<p>{stamp(mon, day, time, zone)}<br><strong>{label}</strong> - {body}</p>"


def atom(*entries: tuple[str, str, str, str]) -> bytes:
    """A feed made here: entries of (code, published, title, html)."""
    items = "".join(
        f"<entry><id>tag:status.example.com,2005:Incident/{n}</id>"
        f"<published>{published}</published><updated>{published}</updated>"
        f'<link rel="alternate" type="text/html" href="https://status.example.com/incidents/{code}"/>'
        f'<title>{title}</title><content type="html">{escape(html)}</content></entry>'
        for n, (code, published, title, html) in enumerate(entries)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>tag:status.example.com,2005:/history</id><title>Example</title>{items}</feed>"
    ).encode()


def one(body: bytes) -> Incident:
    (incident,) = parse(body, "statuspage-atom", "example").incidents
    return incident


def test_it_puts_december_updates_of_a_january_entry_in_the_previous_year() -> None:
    # made here: an incident opened Dec 31 and resolved Jan 1
    html = update("Jan", " 1", "00:20", "Resolved", "Fixed.") + update(
        "Dec", "31", "23:50", "Investigating", "Looking."
    )
    incident = one(atom(("abc123", "2025-01-01T00:20:05Z", "Outage", html)))
    assert [iso(u.at) for u in incident.updates] == ["2024-12-31T23:50:00Z", "2025-01-01T00:20:00Z"]
    assert iso(incident.started_at) == "2024-12-31T23:50:00Z"
    assert iso(incident.resolved_at) == "2025-01-01T00:20:00Z"


def test_it_keeps_same_minute_updates_apart_in_posting_order() -> None:
    # made here: two updates in one minute with one status; the blob is newest first
    html = (
        update("Apr", "16", "17:26", "Update", "second")
        + update("Apr", "16", "17:26", "Update", "first")
        + update("Apr", "16", "17:00", "Investigating", "start")
    )
    incident = one(atom(("abc123", "2025-04-16T17:26:00Z", "Slow", html)))
    assert [u.body for u in incident.updates] == ["start", "first", "second"]
    assert [u.key for u in incident.updates] == [
        "20250416T1700Z#1",
        "20250416T1726Z#1",
        "20250416T1726Z#2",
    ]
    assert incident.status is Status.UPDATE and incident.resolved_at is None


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "2024-06-10T09:00:00Z"),
        ("PDT", "2024-06-10T16:00:00Z"),  # UTC-7
        ("PST", "2024-06-10T17:00:00Z"),  # UTC-8
        ("CEST", "2024-06-10T07:00:00Z"),  # UTC+2
        ("IST", "2024-06-10T03:30:00Z"),  # India, UTC+5:30
        ("UTC+05:30", "2024-06-10T03:30:00Z"),  # numeric offset
        ("XYZT", "2024-06-10T09:00:00Z"),  # unknown label: read as UTC, keep going
    ],
)
def test_it_reads_page_time_zone_labels(zone: str, expected: str) -> None:
    reference = datetime(2024, 6, 11, tzinfo=UTC)
    assert iso(parse_stamp(f"Jun 10, 09:00 {zone}", reference)) == expected


def test_it_tolerates_markup_drift() -> None:
    # made here: double-quoted attributes, no <var>, extra spaces, <b> inside the body,
    # a space-padded day and an unknown label
    html = (
        "<p><small>Mar  2, 10:05 UTC</small> <br /> <strong> Monitoring </strong>"
        " &ndash; A <b>fix</b> &amp; more<br/>line two</p>"
        '<p><small>Mar <var data-var="date"> 2</var>, <var data-var="time">09:00</var> UTC</small>'
        "<br><strong>Degraded</strong> - something</p>"
    )
    incident = one(atom(("x1", "2024-03-02T10:05:00Z", "T", html)))
    first, second = incident.updates
    assert (iso(first.at), first.status) == ("2024-03-02T09:00:00Z", Status.UPDATE)
    assert (iso(second.at), second.status) == ("2024-03-02T10:05:00Z", Status.MONITORING)
    assert second.body == "A fix & more\nline two"


def test_it_reads_scheduled_maintenance() -> None:
    # made here: future-dated maintenance, header with the window, then a Scheduled update
    html = (
        "<p><strong>THIS IS A SCHEDULED EVENT Jan <var data-var='date'> 3</var>, "
        "<var data-var='time'>02:00</var> - <var data-var='time'>04:00</var> PST</strong></p>"
        + update("Dec", "20", "18:00", "Scheduled", "We will upgrade.", "PST")
    )
    incident = one(atom(("m1", "2025-01-03T10:00:00Z", "Upgrade", html)))
    assert incident.kind is IncidentKind.MAINTENANCE and incident.impact is Impact.MAINTENANCE
    assert incident.status is Status.SCHEDULED and incident.resolved_at is None
    assert iso(incident.started_at) == "2025-01-03T10:00:00Z"  # the window, not the post
    assert iso(incident.updates[0].at) == "2024-12-21T02:00:00Z"


def test_it_extracts_affected_components_and_drops_the_line_from_the_body() -> None:
    # made here: the trailing "This incident affected" paragraph
    html = (
        update("May", "1", "10:00", "Resolved", "Done.")
        + update("May", "1", "09:00", "Investigating", "Looking.")
        + "<p>This incident affected: Git Operations, Webhooks, and API Requests.</p>"
    )
    incident = one(atom(("c1", "2024-05-01T10:00:00Z", "T", html)))
    assert incident.components == ("Git Operations", "Webhooks", "API Requests")
    assert incident.updates[0].body == "Looking."


def test_a_postmortem_keeps_the_resolution_time() -> None:
    # made here: resolved, then a postmortem a day later
    html = (
        update("May", "2", "10:00", "Postmortem", "Write-up.")
        + update("May", "1", "10:00", "Resolved", "Done.")
        + update("May", "1", "09:00", "Investigating", "Looking.")
    )
    incident = one(atom(("p1", "2024-05-02T10:00:00Z", "T", html)))
    assert incident.status is Status.POSTMORTEM
    assert iso(incident.resolved_at) == "2024-05-01T10:00:00Z"


def test_feed_text_stays_inert() -> None:
    # made here: markup and a script in a title and body come out as plain text
    html = update(
        "May", "1", "09:00", "Investigating", '<a href="http://x">click</a><script>x()</script>'
    )
    incident = one(atom(("i1", "2024-05-01T09:00:00Z", "&lt;b&gt;Bold&lt;/b&gt;", html)))
    assert incident.updates[0].body == "click"
    assert incident.title == "<b>Bold</b>"  # the channel escapes it; we never render it


def test_atom_and_rss_of_one_capture_give_the_same_incidents(corpus: Path) -> None:
    base = corpus / "statuspage" / "streamyard_history_2024-06-10"
    from_atom = parse((base.with_suffix(".atom")).read_bytes(), "statuspage-atom", "sy")
    from_rss = parse((base.with_suffix(".rss")).read_bytes(), "statuspage-rss", "sy")
    assert len(from_atom.incidents) == 17
    assert from_atom.incidents == from_rss.incidents


def test_one_incident_read_from_atom_and_from_json_gets_the_same_identity(corpus: Path) -> None:
    # The corpus' Atom series and JSON details do not overlap in time, so the Atom entry
    # for rgy28jwprr1c is made here, rendered the way Statuspage renders the JSON one.
    path = (
        corpus
        / "statuspage_json/githubstatus_incident_detail/githubstatus_incident_rgy28jwprr1c.json"
    )
    (from_json,) = parse(path.read_bytes(), "statuspage-json", "github").incidents
    html = "".join(
        update(f"{u.at:%b}", f"{u.at.day:2d}", f"{u.at:%H:%M}", u.status.value.title(), u.body)
        for u in reversed(from_json.updates)
    )
    feed = atom(("rgy28jwprr1c", "2019-09-23T16:37:47Z", from_json.title, html)).replace(
        b"status.example.com", b"www.githubstatus.com"
    )
    from_atom = one(feed)
    assert (from_atom.id, from_atom.url) == (from_json.id, from_json.url)
    assert [u.key for u in from_atom.updates] == [u.key for u in from_json.updates]
    assert [u.status for u in from_atom.updates] == [u.status for u in from_json.updates]
    assert from_json.resolved_at is not None
    assert from_atom.resolved_at == from_json.resolved_at.replace(second=0, microsecond=0)
