"""A delivery's attempt number is the alert's own, kept in Redis: a task that Celery
retries because our infrastructure failed (Redis blinked) tries the same attempt again
and spends none of the delivery's retry budget."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.delivery.retry import NextAttempt
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.runtime.wiring import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime, one_slack_route
from tests.support.statuspage_docs import FakeIncident, summary_json
from workers import tasks

pytestmark = pytest.mark.usefixtures("local_fetches", "celery_env")

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)


@pytest.fixture
def celery_env(redis_url: str, key_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What Celery reads when a task is first bound: this test's Redis and prefix."""
    from notifier.config.settings import get_settings
    from workers.process_state import redis_url as worker_redis_url

    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)
    monkeypatch.setenv("NOTIFIER_KEY_PREFIX", key_prefix)
    get_settings.cache_clear()
    worker_redis_url.cache_clear()
    yield
    get_settings.cache_clear()
    worker_redis_url.cache_clear()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def _claimed(rt: Runtime, feeds: FeedServer) -> str:
    """Poll one new incident and plan it; the one alert claimed, not yet delivered."""
    incident = FakeIncident("k7attempts01", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00Z", "We are investigating.")
    feeds.put("/s.json", summary_json([incident]))
    handed = InlineHandOff(rt, NOW, deliver=False)
    assert ingest.poll(rt, "acme", handed, NOW).outcome == "changed"
    (key,) = handed.delivered
    return key


def test_an_infrastructure_retry_of_the_task_tries_the_same_attempt_again(
    tmp_path: Any, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    feeds: FeedServer, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    rt = build_runtime(
        tmp_path, redis_url, key_prefix,
        one_slack_route(feeds.url("/s.json")),
        slack_token="xoxb-attempts-test", slack_api_url=fake_slack.url,
    )  # fmt: skip
    key = _claimed(rt, feeds)
    # Attempt 3 is due: the retry sweep hands it on, and the task runs it.
    rt.retries.schedule([key], 3, NOW - timedelta(seconds=1))
    assert [k for k, _ in rt.retries.due(NOW)] == [key]
    rt.retries.handed_on([key], NOW)

    tried: list[Any] = []
    real = delivery.deliver_alert

    def blinking_once(dedup_key: str, wiring: Any, now: datetime, **kw: Any) -> Any:
        tried.append(kw["attempt"])
        if len(tried) == 1:  # Redis blinks: the task fails before any vendor is asked
            raise redis.ConnectionError("Redis blinked")
        return real(dedup_key, wiring, now, **kw)

    monkeypatch.setattr(delivery, "deliver_alert", blinking_once)
    monkeypatch.setattr(tasks, "_rt", lambda: rt)
    # Called directly, Celery's `self.retry` re-raises the infrastructure failure.
    with pytest.raises(redis.ConnectionError):
        tasks.deliver_alert(key)
    # The retried task runs with Celery's retry count at 1: the attempt stays 3.
    tasks.deliver_alert.push_request(retries=1, called_directly=False)
    try:
        assert tasks.deliver_alert.run(key) == "delivered"
    finally:
        tasks.deliver_alert.pop_request()
    # Neither run is handed Celery's retry count: each reads the alert's own number with
    # its lock (`NextAttempt`), and the run after the blink read 3.
    assert [type(t) for t in tried] == [NextAttempt, NextAttempt] and tried[1].number == 3
    record = rt.delivery.log.get(key)
    assert record is not None and record.attempts == 1  # the blink wrote no attempt record
    assert [h["attempt"] for h in record.history if h.get("event") == "attempt"] == [3]
    assert rt.retries.attempt(key) == 0  # finished: its number is gone with it
    assert len([m for m in fake_slack.messages if m["method"] == "chat.postMessage"]) == 1
