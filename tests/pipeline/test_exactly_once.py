"""Exactly once through a crash: a vendor that took a message whose answer never
reached us (the connection dropped, or the worker was killed with SIGKILL) gets it
once, because the next attempt finds it there. Real Redis, the real slack-sdk,
twilio and smtplib clients against the local fakes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.base import DeliveryError, NotYet
from notifier.channels.email.channel import EmailChannel
from notifier.channels.slack.channel import SlackChannel
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager
from notifier.config.load import parse_config
from notifier.models import Alert
from notifier.pipeline.delivery import lock
from notifier.pipeline.delivery.attempt import WATCHDOG, deliver_alert
from notifier.pipeline.delivery.lock import LOCK_MS, landing_ms
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.pipeline.runtime.destinations import Destinations
from notifier.store.conn.batch import Batch
from notifier.store.conn.watch import WATCH
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.retries import RetryQueue
from notifier.store.delivery.threads import RedisThreadStore
from notifier.store.ops.metrics import Metrics
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.support.roundtrips import RoundTrips

# A channel id, as Slack's conversations.history needs one to look a post up.
CONFIG = """
providers:
  - id: openai
subscribers:
  - name: sre
    slack: {channel: "C0OPS1234"}
    sms: {to: ["+15550000001"]}
    email: {to: [oncall@example.com, lead@example.com]}
