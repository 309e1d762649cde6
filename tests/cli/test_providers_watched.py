"""`notifier providers --watched`: each watched provider's effective interval and why,
as the running service decided it (Redis), else as the file configures it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.cli import main
from notifier.config.settings import get_settings
from notifier.store.feeds.cadence import Cadence, Why, poll_member

CONFIG = (
    "providers:\n"
    "  - id: azure\n    poll_interval: 120\n"
    "  - id: openai\n    poll_interval: 300\n    active_poll_interval: 10\n"
    "    webhook_token: openai-hook-token-0123456789\n"
    "    probes: [{url: 'https://api.openai.com/v1/models', expect_status: [200, 401]}]\n"
    "subscribers:\n  - name: sre\n    email: {to: [sre@example.com]}\n"
)


@pytest.fixture
def settings_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str, key_prefix: str
) -> Iterator[None]:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(CONFIG)
    monkeypatch.setenv("NOTIFIER_CONFIG", str(config))
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)
    monkeypatch.setenv("NOTIFIER_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("NOTIFIER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_it_shows_the_interval_the_service_chose_and_why(
    settings_env: None, redis_client: redis.Redis, key_prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    cadence = Cadence(redis_client, key_prefix)
    now = datetime.now(UTC)
    cadence.explain({"openai": Why(10, "upstream Microsoft Azure has an open incident", now),
                     "azure": Why(10, "open incident", now)})  # fmt: skip
    cadence.next_at({poll_member("openai"): now + timedelta(seconds=8)})
    assert main(["providers", "--watched"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "INTERVAL", "WHY", "NEXT", "POLL", "WEBHOOK", "PROBES"]
    openai = next(line for line in lines if line.startswith("openai"))
    assert "10s" in openai and "upstream Microsoft Azure has an open incident" in openai
    assert openai.split()[-2:] == ["yes", "1"]
    assert "openai-hook-token" not in "\n".join(lines)


def test_without_the_service_it_says_the_interval_is_only_configured(
    settings_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTIFIER_REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens
    get_settings.cache_clear()
    assert main(["providers", "--watched", "--json"]) == 0
    rows = {(r := json.loads(line))["id"]: r for line in capsys.readouterr().out.splitlines()}
    assert rows["openai"]["interval_s"] == 300
    assert rows["openai"]["active_poll_interval_s"] == 10
    assert rows["openai"]["why"].startswith("configured")
