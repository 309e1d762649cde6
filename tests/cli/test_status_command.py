"""`notifier status` reads what the pollers recorded: health, last poll, active incidents."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from notifier.cli import build_parser
from notifier.cli import status as status_cmd
from notifier.cli.status import render, status_rows
from notifier.config.settings import get_settings
from notifier.feeds.fetch import Fetcher
from notifier.pipeline.ingest.poll import poll_provider
from notifier.store.feeds.incidents import IncidentIndex
from notifier.store.feeds.providers import ProviderStore
from notifier.store.ops.heartbeats import Heartbeats
from notifier.text import inert_stream
from tests.support.cli import run_notifier
from tests.support.feed_server import feed_server
from tests.support.local import LOCAL
from tests.support.statuspage_docs import FakeIncident, summary_json

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Provider:
    id: str
    url: str
    format: str = "statuspage-json"


def test_it_shows_health_last_poll_and_active_incidents(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = ProviderStore(redis_client, key_prefix)
    incident = FakeIncident("k7statusinc1", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "Looking into it.")
    with feed_server() as server, Fetcher(timeout=2, connect_timeout=2, allow=LOCAL) as fetcher:
        server.put("/ok.json", summary_json([incident]))
        ok = Provider("acme", server.url("/ok.json"))
        broken = Provider("brokenco", server.url("/missing.json"))  # 404 every time
        poll_provider(ok, store, fetcher, lambda events: None, NOW, 3)
        for _ in range(3):
            poll_provider(broken, store, fetcher, lambda events: None, NOW, 3)
    rows = {
        r["provider"]: r
        for r in status_rows(
            store, IncidentIndex(redis_client, key_prefix), ["acme", "brokenco", "idle"], NOW
        )
    }
    assert rows["acme"]["health"] == "ok"
    assert rows["acme"]["last_poll"] == "2024-12-26T19:05:00Z"
    assert rows["acme"]["active_incidents"] == ["k7statusinc1 Elevated API errors"]
    assert rows["brokenco"]["health"].startswith("unreachable")
    assert "404" in rows["brokenco"]["last_error"]
    assert rows["idle"]["health"] == "unknown (not polled yet)"
    table = render(list(rows.values()))
    assert table.splitlines()[0].startswith("PROVIDER")
    assert "k7statusinc1 Elevated API errors" in table


def test_it_renders_an_empty_table() -> None:
    assert render([]).startswith("PROVIDER")


class _Troubled(BaseHTTPRequestHandler):
    """A status page having a bad day, one way per path (made here)."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/hang":
            time.sleep(3)  # longer than the fetcher waits
        body, code, ctype = {
            "/html": (b"<!DOCTYPE html><html><body>Sign in</body></html>", 200, "text/html"),
            "/down": (b"Service Unavailable", 503, "text/plain"),
        }.get(self.path, (b"", 204, "text/plain"))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _troubled_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Troubled)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_it_says_in_plain_words_why_each_feed_fails(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = ProviderStore(redis_client, key_prefix)
    with (
        _troubled_server() as base,
        Fetcher(timeout=0.3, connect_timeout=0.3, allow=LOCAL) as fetcher,
    ):
        providers = [
            Provider("refused", f"http://127.0.0.1:{_closed_port()}/feed"),
            Provider("nodns", "http://status.notifier-test.invalid/feed"),
            Provider("hangs", f"{base}/hang"),
            Provider("htmlpage", f"{base}/html"),
            Provider("down", f"{base}/down"),
        ]
        for p in providers:
            poll_provider(p, store, fetcher, lambda events: None, NOW, 1)
    rows = {
        r["provider"]: r
        for r in status_rows(
            store, IncidentIndex(redis_client, key_prefix), [p.id for p in providers], NOW
        )
    }
    health = {pid: row["health"] for pid, row in rows.items()}
    assert health == {
        "refused": "unreachable: connection refused: nothing listens at that address (1 failure)",
        "nodns": "unreachable: DNS lookup failed: the host name does not resolve (1 failure)",
        "hangs": "unreachable: timed out: the server did not answer in time (1 failure)",
        "htmlpage": "unreadable: answered with an HTML page, not a feed (1 failure)",
        "down": "unreachable: HTTP status 503: the server has a problem (1 failure)",
    }
    assert rows["htmlpage"]["cause"] == "answered with an HTML page, not a feed"
    table = render(list(rows.values()))
    for line in health.values():
        assert line in table


def test_a_failure_below_the_threshold_already_says_why(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = ProviderStore(redis_client, key_prefix)
    with _troubled_server() as base, Fetcher(timeout=2, connect_timeout=2, allow=LOCAL) as fetcher:
        poll_provider(Provider("down", f"{base}/down"), store, fetcher, lambda e: None, NOW, 3)
    (row,) = status_rows(store, IncidentIndex(redis_client, key_prefix), ["down"], NOW)
    assert row["health"] == "failing: HTTP status 503: the server has a problem (1 failure)"


def test_it_says_whether_the_service_is_healthy_and_exits_1_when_not(
    redis_url: str, key_prefix: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme\n"
        "    feed: {url: 'http://127.0.0.1:9/x.json', format: statuspage-json}\n"
        "subscribers:\n  - name: ops\n    slack: {channel: '#ops'}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env |= {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix,
            "NOTIFIER_CONFIG": str(config)}  # fmt: skip

    def status(*args: str) -> subprocess.CompletedProcess[str]:
        return run_notifier(["status", *args], env=env)

    done = status()
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "service: UNHEALTHY"
    assert lines[2] == "  beat     FAILING  no beat has ever ticked (limit 15 s)"
    assert lines[3] == "  workers  FAILING  no worker alive (limit 15 s)"
    assert any(line.startswith("PROVIDER") for line in lines)  # the provider table follows
    beats = Heartbeats(redis_client, key_prefix)
    beats.beat(datetime.now(UTC))
    beats.worker("celery@here", datetime.now(UTC), expire_after=15)
    done = status("--json")
    assert done.returncode == 0, done.stdout
    body = json.loads(done.stdout)
    assert body["health"]["healthy"] is True
    assert [c["name"] for c in body["health"]["checks"]] == [
        "redis",
        "beat",
        "workers",
        "due",
        "feeds",
        "history",
    ]
    assert body["providers"][0]["provider"] == "acme"


def test_a_hostile_feed_title_reaches_notifier_status_inert(
    redis_url: str, key_prefix: str, redis_client: redis.Redis, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    store = ProviderStore(redis_client, key_prefix)
    incident = FakeIncident("k7esc", "Outage \x1b]0;pwned\x07\x1b[2J here")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "Looking.")
    with feed_server() as server, Fetcher(timeout=2, allow=LOCAL) as fetcher:
        server.put("/ok.json", summary_json([incident]))
        poll_provider(Provider("acme", server.url("/ok.json")), store, fetcher, lambda e: None,
                      datetime.now(UTC), 3)  # fmt: skip
    config = tmp_path / "subscriptions.yaml"
    config.write_text("providers:\n  - id: acme\n    feed: {url: 'https://x.example/s.json', "
                      "format: statuspage-json}\n")  # fmt: skip
    for name, value in {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix,
                        "NOTIFIER_CONFIG": str(config)}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    buffer = io.StringIO()
    try:
        status_cmd.run(build_parser().parse_args(["status"]), out=buffer)
    finally:
        get_settings.cache_clear()
    out = buffer.getvalue()
    assert "k7esc Outage  here" in out or "k7esc Outage here" in out
    assert "\x1b" not in out and "\x07" not in out


def test_the_one_terminal_sanitiser_keeps_layout_and_drops_escapes() -> None:
    out = io.StringIO()
    stream = inert_stream(out)
    stream.write("PROVIDER  ACTIVE\nacme      x1 Outage \x1b]0;pwned\x07\x1b[31mred\x9b2J\u202e\n")
    assert out.getvalue() == "PROVIDER  ACTIVE\nacme      x1 Outage red2J\n"
    assert inert_stream(stream) is stream
