"""Pushes merged by the tick, and adaptive polling, on a real Redis with the real
Slack client against the local fake: one alert per update whichever path saw it
first, a reconciling poll after each push, the interval switching with open
incidents (own or upstream), and a 429's Retry-After honoured."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.ingest import tick as ticking
from notifier.pipeline.ingest.push import RECONCILE_AFTER
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.runtime.due import Due
from notifier.store.feeds.cadence import poll_member
from notifier.store.feeds.pushes import PushQueue
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.push_kit import Inline, ProbeTarget, incident_push, runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

T0 = datetime(2024, 12, 26, 19, 0, 30, tzinfo=UTC)
SUMMARY = "/api/v2/summary.json"


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def _config(feeds: FeedServer, slack: FakeSlack) -> str:
    return (
        "providers:\n"
        "  - id: azure\n    name: Microsoft Azure\n"
        f"    feed: {{url: '{feeds.url('/azure' + SUMMARY)}', format: statuspage-json}}\n"
        "    poll_interval: 300\n"
        "  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url(SUMMARY)}', format: statuspage-json}}\n"
        "    poll_interval: 300\n    active_poll_interval: 15\n"
        "    webhook_token: acme-hook-token-0123456789\n"
        "    depends_on: [azure]\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
    )


def _inline(tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer,
            slack: FakeSlack) -> Inline:  # fmt: skip
    rt = runtime(tmp_path, redis_url, key_prefix, _config(feeds, slack),
                 slack_token="xoxb-push-test", slack_api_url=slack.url)  # fmt: skip
    return Inline(rt, T0)


def _posts(slack: FakeSlack) -> list[str]:
    return [str(m.get("text", "")) for m in slack.messages]


def test_a_pushed_incident_alerts_at_once_and_the_poll_after_it_adds_nothing(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    feeds.put(SUMMARY, summary_json([]))
    feeds.put("/azure" + SUMMARY, summary_json([]))
    run = _inline(tmp_path, redis_url, key_prefix, feeds, fake_slack)
    run.tick(T0)
    for provider in run.polls:  # the first round: every provider once
        ingest.poll(run.rt, provider, run, T0)
    incident = FakeIncident("k7push0001", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:01:00.000Z", "We are investigating.")
    PushQueue(run.rt.client, key_prefix).put("acme", incident_push(incident), T0)
    pushed_at = T0 + timedelta(seconds=31)
    run.polls.clear()
    result = run.tick(pushed_at)
    assert result.pushes.merged == 1 and result.pushes.events >= 1
    assert len(fake_slack.messages) == 1  # delivered within the tick, not at the 300 s poll
    assert "Elevated API errors" in str(fake_slack.messages[0])
    # A reconciling poll is due shortly after the push, not 300 s later.
    due = run.rt.cadence.when(poll_member("acme"))
    assert due is not None and due <= pushed_at + RECONCILE_AFTER
    # The page now shows the same update: the poll posts nothing more.
    feeds.put(SUMMARY, summary_json([incident]))
    later = pushed_at + RECONCILE_AFTER
    run.tick(later)
    assert "acme" in run.polls
    assert ingest.poll(run.rt, "acme", run, later).outcome == "changed"
    assert len(fake_slack.messages) == 1
    # The resolution arrives by push too: one reply in the same thread.
    incident.add("resolved", "2024-12-26T19:20:00.000Z", "Fixed.")
    PushQueue(run.rt.client, key_prefix).put("acme", incident_push(incident), later)
    run.tick(later + timedelta(seconds=1))
    assert len(fake_slack.messages) == 2
    assert fake_slack.messages[1].get("thread_ts") == fake_slack.messages[0]["ts"]


def test_an_update_polled_first_is_not_posted_again_when_its_push_arrives(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    incident = FakeIncident("k7push0002", "Degraded performance")
    incident.add("investigating", "2024-12-26T19:01:00.000Z", "Investigating.")
    feeds.put(SUMMARY, summary_json([]))
    run = _inline(tmp_path, redis_url, key_prefix, feeds, fake_slack)
    ingest.poll(run.rt, "acme", run, T0)
    feeds.put(SUMMARY, summary_json([incident]))
    ingest.poll(run.rt, "acme", run, T0 + timedelta(seconds=60))
    assert len(fake_slack.messages) == 1
    PushQueue(run.rt.client, key_prefix).put("acme", incident_push(incident), T0)
    assert run.tick(T0 + timedelta(seconds=61)).pushes.merged == 1
    assert len(fake_slack.messages) == 1


def test_a_push_waits_while_a_poll_holds_the_provider(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    feeds.put(SUMMARY, summary_json([]))
    run = _inline(tmp_path, redis_url, key_prefix, feeds, fake_slack)
    incident = FakeIncident("k7push0003", "Errors").add(
        "investigating", "2024-12-26T19:01:00.000Z", "Investigating."
    )
    PushQueue(run.rt.client, key_prefix).put("acme", incident_push(incident), T0)
    lease = run.rt.state.begin("acme")  # a poll in progress
    assert lease is not None
    waiting = run.tick(T0).pushes
    assert (waiting.merged, waiting.waiting) == (0, 1)
    run.rt.state.release(lease)
    assert run.tick(T0 + timedelta(seconds=1)).pushes.merged == 1
    assert len(fake_slack.messages) == 1


def test_polling_speeds_up_while_an_upstream_has_an_open_incident_and_slows_after(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    feeds.put(SUMMARY, summary_json([]))
    feeds.put("/azure" + SUMMARY, summary_json([]))
    run = _inline(tmp_path, redis_url, key_prefix, feeds, fake_slack)
    run.tick(T0)
    assert sorted(run.polls) == ["acme", "azure"]
    for provider in run.polls:
        ingest.poll(run.rt, provider, run, T0)
    assert ticking.intervals(run.rt, T0)["acme"].interval == 300
    due = run.rt.cadence.when(poll_member("acme"))
    assert due is not None and due >= T0 + timedelta(seconds=300)
    # Azure opens an incident (its poll at 300 s finds it).
    outage = FakeIncident("az0001", "Power event in South Central US")
    outage.add("investigating", "2024-12-26T19:04:00.000Z", "Investigating.")
    feeds.put("/azure" + SUMMARY, summary_json([outage]))
    t1 = T0 + timedelta(seconds=301)
    ingest.poll(run.rt, "azure", run, t1)
    why = ticking.intervals(run.rt, t1)["acme"]
    assert (why.interval, why.why) == (15, "upstream Microsoft Azure has an open incident")
    run.polls.clear()
    run.tick(t1)
    due = run.rt.cadence.when(poll_member("acme"))
    assert due is not None and due <= t1 + timedelta(seconds=15 + 1.5)
    # Polled every 15 s (plus at most 1.5 s of jitter) from then on.
    times = []
    now = t1
    while now < t1 + timedelta(seconds=120):
        now += timedelta(seconds=1)
        run.polls.clear()
        run.tick(now)
        if "acme" in run.polls:
            times.append(now)
            ingest.poll(run.rt, "acme", run, now)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert len(times) >= 6 and all(15 <= g <= 17 for g in gaps), gaps
    # Azure resolves: back to 300 s.
    outage.add("resolved", "2024-12-26T19:06:00.000Z", "Resolved.")
    feeds.put("/azure" + SUMMARY, summary_json([outage]))
    for _ in range(2):  # a summary drops it: its absence is confirmed by a second poll
        now += timedelta(seconds=15)
        ingest.poll(run.rt, "azure", run, now)
    assert ticking.intervals(run.rt, now)["acme"].interval == 300
    assert run.rt.cadence.reasons()["acme"].why == "upstream Microsoft Azure has an open incident"
    run.tick(now + timedelta(seconds=1))
    assert run.rt.cadence.reasons()["acme"].why == "quiet"


def test_a_429_with_retry_after_holds_the_polls_of_that_page(
    tmp_path: Path, redis_url: str, key_prefix: str, fake_slack: FakeSlack
) -> None:
    page = ProbeTarget().start()  # a status page answering 429 Retry-After: 120
    page.status, page.retry_after = 429, "120"
    try:
        text = (
            "providers:\n  - id: acme\n    name: Acme\n"
            f"    feed: {{url: '{page.url(SUMMARY)}', format: statuspage-json}}\n"
            "    poll_interval: 30\n"
            "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
        )
        rt = runtime(tmp_path, redis_url, key_prefix, text,
                     slack_token="xoxb-push-test", slack_api_url=fake_slack.url)  # fmt: skip
        run = Inline(rt, T0)
        run.tick(T0)
        outcome = ingest.poll(rt, "acme", run, T0)
        assert outcome.outcome == "failed" and outcome.retry_after == 120
        polled_at = []
        for s in range(1, 200):
            run.polls.clear()
            run.tick(T0 + timedelta(seconds=s))
            if run.polls:
                polled_at.append(s)
        assert polled_at and polled_at[0] >= 120  # not at 30 s, 60 s, 90 s
    finally:
        page.stop()


def test_a_thousand_removed_providers_never_starve_the_live_ones_of_their_polls(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    feeds.put(SUMMARY, summary_json([]))
    feeds.put("/azure" + SUMMARY, summary_json([]))
    run = _inline(tmp_path, redis_url, key_prefix, feeds, fake_slack)
    run.tick(T0)  # seeds the live providers
    run.polls.clear()
    # 1,000 members of providers no longer in the file, all due long before the live ones
    old = T0 - timedelta(days=1)
    run.rt.cadence.next_at({poll_member(f"gone{i:04d}"): old for i in range(1000)})
    run.rt.cadence.next_at({poll_member("acme"): T0, poll_member("azure"): T0})
    run.tick(T0 + timedelta(seconds=1))
    assert sorted(run.polls) == ["acme", "azure"]
    assert run.rt.cadence.size() == 2  # the dead members are gone, not rescheduled


def test_a_provider_removed_from_the_file_leaves_no_key_behind(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_url)
    outage = FakeIncident("az0001", "Power event in South Central US")
    outage.add("investigating", "2024-12-26T19:04:00.000Z", "Investigating.")
    feeds.put(SUMMARY, summary_json([]))
    feeds.put("/azure" + SUMMARY, summary_json([outage]))
    run = _inline(tmp_path, redis_url, key_prefix, feeds, fake_slack)
    run.tick(T0)
    for provider in run.polls:
        ingest.poll(run.rt, provider, run, T0)
    run.tick(T0 + timedelta(seconds=1))
    client.hset(f"{key_prefix}:discovered:azure", mapping={"page": "p", "url": "u"})
    client.sadd(f"{key_prefix}:components:azure", "Compute")

    def azure_keys() -> list[str]:
        keys = [k.decode() for k in client.scan_iter(match=f"{key_prefix}:*azure*")]
        fields = [
            f"{h}:{f.decode()}"
            for h in ("incidents", "metrics", "cadence:why", "cadence:hold")
            for f in client.hkeys(f"{key_prefix}:{h}")
            if "azure" in f.decode()
        ]
        members = [m.decode() for m in client.zrange(f"{key_prefix}:cadence:due", 0, -1)]
        return keys + fields + [m for m in members if "azure" in m]

    assert azure_keys()  # state, incidents entry, metrics, schedule, discovery
    # azure leaves the file; the service reloads it
    without = (
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url(SUMMARY)}', format: statuspage-json}}\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
    )
    after = runtime(tmp_path, redis_url, key_prefix, without,
                    slack_token="xoxb-push-test", slack_api_url=fake_slack.url)  # fmt: skip
    Inline(after, T0).tick(T0 + timedelta(seconds=2))
    # Its schedule, state, index entries, metrics and discovery are gone. What it alerted
    # (events, alerts, threads) was delivered history: it expires on its own (30 days).
    left = azure_keys()
    keys = [k for k in left if k.startswith(f"{key_prefix}:")]
    assert [k for k in keys if client.ttl(k) < 0] == []
    assert [k for k in left if not k.startswith(f"{key_prefix}:")] == []  # no field, no member
    assert not client.exists(f"{key_prefix}:provider:azure", f"{key_prefix}:discovered:azure",
                             f"{key_prefix}:components:azure")  # fmt: skip
    assert after.cadence.size() == 1


def test_an_unprocessed_id_whose_event_expired_is_dropped_not_sent_again_forever(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, fake_slack: FakeSlack
) -> None:
    run = _inline(tmp_path, redis_url, key_prefix, feeds, fake_slack)
    unprocessed = run.rt.due(Due.UNPROCESSED)
    unprocessed.add_many(["expired-event-id"], T0)
    assert plan.process(run.rt, ["expired-event-id"], run, T0) == 0
    assert len(unprocessed) == 0


def test_a_provider_polled_every_second_is_polled_at_every_tick(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer
) -> None:
    # The next poll is one interval (and a jitter) after this tick's time, which the next
    # tick, a second later, can reach by a hair only: it used to wait a tick more.
    rt = runtime(tmp_path, redis_url, key_prefix, (
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url(SUMMARY)}', format: statuspage-json}}\n"
        "    poll_interval: 1\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
    ))  # fmt: skip
    run = Inline(rt, T0)
    for second in range(6):
        run.tick(T0 + timedelta(seconds=second, milliseconds=second % 3))
    assert run.polls == ["acme"] * 6
