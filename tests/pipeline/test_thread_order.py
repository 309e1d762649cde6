"""Replies in one incident's thread appear in the provider's order, even when the earlier
one is retried, and no other thread waits for it. The service glue on a real Redis, the
real slack-sdk against the fake Slack API, with an inline dispatcher (the test decides
which delivery runs when, as racing workers might)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.channels.base import DeliveryError
from notifier.pipeline.delivery import release
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.pipeline.delivery.retry import TURN_WAIT_MAX, OutOfTurn
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.delivery.status import AlertStatus
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.pipeline.test_exactly_once import make_ctx
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
UPDATES = (
    ("investigating", "2024-12-26T19:00:00Z"),
    ("identified", "2024-12-26T19:20:00Z"),
    ("monitoring", "2024-12-26T19:30:00Z"),
)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as served:
        yield served


SLACK_ROUTES = (
    "  - name: platform\n    slack: {channel: '#vendor-status'}\n"
    "  - name: infra\n    slack: {channel: '#infra'}\n"
)
ONCALL = "+15550100"


def _runtime(
    tmp_path: Path, url: str, key_prefix: str, feed: str, slack: FakeSlack,
    routes: str = SLACK_ROUTES, **credentials: object,
) -> Runtime:  # fmt: skip
    return build_runtime(
        tmp_path, url, key_prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feed}', format: statuspage-json}}\n"
        "subscribers:\n" + routes,
        slack_token="xoxb-order-test", slack_api_url=slack.url, **credentials,
        slack_channel_rate=1000.0, slack_channel_burst=100,  # order, not pacing, is under test
        delivery_in_flight=1,  # one chunk in order, as the chunk rule below is stated
    )  # fmt: skip


def _publish(feeds: FeedServer, n: int, *more: tuple[str, str]) -> None:
    """The provider's page shows the incident's first `n` updates (and `more`)."""
    incident = FakeIncident("k7ordinc0001", "Elevated API errors")
    for status, at in (*UPDATES[:n], *more):
        incident.add(status, at, f"Update: {status} at {at}")
    feeds.put("/s.json", summary_json([incident]))


def _plan(rt: Runtime, d: InlineHandOff, at: datetime) -> list[str]:
    """Poll and plan; the dedup keys handed on for delivery, in planning order."""
    before = len(d.delivered)
    ingest.poll(rt, "acme", d, at)
    plan.process(rt, d.processed[-1], d, at)
    return d.delivered[before:]


def _of(keys: Sequence[str], subscriber: str) -> list[str]:
    return [k for k in keys if f"/{subscriber}/" in k]


def _said(slack: FakeSlack, channel: str) -> list[str]:
    """Which update each post in `channel` shows, in the order Slack took them; the
    replies sit under the first post."""
    first = next(m for m in slack.messages if m["body"].get("channel") == channel)
    posts = [m for m in slack.messages if m["channel"] == first["channel"]]  # replies: by id
    parent = first["ts"]
    assert all(m["body"].get("thread_ts") == parent for m in posts[1:])
    return [next(s for s, _ in UPDATES if f"Update: {s}" in str(m["body"])) for m in posts]


@pytest.fixture
def opened(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    feeds: FeedServer, fake_slack: FakeSlack,
) -> tuple[Runtime, InlineHandOff, list[str]]:  # fmt: skip
    """The incident's thread is open in both subscribers' channels; two replies to each
    (identified, then monitoring) are planned and not sent yet."""
    _publish(feeds, 1)
    rt = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"), fake_slack)
    d = InlineHandOff(rt, NOW, plan=False, deliver=False)
    for key in _plan(rt, d, NOW):
        assert delivery.attempt_one(rt, key, d, NOW).status == "delivered"
    # two polls, one update each (one poll's burst of updates would be one reply)
    _publish(feeds, 2)
    replies = _plan(rt, d, NOW + timedelta(minutes=30))
    _publish(feeds, 3)
    replies += _plan(rt, d, NOW + timedelta(minutes=31))
    assert len(replies) == 4
    return rt, d, replies


def test_a_reply_waits_for_the_earlier_one_retried_after_a_429_and_both_appear_in_order(
    opened: tuple[Runtime, InlineHandOff, list[str]], fake_slack: FakeSlack,
) -> None:  # fmt: skip
    rt, d, replies = opened
    earlier, later = _of(replies, "platform")
    at = NOW + timedelta(minutes=30)
    # Retry-After 30 s: the pause it sets in Redis (a wall-clock TTL) outlasts the test,
    # which ends it itself below. At 1 s it could run out on a loaded machine before the
    # test looked for it (seen in make test-stress).
    fake_slack.fail_post_containing("Update: identified", status=429, retry_after=30)
    assert delivery.deliver(rt, earlier, d, at) == delivery.RETRYING
    (retry,) = [w for k, _, w in rt.retries.upcoming() if k == earlier]
    # The later reply comes after the pause and before the earlier one's retry: it waits.
    with pytest.raises(OutOfTurn) as wait:
        delivery.attempt_one(rt, later, d, at + timedelta(seconds=2))
    assert earlier in wait.value.message
    assert wait.value.retry_after is not None and wait.value.retry_after >= 1.0
    assert rt.alerts.status(later) is AlertStatus.PENDING
    # The retry sweep hands the earlier one on; then the later one, whenever it comes.
    sweep = InlineHandOff(rt, NOW, plan=False, deliver=False)
    assert release.release_retries(rt, sweep, retry) == 1 and sweep.delivered == [earlier]
    # The 429 paused this channel (store pacing, a Redis TTL): the pause runs out.
    paused = list(rt.client.scan_iter(match=f"{rt.settings.key_prefix}:pause:*"))
    assert paused and rt.client.delete(*paused) == len(paused)
    assert rt.retries.attempt(earlier) == 1  # its own number, waiting in Redis
    assert delivery.attempt_one(rt, earlier, d, retry).status == "delivered"
    assert delivery.attempt_one(rt, later, d, retry).status == "delivered"
    assert _said(fake_slack, "#vendor-status") == ["investigating", "identified", "monitoring"]


def test_a_reply_does_not_wait_for_an_earlier_one_that_failed_for_good(
    opened: tuple[Runtime, InlineHandOff, list[str]], fake_slack: FakeSlack,
) -> None:  # fmt: skip
    rt, d, replies = opened
    earlier, later = _of(replies, "platform")
    at = NOW + timedelta(minutes=30)
    fake_slack.fail_post_containing("Update: identified", status=200, error="invalid_blocks")
    assert delivery.attempt_one(rt, earlier, d, at).status == "failed"
    assert delivery.attempt_one(rt, later, d, at).status == "delivered"
    assert _said(fake_slack, "#vendor-status") == ["investigating", "monitoring"]


def test_another_thread_is_not_held_up_even_in_the_same_chunk(
    opened: tuple[Runtime, InlineHandOff, list[str]], fake_slack: FakeSlack,
) -> None:  # fmt: skip
    rt, d, replies = opened
    earlier, later = _of(replies, "platform")
    first, second = _of(replies, "infra")
    at = NOW + timedelta(minutes=30)
    fake_slack.fail_post_containing("Update: identified", status=503)
    with pytest.raises(DeliveryError):
        delivery.attempt_one(rt, earlier, d, at)
    # A fan-out chunk: the waiting reply waits alone, the other thread's go on.
    result = delivery.deliver_keys(rt, [later, first, second], d, at + timedelta(seconds=1))
    assert result.delivered == 2 and [k for k, _, _ in result.waiting] == [later]
    assert _said(fake_slack, "#infra") == ["investigating", "identified", "monitoring"]
    assert _said(fake_slack, "#vendor-status") == ["investigating"]
    # The task behind the chunk puts the waiting one on the retry queue, as a wait.
    delivery.deliver_chunk(rt, [later], d, at + timedelta(seconds=2))
    assert [(k, n) for k, n, _ in rt.retries.upcoming() if k == later] == [(later, 0)]


def test_a_reply_waits_at_most_the_longest_wait_then_goes_with_a_warning(
    opened: tuple[Runtime, InlineHandOff, list[str]], fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    rt, d, replies = opened
    earlier, later = _of(replies, "platform")
    at = NOW + timedelta(minutes=30)
    with pytest.raises(OutOfTurn):  # the earlier one is still queued somewhere
        delivery.attempt_one(rt, later, d, at)
    with pytest.raises(OutOfTurn):  # waiting again does not restart the clock
        delivery.attempt_one(rt, later, d, at + TURN_WAIT_MAX - timedelta(seconds=1))
    with caplog.at_level(logging.WARNING, logger="notifier.pipeline.delivery.attempt"):
        assert delivery.attempt_one(rt, later, d, at + TURN_WAIT_MAX).status == "delivered"
    assert f"sending out of order: {earlier}" in caplog.text
    assert rt.alerts.status(earlier) is AlertStatus.PENDING  # it still goes, after
    assert delivery.attempt_one(rt, earlier, d, at + TURN_WAIT_MAX).status == "delivered"
    assert _said(fake_slack, "#vendor-status") == ["investigating", "monitoring", "identified"]


def test_email_replies_keep_their_order_when_the_earlier_one_is_retried(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    feeds: FeedServer, fake_slack: FakeSlack, fake_smtp: FakeSmtp,
) -> None:  # fmt: skip
    routes = "  - name: sre\n    email: {to: [sre@example.com]}\n"
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": fake_smtp.port, "smtp_starttls": False}
    _publish(feeds, 1)
    rt = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"), fake_slack, routes,
                  **smtp)  # fmt: skip
    d = InlineHandOff(rt, NOW, plan=False, deliver=False)
    (opener,) = _plan(rt, d, NOW)
    assert delivery.attempt_one(rt, opener, d, NOW).status == "delivered"
    at = NOW + timedelta(minutes=30)
    _publish(feeds, 2)
    (earlier,) = _plan(rt, d, at)
    _publish(feeds, 3)
    (later,) = _plan(rt, d, at)
    fake_smtp.fail_next(1, code=451)  # the server asks to try the earlier one later
    with pytest.raises(DeliveryError):
        delivery.attempt_one(rt, earlier, d, at)
    with pytest.raises(OutOfTurn):
        delivery.attempt_one(rt, later, d, at + timedelta(seconds=1))
    assert delivery.attempt_one(rt, earlier, d, at + timedelta(seconds=5), attempt=1).status == (
        "delivered"
    )
    assert delivery.attempt_one(rt, later, d, at + timedelta(seconds=6)).status == "delivered"
    said = [next(s for s, _ in UPDATES if f"Update: {s}" in m.get_content()) for m in
            (m.get_body(("plain",)) or m for m in fake_smtp.messages)]  # fmt: skip
    assert said == ["investigating", "identified", "monitoring"]


def test_an_sms_all_clear_does_not_wait_for_a_page_still_being_retried(
    redis_client: redis.Redis, key_prefix: str, fake_slack: FakeSlack, fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> None:  # fmt: skip
    # The pager already makes a page that comes after its all-clear send nothing:
    # nobody is woken for an incident that is over, so the all-clear need not wait.
    ctx = make_ctx(redis_client, key_prefix, fake_slack, fake_twilio, fake_smtp.port)
    page, all_clear = sample.alert(channel="sms"), sample.resolved(channel="sms")
    assert ctx.alerts.claim(page) and ctx.alerts.claim(all_clear)
    at = all_clear.event.detected_at
    fake_twilio.fail_next(1, status=503)
    with pytest.raises(DeliveryError):
        deliver_alert(page.dedup_key, ctx, at)
    assert deliver_alert(all_clear.dedup_key, ctx, at).status == "skipped"  # nobody paged yet
    retried = deliver_alert(page.dedup_key, ctx, at + timedelta(seconds=5), attempt=1)
    assert retried.status == "skipped" and "resolved" in retried.error
    assert fake_twilio.sent == []
