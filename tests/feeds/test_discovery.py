"""Discovery from a status page's address, against local copies of such sites
(tests/support/status_sites.py): the platform, the feed, the components, the bounds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifier.feeds.discover.find import MAX_REQUESTS, discover
from notifier.feeds.discover.links import alternate_feeds
from notifier.feeds.fetch import Fetcher
from tests.support.feed_server import FeedServer, feed_server
from tests.support.local import LOCAL
from tests.support.status_sites import COMPONENTS, serve_sites


@pytest.fixture
def sites() -> Iterator[FeedServer]:
    with feed_server() as server:
        serve_sites(server)
        yield server


def test_a_statuspage_site_is_recognised_and_its_summary_found_when_history_is_missing(
    sites: FeedServer,
) -> None:
    with Fetcher(timeout=5, allow=LOCAL) as f:
        found = discover(sites.url("/sp"), f)
    assert found.platform == "statuspage"
    assert found.best is not None
    assert (found.best.url, found.best.format) == (
        sites.url("/sp/api/v2/summary.json"), "statuspage-json")  # fmt: skip
    assert "platform endpoint" in found.best.how
    assert sites.hits.get("/sp/history.atom") == 1  # tried first, answered 404
    # The summary's components, as it spells them; a group only holds others.
    assert found.components == tuple(COMPONENTS)


def test_an_incident_io_site_is_recognised_by_its_page(sites: FeedServer) -> None:
    with Fetcher(timeout=5, allow=LOCAL) as f:
        found = discover(sites.url("/iio"), f)
    assert found.platform == "incident.io"
    assert found.best is not None and found.best.format == "statuspage-json"
    assert found.best.url == sites.url("/iio/api/v2/summary.json")


def test_a_plain_page_gives_the_rss_feed_it_links_with_rel_alternate(sites: FeedServer) -> None:
    with Fetcher(timeout=5, allow=LOCAL) as f:
        found = discover(sites.url("/blog"), f)
    assert found.platform == ""
    assert found.best is not None
    assert (found.best.url, found.best.format) == (sites.url("/feeds/status.rss"), "rss")
    assert found.best.how == "<link rel=alternate> on the page"


def test_a_feed_url_given_as_the_page_is_used_as_it_is(sites: FeedServer) -> None:
    with Fetcher(timeout=5, allow=LOCAL) as f:
        found = discover(sites.url("/feeds/status.rss"), f)
    assert found.best is not None and found.best.how == "the page itself"
    assert found.tried == 1


def test_a_page_with_no_feed_costs_a_bounded_number_of_requests_and_says_so() -> None:
    with feed_server() as server, Fetcher(timeout=5, allow=LOCAL) as f:
        server.put("/nothing", b"<!DOCTYPE html><html><body>no feed</body></html>", "text/html")
        found = discover(server.url("/nothing"), f)
        assert found.feeds == () and found.best is None
        assert found.tried == sum(server.hits.values()) <= MAX_REQUESTS


def test_discovery_keeps_polling_s_size_cap() -> None:
    with feed_server() as server, Fetcher(timeout=5, max_bytes=1000, allow=LOCAL) as f:
        server.put("/big", b"<!DOCTYPE html><html>" + b"x" * 5000 + b"</html>", "text/html")
        found = discover(server.url("/big"), f)
    assert found.best is None
    assert any("over 1000 bytes" in p for p in found.problems)


def test_an_unreachable_page_is_a_result_not_an_exception() -> None:
    with Fetcher(timeout=2, connect_timeout=1, allow=LOCAL) as f:
        found = discover("http://127.0.0.1:9/status", f)
    assert found.best is None and "the page" in found.problems[0]


def test_only_http_feed_links_of_feed_types_are_taken_and_made_absolute() -> None:
    html = """<html><head><base href="https://status.x.example/sub/">
    <link rel="alternate" type="application/atom+xml" href="history.atom">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    <link rel="alternate stylesheet" type="text/css" href="a.css">
    <link rel="Alternate" type="application/rss+xml; charset=utf-8" href="//cdn.x.example/f.rss">
    </head></html>"""
    assert alternate_feeds(html, "https://status.x.example/") == [
        "https://status.x.example/sub/history.atom", "https://cdn.x.example/f.rss"]  # fmt: skip


# Made here: the shape of a Statuspage history.atom (its id is Statuspage's own mark).
SP_ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">
<id>tag:status.acme.example,2005:/history</id>
<link rel="alternate" type="text/html" href="https://status.acme.example"/>
<title>Acme Status - Incident History</title><updated>2024-12-26T19:00:00Z</updated>
</feed>"""
PLAIN_PAGE = b"""<!DOCTYPE html><html><head><title>Acme Status (local test copy)</title>
<link rel="alternate" type="application/atom+xml" href="/unmarked/history.atom">
</head><body>All good.</body></html>"""


def test_a_statuspage_atom_without_marks_on_the_page_brings_its_summary_first(
    sites: FeedServer,
) -> None:
    sites.put("/unmarked", PLAIN_PAGE, "text/html")
    sites.put("/unmarked/history.atom", SP_ATOM, "application/atom+xml")
    sites.put("/unmarked/api/v2/summary.json", sites.documents["/sp/api/v2/summary.json"][0])
    with Fetcher(timeout=5, allow=LOCAL) as f:
        found = discover(sites.url("/unmarked"), f)
    assert found.platform == "statuspage"
    assert [(x.url, x.format) for x in found.feeds] == [
        (sites.url("/unmarked/api/v2/summary.json"), "statuspage-json"),
        (sites.url("/unmarked/history.atom"), "atom"),  # no entries: plain Atom by itself
    ]
    assert found.components == tuple(COMPONENTS)


def test_a_link_to_another_site_is_not_followed(sites: FeedServer) -> None:
    port = sites.url("/").rsplit(":", 1)[1].split("/")[0]
    href = f"http://localhost:{port}/feeds/status.rss"
    page = f"<html><head><link rel='alternate' type='application/rss+xml' href='{href}'>".encode()
    sites.put("/offsite", page, "text/html")
    with Fetcher(timeout=5, allow=LOCAL) as f:
        found = discover(sites.url("/offsite"), f, max_requests=3)
    assert found.best is None or "localhost" not in found.best.url
    assert any("outside the site 127.0.0.1" in p for p in found.problems)
    assert sites.hits.get("/feeds/status.rss") is None
