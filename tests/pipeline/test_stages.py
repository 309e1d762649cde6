"""The service glue on a real Redis with an inline dispatcher: nothing a lost task
left behind stays lost, follow-ups wait for their thread, fallbacks get their own
delivery, and an unconfigured channel is a failure rather than a silent print."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from notifier.channels.base import DeliveryError, NotYet
from notifier.pipeline.delivery import release
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.delivery.dueset import DueSet
from notifier.store.delivery.retries import RetryQueue
from notifier.store.delivery.status import AlertStatus
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)


def _runtime(
    tmp_path: Path, url: str, key_prefix: str, feed: str, slack: FakeSlack,
    email: bool = True, fallback: str = "email",
) -> Runtime:  # fmt: skip
    routes = f"    email: {{to: [sre@example.com]}}\n    fallback: {fallback}\n" if email else ""
    return build_runtime(
        tmp_path, url, key_prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feed}', format: statuspage-json}}\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n" + routes,
        slack_token="xoxb-service-test", slack_api_url=slack.url,
    )  # fmt: skip


@pytest.fixture
def served(fake_slack: FakeSlack) -> Iterator[tuple[FeedServer, FakeSlack]]:
    with feed_server() as feeds:
        yield feeds, fake_slack


def _incident(*updates: tuple[str, str]) -> FakeIncident:
    incident = FakeIncident("k7svcinc0001", "Elevated API errors")
    for status, at in updates:
        incident.add(status, at, f"{status} at {at}")
    return incident


def _planned(
    tmp_path: Path,
    redis_url: str,
    key_prefix: str,
    served: tuple[FeedServer, FakeSlack],
    **runtime: Any,
) -> tuple[Runtime, InlineHandOff]:
    """An incident opened on the feed, polled and planned; its alerts handed on, not sent."""
    feeds, slack = served
    feeds.put("/s.json", summary_json([_incident(("investigating", "2024-12-26T19:00:00Z"))]))
    rt = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"), slack, **runtime)
    handoff = InlineHandOff(rt, NOW, plan=False, deliver=False)
    ingest.poll(rt, "acme", handoff, NOW)
    plan.process(rt, handoff.processed[0], handoff, NOW)
    return rt, handoff


def test_a_lost_process_task_is_re_sent_by_the_reconcile_sweep(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    feeds, slack = served
    feeds.put("/s.json", summary_json([_incident(("investigating", "2024-12-26T19:00:00Z"))]))
    rt = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"), slack, email=False)
    lost = InlineHandOff(rt, NOW, plan=False, deliver=False)
    assert ingest.poll(rt, "acme", lost, NOW).outcome == "changed"
    (event_ids,) = lost.processed  # the message that a crash then loses
    sweep = InlineHandOff(rt, NOW, plan=False, deliver=False)
    assert release.reconcile(rt, sweep, NOW + timedelta(minutes=1)) == (0, 0)  # not yet
    assert release.reconcile(rt, sweep, NOW + timedelta(minutes=6)) == (len(event_ids), 0)
    assert sweep.processed == [event_ids]
    plan.process(rt, event_ids, sweep, NOW + timedelta(minutes=6))
    assert (
        release.reconcile(
            rt, InlineHandOff(rt, NOW, plan=False, deliver=False), NOW + timedelta(minutes=20)
        )[0]
        == 0
    )  # done now


def test_a_lost_delivery_is_re_sent_and_still_posts_once(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    slack = served[1]
    rt, first = _planned(tmp_path, redis_url, key_prefix, served, email=False)
    (key,) = first.delivered  # this deliver message is lost
    later = NOW + timedelta(minutes=31)
    sweep = InlineHandOff(rt, NOW, plan=False, deliver=False)
    assert release.reconcile(rt, sweep, later) == (0, 1)
    assert sweep.delivered == [key]
    assert delivery.attempt_one(rt, key, sweep, later).status == "delivered"
    assert delivery.attempt_one(rt, key, sweep, later).status == "already_delivered"
    assert len(slack.messages) == 1
    assert release.reconcile(
        rt, InlineHandOff(rt, NOW, plan=False, deliver=False), later + timedelta(hours=1)
    ) == (0, 0)


def test_a_follow_up_waits_for_its_thread_instead_of_opening_a_second_one(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    feeds, slack = served
    rt, d = _planned(tmp_path, redis_url, key_prefix, served, email=False)
    opener = d.delivered[-1]
    feeds.put(
        "/s.json",
        summary_json(
            [
                _incident(
                    ("investigating", "2024-12-26T19:00:00Z"),
                    ("identified", "2024-12-26T19:20:00Z"),
                )
            ]
        ),
    )
    ingest.poll(rt, "acme", d, NOW + timedelta(minutes=1))
    plan.process(rt, d.processed[-1], d, NOW + timedelta(minutes=1))
    follow_up = d.delivered[-1]
    assert follow_up != opener
    with pytest.raises(NotYet):  # the opener is still retrying somewhere
        delivery.attempt_one(rt, follow_up, d, NOW + timedelta(minutes=1))
    # Even on its last attempt it waits: a long outage must not fail the thread's updates.
    with pytest.raises(NotYet):
        delivery.attempt_one(rt, follow_up, d, NOW + timedelta(minutes=2), attempt=8, final=True)
    assert slack.messages == [] and rt.alerts.status(follow_up) is AlertStatus.PENDING
    delivery.attempt_one(rt, opener, d, NOW + timedelta(minutes=2))
    delivery.attempt_one(rt, follow_up, d, NOW + timedelta(minutes=2))
    parent, reply = (m for m in slack.messages if m["method"] == "chat.postMessage")
    assert reply["body"].get("thread_ts") == parent["response"]["ts"]


def test_an_unconfigured_channel_fails_over_instead_of_printing(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack], capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    rt, d = _planned(tmp_path, redis_url, key_prefix, served, fallback="slack")
    email = next(k for k in d.delivered if k.endswith("/email"))
    out = delivery.attempt_one(rt, email, d, NOW)  # Slack is configured, SMTP is not
    assert out.status == "failed" and "no credentials" in out.error
    assert out.fallback_key in d.delivered  # handed on as a delivery of its own
    assert "Elevated API errors" not in capsys.readouterr().out


def test_the_due_set_hands_each_due_member_to_one_sweeper(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    due = DueSet(redis_client, f"{key_prefix}:due:test")
    due.add("late", NOW - timedelta(seconds=1))
    due.add("later", NOW + timedelta(minutes=5))
    with due.sweeping() as first, due.sweeping() as second:
        assert (first, second) == (True, False)
    assert due.due(NOW) == ["late"]
    due.discard("late")
    assert due.due(NOW + timedelta(minutes=10)) == ["later"] and len(due) == 1


def test_a_failed_delivery_waits_in_redis_and_is_handed_on_once_with_its_attempt(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    slack = served[1]
    rt, d = _planned(tmp_path, redis_url, key_prefix, served, email=False)
    (key,) = d.delivered
    slack.fail_next(1, status=503)
    with pytest.raises(DeliveryError) as err:
        delivery.attempt_one(rt, key, d, NOW)
    assert not err.value.permanent
    rt.retries.schedule([key], 1, NOW + timedelta(seconds=5))
    rt.retries.schedule([key], 1, NOW + timedelta(seconds=5))  # a redelivered task: no 2nd
    sweep = InlineHandOff(rt, NOW, plan=False, deliver=False)
    assert release.release_retries(rt, sweep, NOW + timedelta(seconds=4)) == 0  # not yet
    assert release.release_retries(rt, sweep, NOW + timedelta(seconds=5)) == 1
    assert (sweep.delivered, rt.retries.attempt(key)) == ([key], 1)  # its number, in Redis
    assert release.release_retries(rt, sweep, NOW + timedelta(minutes=5)) == 0  # handed on once
    assert delivery.attempt_one(rt, key, sweep, NOW + timedelta(seconds=6)).status == "delivered"
    assert rt.retries.attempt(key) == 0  # finished: nothing left of it
    assert len([m for m in slack.messages if m["method"] == "chat.postMessage"]) == 1


def test_a_retry_scheduled_again_during_its_hand_on_is_kept(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    retries = RetryQueue(redis_client, key_prefix)
    retries.schedule(["a", "b"], 2, NOW)
    assert retries.due(NOW) == [("a", 2), ("b", 2)]
    # "a" was handed on, ran at once, failed again and asked for attempt 3 later.
    retries.schedule(["a"], 3, NOW + timedelta(seconds=20))
    retries.handed_on(["a", "b"], NOW)
    assert retries.due(NOW + timedelta(minutes=1)) == [("a", 3)] and len(retries) == 1


def test_a_chunk_stops_at_the_first_transient_failure_and_reports_where(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    feeds, slack = served
    feeds.put("/s.json", summary_json([_incident(("investigating", "2024-12-26T19:00:00Z"))]))
    rt = build_runtime(
        tmp_path, redis_url, key_prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url('/s.json')}', format: statuspage-json}}\n"
        "subscribers:\n"
        + "".join(f"  - name: team{n}\n    slack: {{channel: '#team{n}'}}\n" for n in range(3)),
        slack_token="xoxb-service-test", slack_api_url=slack.url,
    )  # fmt: skip
    d = InlineHandOff(rt, NOW, plan=False, deliver=False)
    ingest.poll(rt, "acme", d, NOW)
    plan.process(rt, d.processed[0], d, NOW)
    keys = d.delivered
    assert len(keys) == 3

    undelivered = rt.due(Due.UNDELIVERED)
    assert len(undelivered) == 3
    assert delivery.attempt_one(rt, keys[0], d, NOW).status == "delivered"
    slack.fail_next(1, status=503)
    one_at_a_time = rt.settings.model_copy(update={"delivery_in_flight": 1})
    first = delivery.deliver_keys(dataclasses.replace(rt, settings=one_at_a_time), keys, d, NOW)
    assert first.delivered == 1  # keys[0] was already done
    # keys[1] met the 503, and keys[2] was not tried after it: both wait with that error
    assert [(k, n) for k, n, _ in first.waiting] == [(k, 0) for k in keys[1:]]
    assert first.waiting[0][2] is first.waiting[1][2] and not first.waiting[0][2].permanent
    assert undelivered.due(NOW + timedelta(days=1)) == keys[1:]  # the sweep's safety net
    again = delivery.deliver_keys(rt, keys[1:], d, NOW)
    assert (again.delivered, again.waiting) == (2, ())
    assert len(undelivered) == 0
    posted = sorted(str(m["body"]["channel"]) for m in slack.messages if "channel" in m["body"])
    assert posted == ["#team0", "#team1", "#team2"]


def test_an_alert_delivered_where_it_was_planned_enters_its_due_set_only_if_unfinished(
    tmp_path: Path, redis_url: str, key_prefix: str, served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    """An inline delivery (`due_added=False`): a delivered alert never needs the reconcile
    sweep's safety net; one left to retry gets it after its attempt."""
    feeds, slack = served
    feeds.put("/s.json", summary_json([_incident(("investigating", "2024-12-26T19:00:00Z"))]))
    rt = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"), slack, email=False)
    d = InlineHandOff(rt, NOW, plan=False, deliver=False)
    ingest.poll(rt, "acme", d, NOW)
    plan.process(rt, d.processed[0], d, NOW)
    (key,) = d.delivered
    undelivered = rt.due(Due.UNDELIVERED)
    undelivered.discard(key)  # as the inline hand-on leaves it
    slack.fail_next(1, status=503)
    assert delivery.deliver(rt, key, d, NOW, due_added=False) == delivery.RETRYING
    assert undelivered.due(NOW + timedelta(days=1)) == [key]
    undelivered.discard(key)
    assert delivery.deliver(rt, key, d, NOW + timedelta(minutes=1), due_added=False) == "delivered"
    assert len(undelivered) == 0
