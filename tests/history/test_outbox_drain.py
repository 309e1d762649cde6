"""The pipeline's record reaches the database through the Redis outbox: every event,
alert and delivery attempt, with its outcome; a database that cannot be reached
loses no row, and a batch written twice changes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr
from sqlalchemy import func, select

from notifier.history import db
from notifier.history import tables as t
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.history import drain_history
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.ops.outbox import Outbox
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.local import LOCAL_CIDRS
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

NOW = datetime(2025, 11, 4, 9, 0, tzinfo=UTC)
# Nothing listens on port 9 of loopback: the database is "down".
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/nothing"


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as served:
        yield served


def _runtime(tmp_path: Path, redis_url: str, prefix: str, feed: str, slack: FakeSlack,
             database: str) -> Runtime:  # fmt: skip
    return build_runtime(
        tmp_path, redis_url, prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feed}', format: statuspage-json}}\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n",
        data_dir=tmp_path,
        slack_token="xoxb-history-test", slack_api_url=slack.url,
        database_url=SecretStr(database), fetch_allow_networks=LOCAL_CIDRS,
    )  # fmt: skip


def _count(url: str, table: t.Table) -> int:
    with db.engine_for(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_every_row_arrives_after_the_database_was_down(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    feeds: FeedServer, fake_slack: FakeSlack, history_url: str,
) -> None:  # fmt: skip
    incident = FakeIncident("k7hist000001", "Elevated API errors")
    incident.add("investigating", "2025-11-04T08:55:00Z", "We are investigating.")
    feeds.put("/s.json", summary_json([incident]))
    down = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"), fake_slack,
                    UNREACHABLE)  # fmt: skip
    fake_slack.fail_post_containing("Elevated API errors", status=503)
    run = InlineHandOff(down, NOW, keep_going=True)
    assert ingest.poll(down, "acme", run, NOW).outcome == "changed"
    (key,) = down.alerts.keys_of("acme", "k7hist000001")
    assert delivery.attempt_one(down, key, run, NOW + timedelta(seconds=5), 1).status == "delivered"
    box = Outbox(redis_client, key_prefix)
    queued = box.depth()
    assert queued >= 5  # events, the alert, two attempts, an error and the finish

    lost = drain_history(down, NOW)
    assert lost.entries == 0 and lost.error and lost.left == queued  # kept, every one

    up = dataclasses.replace(down, settings=down.settings.model_copy(
        update={"database_url": SecretStr(history_url)}))  # fmt: skip
    done = drain_history(up, NOW)
    assert (done.entries, done.left, done.error) == (queued, 0, "")
    with db.engine_for(history_url).connect() as conn:
        inc = conn.execute(select(t.incidents)).one()
        assert (inc.provider, inc.incident_id, inc.status, inc.source) == (
            "acme",
            "k7hist000001",
            "investigating",
            "live",
        )
        alert = conn.execute(select(t.alerts)).one()
        assert (alert.dedup_key, alert.channel, alert.outcome) == (key, "slack", "delivered")
        tries = conn.execute(select(t.deliveries).order_by(t.deliveries.c.attempt)).all()
    assert [(d.attempt, d.outcome, d.error_class) for d in tries] == [
        (0, "error", "transient"), (1, "delivered", None)]  # fmt: skip
    assert tries[1].message_id and tries[0].error
    assert _count(history_url, t.updates) == 1
    assert _count(history_url, t.change_events) >= 1
    assert _count(history_url, t.providers) == 1


def test_a_batch_written_twice_changes_nothing(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    feeds: FeedServer, fake_slack: FakeSlack, history_url: str,
) -> None:  # fmt: skip
    incident = FakeIncident("k7hist000002", "Degraded dashboard")
    incident.add("investigating", "2025-11-04T08:50:00Z", "Looking into it.")
    incident.add("identified", "2025-11-04T08:58:00Z", "Found it.")
    feeds.put("/s.json", summary_json([incident]))
    rt = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"), fake_slack, history_url)
    assert (
        ingest.poll(rt, "acme", InlineHandOff(rt, NOW, keep_going=True), NOW).outcome == "changed"
    )
    box = Outbox(redis_client, key_prefix)
    batch = box.peek(1000)
    assert drain_history(rt, NOW).left == 0
    before = {tbl.name: _count(history_url, tbl) for tbl in t.metadata.sorted_tables}
    redis_client.rpush(box.key, *batch)  # the drain died after its commit: it comes again
    assert drain_history(rt, NOW).entries == len(batch)
    after = {tbl.name: _count(history_url, tbl) for tbl in t.metadata.sorted_tables}
    assert after == before
    with db.engine_for(history_url).connect() as conn:
        inc = conn.execute(select(t.incidents)).one()
    assert (inc.status, inc.impact) == ("identified", "major")


def test_the_default_sqlite_file_needs_no_step_of_its_own_under_a_worker(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    # `notifier worker` and `notifier beat` started on their own (systemd, compose): nobody
    # ran `notifier run` or `notifier db upgrade`, and the data dir holds no database yet.
    incident = FakeIncident("k7hist000003", "Login failures")
    incident.add("investigating", "2025-11-04T08:55:00Z", "We are investigating.")
    feeds.put("/s.json", summary_json([incident]))
    (tmp_path / "fresh").mkdir()
    rt = _runtime(tmp_path / "fresh", redis_url, key_prefix, feeds.url("/s.json"), fake_slack, "")
    url = db.database_url(rt.settings)
    assert url.startswith("sqlite:///") and not (tmp_path / "fresh" / db.SQLITE_FILE).exists()
    assert (
        ingest.poll(rt, "acme", InlineHandOff(rt, NOW, keep_going=True), NOW).outcome == "changed"
    )
    done = drain_history(rt, NOW)
    assert (done.left, done.error) == (0, "") and done.entries >= 3
    assert _count(url, t.incidents) == 1 and _count(url, t.providers) == 1
