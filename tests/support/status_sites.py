"""Local copies of three kinds of status site, made here for the discovery tests.

Served by one `FeedServer`, each under its own path (a page may live under a path):
- `/sp`: a Statuspage-like page (its HTML carries the Statuspage CDN mark) whose
  `/api/v2/summary.json` lists components and incidents; `/history.atom` is absent
  (404), so discovery must fall through to the summary;
- `/iio`: an incident.io-like page ("Powered by incident.io") with the same
  Statuspage-compatible summary;
- `/blog`: a plain HTML page announcing an RSS 2.0 feed with `<link rel="alternate">`.
Each is labelled in its HTML as a local test copy; none is any vendor's real page.
"""

from __future__ import annotations

import json

from tests.support.feed_server import FeedServer
from tests.support.statuspage_docs import FakeIncident, summary_json

COMPONENTS = ["API", "Dashboard", "Webhooks"]

STATUSPAGE_HTML = b"""<!DOCTYPE html><html><head><title>Acme Status (local test copy)</title>
<link rel="stylesheet" href="https://dka575ofm4ao0.cloudfront.net/assets/status.css">
</head><body><h1>Acme Status</h1></body></html>"""
INCIDENT_IO_HTML = b"""<!DOCTYPE html><html><head><title>Beta Status (local test copy)</title>
</head><body><footer>Powered by incident.io</footer></body></html>"""
RSS_PAGE_HTML = b"""<!DOCTYPE html><html><head><title>Gamma status (local test copy)</title>
<link rel="alternate" type="application/rss+xml" title="Status" href="feeds/status.rss">
<link rel="alternate" type="text/html" href="/elsewhere">
</head><body><p>Our status updates.</p></body></html>"""


def summary_with_components(incidents: list[FakeIncident], page: str) -> bytes:
    doc = json.loads(summary_json(incidents, page))
    doc["components"] = [
        {"id": f"c{i}", "name": n, "status": "operational", "group": False}
        for i, n in enumerate(COMPONENTS)
    ] + [{"id": "g", "name": "All systems (a group)", "status": "operational", "group": True}]
    return json.dumps(doc).encode()


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """RSS 2.0 with (guid, title, RFC 822 date) items."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>https://gamma.example/{g}</link>"
        f"<pubDate>{d}</pubDate><description>{t}: we are investigating.</description></item>"
        for g, t, d in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Gamma status</title>'
        f"<link>https://gamma.example</link><description>x</description>{body}</channel></rss>"
    ).encode()


def serve_sites(server: FeedServer, incident: FakeIncident | None = None) -> None:
    """Put the three sites on `server`, quiet, or with `incident` open on each."""
    incidents = [incident] if incident is not None else []
    server.put("/sp", STATUSPAGE_HTML, "text/html")
    server.put("/sp/api/v2/summary.json", summary_with_components(incidents, "Acme"))
    server.put("/iio", INCIDENT_IO_HTML, "text/html")
    server.put("/iio/api/v2/summary.json", summary_with_components(incidents, "Beta"))
    server.put("/blog", RSS_PAGE_HTML, "text/html")
    items = (
        [("inc-1", "Elevated API errors", "Thu, 26 Dec 2024 19:00:00 +0000")] if incident else []
    )
    server.put("/feeds/status.rss", rss(items), "application/rss+xml")