"""
NOW = sample.T0 + timedelta(minutes=5)


def make_ctx(
    client: redis.Redis, prefix: str, slack: FakeSlack, twilio: FakeTwilio, smtp_port: int
) -> DeliveryWiring:
    destinations = Destinations(parse_config(CONFIG, "test.yaml"))
    p = destinations.presentation()
    sms = SmsChannel(twilio.account_sid, SecretStr(twilio.auth_token), "+15550009999",
                     api_url=twilio.url, presentation=p)  # fmt: skip
    channels = {
        "slack": SlackChannel(SecretStr(slack.token), slack.api_url, timeout=5, presentation=p),
        "sms": sms,
        "email": EmailChannel("127.0.0.1", smtp_port, starttls=False, presentation=p),
    }
    return DeliveryWiring(
        client=client, prefix=prefix, destinations=destinations, channels=channels,
        alerts=AlertStore(client, prefix), log=DeliveryLog(client, prefix),
        threads=RedisThreadStore(client, prefix), pager=Pager(client, prefix, sms, presentation=p),
        metrics=Metrics(client, prefix),
    )  # fmt: skip


@pytest.fixture
def ctx(
    redis_client: redis.Redis, key_prefix: str, fake_slack: FakeSlack, fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> DeliveryWiring:  # fmt: skip
    return make_ctx(redis_client, key_prefix, fake_slack, fake_twilio, fake_smtp.port)


def claimed(ctx: DeliveryWiring, alert: Alert) -> str:
    assert ctx.alerts.claim(alert)
    return alert.dedup_key


def test_a_slack_post_whose_answer_was_lost_is_found_and_not_posted_again(
    ctx: DeliveryWiring, fake_slack: FakeSlack
) -> None:
    key = claimed(ctx, sample.alert())
    fake_slack.accept_then_drop(1)
    with pytest.raises(DeliveryError) as lost:
        deliver_alert(key, ctx, NOW)
    assert lost.value.unknown and not lost.value.permanent
    assert len(fake_slack.messages) == 1  # Slack has it; we never heard

    retry = deliver_alert(key, ctx, NOW + timedelta(seconds=30), attempt=1)

    (posted,) = fake_slack.messages
    assert retry.status == "delivered"
    assert retry.message_ids == (f"C0OPS1234/{posted['ts']}",)
    methods = [r.path.rsplit("/", 1)[-1] for r in fake_slack.requests]
    assert methods == ["chat.postMessage", "conversations.history"]
    # the found post opened the thread: the next change replies in it
    deliver_alert(claimed(ctx, sample.update()), ctx, NOW + timedelta(minutes=1))
    assert fake_slack.messages[-1]["thread_ts"] == posted["ts"]


def test_a_lost_thread_reply_is_found_among_the_replies(
    ctx: DeliveryWiring, fake_slack: FakeSlack
) -> None:
    deliver_alert(claimed(ctx, sample.alert()), ctx, NOW)
    key = claimed(ctx, sample.update())
    fake_slack.accept_then_drop(1, after=1)  # the parent's edit is answered, the reply not
    with pytest.raises(DeliveryError):
        deliver_alert(key, ctx, NOW)

    assert deliver_alert(key, ctx, NOW, attempt=1).status == "delivered"

    parent, reply = fake_slack.messages
    assert reply["thread_ts"] == parent["ts"]
    assert fake_slack.requests[-1].path.endswith("conversations.replies")


def test_a_post_that_never_reached_slack_is_posted_on_the_retry(
    ctx: DeliveryWiring, fake_slack: FakeSlack
) -> None:
    key = claimed(ctx, sample.alert())
    fake_slack.fail_next(1, status=503)  # Slack answered: it did not take it
    with pytest.raises(DeliveryError) as refused:
        deliver_alert(key, ctx, NOW)
    assert not refused.value.unknown

    assert deliver_alert(key, ctx, NOW, attempt=1).status == "delivered"
    assert len(fake_slack.messages) == 1
    # no lookup: the answer said it was not taken
    assert not any("conversations" in r.path for r in fake_slack.requests)


def _deliver_in_child(url: str, prefix: str, slack: FakeSlack, twilio: FakeTwilio,
                      smtp_port: int, key: str) -> None:  # fmt: skip
    """A worker process: its own Redis connection and clients, as after a fork (the
    fakes' objects give only their addresses here; they serve from the test process)."""
    ctx = make_ctx(redis.Redis.from_url(url), prefix, slack, twilio, smtp_port)
    deliver_alert(key, ctx, NOW)


def _killed_mid_post(
    ctx: DeliveryWiring, fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    redis_url: str, key_prefix: str,
) -> str:  # fmt: skip
    """An alert whose worker was SIGKILLed after Slack took its post (the answer never
    came), before it could record anything: its lock is still held."""
    key = claimed(ctx, sample.alert())
    fake_slack.accept_then_drop(1, hang=True)  # Slack takes it; the answer never comes
    worker = multiprocessing.get_context("fork").Process(
        target=_deliver_in_child,
        args=(redis_url, key_prefix, fake_slack, fake_twilio, fake_smtp.port, key),
    )  # fmt: skip
    worker.start()
    try:
        assert fake_slack.accepted.wait(20), "the post never reached the fake"
        os.kill(worker.pid or 0, signal.SIGKILL)  # dies before it can record anything
    finally:
        worker.join(10)
    assert worker.exitcode == -signal.SIGKILL
    return key


def _found_not_posted_again(ctx: DeliveryWiring, fake_slack: FakeSlack, key: str) -> None:
    retry = deliver_alert(key, ctx, NOW + WATCHDOG, attempt=1)
    assert retry.status == "delivered"
    assert len(fake_slack.messages) == 1  # found, not posted again
    assert fake_slack.requests[-1].path.endswith("conversations.history")


def test_a_worker_killed_after_slack_took_the_post_leaves_one_post_and_a_retry_within_a_minute(
    ctx: DeliveryWiring, fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    redis_url: str, key_prefix: str, redis_client: redis.Redis,
) -> None:  # fmt: skip
    key = _killed_mid_post(ctx, fake_slack, fake_twilio, fake_smtp, redis_url, key_prefix)
    assert len(fake_slack.messages) == 1

    # The killed attempt scheduled its successor WATCHDOG out, as attempt 1.
    retries = RetryQueue(redis_client, key_prefix)
    assert retries.due(NOW + WATCHDOG - timedelta(seconds=1)) == []
    assert retries.due(NOW + WATCHDOG) == [(key, 1)]
    # Its lock is still held, and a retry now is told to come back by the time it lapses.
    lock = f"{key_prefix}:delivery:lock:{key}"
    assert 0 < redis_client.pttl(lock) <= LOCK_MS
    with pytest.raises(NotYet) as held:
        deliver_alert(key, ctx, NOW + WATCHDOG, attempt=1)
    assert held.value.retry_after is not None and held.value.retry_after <= 5
    redis_client.pexpire(lock, 1)  # the lock lapses (90 s in life; at once here)
    redis_client.delete(lock)

    retry = deliver_alert(key, ctx, NOW + WATCHDOG, attempt=1)

    assert retry.status == "delivered"
    assert len(fake_slack.messages) == 1
    assert retries.due(NOW + timedelta(hours=1)) == []  # delivered: no retry left waiting


def test_a_delivery_that_ends_leaves_no_retry_behind(
    ctx: DeliveryWiring, redis_client: redis.Redis, key_prefix: str
) -> None:
    deliver_alert(claimed(ctx, sample.alert()), ctx, NOW)
    assert RetryQueue(redis_client, key_prefix).due(NOW + timedelta(hours=1)) == []


def test_an_sms_twilio_took_without_answering_is_found_and_not_sent_again(
    ctx: DeliveryWiring, fake_twilio: FakeTwilio
) -> None:
    key = claimed(ctx, sample.alert(channel="sms"))
    fake_twilio.accept_then_drop(1)
    with pytest.raises(DeliveryError) as lost:
        deliver_alert(key, ctx, NOW)
    assert lost.value.unknown
    assert len(fake_twilio.sent) == 1

    retry = deliver_alert(key, ctx, NOW, attempt=1)

    assert retry.status == "delivered"
    assert fake_twilio.to("+15550000001") == [fake_twilio.sent[0]["Body"]]
    assert fake_twilio.requests[-1].method == "GET"  # the lookup, not a second send
    assert retry.message_ids[0].startswith("SM")


def test_each_email_is_marked_sent_as_soon_as_the_server_takes_it(
    ctx: DeliveryWiring, fake_smtp: FakeSmtp, redis_client: redis.Redis
) -> None:
    key = claimed(ctx, sample.alert(channel="email"))
    sent_marks: list[dict[str, str]] = []
    original = EmailChannel.send

    def watch(self: EmailChannel, alert: Alert, target: object, ref: str | None) -> object:
        sent_marks.append(ctx.log.sent_to(key))  # what Redis knows as each send begins
        return original(self, alert, target, ref)  # type: ignore[arg-type]

    EmailChannel.send = watch  # type: ignore[assignment,method-assign]
    try:
        deliver_alert(key, ctx, NOW)
    finally:
        EmailChannel.send = original  # type: ignore[method-assign]
    # when the second address's turn came, the first was already recorded in Redis
    assert sent_marks[0] == {}
    assert list(sent_marks[1]) == ["oncall@example.com"]


def test_an_email_sent_again_carries_the_same_message_id(fake_smtp: FakeSmtp) -> None:
    channel = EmailChannel("127.0.0.1", fake_smtp.port, from_addr="n@example.com",
                           starttls=False)  # fmt: skip
    alert = sample.alert(channel="email")
    first = channel.render(alert, "oncall@example.com", None)["Message-ID"]
    again = channel.render(alert, "oncall@example.com", None)["Message-ID"]
    other = channel.render(alert, "lead@example.com", None)["Message-ID"]
    assert first == again != other
    assert first.endswith("@example.com>") and "oncall" not in first


@pytest.fixture(autouse=True)
def _no_leftover_children() -> Iterator[None]:
    yield
    for child in multiprocessing.active_children():
        child.kill()


def test_no_delivery_lock_lapses_while_its_task_may_still_run() -> None:
    from notifier.config.settings import Settings
    from workers.app import TASK_TIME_LIMIT_S, celery_config

    # A task is killed at its hard limit; the lock it took must outlast it, and the
    # watchdog retry of a killed attempt must come before the limit is reached.
    assert TASK_TIME_LIMIT_S * 1000 <= LOCK_MS
    assert timedelta(seconds=TASK_TIME_LIMIT_S) >= WATCHDOG
    conf = celery_config(Settings(), "redis://localhost:6379/0")
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    # A failover must not kill a delivery between its post and its lock's release.
    assert conf["worker_cancel_long_running_tasks_on_connection_loss"] is False


def test_a_slack_delivery_costs_three_redis_round_trips(
    redis_url: str, key_prefix: str, fake_slack: FakeSlack, fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> None:  # fmt: skip
    # The in-flight mark rides on the attempt record, its removal on the outcome, the
    # watchdog retry on both: exactly once costs no round trip on the common path. The
    # thread's reference is read with the attempt record.
    client = redis.Redis.from_url(redis_url)
    trips = RoundTrips(client)
    ctx = make_ctx(client, key_prefix, fake_slack, fake_twilio, fake_smtp.port)
    try:
        key = claimed(ctx, sample.alert())
        before = trips.count
        assert deliver_alert(key, ctx, NOW).status == "delivered"
        # lock + reads; attempt + in-flight mark + watchdog + thread ref; outcome + release
        assert trips.count - before == 3
    finally:
        client.close()  # the test's keys: `key_prefix` drops them


def test_a_dead_workers_lock_is_fenced_while_its_post_may_still_land_then_found_once(
    ctx: DeliveryWiring, fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    redis_url: str, key_prefix: str, redis_client: redis.Redis,
) -> None:  # fmt: skip
    key = _killed_mid_post(ctx, fake_slack, fake_twilio, fake_smtp, redis_url, key_prefix)
    lock = f"{key_prefix}:delivery:lock:{key}"
    redis_client.set(lock, "celery@dead|t1", px=LOCK_MS)  # its node's heartbeat is gone
    window = landing_ms(ctx.channels["slack"], 1)
    assert window >= 5_000  # the Slack client's timeout here, and a margin
    assert 0 < redis_client.pttl(ctx.log.landing_key(key)) <= window

    # Its request may still be on its way: nobody takes the lock over, nothing is sent.
    for _ in range(2):
        with pytest.raises(NotYet) as fenced:
            deliver_alert(key, ctx, NOW + WATCHDOG, attempt=1)
        assert fenced.value.retry_after is not None and fenced.value.retry_after <= 5
        assert redis_client.get(lock) == b"|fence" and 0 < redis_client.pttl(lock) <= window
    assert len(fake_slack.messages) == 1 and len(fake_slack.requests) == 1

    redis_client.delete(lock)  # the fence lapses: whatever was on its way has landed
    _found_not_posted_again(ctx, fake_slack, key)


def test_a_dead_workers_lock_is_taken_over_at_once_when_its_post_can_no_longer_land(
    ctx: DeliveryWiring, fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    redis_url: str, key_prefix: str, redis_client: redis.Redis,
) -> None:  # fmt: skip
    # The heartbeat goes stale (15 s) after the request's window (its timeout and 2 s)
    # has closed: no fence then, only the lookup the in-flight mark asks for.
    key = _killed_mid_post(ctx, fake_slack, fake_twilio, fake_smtp, redis_url, key_prefix)
    lock = f"{key_prefix}:delivery:lock:{key}"
    redis_client.set(lock, "celery@dead|t1", px=LOCK_MS)  # its node's heartbeat is gone
    redis_client.delete(ctx.log.landing_key(key))  # the window closed
    _found_not_posted_again(ctx, fake_slack, key)
    assert redis_client.get(lock) is None  # released by the attempt that took it over


def test_a_dead_workers_lock_with_nothing_in_flight_is_taken_over_at_once(
    ctx: DeliveryWiring, fake_slack: FakeSlack, key_prefix: str, redis_client: redis.Redis,
) -> None:  # fmt: skip
    key = claimed(ctx, sample.alert())
    redis_client.set(f"{key_prefix}:delivery:lock:{key}", "celery@dead|t1", px=LOCK_MS)
    assert deliver_alert(key, ctx, NOW).status == "delivered"
    assert len(fake_slack.messages) == 1


def test_an_outcome_lost_to_a_failover_leaves_the_lock_free_for_the_retry(
    ctx: DeliveryWiring, fake_slack: FakeSlack, key_prefix: str, redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    key = claimed(ctx, sample.alert())
    confirmed = Batch.execute

    def failover(batch: Batch, confirm: str | None = None) -> None:
        if confirm == "a delivery's outcome":  # the last round trip: outcome, then release
            raise redis.ConnectionError("the primary was killed")
        confirmed(batch, confirm)

    monkeypatch.setattr(Batch, "execute", failover)
    with pytest.raises(redis.ConnectionError):
        deliver_alert(key, ctx, NOW)
    monkeypatch.undo()

    # The attempt is over: its lock went with it, not 90 s later behind a live heartbeat.
    assert not redis_client.exists(f"{key_prefix}:delivery:lock:{key}")
    retry = deliver_alert(key, ctx, NOW + timedelta(seconds=1), attempt=1)
    assert retry.status == "delivered"
    assert len(fake_slack.messages) == 1  # the post was found, not sent again


def test_a_lock_taken_with_its_answer_lost_to_a_failover_is_released_at_once(
    ctx: DeliveryWiring, fake_slack: FakeSlack, key_prefix: str, redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    key = claimed(ctx, sample.alert())
    applied = Batch.execute
    lost: list[bool] = []

    def answer_lost(batch: Batch, confirm: str | None = None) -> None:
        applied(batch, confirm)  # Redis ran it all, the lock's SET included ...
        if not lost:
            lost.append(True)
            raise redis.ConnectionError("the primary was killed")  # ... the answer is lost

    monkeypatch.setattr(Batch, "execute", answer_lost)
    with pytest.raises(redis.ConnectionError):
        deliver_alert(key, ctx, NOW)
    monkeypatch.undo()

    # Not held for a lease behind this live worker's heartbeat: the retry goes at once.
    assert not redis_client.exists(f"{key_prefix}:delivery:lock:{key}")
    assert deliver_alert(key, ctx, NOW + timedelta(seconds=1), attempt=1).status == "delivered"
    assert len(fake_slack.messages) == 1


def test_locks_released_just_before_a_failover_are_released_again_on_the_new_primary(
    ctx: DeliveryWiring, fake_slack: FakeSlack, key_prefix: str, redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first, second = (claimed(ctx, sample.alert(key=k, thread_key=f"t/{k}")) for k in "ab")
    deliver_alert(first, ctx, NOW)
    deliver_alert(second, ctx, NOW)
    (_, lost_key, lost_token), (_, taken_key, _) = list(lock.RELEASED.locks)[-2:]
    # The primary answered both releases and died before its replica had the first; the
    # promoted replica holds that lock still (for a worker alive), and the second was
    # taken since by another attempt.
    redis_client.set(lost_key, lost_token, px=LOCK_MS)
    redis_client.set(taken_key, "celery@other|t9", px=LOCK_MS)
    monkeypatch.setitem(WATCH.changed_at, "notifier-primary", time.time())

    third = claimed(ctx, sample.alert(key="c", thread_key="t/c"))
    deliver_alert(third, ctx, NOW)  # this process's first delivery on the new primary

    assert not redis_client.exists(lost_key)  # its attempt is over: released again
    assert redis_client.get(taken_key) == b"celery@other|t9"  # another's: untouched
    assert len(fake_slack.messages) == 3
