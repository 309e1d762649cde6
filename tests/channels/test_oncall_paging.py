"""Paging in real Redis through Twilio's client and the fake API: codes, escalation,
acks, resolution, idempotent retries and the per-number rate cap."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.base import DeliveryError
from notifier.channels.render import Presentation
from notifier.channels.sms import gsm
from notifier.channels.sms.acks import parse_ack
from notifier.channels.sms.cap import CAP_NOTICE
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager, Recipients
from notifier.config.schema.oncall import Member, Rotation
from notifier.models import Alert, EventKind
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
        }
    )
)
NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)  # ana's week
NAMES = Presentation({"openai": "OpenAI"})


@pytest.fixture
def pager(redis_client: redis.Redis, key_prefix: str, fake_twilio: FakeTwilio) -> Pager:
    sms = SmsChannel(
        fake_twilio.account_sid, SecretStr(fake_twilio.auth_token), "+15550009999",
        api_url=fake_twilio.url,
    )  # fmt: skip
    return Pager(redis_client, key_prefix, sms, presentation=NAMES)


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


def test_a_page_retried_after_the_incident_resolved_sends_nothing(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    page_alert = sample.alert(channel="sms")
    fake_twilio.fail_next(1, status=503)
    with pytest.raises(DeliveryError):
        pager.page(page_alert, ROTA, NOW)  # the first attempt fails; the task will retry
    # the resolution runs first and reaches nobody: nobody was paged yet
    done = pager.resolve(sample.resolved(channel="sms"), NOW + timedelta(minutes=3))
    assert done.message_ids == ()
    retry = pager.page(page_alert, ROTA, NOW + timedelta(minutes=5))
    assert retry.message_ids == () and retry.check_at is None
    assert "resolved" in retry.skipped
    assert fake_twilio.sent == []
    assert pager.check_escalation(retry.page_id or "", NOW + timedelta(minutes=40)) is None
    assert fake_twilio.sent == []


def test_a_page_arriving_after_its_resolution_never_starts(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    nobody = pager.resolve(sample.resolved(channel="sms"), NOW)
    assert nobody.page_id is None and nobody.skipped
    late = pager.page(sample.alert(channel="sms"), ROTA, NOW + timedelta(minutes=1))
    assert late.page_id is None and late.check_at is None
    assert "resolved" in late.skipped
    assert fake_twilio.sent == []


def test_a_reopened_incident_pages_again_after_its_resolution(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    pager.resolve(sample.resolved(channel="sms"), NOW)
    reopened = sample.alert(
        channel="sms", key="ev10", event_kind=EventKind.REOPENED,
        detected_at=sample.resolved().event.detected_at + timedelta(minutes=20),
    )  # fmt: skip
    out = pager.page(reopened, ROTA, NOW + timedelta(minutes=20))
    assert [m["To"] for m in fake_twilio.sent] == [ANA.phone]
    assert not out.skipped and out.check_at is not None


class ResolvingDuringSend(SmsChannel):
    """A real Twilio client whose first send lets a resolution run mid-flight."""

    def __init__(self, fake: FakeTwilio) -> None:
        super().__init__(fake.account_sid, SecretStr(fake.auth_token), "+15550009999",
                         api_url=fake.url)  # fmt: skip
        self.during: list[Callable[[], object]] = []

    def send_text(self, number: str, text: str) -> str:
        sid = super().send_text(number, text)
        while self.during:
            self.during.pop()()
        return sid


def test_a_resolution_racing_the_page_still_reaches_whoever_was_paged(
    redis_client: redis.Redis, key_prefix: str, fake_twilio: FakeTwilio
) -> None:
    sms = ResolvingDuringSend(fake_twilio)
    pager = Pager(redis_client, key_prefix, sms, presentation=NAMES)
    resolution = sample.resolved(channel="sms")
    sms.during.append(lambda: pager.resolve(resolution, NOW + timedelta(minutes=1)))
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    bodies = fake_twilio.to(ANA.phone)
    assert len(bodies) == 2 and bodies[1].startswith("[RESOLVED]")
    assert out.check_at is None
    assert pager.check_escalation(out.page_id or "", NOW + timedelta(minutes=30)) is None
    assert len(fake_twilio.sent) == 2


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


def capped_pager(pager: Pager, limit: int = 3) -> Pager:
    return Pager(pager.r, pager.prefix, pager.sms, rate_limit=limit, presentation=NAMES)


def nth_alert(i: int) -> Alert:
    return sample.alert(channel="sms", key=f"e{i}", thread_key=f"t{i}")


def test_the_last_message_under_the_rate_cap_still_carries_the_page(
    pager: Pager, fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    capped = capped_pager(pager)
    static = Recipients(numbers=(ANA.phone,))
    outs = [capped.page(nth_alert(i), static, NOW) for i in range(5)]
    bodies = fake_twilio.to(ANA.phone)
    assert len(bodies) == 3
    last = bodies[2]
    # the page itself: severity, provider, the start of the title, its own ack code
    assert last.startswith("[MAJOR] OpenAI: Elevated errors")
    assert last.endswith(f"Reply 4 {outs[2].code} to ack{CAP_NOTICE}")
    assert gsm.encode(last).units <= gsm.GSM_LIMIT  # still one segment
    assert CAP_NOTICE not in bodies[1]
    # beyond the cap: nothing sent, recorded with the number masked to its last 4 digits
    assert outs[3].suppressed == ("***0001",) and outs[4].suppressed == ("***0001",)
    assert not outs[3].message_ids
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "suppressed" in logged and "***0001" in logged
    assert ANA.phone not in logged


def test_the_rate_cap_counts_the_last_sixty_minutes_not_the_clock_hour(
    pager: Pager, fake_twilio: FakeTwilio
) -> None:
    capped = capped_pager(pager)
    static = Recipients(numbers=(ANA.phone,))
    sends = [  # (minutes after NOW, whether it reaches the phone)
        (0, True),
        (20, True),
        (40, True),  # the third within the hour: the last allowed
        (59, False),  # three in the last 60 minutes
        (61, True),  # the one at +0 has left the window (a clock hour would allow two)
        (70, False),  # +20, +40 and +61 are within the window
    ]
    for i, (minutes, delivered) in enumerate(sends):
        out = capped.page(nth_alert(i), static, NOW + timedelta(minutes=minutes))
        assert bool(out.message_ids) is delivered, minutes
    assert len(fake_twilio.to(ANA.phone)) == 4


def test_a_failed_send_does_not_use_up_the_rate_cap(pager: Pager, fake_twilio: FakeTwilio) -> None:
    capped = capped_pager(pager, limit=2)
    static = Recipients(numbers=(ANA.phone,))
    fake_twilio.fail_next(1, status=500)
    with pytest.raises(DeliveryError):
        capped.page(nth_alert(0), static, NOW)
    capped.page(nth_alert(0), static, NOW)  # the retry
    capped.page(nth_alert(1), static, NOW)
    bodies = fake_twilio.to(ANA.phone)
    assert len(bodies) == 2 and bodies[1].endswith(CAP_NOTICE)


@pytest.mark.parametrize(
    "title",
    [
        # a long GSM title: shortened so the notice fits in 160 septets
        "Elevated error rates and latency across the Chat Completions, Assistants, "
        "Batch and Fine-tuning APIs in all regions",
        # non-GSM letters force UCS-2 and its 70-unit segment
        "Повышенное количество ошибок API во всех регионах",
    ],
)
def test_the_cap_notice_fits_one_segment_in_either_alphabet(
    pager: Pager, fake_twilio: FakeTwilio, title: str
) -> None:
    capped = capped_pager(pager, limit=1)
    out = capped.page(sample.alert(channel="sms", title=title), Recipients((ANA.phone,)), NOW)
    (body,) = fake_twilio.to(ANA.phone)
    encoded = gsm.encode(body)
    assert encoded.units <= encoded.limit
    assert body.startswith("[MAJOR] OpenAI")
    assert body.endswith(f"Reply 4 {out.code} to ack{CAP_NOTICE}")


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
    loaded = fresh.pages.load(out.page_id or "")
    assert loaded is not None and loaded.acked_by == "ana"
    assert replace(loaded).paged == [ANA.phone]


def test_a_page_record_written_before_an_upgrade_reads_back_with_the_same_fields(
    redis_client: redis.Redis, key_prefix: str, pager: Pager
) -> None:
    # As stored by a running deployment: members as [name, phone]; a static number
    # is its own name.
    stored = {
        "id": "0123456789abcdef", "code": "K7", "thread_key": "t1", "dedup_key": "d1",
        "subscriber": "ops", "text": "[MAJOR] OpenAI: down. Reply 4 K7 to ack",
        "resolved_text": "", "order": [["ana", ANA.phone], [BO.phone, BO.phone]],
        "level": 0, "last_paged_at": "2024-01-01T12:00:00Z", "escalate_after": 600.0,
        "escalates": True, "paged": [ANA.phone], "acked_by": None, "acked_at": None,
        "resolved_at": None, "detected_at": "2024-01-01T11:59:00Z",
    }  # fmt: skip
    redis_client.set(f"{key_prefix}:page:0123456789abcdef", json.dumps(stored))
    loaded = pager.pages.load("0123456789abcdef")
    assert loaded is not None
    assert [(m.name, m.phone) for m in loaded.order] == [("ana", ANA.phone), (BO.phone, BO.phone)]
    assert json.loads(loaded.to_json()) == stored
