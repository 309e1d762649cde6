"""Delivery over an alert whose payload was shrunk after NOTIFIER_ALERT_PAYLOAD_DAYS
(`notifier.store.delivery.shrink`): it is never sent again, and the incident's next
update still replies in its thread."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.shrink import shrink_due
from notifier.store.delivery.status import AlertStatus
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.pipeline.test_delivery import NOW, make_ctx

LATER = NOW + timedelta(days=4)


@pytest.fixture
def ctx(
    redis_client: redis.Redis, key_prefix: str, fake_slack: FakeSlack, fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> DeliveryWiring:  # fmt: skip
    return make_ctx(redis_client, key_prefix, fake_slack, fake_twilio, fake_smtp)


def test_a_shrunk_delivered_alert_is_not_sent_again_and_its_thread_still_threads(
    ctx: DeliveryWiring, fake_slack: FakeSlack
) -> None:
    alerts = AlertStore(ctx.client, ctx.prefix)
    first = sample.alert()
    assert alerts.claim(first)
    assert deliver_alert(first.dedup_key, ctx, NOW).status == AlertStatus.DELIVERED
    assert shrink_due(ctx.client, ctx.prefix, LATER, 3) == 1
    assert alerts.claim(first) is False  # planned again (a re-sent task): nothing new
    assert deliver_alert(first.dedup_key, ctx, LATER).status == "missing"  # a stale task
    update = sample.update()
    assert alerts.claim(update)
    assert deliver_alert(update.dedup_key, ctx, LATER).status == AlertStatus.DELIVERED
    parent, reply = fake_slack.messages
    assert reply["thread_ts"] == parent["ts"]
