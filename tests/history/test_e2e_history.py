"""All real: a Celery worker with its beat on Redis polls a local Statuspage feed and posts
to the fake Slack API while the history database cannot be reached; its rows wait in the
outbox. Started again with a database that answers, the beat's drain writes every row: the
incident, its events, the alert and each delivery attempt with its outcome."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from notifier.history import db
from notifier.history import tables as t
from notifier.store.ops.outbox import Outbox
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer
from tests.support.local import ALLOW_ENV
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.e2e
FEED = "/api/v2/summary.json"
DOWN = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"  # nothing listens on port 9


def wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-20000:] if log.exists() else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{tail}")


def _count(url: str, table: t.Table) -> int:
    with db.engine_for(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_database_down_while_it_alerts_loses_no_row(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    fake_slack: FakeSlack, history_url: str,
) -> None:  # fmt: skip
    feeds = FeedServer().start()
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f'    feed: {{url: "{feeds.url(FEED)}", format: statuspage-json}}\n'
        "    poll_interval: 1\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")},
        "NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix,
        "NOTIFIER_CONFIG": str(config), "NOTIFIER_DATA_DIR": str(tmp_path / "data"),
        "NOTIFIER_SLACK_TOKEN": "xoxb-history-e2e", "NOTIFIER_SLACK_API_URL": fake_slack.url,
        **ALLOW_ENV,  # the feed is on loopback
    }  # fmt: skip
    incident = FakeIncident("k7e2ehist001", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating.")
    feeds.put(FEED, summary_json([incident]))
    box = Outbox(redis_client, key_prefix)
    log = tmp_path / "worker.log"
    try:
        with WorkerProcess(["run", "--concurrency", "2"], env | {"NOTIFIER_DATABASE_URL": DOWN},
                           log):  # fmt: skip
            wait_for(lambda: len(fake_slack.messages) >= 1, 60, "the alert", log)
            wait_for(lambda: "the database did not take" in log.read_text(errors="replace"),
                     30, "a drain that found the database down", log)  # fmt: skip
        waiting = box.depth()
        assert waiting >= 4  # the event, the alert, its attempt and its end, at least
        with WorkerProcess(["run", "--concurrency", "2"],
                           env | {"NOTIFIER_DATABASE_URL": history_url}, log):  # fmt: skip
            wait_for(lambda: box.depth() == 0, 60, "the outbox to drain", log)
    finally:
        feeds.stop()
    assert _count(history_url, t.incidents) == 1
    assert _count(history_url, t.change_events) == 1  # one event per incident and poll
    with db.engine_for(history_url).connect() as conn:
        alert = conn.execute(select(t.alerts)).one()
        (tried,) = conn.execute(select(t.deliveries)).all()
    assert (alert.provider, alert.incident_id, alert.channel, alert.outcome) == (
        "acme", "k7e2ehist001", "slack", "delivered")  # fmt: skip
    assert (tried.outcome, tried.message_id) == ("delivered", alert.message_id)
    assert tried.started_at is not None and tried.ended_at is not None
