"""Delivery over alerts the previous release claimed and tried: their status was its
record's `state` and the delivery log's `outcome` (written raw here, as it wrote them).
A finished one stays finished, whichever store knew how; a pending one is delivered once
and then carries its status in the new form."""

from __future__ import annotations

import json

import pytest
import redis

from notifier.models import Alert, to_jsonable
from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.status import AlertStatus
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.pipeline.test_delivery import NOW, make_ctx


@pytest.fixture
def ctx(
    redis_client: redis.Redis, key_prefix: str, fake_slack: FakeSlack, fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> DeliveryWiring:  # fmt: skip
    return make_ctx(redis_client, key_prefix, fake_slack, fake_twilio, fake_smtp)


def _old_format(ctx: DeliveryWiring, alert: Alert, state: str, outcome: str | None) -> str:
    """OLD FORMAT, as the previous release wrote it: the record's `state` and, once
    tried, the log's `outcome`."""
    body = json.dumps(to_jsonable(alert))
    key = alert.dedup_key
    ctx.client.hset(f"{ctx.prefix}:alert:{key}", mapping={"alert": body, "state": state})
    if outcome is not None:
        record = {"dedup_key": key, "outcome": outcome, "attempts": "1"}
        ctx.client.hset(f"{ctx.prefix}:dlog:{key}", mapping=record)
    return key


@pytest.mark.parametrize(
    ("state", "outcome"),
    [("delivered", "delivered"), ("delivered", "silenced"), ("delivered", "skipped"),
     ("delivered", "printed"), ("failed", "failed")],
)  # fmt: skip
def test_an_alert_the_previous_release_finished_is_not_sent_again(
    ctx: DeliveryWiring, fake_slack: FakeSlack, state: str, outcome: str
) -> None:
    key = _old_format(ctx, sample.alert(), state, outcome)
    assert deliver_alert(key, ctx, NOW).status == f"already_{outcome}"
    assert fake_slack.messages == []


def test_an_alert_the_previous_release_left_pending_is_delivered_once(
    ctx: DeliveryWiring, fake_slack: FakeSlack
) -> None:
    key = _old_format(ctx, sample.alert(), "pending", "pending")  # tried once, to retry
    assert deliver_alert(key, ctx, NOW, attempt=1).status == AlertStatus.DELIVERED
    assert deliver_alert(key, ctx, NOW, attempt=1).status == "already_delivered"
    assert len(fake_slack.messages) == 1
    fields = ctx.client.hgetall(f"{ctx.prefix}:alert:{key}")
    assert fields[b"status"] == b"delivered" and b"state" not in fields
    assert AlertStore(ctx.client, ctx.prefix).status(key) is AlertStatus.DELIVERED
