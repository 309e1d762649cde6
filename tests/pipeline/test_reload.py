"""Reload without restart: the file is validated first, a broken one changes nothing
but the record of the attempt, and each process picks up a good one for its next task
while a task already running keeps the config it started with."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from notifier.config.settings import Settings
from notifier.pipeline.runtime import process
from notifier.pipeline.runtime.process import LoadedConfig
from notifier.store.ops.metrics import render
from notifier.store.ops.reloads import ConfigReloads, file_hash

NOW = datetime(2024, 12, 26, 19, tzinfo=UTC)
ONE = "providers:\n  - id: openai\nsubscribers:\n  - name: a\n    slack: {channel: '#a'}\n"
TWO = ONE + "  - name: b\n    slack: {channel: '#b'}\n"
BROKEN = ONE + "  - name: b\n    slack: {chanel: '#b'}\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(ONE)
    return path


@pytest.fixture
def ctx(config: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
        monkeypatch: pytest.MonkeyPatch) -> LoadedConfig:  # fmt: skip
    monkeypatch.setattr(process, "CHECK_EVERY_S", 0.0)  # look at Redis on every task
    settings = Settings(config=config, key_prefix=key_prefix, redis_url=redis_url)
    return LoadedConfig.load(settings, redis_url)


def test_a_good_file_bumps_the_generation_with_its_hash(
    config: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    reloads = ConfigReloads(redis_client, key_prefix)
    reloads.started(file_hash(ONE.encode()), NOW)
    config.write_text(TWO)
    result = reloads.request(config, NOW)
    assert (result.ok, result.hash, result.generation) == (True, file_hash(TWO.encode()), 1)
    state = reloads.state()
    assert (state.hash, state.reload_ok, state.reload_at) == (result.hash, True, NOW)


def test_a_broken_file_keeps_the_hash_in_force_and_records_why(
    config: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    reloads = ConfigReloads(redis_client, key_prefix)
    reloads.started(file_hash(ONE.encode()), NOW)
    config.write_text(BROKEN)
    result = reloads.request(config, NOW)
    assert not result.ok and result.generation == 0 and result.hash == file_hash(ONE.encode())
    assert "subscriptions.yaml:7: subscribers[1].slack.chanel: unknown key" in result.error
    state = reloads.state()
    assert state.reload_ok is False and "chanel" in state.reload_error


def test_metrics_show_the_config_hash_and_the_last_reload(
    config: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    reloads = ConfigReloads(redis_client, key_prefix)
    reloads.started(file_hash(ONE.encode()), NOW)
    config.write_text(BROKEN)
    reloads.request(config, NOW)
    text = render(redis_client, key_prefix, f"{key_prefix}:celery:").decode()
    families = text_string_to_metric_families(text)
    samples = {(m.name, tuple(sorted(m.labels.items()))): m.value
               for family in families for m in family.samples}  # fmt: skip
    assert samples[("notifier_config_info", (("hash", file_hash(ONE.encode())),))] == 1
    assert samples[("notifier_config_last_reload_success", ())] == 0
    assert samples[("notifier_config_last_reload_timestamp_seconds", ())] == NOW.timestamp()
    assert samples[("notifier_config_generation", ())] == 0


def test_a_process_takes_a_good_reload_for_its_next_task_and_a_running_one_keeps_its_own(
    ctx: LoadedConfig, config: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    running = ctx.runtime()
    assert [s.name for s in running.config.subscribers] == ["a"]
    config.write_text(TWO)
    assert ConfigReloads(redis_client, key_prefix).request(config, NOW).ok
    following = ctx.runtime()
    assert [s.name for s in following.config.subscribers] == ["a", "b"]
    assert following.delivery.destinations.subscriber("b") is not None
    assert [s.name for s in running.config.subscribers] == ["a"]  # the running task's
    assert ctx.runtime() is following  # built once per reload, not per task


def test_a_process_keeps_its_config_when_the_file_broke_after_the_check(
    ctx: LoadedConfig, config: Path, redis_client: redis.Redis, key_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    before = ctx.runtime()
    config.write_text(TWO)
    assert ConfigReloads(redis_client, key_prefix).request(config, NOW).ok
    config.write_text(BROKEN)  # edited again before this process looked
    with caplog.at_level(logging.ERROR):
        assert ctx.runtime() is before
    assert "config reload failed; keeping the config in force" in caplog.text
    assert [s.name for s in ctx.config.subscribers] == ["a"]
