"""An ack always wins: races between an SMS acknowledgement and an escalation that
is already running, with real threads, real Redis and Twilio's client against the
fake (slowed down, so the ack lands while the escalation's SMS is on its way)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.base import DeliveryError
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager, Recipients
from notifier.config.schema.oncall import Member, Rotation
from tests.fakes import sample
from tests.fakes.twilio_api import FakeTwilio

ANA, BO, CY = (
    Member(name="ana", phone="+15550000001"),
    Member(name="bo", phone="+15550000002"),
    Member(name="cy", phone="+15550000003"),
)
ROTA = Recipients(
    rotation=Rotation.model_validate(
        {
            "members": [ANA, BO, CY],
            "handoff": {"weekday": "monday", "time": time(9), "timezone": "UTC"},
            "start": date(2024, 1, 1),
            "escalate_after_minutes": 5,
        }
    )
)
NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)  # ana's week
DUE = NOW + timedelta(minutes=5)


@pytest.fixture
def pager(redis_client: redis.Redis, key_prefix: str, fake_twilio: FakeTwilio) -> Pager:
    sms = SmsChannel(fake_twilio.account_sid, SecretStr(fake_twilio.auth_token),
                     "+15550009999", api_url=fake_twilio.url)  # fmt: skip
    return Pager(redis_client, key_prefix, sms)


def escalate_in_thread(pager: Pager, page_id: str) -> tuple[threading.Thread, list[object]]:
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(pager.check_escalation(page_id, DUE)))
    thread.start()
    return thread, result


def test_an_ack_during_a_running_escalation_is_not_overwritten_by_it(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id and out.code
    fake_twilio.answer_after(1.0)  # bo's SMS is on its way for a second
    thread, _ = escalate_in_thread(pager, out.page_id)
    assert fake_twilio.accepted.wait(10)

    ack = pager.ack(ANA.phone, f"4 {out.code}", DUE)  # while the escalation runs

    thread.join(10)
    assert ack.ok
    page = pager.pages.load(out.page_id)
    assert page is not None and page.acked_by == "ana"  # the escalation's save kept it
    # and nobody else is woken
    assert pager.check_escalation(out.page_id, DUE + timedelta(hours=1)) is None
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone, BO.phone]


def test_a_slack_ack_during_a_running_escalation_is_not_overwritten_by_it(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id
    fake_twilio.answer_after(1.0)  # bo's SMS is on its way for a second
    thread, _ = escalate_in_thread(pager, out.page_id)
    assert fake_twilio.accepted.wait(10)

    ack = pager.acknowledge(out.page_id, "@ana.lopez", DUE)  # the button, meanwhile

    thread.join(10)
    assert ack.ok
    page = pager.pages.load(out.page_id)
    assert page is not None and page.acked_by == "@ana.lopez"  # the escalation's save kept it
    assert pager.check_escalation(out.page_id, DUE + timedelta(hours=1)) is None
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone, BO.phone]
    # An SMS ACK after it does not take it over: the first acknowledgement stands.
    assert pager.ack(BO.phone, f"4 {out.code}", DUE + timedelta(minutes=1)).ok
    page = pager.pages.load(out.page_id)
    assert page is not None and (page.acked_by, page.acked_at) == ("@ana.lopez", DUE)


def test_the_first_ack_stands_when_two_people_answer(pager: Pager) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id and out.code
    pager.check_escalation(out.page_id, DUE)  # bo is paged too
    first = pager.ack(BO.phone, f"4 {out.code}", DUE)
    second = pager.ack(ANA.phone, f"4 {out.code}", DUE + timedelta(seconds=1))
    assert first.ok and second.ok and "bo" in second.reply
    page = pager.pages.load(out.page_id)
    assert page is not None and (page.acked_by, page.acked_at) == ("bo", DUE)


def test_an_escalation_whose_lock_another_worker_took_leaves_that_lock_alone(
    pager: Pager, fake_twilio: FakeTwilio, redis_client: redis.Redis, key_prefix: str
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id
    lock = f"{key_prefix}:page:lock:{out.page_id}"
    fake_twilio.answer_after(1.0)
    thread, _ = escalate_in_thread(pager, out.page_id)
    assert fake_twilio.accepted.wait(10)
    # Its lock lapsed while it waited for Twilio, and another worker took it.
    redis_client.set(lock, "someone-else")

    thread.join(10)

    assert redis_client.get(lock) == b"someone-else"


def test_an_escalation_checks_the_ack_again_after_taking_its_lock(
    pager: Pager, fake_twilio: FakeTwilio, redis_client: redis.Redis, key_prefix: str
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id and out.code
    # An escalation holds the lock while ana acknowledges; the next one to run must see
    # the ack even though the page record it loads was saved without it.
    lock = f"{key_prefix}:page:lock:{out.page_id}"
    redis_client.set(lock, "running")
    assert pager.ack(ANA.phone, f"4 {out.code}", DUE).ok
    record = redis_client.get(f"{key_prefix}:page:{out.page_id}")
    assert record is not None and b'"acked_by": null' in record  # the ack is its own key
    redis_client.delete(lock)

    assert pager.check_escalation(out.page_id, DUE) is None
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone]


def test_an_sms_twilio_took_without_answering_is_looked_up_before_an_escalation_resends(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id
    fake_twilio.accept_then_drop(1)
    with pytest.raises(DeliveryError) as lost:
        pager.check_escalation(out.page_id, DUE)
    assert lost.value.unknown

    pager.check_escalation(out.page_id, DUE)

    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone, BO.phone]
