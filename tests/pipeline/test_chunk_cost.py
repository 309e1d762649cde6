"""What a chunk of a fan-out costs in Redis round trips once a worker runs (its pool of
connections warm): the lock with the reads, the attempt record with the pacing turn, the
outcome with the release. Counted here, and what the fewer trips must keep: a paused
Slack channel still waits, and a delivered alert leaves its due set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.runtime.due import Due
from notifier.store.conn.batch import read_now
from tests.fakes.slack_api import FakeSlack
from tests.pipeline.test_parallel_sending import _fan_out
from tests.pipeline.test_stages import NOW
from tests.support.feed_server import feed_server
from tests.support.handoff import InlineHandOff
from tests.support.roundtrips import RoundTrips, warm_pool

pytestmark = pytest.mark.usefixtures("local_fetches")

MOST_TRIPS_PER_ALERT = 3
LATER = datetime(2100, 1, 1, tzinfo=UTC)


def test_a_chunk_delivers_each_alert_in_at_most_three_redis_round_trips(
    tmp_path: Path, redis_url: str, key_prefix: str, fake_slack: FakeSlack
) -> None:
    with feed_server() as feeds:
        rt, keys = _fan_out(tmp_path, redis_url, key_prefix, feeds, fake_slack, 16, 8)
        assert set(keys) <= set(rt.due(Due.UNDELIVERED).due(LATER))
        trips = RoundTrips(rt.client)
        handoff = InlineHandOff(rt, NOW, plan=False, deliver=False)
        # A running worker's pool is warm: the first chunk opens the threads' connections
        # (as many as overlapped), and the pool has one for each sending thread.
        assert delivery.deliver_keys(rt, keys[:8], handoff, NOW).delivered == 8
        warm_pool(rt.client, 8)
        before = trips.count
        result = delivery.deliver_keys(rt, keys[8:], handoff, NOW)
        spent = trips.count - before
    assert (result.delivered, result.waiting) == (8, ())
    assert len(fake_slack.messages) == 16
    assert spent <= MOST_TRIPS_PER_ALERT * 8, spent / 8
    assert not set(keys) & set(rt.due(Due.UNDELIVERED).due(LATER)), "left in the due set"


def test_a_paused_slack_channel_still_waits_when_its_turn_comes_with_the_mark(
    tmp_path: Path, redis_url: str, key_prefix: str, fake_slack: FakeSlack
) -> None:
    with feed_server() as feeds:
        rt, keys = _fan_out(tmp_path, redis_url, key_prefix, feeds, fake_slack, 2, 2)
        rt.delivery.pacing.pause("slack:channel:#team0", 60.0)
        result = delivery.deliver_keys(rt, keys, InlineHandOff(rt, NOW, plan=False,
                                                                deliver=False), NOW)  # fmt: skip
    assert result.delivered == 1
    [(key, _, exc)] = result.waiting
    assert "rate limit" in exc.message and exc.retry_after is not None
    assert [m["body"]["channel"] for m in fake_slack.messages] == ["#team1"]
    flight = read_now(rt.client, lambda batch: rt.delivery.log.in_flight_into(batch, key))
    assert flight == {}, "its in-flight mark is cleared: nothing was sent"
    assert key in rt.due(Due.UNDELIVERED).due(LATER), "a waiting alert keeps its due entry"
