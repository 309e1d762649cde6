"""Pages (each escalation, the acknowledgement) and silences (and what each muted) reach
the history through the outbox from where they are already recorded: the pager on real
Redis with Twilio's client and the fake API, the silence store, the delivery log."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import redis
from pydantic import SecretStr
from sqlalchemy import select

from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager, Recipients
from notifier.config.schema.oncall import Member, Rotation
from notifier.history import db
from notifier.history import tables as t
from notifier.history.drain import drain
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from notifier.store.ops.outbox import Outbox
from notifier.store.ops.silences import SilenceStore, make
from tests.fakes import sample
from tests.fakes.twilio_api import FakeTwilio

NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
ROTA = Recipients(
    rotation=Rotation.model_validate({
        "members": [Member(name="ana", phone="+15550000001"),
                    Member(name="bo", phone="+15550000002")],
        "handoff": {"weekday": "monday", "time": time(9), "timezone": "UTC"},
        "start": date(2024, 1, 1),
    })
)  # fmt: skip


def test_a_page_its_escalation_and_its_ack_are_in_the_history(
    redis_client: redis.Redis, key_prefix: str, fake_twilio: FakeTwilio, history_url: str
) -> None:
    sms = SmsChannel(fake_twilio.account_sid, SecretStr(fake_twilio.auth_token),
                     "+15550009999", api_url=fake_twilio.url)  # fmt: skip
    pager = Pager(redis_client, key_prefix, sms)
    out = pager.page(sample.alert(channel="sms"), ROTA, NOW)
    assert out.page_id and out.code
    pager.check_escalation(out.page_id, NOW + timedelta(minutes=10))  # bo is woken
    assert pager.ack("+15550000002", f"4 {out.code}", NOW + timedelta(minutes=12)).ok
    done = drain(Outbox(redis_client, key_prefix), db.engine_for(history_url), {})
    assert done.left == 0 and not done.error
    with db.engine_for(history_url).connect() as conn:
        page = conn.execute(select(t.pages)).one()
        steps = conn.execute(select(t.page_escalations).order_by("level")).all()
    assert (page.page_id, page.level, page.acked_by) == (out.page_id, 1, "bo")
    assert db.utc(page.acked_at) == NOW + timedelta(minutes=12)
    assert db.utc(page.first_paged_at) == NOW and page.order == ["ana", "bo"]
    assert [(s.level, s.member, db.utc(s.at)) for s in steps] == [
        (0, "ana", NOW), (1, "bo", NOW + timedelta(minutes=10))]  # fmt: skip


def test_a_silence_and_the_alert_it_muted_are_in_the_history(
    redis_client: redis.Redis, key_prefix: str, history_url: str
) -> None:
    store = SilenceStore(redis_client, key_prefix)
    silence = store.add(make("openai", lasting=timedelta(hours=2), reason="planned work",
                             by="ana", now=NOW))  # fmt: skip
    alert = sample.alert()
    log = DeliveryLog(redis_client, key_prefix)
    log.attempt(alert, 0, NOW)
    AlertStore(redis_client, key_prefix).finish(
        alert.dedup_key, AlertStatus.SILENCED, NOW, message_id=f"silence:{silence.id}"
    )
    store.expire(silence.id, NOW + timedelta(minutes=30), "bo")
    assert not drain(Outbox(redis_client, key_prefix), db.engine_for(history_url), {}).error
    with db.engine_for(history_url).connect() as conn:
        row = conn.execute(select(t.silences)).one()
        muted = conn.execute(select(t.silence_mutes)).one()
        tried = conn.execute(select(t.deliveries)).one()
    assert (row.silence_id, row.created_by, row.expired_by) == (silence.id, "ana", "bo")
    assert db.utc(row.ends_at) == NOW + timedelta(minutes=30)
    assert (muted.silence_id, muted.dedup_key) == (silence.id, alert.dedup_key)
    assert (tried.outcome, tried.message_id) == ("silenced", f"silence:{silence.id}")
