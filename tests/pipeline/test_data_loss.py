"""Redis that comes back without its data: the generation marker notices, one WARNING
says so, and each provider's next poll is a silent baseline (real Redis, a real feed)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from notifier.feeds.fetch import Fetcher
from notifier.models import ChangeEvent, EventKind
from notifier.pipeline.ingest import data_loss
from notifier.pipeline.ingest.poll import poll_provider
from notifier.store.conn.generation import Generation, remember, remembered
from notifier.store.feeds.providers import ProviderStore
from tests.support.feed_server import feed_server
from tests.support.local import LOCAL
from tests.support.statuspage_docs import FakeIncident, summary_json

NOW = datetime(2024, 12, 26, 20, 0, tzinfo=UTC)


class Provider:
    def __init__(self, pid: str, url: str) -> None:
        self.id, self.url, self.format = pid, url, "statuspage-json"


def wipe(client: redis.Redis, prefix: str) -> None:
    """What a Redis restarted without AOF holds of ours: nothing."""
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def test_a_first_start_writes_the_marker_and_the_data_dir_remembers_it(
    redis_client: redis.Redis, key_prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gen = Generation(redis_client, key_prefix)
    seen = data_loss.check(gen, None, ["acme"], NOW, tmp_path)
    assert seen is not None and seen == gen.current() == remembered(tmp_path)
    assert data_loss.check(gen, seen, ["acme"], NOW, tmp_path) == seen  # nothing changes
    assert not redis_client.smembers(gen.rebaseline_key)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_lost_marker_is_declared_once_with_one_warning_however_many_notice(
    redis_client: redis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    gen = Generation(redis_client, key_prefix)
    seen = data_loss.check(gen, None, ["a", "b"], NOW)
    wipe(redis_client, key_prefix)
    first = data_loss.check(gen, seen, ["a", "b"], NOW)
    second = data_loss.check(gen, seen, ["a", "b"], NOW)  # another process, same news
    assert data_loss.lost_since(gen, seen, ["a", "b"], NOW)  # a poll noticing, late
    assert first == second != seen
    assert redis_client.smembers(gen.rebaseline_key) == {b"a", b"b"}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis lost its data" in warnings[0].getMessage()


def test_a_service_restarted_on_an_empty_redis_knows_from_its_data_dir(
    redis_client: redis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    remember(tmp_path, "0123456789abcdef")  # a previous run's marker; Redis has none
    gen = Generation(redis_client, key_prefix)
    now_id = data_loss.check(gen, remembered(tmp_path), ["acme"], NOW, tmp_path)
    assert now_id != "0123456789abcdef" and remembered(tmp_path) == now_id
    assert redis_client.smembers(gen.rebaseline_key) == {b"acme"}


def test_a_process_that_never_saw_a_marker_does_not_call_a_blank_redis_a_loss(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    gen = Generation(redis_client, key_prefix)
    assert not data_loss.lost_since(gen, None, ["acme"], NOW)
    assert gen.current() is None


def _poll(store: ProviderStore, gen: Generation, url: str, seen: str | None) -> list[ChangeEvent]:
    got: list[ChangeEvent] = []

    def enqueue(events: Sequence[ChangeEvent]) -> None:
        got.extend(events)

    poll_provider(
        Provider("acme", url), store, Fetcher(timeout=5, allow=LOCAL), enqueue, NOW,
        on_unmarked=lambda: data_loss.lost_since(gen, seen, ["acme"], NOW),
        rebaselined=gen.rebaselined,
    )  # fmt: skip
    return got


def test_after_a_loss_the_next_poll_is_a_silent_baseline_and_later_updates_alert(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    incident = FakeIncident("inc000loss01", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "Looking into it.")
    store, gen = ProviderStore(redis_client, key_prefix), Generation(redis_client, key_prefix)
    with feed_server() as feeds:
        feeds.put("/s.json", summary_json([incident]))
        url = feeds.url("/s.json")
        seen = data_loss.check(gen, None, ["acme"], NOW)
        first = _poll(store, gen, url, seen)
        assert [e.kind for e in first][:1] == [EventKind.NEW_INCIDENT]  # a first start alerts

        wipe(redis_client, key_prefix)
        assert _poll(store, gen, url, seen) == []  # open before the loss: not again
        assert not redis_client.smembers(gen.rebaseline_key)  # done with it
        assert store.load_state("acme") is not None

        incident.add("identified", "2024-12-26T19:20:00.000Z", "Found it.")
        feeds.put("/s.json", summary_json([incident]))
        later = _poll(store, gen, url, seen)
        # one message: the update, carrying the status change it made
        assert [e.kind for e in later] == [EventKind.NEW_UPDATE]
        assert (later[0].previous, later[0].current) == ("investigating", "identified")
        assert later[0].update is not None and later[0].update.body == "Found it."
