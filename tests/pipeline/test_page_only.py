"""A subscription file that names only each vendor's status page works through to an
alert, against local copies of a Statuspage, an incident.io and an RSS-publishing site
(tests/support/status_sites.py): real Redis, real HTTP, the real Slack client against
the local fake. The feed found is remembered; when it moves, the move is found,
remembered and shown by `notifier status`."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.cli import status
from notifier.config.settings import get_settings
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.ingest.poll import PollOutcome
from notifier.store.feeds.discovered import DiscoveredStore
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.status_sites import RSS_PAGE_HTML, rss, serve_sites
from tests.support.statuspage_docs import FakeIncident

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

T0 = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
PROVIDERS = {"acme": "/sp", "beta": "/iio", "gamma": "/blog"}


def _poll(run: InlineHandOff, provider: str, minutes: float) -> PollOutcome:
    run.now = T0 + timedelta(minutes=minutes)
    return ingest.poll(run.rt, provider, run, run.now)


def _inline(tmp_path: Path, redis_url: str, key_prefix: str, sites: FeedServer,
            slack: FakeSlack) -> InlineHandOff:  # fmt: skip
    return InlineHandOff(build_runtime(
        tmp_path, redis_url, key_prefix,
        "providers:\n"
        + "".join(
            f"  - id: {pid}\n    name: {pid.capitalize()}\n    page: {sites.url(path)}\n"
            for pid, path in PROVIDERS.items()
        )
        + "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n",
        slack_token="xoxb-page-test", slack_api_url=slack.url,
    ), T0)  # fmt: skip


def test_a_file_naming_only_status_pages_alerts_for_each_kind_of_site(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    fake_slack: FakeSlack,
) -> None:  # fmt: skip
    with feed_server() as sites:
        serve_sites(sites)
        run = _inline(tmp_path, redis_url, key_prefix, sites, fake_slack)
        for pid in PROVIDERS:
            assert _poll(run, pid, 0).outcome == "changed", pid  # quiet: a baseline
        assert fake_slack.messages == []
        remembered = DiscoveredStore(redis_client, key_prefix)
        assert remembered.get("acme", sites.url("/sp")).url == sites.url("/sp/api/v2/summary.json")  # type: ignore[union-attr]
        assert remembered.get("gamma", sites.url("/blog")).format == "rss"  # type: ignore[union-attr]
        page_hits = sites.hits["/sp"]

        incident = FakeIncident("inc00000001", "Elevated API errors", components=["API"])
        incident.add("investigating", "2024-12-26T19:10:00.000Z", "We are investigating.")
        serve_sites(sites, incident)
        for pid in PROVIDERS:
            assert _poll(run, pid, 10).outcome == "changed", pid

    texts = [m["text"] for m in fake_slack.messages]
    assert len(texts) == 3, texts
    for name in ("Acme", "Beta", "Gamma"):
        assert sum(name in text for text in texts) == 1, (name, texts)
    assert all("Elevated API errors" in m["text"] for m in fake_slack.messages)
    assert sites.hits["/sp"] == page_hits  # remembered: the page is not fetched again
    assert remembered.components("acme") >= {"API", "Dashboard", "Webhooks"}


def test_a_feed_that_moves_is_found_again_remembered_and_shown_by_status(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with feed_server() as sites:
        serve_sites(sites)
        run = _inline(tmp_path, redis_url, key_prefix, sites, fake_slack)
        assert _poll(run, "acme", 0).outcome == "changed"
        # The vendor leaves Statuspage: the summary is gone (404) and the page now links RSS.
        with sites.lock:
            del sites.documents["/sp/api/v2/summary.json"]
        sites.put(
            "/sp", RSS_PAGE_HTML.replace(b"feeds/status.rss", b"/sp/v2/feed.rss"), "text/html"
        )
        sites.put("/sp/v2/feed.rss", rss([]), "application/rss+xml")
        failed = _poll(run, "acme", 1)
        assert failed.outcome == "failed" and failed.cause == "http:404"
        store = DiscoveredStore(redis_client, key_prefix)
        moves = store.moves("acme")
        assert [(m.old, m.new) for m in moves] == [
            (sites.url("/sp/api/v2/summary.json"), sites.url("/sp/v2/feed.rss"))]  # fmt: skip
        assert moves[0].why == "feed answered HTTP 404"
        assert _poll(run, "acme", 2).outcome == "changed"  # the next poll reads the new feed
        page, new = sites.url("/sp"), sites.url("/sp/v2/feed.rss")

        monkeypatch.setenv("NOTIFIER_CONFIG", str(tmp_path / "subscriptions.yaml"))
        monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)
        monkeypatch.setenv("NOTIFIER_KEY_PREFIX", key_prefix)
        get_settings.cache_clear()
        shown = io.StringIO()
        try:
            status.run(argparse.Namespace(json=False), out=shown)
        finally:
            get_settings.cache_clear()
    out = shown.getvalue()
    assert f"acme: {page} -> {new} (rss)" in out
    assert "moved " in out and "(feed answered HTTP 404)" in out
