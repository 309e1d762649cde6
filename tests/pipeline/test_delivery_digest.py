"""The daily digest, from the delivery log to a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

import tests.pipeline.test_delivery as delivery_tests
from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.pipeline.delivery.digest import send_digests
from tests.fakes import sample
from tests.pipeline.test_delivery import World

world = delivery_tests.world


def test_the_digest_lists_the_days_incidents_once_at_the_configured_time(world: World) -> None:
    day = datetime(2024, 4, 16, tzinfo=UTC)
    early = sample.alert(key="aws1", provider="aws", title="Before the window", thread_key="aws")
    deliver_alert(world.store(early), world.ctx, day + timedelta(hours=7))  # previous digest's
    deliver_alert(world.store(sample.alert()), world.ctx, day + timedelta(hours=10))
    deliver_alert(world.store(sample.update()), world.ctx, day + timedelta(hours=11))
    other = sample.alert(key="gh1", provider="github", title="Actions <delayed>", thread_key="gh")
    deliver_alert(world.store(other), world.ctx, day + timedelta(hours=12))
    # before 08:00 the next day: nothing
    assert send_digests(day + timedelta(days=1, hours=7, minutes=59), world.ctx) == 0
    # at 08:00: one message per address, one line per incident, latest state
    assert send_digests(day + timedelta(days=1, hours=8), world.ctx) == 2
    assert send_digests(day + timedelta(days=1, hours=8, minutes=1), world.ctx) == 0
    msg = world.smtp.messages[0]
    assert msg["Subject"] == "[notifier] Daily digest: 2 incident(s) to 2024-04-17"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "openai: Elevated errors on API (identified)" in text
    assert "github: Actions <delayed> (investigating)" in text
    assert "Before the window" not in text
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Actions &lt;delayed&gt;" in html


def test_a_failed_digest_is_tried_again_on_the_next_run(
    world: World, redis_client: redis.Redis
) -> None:
    day = datetime(2024, 4, 16, tzinfo=UTC)
    deliver_alert(world.store(sample.alert()), world.ctx, day + timedelta(hours=10))
    world.smtp.refuse_once("lead@example.com", code=451)
    at = day + timedelta(days=1, hours=8)
    assert send_digests(at, world.ctx) == 1
    assert send_digests(at + timedelta(minutes=1), world.ctx) == 1
    assert sorted(m["To"] for m in world.smtp.messages) == [
        "lead@example.com",
        "oncall@example.com",
    ]
