"""POST /-/reload on the web port: behind the token, 400 with the file's errors when it
is broken (the config in force stays), 200 with the new hash when it is good."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from notifier.store.ops.reloads import ConfigReloads, file_hash
from notifier.web.wiring import WebWiring
from tests.web.test_web import LIMITS, NOW, serve
from tests.web.test_web_silences import TOKEN, call

GOOD = "providers:\n  - id: openai\nsubscribers:\n  - name: a\n    slack: {channel: '#a'}\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(GOOD)
    return path


@pytest.fixture
def web(redis_client: redis.Redis, key_prefix: str, config: Path) -> Iterator[str]:
    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS,
                     web_token=SecretStr(TOKEN), clock=lambda: NOW, config_path=config)  # fmt: skip
    yield from serve(ctx)


def test_reload_needs_the_token_and_is_refused_cross_site(
    web: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    assert call(f"{web}/-/reload", {}, token=None)[0] == 401
    assert call(f"{web}/-/reload", {}, origin="https://evil.example")[0] == 403
    assert ConfigReloads(redis_client, key_prefix).state().reload_at is None


def test_a_good_file_answers_200_with_its_hash_and_a_broken_one_400_with_why(
    web: str, config: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    status, body = call(f"{web}/-/reload", {})
    assert status == 200
    assert json.loads(body) == {"ok": True, "hash": file_hash(GOOD.encode()), "generation": 1}
    config.write_text(GOOD + "    sms: {to: [12]}\n")
    status, body = call(f"{web}/-/reload", {})
    found = json.loads(body)
    assert status == 400 and found["ok"] is False and found["generation"] == 1
    assert "subscriptions.yaml:6: subscribers[0].sms.to[0]" in found["error"]
    assert ConfigReloads(redis_client, key_prefix).state().hash == file_hash(GOOD.encode())
