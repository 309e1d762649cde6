"""deliver_alert end to end over real Redis, real clients and the local fakes:
idempotency, retries, fallback, threads that survive restarts, paging, console."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.base import DeliveryError, NotYet
from notifier.channels.email.channel import EmailChannel
from notifier.channels.slack.channel import SlackChannel
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager
from notifier.cli.deliveries import show
from notifier.config.load import parse_config
from notifier.config.settings import Settings
from notifier.models import Alert
from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.pipeline.runtime.destinations import Destinations
from notifier.pipeline.sweeps import check_escalation
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import RedisThreadStore
from notifier.store.ops.metrics import Metrics
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio

CONFIG = """
providers:
  - id: openai
oncall:
  rotations:
    primary:
      members:
        - {name: ana, phone: "+15550000001"}
        - {name: bo, phone: "+15550000002"}
      handoff: {weekday: monday, time: "09:00", timezone: UTC}
      start: 2024-01-01
      escalate_after_minutes: 5
subscribers:
  - name: sre
    slack: {channel: "#ops"}
    sms: {rotation: primary}
    email: {to: [oncall@example.com, lead@example.com]}
    fallback: email
    digest: {daily_at: "08:00", timezone: UTC}
"""
NOW = sample.T0 + timedelta(minutes=5)


@dataclass
class World:
    ctx: DeliveryWiring
    alerts: AlertStore
    slack: FakeSlack
    twilio: FakeTwilio
    smtp: FakeSmtp

    def store(self, alert: Alert) -> str:
        assert self.alerts.claim(alert)
        return alert.dedup_key


def make_ctx(
    client: redis.Redis, prefix: str, slack: FakeSlack, twilio: FakeTwilio, smtp: FakeSmtp
) -> DeliveryWiring:
    destinations = Destinations(parse_config(CONFIG, "test.yaml"))
    p = destinations.presentation()
    sms = SmsChannel(twilio.account_sid, SecretStr(twilio.auth_token), "+15550009999",
                     api_url=twilio.url, presentation=p)  # fmt: skip
    channels = {
        "slack": SlackChannel(SecretStr(slack.token), slack.api_url, presentation=p),
        "sms": sms,
        "email": EmailChannel("127.0.0.1", smtp.port, starttls=False, presentation=p),
    }
    return DeliveryWiring(
        client=client, prefix=prefix, destinations=destinations, channels=channels,
        alerts=AlertStore(client, prefix), log=DeliveryLog(client, prefix),
        threads=RedisThreadStore(client, prefix), pager=Pager(client, prefix, sms, presentation=p),
        metrics=Metrics(client, prefix),
    )  # fmt: skip


@pytest.fixture
def world(
    redis_client: redis.Redis,
    key_prefix: str,
    fake_slack: FakeSlack,
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> World:
    ctx = make_ctx(redis_client, key_prefix, fake_slack, fake_twilio, fake_smtp)
    return World(ctx, AlertStore(redis_client, key_prefix), fake_slack, fake_twilio, fake_smtp)


def test_delivering_the_same_dedup_key_twice_posts_once(world: World) -> None:
    key = world.store(sample.alert())
    first = deliver_alert(key, world.ctx, NOW)
    second = deliver_alert(key, world.ctx, NOW)
    assert (first.status, second.status) == ("delivered", "already_delivered")
    assert len(world.slack.messages) == 1
    assert world.alerts.status(key) is AlertStatus.DELIVERED
    record = world.ctx.log.get(key)
    assert record is not None and record.message_id == first.message_ids[0]


def test_a_transient_error_is_raised_for_the_task_and_the_retry_posts_once(
    world: World,
) -> None:
    key = world.store(sample.alert())
    world.slack.fail_next(1, status=503)
    with pytest.raises(DeliveryError) as err:
        deliver_alert(key, world.ctx, NOW, attempt=0)
    assert not err.value.permanent
    assert world.alerts.status(key) is AlertStatus.PENDING
    assert deliver_alert(key, world.ctx, NOW, attempt=1).status == "delivered"
    assert len(world.slack.messages) == 1
    record = world.ctx.log.get(key)
    assert record is not None and record.attempts == 2
    assert [h["event"] for h in record.history] == ["attempt", "error", "attempt", "delivered"]


def test_a_permanent_error_records_failure_and_falls_back_to_email(world: World) -> None:
    key = world.store(sample.alert())
    world.slack.fail_next(1, status=200, error="channel_not_found")
    out = deliver_alert(key, world.ctx, NOW)
    assert out.status == "failed" and "channel_not_found" in out.error
    # the fallback is claimed as an alert of its own, delivered (and retried) by its own task
    assert out.fallback_key == f"{key}:fallback:email"
    world.smtp.refuse_once("lead@example.com", code=451)
    with pytest.raises(DeliveryError):  # a transient failure of the fallback is retried
        deliver_alert(out.fallback_key, world.ctx, NOW, attempt=0)
    assert deliver_alert(out.fallback_key, world.ctx, NOW, attempt=1).status == "delivered"
    assert sorted(m["To"] for m in world.smtp.messages) == [
        "lead@example.com",
        "oncall@example.com",
    ]
    assert world.alerts.status(key) is AlertStatus.FAILED
    assert world.alerts.status(out.fallback_key) is AlertStatus.DELIVERED
    # a rerun of either task changes nothing
    assert deliver_alert(key, world.ctx, NOW).status == "already_failed"
    assert deliver_alert(out.fallback_key, world.ctx, NOW).status == "already_delivered"
    assert len(world.smtp.messages) == 2


def test_the_final_attempt_failing_transiently_also_falls_back(world: World) -> None:
    key = world.store(sample.alert())
    world.slack.fail_next(1, status=500)
    out = deliver_alert(key, world.ctx, NOW, attempt=5, final=True)
    assert out.status == "failed"
    assert out.fallback_key is not None
    assert deliver_alert(out.fallback_key, world.ctx, NOW).status == "delivered"


def test_an_email_retry_after_a_partial_failure_sends_only_the_missing_address(
    world: World,
) -> None:
    key = world.store(sample.alert(channel="email", thread_key="t/email"))
    world.smtp.refuse_once("lead@example.com", code=451)  # the second address is deferred
    with pytest.raises(DeliveryError):
        deliver_alert(key, world.ctx, NOW)
    assert deliver_alert(key, world.ctx, NOW).status == "delivered"
    assert [m["To"] for m in world.smtp.messages] == ["oncall@example.com", "lead@example.com"]


def test_threads_survive_a_restart_and_updates_reply_under_the_parent(
    world: World, redis_client: redis.Redis, key_prefix: str
) -> None:
    deliver_alert(world.store(sample.alert()), world.ctx, NOW)
    restarted = make_ctx(redis_client, key_prefix, world.slack, world.twilio, world.smtp)
    deliver_alert(world.store(sample.update()), restarted, NOW)
    parent, reply = world.slack.messages
    assert reply["thread_ts"] == parent["ts"]
    assert world.slack.updates[0]["ts"] == parent["ts"]


def test_a_cascade_alert_replies_in_its_upstreams_thread_without_editing_it(
    world: World,
) -> None:
    upstream = sample.alert(key="az1", thread_key="azure:INC/sre/slack")
    deliver_alert(world.store(upstream), world.ctx, NOW)
    folded = replace(sample.alert(key="oa1"), attached_to="azure:INC/sre/slack")
    deliver_alert(world.store(folded), world.ctx, NOW)
    parent, reply = world.slack.messages
    assert reply["thread_ts"] == parent["ts"]
    assert reply["blocks"][0]["text"]["text"].startswith("*OpenAI: Elevated errors on API* · ")
    assert world.slack.updates == []


def test_a_paging_alert_pages_the_on_call_and_asks_for_escalation_checks(
    world: World,
) -> None:
    now = datetime(2024, 1, 3, 12, tzinfo=UTC)  # ana's week
    key = world.store(sample.alert(channel="sms", thread_key="t/sms"))
    out = deliver_alert(key, world.ctx, now)
    assert out.status == "delivered" and out.page_id
    assert out.check_escalation_at == now + timedelta(minutes=5)
    assert [m["To"] for m in world.twilio.sent] == ["+15550000001"]
    nxt = check_escalation(out.page_id, world.ctx, now + timedelta(minutes=5))
    assert nxt is None  # bo was the last member
    assert [m["To"] for m in world.twilio.sent] == ["+15550000001", "+15550000002"]
    resolved = sample.resolved(channel="sms", thread_key="t/sms")
    assert deliver_alert(world.store(resolved), world.ctx, now).status == "delivered"
    assert sum(m["Body"].startswith("[RESOLVED]") for m in world.twilio.sent) == 2


def test_an_sms_alert_that_is_not_a_page_is_skipped(world: World) -> None:
    quiet = replace(sample.update(channel="sms"), page=False)
    out = deliver_alert(world.store(quiet), world.ctx, NOW)
    assert out.status == "skipped"
    assert world.twilio.sent == []


def test_a_delivery_in_progress_elsewhere_is_retried_later(
    world: World, redis_client: redis.Redis, key_prefix: str
) -> None:
    key = world.store(sample.alert())
    redis_client.set(f"{key_prefix}:delivery:lock:{key}", "other-worker", px=5000)
    with pytest.raises(DeliveryError) as err:
        deliver_alert(key, world.ctx, NOW)
    assert not err.value.permanent and err.value.retry_after
    assert world.slack.messages == []


def test_a_lock_of_a_worker_whose_heartbeat_is_gone_is_taken_over(
    world: World, redis_client: redis.Redis, key_prefix: str
) -> None:
    # celery@alive wrote its heartbeat a moment ago; celery@dead's is 20 s old (3
    # intervals of 5 s make it stale after 15 s): its lock is taken over, not waited out.
    workers = f"{key_prefix}:heartbeat:workers"
    redis_client.zadd(workers, {"celery@alive": NOW.timestamp() - 1})
    redis_client.zadd(workers, {"celery@dead": NOW.timestamp() - 20})
    alive = world.store(sample.alert(key="ev-a", thread_key="t/a"))
    dead = world.store(sample.alert(key="ev-d", thread_key="t/d"))
    redis_client.set(f"{key_prefix}:delivery:lock:{alive}", "celery@alive|t1", px=90_000)
    redis_client.set(f"{key_prefix}:delivery:lock:{dead}", "celery@dead|t2", px=90_000)
    with pytest.raises(NotYet):
        deliver_alert(alive, world.ctx, NOW)
    assert deliver_alert(dead, world.ctx, NOW).status == "delivered"
    assert len(world.slack.messages) == 1
    assert not redis_client.exists(f"{key_prefix}:delivery:lock:{dead}")  # released
    assert redis_client.get(f"{key_prefix}:delivery:lock:{alive}") == b"celery@alive|t1"


def test_missing_and_held_alerts_send_nothing(world: World) -> None:
    assert deliver_alert("nope", world.ctx, NOW).status == "missing"
    held = replace(sample.alert(), hold_until=NOW + timedelta(hours=1))
    out = deliver_alert(world.store(held), world.ctx, NOW)
    assert out.status == "held" and out.not_before == held.hold_until
    assert world.slack.messages == []


def test_the_delivery_log_prints_as_a_table_and_as_json(world: World) -> None:
    key = world.store(sample.alert(title="Title \x1b[31mred\x1b[0m"))
    deliver_alert(key, world.ctx, NOW)
    out = io.StringIO()
    show(world.ctx.log.recent(10), as_json=False, out=out)
    assert "delivered" in out.getvalue() and "Title red" in out.getvalue()
    assert "\x1b" not in out.getvalue()
    out = io.StringIO()
    show(world.ctx.log.recent(10), as_json=True, out=out)
    (line,) = out.getvalue().splitlines()
    assert json.loads(line)["dedup_key"] == key


@pytest.fixture
def console_ctx(redis_client: redis.Redis, key_prefix: str) -> Iterator[DeliveryWiring]:
    settings = Settings(_env_file=None, key_prefix=key_prefix)
    yield DeliveryWiring.build(
        settings, parse_config(CONFIG, "test.yaml"), redis_client, key_prefix
    )


def test_without_credentials_alerts_print_to_the_console(
    console_ctx: DeliveryWiring, capsys: pytest.CaptureFixture[str]
) -> None:
    alert = sample.alert(title="Outage \x1b]0;pwned\x07 here")
    assert console_ctx.alerts.claim(alert)  # type: ignore[attr-defined]
    out = deliver_alert(alert.dedup_key, console_ctx, NOW)
    printed = capsys.readouterr().out
    assert out.status == "printed"
    assert "[MAJOR] OpenAI: Outage here" in printed
    assert "Upstream: Azure SCUS power" in printed
    assert "\x1b" not in printed and "\x07" not in printed


def test_a_change_prints_once_for_all_of_a_subscribers_routes_and_each_says_printed(
    console_ctx: DeliveryWiring, redis_client: redis.Redis, key_prefix: str,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    # The same change to one subscriber on slack, email and SMS (a page): the console
    # stands in for all three, and used to print the block three times.
    alerts = [sample.alert(channel=name) for name in ("slack", "email", "sms")]
    caplog.set_level("INFO", logger="notifier.pipeline.delivery.attempt")
    for alert in alerts:
        assert console_ctx.alerts.claim(alert)  # type: ignore[attr-defined]
        assert deliver_alert(alert.dedup_key, console_ctx, NOW).status == "printed"
    printed = capsys.readouterr().out
    assert printed.count("[MAJOR] OpenAI:") == 1
    assert "to sre (printed here: no channel has credentials)" in printed
    records = {a.channel: DeliveryLog(redis_client, key_prefix).get(a.dedup_key) for a in alerts}
    assert {c: (r.outcome, r.message_id) for c, r in records.items() if r} == {
        "slack": ("printed", "printed (no Slack credentials)"),
        "email": ("printed", "printed (no email credentials)"),
        "sms": ("printed", "printed (no SMS credentials)"),
    }
    said = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert any(m.startswith("printed (no Slack credentials): new_incident") for m in said)
    assert not any("delivered" in m for m in said)
    # A rerun of the task is a no-op, not a second print.
    assert deliver_alert(alerts[0].dedup_key, console_ctx, NOW).status == "already_printed"
    assert capsys.readouterr().out == ""


def test_a_subscribers_own_webhook_works_without_a_bot_token(
    redis_client: redis.Redis, key_prefix: str, fake_slack: FakeSlack
) -> None:
    config = parse_config(
        "providers:\n  - id: openai\nsubscribers:\n  - name: sre\n"
        f"    slack: {{webhook_url: '{fake_slack.webhook_url}'}}\n",
        "test.yaml",
    )
    settings = Settings(_env_file=None, key_prefix=key_prefix)
    ctx = DeliveryWiring.build(settings, config, redis_client, key_prefix)
    alert = sample.alert()
    assert AlertStore(redis_client, key_prefix).claim(alert)
    assert deliver_alert(alert.dedup_key, ctx, NOW).status == "delivered"
    assert len(fake_slack.webhook_posts) == 1


def test_a_retried_delivery_is_listed_once_in_the_recent_log(world: World) -> None:
    key = world.store(sample.alert())
    world.slack.fail_next(1, status=503)
    with pytest.raises(DeliveryError):
        deliver_alert(key, world.ctx, NOW, attempt=0)
    deliver_alert(key, world.ctx, NOW, attempt=1)
    recent = world.ctx.log.recent(limit=10)
    assert [r.dedup_key for r in recent] == [key]
    assert recent[0].attempts == 2


def test_a_rate_limit_pauses_the_channel_for_every_worker_without_using_up_retries(
    world: World,
) -> None:
    first = world.store(sample.alert(key="ev1"))
    second = world.store(sample.alert(key="ev2", subscriber="sre"))
    world.slack.fail_next(1, status=429, error="ratelimited", retry_after=30)
    with pytest.raises(DeliveryError) as limited:
        deliver_alert(first, world.ctx, NOW)
    assert limited.value.retry_after == 30 and not isinstance(limited.value, NotYet)
    calls = len(world.slack.requests)

    # Another alert for Slack now waits without calling Slack, spread over the next window;
    # even on its final attempt a pause is a wait, not a failure.
    with pytest.raises(NotYet) as paused:
        deliver_alert(second, world.ctx, NOW + timedelta(seconds=10), attempt=8, final=True)
    assert paused.value.retry_after is not None and 20 <= paused.value.retry_after <= 40
    assert len(world.slack.requests) == calls and world.alerts.status(second) is AlertStatus.PENDING

    # Email and SMS are not paused by Slack's limit.
    email = world.store(sample.alert(key="ev3", channel="email"))
    assert deliver_alert(email, world.ctx, NOW + timedelta(seconds=10)).status == "delivered"

    later = NOW + timedelta(seconds=31)
    assert deliver_alert(first, world.ctx, later, attempt=1).status == "delivered"
    assert deliver_alert(second, world.ctx, later).status == "delivered"
