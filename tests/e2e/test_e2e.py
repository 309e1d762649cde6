"""The whole pipeline, all real: a Celery worker with beat on Redis, a local Statuspage
feed over HTTP, and the real slack-sdk client posting to a local fake Slack Web API."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer
from tests.support.local import ALLOW_ENV
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
FEED_PATH = "/api/v2/summary.json"


def wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-30000:] if log.exists() else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{tail}")


@pytest.fixture
def stack(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: object
) -> Iterator[tuple[FeedServer, FakeSlack, WorkerProcess]]:
    feeds = FeedServer().start()
    slack = FakeSlack().start()
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n"
        "  - id: acme\n"
        "    name: Acme Cloud\n"
        f'    feed: {{url: "{feeds.url(FEED_PATH)}", format: statuspage-json}}\n'
        "    poll_interval: 1\n"
        "subscribers:\n"
        "  - name: platform\n"
        '    slack: {channel: "#vendor-status"}\n'
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")},
        **ALLOW_ENV,
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_KEY_PREFIX": key_prefix,
        "NOTIFIER_CONFIG": str(config),
        "NOTIFIER_DATA_DIR": str(tmp_path / "data"),
        "NOTIFIER_SLACK_TOKEN": "xoxb-e2e-not-a-real-token",
        "NOTIFIER_SLACK_API_URL": slack.url,
        # A killed worker's unacknowledged task comes back after this long.
        "NOTIFIER_VISIBILITY_TIMEOUT": "3",
        # The killed service's beat lock lapses after 2 s: the restarted beat polls sooner.
        "NOTIFIER_BEAT_LOCK_TIMEOUT": "2",
        # A crash mid-poll holds back the restarted service's polls until the dead poll's
        # lease lapses: 5 s, not 2 min (a poll gives up on the feed after 2 s).
        "NOTIFIER_POLL_LEASE": "5",
        "NOTIFIER_HTTP_TIMEOUT": "2",
    }
    worker = WorkerProcess(["run", "--concurrency", "2"], env, tmp_path / "worker.log")
    try:
        yield feeds, slack, worker
    finally:
        worker.stop()
        slack.stop()
        feeds.stop()


def posts(slack: FakeSlack) -> list[dict[str, object]]:
    return [m for m in slack.messages if m["method"] == "chat.postMessage"]


def test_it_posts_each_change_once_and_survives_a_worker_crash(
    stack: tuple[FeedServer, FakeSlack, WorkerProcess], key_prefix: str, redis_client: redis.Redis
) -> None:
    feeds, slack, worker = stack
    log = worker.log
    feeds.put(FEED_PATH, summary_json([]))
    worker.start()
    wait_for(lambda: feeds.hits.get(FEED_PATH, 0) >= 2, 60, "the first polls", log)
    assert posts(slack) == []  # a quiet page gives nothing

    incident = FakeIncident("k7x2e2eacme1", "Elevated API errors", components=["API"])
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating errors.")
    feeds.put(FEED_PATH, summary_json([incident]))
    wait_for(lambda: len(posts(slack)) == 1, 30, "the new-incident message", log)
    parent = posts(slack)[0]
    assert "Elevated API errors" in str(parent["body"])

    polls = feeds.hits[FEED_PATH]
    wait_for(lambda: feeds.hits[FEED_PATH] >= polls + 3, 30, "three unchanged polls", log)
    assert len(posts(slack)) == 1  # unchanged polls give nothing

    incident.add("identified", "2024-12-26T19:20:00.000Z", "A bad deploy; rolling back.")
    feeds.put(FEED_PATH, summary_json([incident]))
    wait_for(lambda: len(posts(slack)) == 2, 30, "the update message", log)
    assert posts(slack)[1]["body"].get("thread_ts") == parent["response"]["ts"]  # type: ignore[union-attr]

    # Crash while a delivery is pending: Slack fails, the retry waits, the worker dies.
    slack.fail_next(1_000, status=503)
    incident.add("monitoring", "2024-12-26T19:40:00.000Z", "Rollback done; monitoring.")
    feeds.put(FEED_PATH, summary_json([incident]))
    wait_for(lambda: slack.failures >= 1, 30, "a failed delivery attempt", log)
    # The retry waits in Redis, not as a Celery ETA inside the worker: the transport
    # would hand such a task to a second worker after the 3 s visibility timeout.
    retrying = f"{key_prefix}:due:retrying"
    wait_for(lambda: redis_client.zcard(retrying) == 1, 30, "the retry to be scheduled", log)
    unacked = f"{key_prefix}:celery:unacked"
    # The failed task is acknowledged right after it scheduled the retry; from then on
    # no deliver message is held while the retry waits (a countdown would be, for seconds).
    wait_for(lambda: not [m for m in redis_client.hvals(unacked) if b"notifier.deliver" in m],
             2, "the failed task to be acknowledged", log)  # fmt: skip
    assert redis_client.zcard(retrying) == 1
    worker.kill()
    slack.fail_next(0)
    delivered_before_restart = len(posts(slack))
    assert delivered_before_restart == 2
    worker.start()
    wait_for(lambda: len(posts(slack)) == 3, 60, "the redelivered update", log)
    polls = feeds.hits[FEED_PATH]
    wait_for(lambda: feeds.hits[FEED_PATH] >= polls + 3, 30, "polls after restart", log)
    assert len(posts(slack)) == 3  # nothing lost, nothing twice
    assert "Rollback done" in str(posts(slack)[2]["body"])
