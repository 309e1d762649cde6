"""Paging in real Redis through Twilio's client and the fake API: codes, escalation,
acks, resolution, idempotent retries and the per-number rate cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.base import DeliveryError
from notifier.channels.render import Presentation
from notifier.channels.sms import SmsChannel
from notifier.oncall import Member, Rotation
from notifier.paging import Pager, Recipients, parse_ack
from tests.fakes import sample
from tests.fakes.twilio_api import FakeTwilio

ANA, BO, CY = (Member("ana", "+15550000001"), Member("bo", "+15550000002"),
               Member("cy", "+15550000003"))  # fmt: skip
ROTA = Recipients(
    rotation=Rotation("primary", (ANA, BO, CY), 0, time(9), "UTC", anchor=date(2024, 1, 1))
)
NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)  # ana's week


@pytest.fixture
def pager(redis_client: redis.Redis, key_prefix: str, fake_twilio: FakeTwilio) -> Pager:
    sms = SmsChannel(
        fake_twilio.account_sid, SecretStr(fake_twilio.auth_token), "+15550009999",
        api_url=fake_twilio.url,
    )  # fmt: skip
    return Pager(redis_client, key_prefix, sms, presentation=Presentation({"openai": "OpenAI"}))


def test_a_page_goes_to_whoever_is_on_call_with_a_short_ack_code(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone]
    assert out.code and len(out.code) == 2
    assert fake_twilio.sent[0]["Body"].endswith(f"Reply 4 {out.code} to ack")
    assert out.check_at == NOW + timedelta(minutes=10)


def test_an_unacknowledged_page_escalates_through_the_rotation(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id
    # not yet due: nothing sent, check again at the due time
    assert pager.check_escalation(out.page_id, NOW + timedelta(minutes=5)) == out.check_at
    assert len(fake_twilio.sent) == 1
    # due: bo is paged, cy is due ten minutes later
    again = pager.check_escalation(out.page_id, NOW + timedelta(minutes=10))
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone, BO.phone]
    assert again == NOW + timedelta(minutes=20)
    # the same check run twice does not page twice
    pager.check_escalation(out.page_id, NOW + timedelta(minutes=10))
    assert len(fake_twilio.sent) == 2
    # cy, then nobody is left
    assert pager.check_escalation(out.page_id, NOW + timedelta(minutes=20)) is None
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone, BO.phone, CY.phone]


@pytest.mark.parametrize("reply", ["4 {code}", "ACK {code}", "ack {lower}", " 4  {lower} thanks"])
def test_a_reply_with_the_code_acknowledges_and_stops_escalation(
    pager: Pager, fake_twilio: FakeTwilio, reply: str
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.code and out.page_id
    body = reply.format(code=out.code, lower=out.code.lower())
    result = pager.ack(ANA.phone, body, NOW + timedelta(minutes=2))
    assert result.ok and "ana" in result.reply
    assert pager.check_escalation(out.page_id, NOW + timedelta(minutes=30)) is None
    assert len(fake_twilio.sent) == 1


def test_a_stranger_or_a_wrong_code_cannot_acknowledge(pager: Pager) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id
    assert not pager.ack("+15550004444", f"4 {out.code}", NOW).ok
    assert not pager.ack(ANA.phone, "4 Q9Q", NOW).ok
    assert not pager.ack(ANA.phone, "on it", NOW).ok
    assert pager.check_escalation(out.page_id, NOW + timedelta(minutes=10)) is not None


@pytest.mark.parametrize(
    ("body", "code"),
    [("4 K7", "K7"), ("ack k7", "K7"), ("ACK: B23", "B23"), ("4", None), ("K7", None), ("", None)],
)
def test_ack_replies_parse(body: str, code: str | None) -> None:
    assert parse_ack(body) == code


def test_resolution_texts_everyone_paged_once_and_stops_escalation(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id
    pager.check_escalation(out.page_id, NOW + timedelta(minutes=10))  # bo paged too
    done = pager.resolve(sample.resolved(channel="sms"), NOW + timedelta(minutes=12))
    pager.resolve(sample.resolved(channel="sms"), NOW + timedelta(minutes=13))  # a retry
    resolved = [m for m in fake_twilio.sent if m["Body"].startswith("[RESOLVED]")]
    assert sorted(m["To"] for m in resolved) == [ANA.phone, BO.phone]
    assert len(done.message_ids) == 2
    assert pager.check_escalation(out.page_id, NOW + timedelta(minutes=40)) is None


def test_a_retry_after_a_partial_failure_sends_only_what_is_missing(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    static = Recipients(numbers=(ANA.phone, BO.phone))
    alert = sample.alert(channel="sms")
    pager.page(alert, static, NOW)  # warm: both sent
    assert len(fake_twilio.sent) == 2
    other = sample.alert(channel="sms", key="ev7", thread_key="other-thread")
    fake_twilio.fail_next(1, status=500)
    with pytest.raises(DeliveryError):
        pager.page(other, static, NOW)  # ana's send fails
    pager.page(other, static, NOW)  # the retry
    pager.page(other, static, NOW)  # and a duplicate task run
    assert [m["To"] for m in fake_twilio.sent[2:]] == [ANA.phone, BO.phone]


def test_a_later_paging_alert_of_an_open_incident_reuses_its_code(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    first = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    second = pager.page(sample.update(channel="sms"), ROTA, NOW + timedelta(minutes=3))
    assert second.code == first.code and second.page_id == first.page_id
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone, ANA.phone]


def test_the_rate_cap_sends_one_last_notice_then_suppresses(
    redis_client: redis.Redis, key_prefix: str, pager: Pager, fake_twilio: FakeTwilio
) -> None:
    capped = Pager(redis_client, key_prefix, pager.sms, rate_limit=3)
    static = Recipients(numbers=(ANA.phone,))
    outs = [
        capped.page(sample.alert(channel="sms", key=f"e{i}", thread_key=f"t{i}"), static, NOW)
        for i in range(5)
    ]
    bodies = fake_twilio.to(ANA.phone)
    assert len(bodies) == 3
    assert "further alerts suppressed" in bodies[2]
    assert outs[3].suppressed == (ANA.phone,) and outs[4].suppressed == (ANA.phone,)
    # a new window starts fresh
    capped.page(
        sample.alert(channel="sms", key="late", thread_key="tl"), static, NOW + timedelta(hours=1)
    )
    assert len(fake_twilio.to(ANA.phone)) == 4


def test_an_empty_static_list_is_a_permanent_error(pager: Pager) -> None:
    with pytest.raises(DeliveryError) as err:
        pager.page(sample.alert(channel="sms"), Recipients(), NOW)
    assert err.value.permanent


def test_pages_survive_a_new_pager_instance(
    redis_client: redis.Redis, key_prefix: str, pager: Pager, fake_twilio: FakeTwilio
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    fresh = Pager(redis_client, key_prefix, pager.sms)  # a restarted worker
    assert fresh.ack(ANA.phone, f"4 {out.code}", NOW).ok
    loaded = fresh.load(out.page_id or "")
    assert loaded is not None and loaded.acked_by == "ana"
    assert replace(loaded).paged == [ANA.phone]
