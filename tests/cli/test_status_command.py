"""`notifier status` reads what the pollers recorded: health, last poll, active incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from notifier.cli.status import render, status_rows
from notifier.feeds.fetch import Fetcher
from notifier.pipeline.poll import poll_provider
from notifier.store.state import StateStore
from tests.support.feed_server import feed_server
from tests.support.statuspage_docs import FakeIncident, summary_json

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Provider:
    id: str
    url: str
    format: str = "statuspage-json"


def test_it_shows_health_last_poll_and_active_incidents(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = StateStore(redis_client, key_prefix)
    incident = FakeIncident("k7statusinc1", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "Looking into it.")
    with feed_server() as server, Fetcher(timeout=2, connect_timeout=2) as fetcher:
        server.put("/ok.json", summary_json([incident]))
        ok = Provider("acme", server.url("/ok.json"))
        broken = Provider("brokenco", server.url("/missing.json"))  # 404 every time
        poll_provider(ok, store, fetcher, lambda events: None, NOW, 3)
        for _ in range(3):
            poll_provider(broken, store, fetcher, lambda events: None, NOW, 3)
    rows = {r["provider"]: r for r in status_rows(store, ["acme", "brokenco", "idle"], NOW)}
    assert rows["acme"]["health"] == "ok"
    assert rows["acme"]["last_poll"] == "2024-12-26T19:05:00Z"
    assert rows["acme"]["active_incidents"] == ["k7statusinc1 Elevated API errors"]
    assert rows["brokenco"]["health"].startswith("UNREACHABLE")
    assert "404" in rows["brokenco"]["last_error"]
    assert rows["idle"]["health"] == "not polled yet"
    table = render(list(rows.values()))
    assert table.splitlines()[0].startswith("PROVIDER")
    assert "k7statusinc1 Elevated API errors" in table


def test_it_renders_an_empty_table() -> None:
    assert render([]).startswith("PROVIDER")
