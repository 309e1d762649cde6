"""POST /hooks/statuspage/{provider}/{token} over real HTTP (uvicorn, the app that
`notifier run` serves): deliveries are queued in Redis and answered 202 within a
second; a wrong token, a malformed body or an oversized one queue nothing."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from pydantic import SecretStr

from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.store.feeds.pushes import PushQueue
from notifier.web.app import build_app
from notifier.web.serving.serve import WebThread, bind
from tests.support.push_kit import SAMPLES, incident_push
from tests.support.statuspage_docs import FakeIncident

TOKEN = "s3cr3t-hook-token-0123456789"
WEB_TOKEN = "web-token-for-the-console-pages"


@pytest.fixture
def web(tmp_path: Path, redis_client: redis.Redis, key_prefix: str) -> Iterator[str]:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n"
        "  - id: acme\n    name: Acme\n"
        "    feed: {url: 'https://status.acme.example/summary.json', format: statuspage-json}\n"
        f"    webhook_token: {TOKEN}\n"
        "  - id: quiet\n    name: Quiet\n"
        "    feed: {url: 'https://status.quiet.example/history.atom', format: statuspage-atom}\n"
        "subscribers:\n  - name: sre\n    email: {to: [sre@example.com]}\n"
    )
    settings = Settings(_env_file=None, key_prefix=key_prefix, config=config,  # type: ignore[call-arg]
                        web_token=SecretStr(WEB_TOKEN))  # fmt: skip
    app = build_app(settings, redis_client, None, load_config(config))
    server = WebThread(app, bind("127.0.0.1", 0)).start()
    try:
        yield server.url
    finally:
        server.stop()


def _queued(redis_client: redis.Redis, key_prefix: str) -> int:
    return len(PushQueue(redis_client, key_prefix))


def _body() -> bytes:
    incident = FakeIncident("k7hook0001", "Elevated errors")
    return incident_push(incident.add("investigating", "2024-12-26T19:00:00.000Z", "Looking."))


def test_a_delivery_is_queued_and_answered_202_within_a_second(
    web: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    started = time.monotonic()
    reply = httpx.post(f"{web}/hooks/statuspage/acme/{TOKEN}", content=_body(), timeout=5)
    took = time.monotonic() - started
    assert reply.status_code == 202
    assert took < 1.0
    (item,) = PushQueue(redis_client, key_prefix).peek()
    assert (item.provider, item.body) == ("acme", _body())


def test_the_real_statuspage_payloads_are_accepted(
    web: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    names = ["zulip_incident_created.json", "zulip_incident_update_resolved.json",
             "zulip_component_status_update.json"]  # fmt: skip
    if not all((SAMPLES / n).is_file() for n in names):
        pytest.skip(f"Statuspage webhook samples not found at {SAMPLES}")
    for name in names:
        reply = httpx.post(f"{web}/hooks/statuspage/acme/{TOKEN}",
                           content=(SAMPLES / name).read_bytes(), timeout=5)  # fmt: skip
        assert reply.status_code == 202, name
    assert _queued(redis_client, key_prefix) == 3


def test_the_web_token_is_not_asked_of_statuspage(web: str) -> None:
    # The console pages need NOTIFIER_WEB_TOKEN; Statuspage cannot send it.
    assert httpx.get(f"{web}/metrics", timeout=5).status_code == 401
    assert httpx.post(f"{web}/hooks/statuspage/acme/{TOKEN}", content=_body(),
                      timeout=5).status_code == 202  # fmt: skip


@pytest.mark.parametrize("path", [f"/hooks/statuspage/acme/{'x' * 28}",
                                  f"/hooks/statuspage/quiet/{TOKEN}",
                                  f"/hooks/statuspage/nobody/{TOKEN}"])  # fmt: skip
def test_a_wrong_token_or_provider_gets_404_and_the_log_never_shows_the_token(
    web: str, path: str, redis_client: redis.Redis, key_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    with caplog.at_level(logging.INFO):
        assert httpx.post(web + path, content=_body(), timeout=5).status_code == 404
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("notifier"))
    assert "rejected a Statuspage webhook" in ours
    assert TOKEN not in ours and "x" * 28 not in ours
    assert _queued(redis_client, key_prefix) == 0


@pytest.mark.parametrize("body", [b"{not json", b'{"page": {}}', b"[]"])
def test_a_malformed_body_gets_400_and_queues_nothing(
    web: str, body: bytes, redis_client: redis.Redis, key_prefix: str
) -> None:
    reply = httpx.post(f"{web}/hooks/statuspage/acme/{TOKEN}", content=body, timeout=5)
    assert reply.status_code == 400
    assert _queued(redis_client, key_prefix) == 0


def test_a_body_over_one_megabyte_gets_413_and_queues_nothing(
    web: str, redis_client: redis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    doc = json.loads(_body())
    doc["incident"]["name"] = "x" * (1024 * 1024)
    with caplog.at_level(logging.INFO):
        reply = httpx.post(f"{web}/hooks/statuspage/acme/{TOKEN}", content=json.dumps(doc),
                           timeout=5)  # fmt: skip
    assert reply.status_code == 413
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("notifier"))
    assert "is over" in ours and TOKEN not in ours
    assert _queued(redis_client, key_prefix) == 0


def test_a_body_just_under_one_megabyte_is_accepted(web: str) -> None:
    doc = json.loads(_body())
    doc["incident"]["name"] = "x" * (1024 * 1024 - 4096)
    reply = httpx.post(f"{web}/hooks/statuspage/acme/{TOKEN}", content=json.dumps(doc), timeout=5)
    assert reply.status_code == 202
