"""What stands between a poll that detects a change and the vendor request, for one
subscriber: the poll plans and delivers inline (`notifier.pipeline.handoff`), so what
is left is CPU and Redis round trips. The round trips are counted here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from notifier.feeds.fetch import FetchResult
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.delivery.retry import INFRASTRUCTURE
from notifier.pipeline.handoff import HandOff, Lane
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import stage as plan
from tests.fakes.server import Reply, Request
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import feed_server
from tests.support.local import LOCAL_CIDRS
from tests.support.roundtrips import RoundTrips
from tests.support.runtime import build_runtime, one_slack_route
from tests.support.statuspage_docs import FakeIncident, summary_json

NOW = datetime(2024, 12, 26, 19, 0, tzinfo=UTC)
# Saving the events with their due entries; the plan's lock with its reads and the first
# event's threads; the claim; the delivery's locked read; its attempt record with the
# thread reference and the channel's pacing turn. (An alert delivered inline goes in its
# due set after the attempt, and only if left unfinished: `handoff.DeliverInline`.)
MOST_TRIPS = 5


class _NoQueues:
    """One subscriber: everything is planned and delivered by the poll itself."""

    def plan(self, event_ids: list[str]) -> None:
        raise AssertionError("planned inline")

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        raise AssertionError("planned inline")

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        raise AssertionError("delivered inline")

    def deliver_chunk(self, dedup_keys: Sequence[str], lane: Lane) -> None:
        raise AssertionError("delivered inline")


class _Stamping(FakeSlack):
    """Notes the round trips made so far at each Web API request."""

    def __init__(self) -> None:
        super().__init__()
        self.trips: RoundTrips | None = None
        self.at: list[int] = []

    def handle(self, request: Request) -> Reply:
        if self.trips is not None:
            self.at.append(self.trips.count)
        return super().handle(request)


def test_a_detected_change_reaches_slack_after_at_most_six_redis_round_trips(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    slack = _Stamping().start()
    try:
        with feed_server() as server:
            url = server.url("/summary.json")
            rt = build_runtime(
                tmp_path, redis_url, key_prefix,
                one_slack_route(url, "#sre", "sre", "Acme"),
                slack_token="xoxb-cost-test", slack_api_url=slack.url,
                fetch_allow_networks=LOCAL_CIDRS,
            )  # fmt: skip
            rt.client.connection_pool.reset()  # building it connected: count from new ones
            trips = RoundTrips(rt.client)
            slack.trips = trips
            fetched: list[int] = []
            real_fetch = rt.fetcher.fetch

            def fetch(url: str, etag: str | None = None, lm: str | None = None) -> FetchResult:
                result = real_fetch(url, etag, lm)
                fetched.append(trips.count)  # round trips so far, once the change is read
                return result

            rt.fetcher.fetch = fetch  # type: ignore[method-assign]
            handoff = HandOff(
                rt, _NoQueues(),
                plan_inline=lambda ids, h: plan.process(rt, ids, h, NOW),
                deliver_inline=lambda key, h: delivery.deliver(rt, key, h, NOW, due_added=False),
                transient=INFRASTRUCTURE,
            )  # fmt: skip
            server.put("/summary.json", summary_json([]))
            ingest.poll(rt, "acme", handoff, NOW)
            first = FakeIncident("i1", "Elevated errors", components=["API"])
            second = FakeIncident("i2", "Delayed webhooks", components=["API"])
            spent = []
            # The first change warms the process up (its scripts, the replication check);
            # then a reply, a second incident's parent and a reply in its thread.
            for n, changed in enumerate([first, first, second, second]):
                changed.add("investigating", f"2024-12-26T19:0{n}:00.000Z", f"Update {n}.")
                server.put("/summary.json", summary_json([first, second][: 1 + n // 2]))
                fetched.clear()
                first_request = len(slack.at)
                ingest.poll(rt, "acme", handoff, NOW + timedelta(minutes=n + 1))
                spent.append(slack.at[first_request] - fetched[-1])
    finally:
        slack.stop()
    assert len(slack.messages) == 4  # two parents, a reply in each thread
    assert all(0 < n <= MOST_TRIPS for n in spent[1:]), spent
