"""Within the vendors' limits: each Slack channel and the SMS sending number get their
documented rate, a 429 pauses only what it limited, and SMTP sessions are bounded."""

from __future__ import annotations

import threading

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.base import DeliveryError, NotYet
from notifier.channels.email.channel import EmailChannel, EmailTarget
from notifier.channels.slack.channel import SlackChannel, SlackTarget
from notifier.channels.sms.channel import SmsChannel
from notifier.store.delivery.pacing import Pacing, Rate
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.store.test_pacing import Clock

OPS, WEB = SlackTarget(channel="#ops"), SlackTarget(channel="#web")


ONE_A_SECOND = Rate(1.0, 2)


def slack(fake: FakeSlack, gate: Pacing, rate: Rate = ONE_A_SECOND) -> SlackChannel:
    return SlackChannel(
        token=SecretStr(fake.token), api_url=fake.api_url, gate=gate, channel_rate=rate
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate(redis_client: redis.Redis, key_prefix: str, clock: Clock) -> Pacing:
    return Pacing(redis_client, key_prefix, clock)


def test_a_slack_channel_gets_its_burst_and_then_waits_its_turn(
    fake_slack: FakeSlack, gate: Pacing, clock: Clock
) -> None:
    ch = slack(fake_slack, gate)
    ch.send(sample.alert(key="a"), OPS, None)
    ch.send(sample.alert(key="b"), OPS, None)
    with pytest.raises(NotYet) as held:
        ch.send(sample.alert(key="c"), OPS, None)
    assert held.value.retry_after is not None and 0.9 < held.value.retry_after <= 1.0
    ch.send(sample.alert(key="c"), WEB, None)  # another channel is not held
    clock.at += 1.0
    ch.send(sample.alert(key="c"), OPS, None)
    assert [m["body"]["channel"] for m in fake_slack.messages] == ["#ops", "#ops", "#web", "#ops"]


def test_a_429_on_a_post_pauses_that_channel_only(
    fake_slack: FakeSlack, gate: Pacing, clock: Clock
) -> None:
    ch = slack(fake_slack, gate, Rate(100.0, 100))
    fake_slack.fail_next(1, status=429, retry_after=30)
    with pytest.raises(DeliveryError) as limited:
        ch.send(sample.alert(key="a"), OPS, None)
    # No Retry-After goes on: it would pause every Slack destination (delivery/attempt.py)
    assert limited.value.retry_after is None and not limited.value.permanent
    assert "#ops paused 30 s" in limited.value.message
    with pytest.raises(NotYet) as held:
        ch.send(sample.alert(key="a"), OPS, None)
    assert held.value.retry_after is not None and 29 < held.value.retry_after <= 30
    ch.send(sample.alert(key="b"), WEB, None)
    clock.at += 31
    ch.send(sample.alert(key="a"), OPS, None)
    assert [m["body"]["channel"] for m in fake_slack.messages] == ["#web", "#ops"]


def test_a_429_on_another_method_pauses_that_method_in_every_channel(
    fake_slack: FakeSlack, gate: Pacing
) -> None:
    ch = slack(fake_slack, gate, Rate(100.0, 100))
    ops = ch.send(sample.alert(key="a"), OPS, None).thread_ref
    web = ch.send(sample.alert(key="b"), WEB, None).thread_ref
    fake_slack.fail_next(1, status=429, retry_after=20)  # the parent's chat.update
    with pytest.raises(DeliveryError) as limited:
        ch.send(sample.update(), OPS, ops)
    assert "chat_update paused 20 s" in limited.value.message
    with pytest.raises(NotYet):  # a reply edits its parent first: it waits too
        ch.send(sample.update(), WEB, web)


def test_the_sending_number_sends_at_its_rate(
    fake_twilio: FakeTwilio, gate: Pacing, clock: Clock
) -> None:
    sms = SmsChannel(fake_twilio.account_sid, SecretStr(fake_twilio.auth_token), "+15550001111",
                     api_url=fake_twilio.url, gate=gate, rate=Rate(1.0, 2))  # fmt: skip
    sms.send_text("+15550100001", "one")
    sms.send_text("+15550100002", "two")
    with pytest.raises(NotYet):
        sms.send_text("+15550100003", "three")
    clock.at += 1.0
    sms.send_text("+15550100003", "three")
    assert [m["Body"] for m in fake_twilio.sent] == ["one", "two", "three"]


def test_a_process_keeps_at_most_its_smtp_sessions_however_many_threads_send(
    fake_smtp: FakeSmtp,
) -> None:
    ch = EmailChannel("127.0.0.1", fake_smtp.port, "notifier@example.com", starttls=False,
                      max_sessions=2)  # fmt: skip
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        start.wait()
        for k in range(3):
            try:
                ch.send(
                    sample.alert(channel="email", key=f"ev{n}-{k}"),
                    EmailTarget("a@example.com"),
                    None,
                )
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(fake_smtp.messages) == 24
    assert fake_smtp.sessions <= 2
