"""The `Channel` contract: the pipeline treats every channel alike, by what it declares.

A channel defined here, outside `notifier/`, is delivered to by the unchanged
pipeline; declared behaviour (pages only, fallback makes a page, sends digests)
comes from the channel classes, never from their names."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

import tests.pipeline.test_delivery as delivery_tests
from notifier.channels.base import Channel, SendResult, Target
from notifier.channels.console.channel import ConsoleChannel
from notifier.channels.kinds import channel_kind, register, unregister
from notifier.config.load import parse_config
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert
from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.pipeline.delivery.digest import send_digests
from notifier.pipeline.runtime.destinations import Destinations
from tests.fakes import sample
from tests.pipeline.test_delivery import NOW, World

world = delivery_tests.world


@dataclass(frozen=True, slots=True)
class Loft:
    subscriber: str

    @property
    def id(self) -> str:
        return f"loft:{self.subscriber}"


class PigeonChannel(Channel):
    """A made-up channel: one loft per subscriber, every alert flies."""

    name: ClassVar[str] = "pigeon"

    def __init__(self) -> None:
        self.flown: list[tuple[str, str]] = []

    def targets(self, subscriber: Subscriber) -> list[Target]:
        return [Loft(subscriber.name)]

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        self.flown.append((alert.dedup_key, target.id))
        return SendResult(message_id=f"pigeon-{len(self.flown)}")


class NightPigeonChannel(PigeonChannel):
    """Wakes people: carries pages and their resolutions only."""

    name: ClassVar[str] = "night-pigeon"
    pages_only: ClassVar[bool] = True


@pytest.fixture
def registered() -> Iterator[None]:
    for kind in (PigeonChannel, NightPigeonChannel):
        register(kind)
    yield
    for kind in (PigeonChannel, NightPigeonChannel):
        unregister(kind.name)


def test_a_channel_defined_outside_notifier_is_delivered_to_by_the_unchanged_pipeline(
    world: World, registered: None
) -> None:
    pigeon = PigeonChannel()
    ctx = replace(world.ctx, channels={**world.ctx.channels, pigeon.name: pigeon})
    key = world.store(sample.alert(channel="pigeon", thread_key="t/pigeon"))
    out = deliver_alert(key, ctx, NOW)
    assert (out.status, out.channel, out.message_ids) == ("delivered", "pigeon", ("pigeon-1",))
    assert pigeon.flown == [(key, "loft:sre")]
    assert deliver_alert(key, ctx, NOW).status == "already_delivered"
    assert len(pigeon.flown) == 1


def test_a_channel_that_carries_only_pages_skips_other_alerts_and_sends_pages(
    world: World, registered: None
) -> None:
    night = NightPigeonChannel()
    ctx = replace(world.ctx, channels={**world.ctx.channels, night.name: night})
    quiet = replace(sample.update(channel="night-pigeon", key="q1"), page=False)
    assert deliver_alert(world.store(quiet), ctx, NOW).status == "skipped"
    loud = replace(sample.alert(channel="night-pigeon", key="p1"), page=True)
    assert deliver_alert(world.store(loud), ctx, NOW).status == "delivered"
    assert [key for key, _ in night.flown] == [loud.dedup_key]


def test_the_console_standing_in_for_a_pages_only_channel_still_skips_what_is_not_a_page(
    world: World, registered: None
) -> None:
    printed = io.StringIO()
    ctx = replace(world.ctx, channels={"night-pigeon": ConsoleChannel(printed)})
    quiet = replace(sample.update(channel="night-pigeon"), page=False)
    assert deliver_alert(world.store(quiet), ctx, NOW).status == "skipped"
    assert printed.getvalue() == ""


def test_an_unregistered_name_has_no_declared_kind() -> None:
    assert channel_kind("carrier-owl") is None


def test_a_fallback_onto_a_channel_that_pages_turns_the_alert_into_a_page(
    world: World,
) -> None:
    config = parse_config(
        "providers:\n  - id: openai\nsubscribers:\n  - name: sre\n"
        "    slack: {channel: '#ops'}\n    sms: {to: ['+15550000003']}\n    fallback: sms\n",
        "test.yaml",
    )
    ctx = replace(world.ctx, destinations=Destinations(config))
    world.slack.fail_next(1, status=200, error="channel_not_found")
    quiet = replace(sample.update(), page=False)
    out = deliver_alert(world.store(quiet), ctx, NOW)
    assert out.status == "failed" and out.fallback_key is not None
    paged = deliver_alert(out.fallback_key, ctx, NOW)
    assert paged.status == "delivered" and paged.page_id
    assert [m["To"] for m in world.twilio.sent] == ["+15550000003"]


def test_no_digest_goes_out_when_only_the_console_stands_in_for_email(world: World) -> None:
    day = datetime(2024, 4, 16, tzinfo=UTC)
    deliver_alert(world.store(sample.alert()), world.ctx, day + timedelta(hours=10))
    console = ConsoleChannel(io.StringIO())
    ctx = replace(world.ctx, channels={"slack": console, "sms": console, "email": console})
    assert send_digests(day + timedelta(days=1, hours=8), ctx) == 0
    assert world.smtp.messages == []
    # the real email channel still sends it later that day
    assert send_digests(day + timedelta(days=1, hours=9), world.ctx) == 2
