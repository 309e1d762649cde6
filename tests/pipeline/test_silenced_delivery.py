"""A silenced alert is not sent, and the delivery log says which silence muted it; the
all-clear of an opening that went out still goes out. Real Redis, real clients, fakes."""

from __future__ import annotations

import io
from datetime import timedelta

import redis

from notifier.cli.deliveries import show
from notifier.models import Impact
from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.store.delivery.threads import RedisThreadStore, ThreadEntry
from notifier.store.ops.silences import SilenceStore, make
from tests.fakes import sample
from tests.pipeline.test_delivery import NOW, World, world

__all__ = ["world"]  # the fixture, shared with the delivery tests


def _silence(client: redis.Redis, prefix: str, **kw: object) -> str:
    args: dict[str, object] = {"lasting": timedelta(hours=2), "reason": "known, INC-42",
                               "by": "ana", "now": NOW - timedelta(minutes=1), **kw}  # fmt: skip
    return SilenceStore(client, prefix).add(make("openai", **args)).id  # type: ignore[arg-type]


def test_a_silenced_alert_is_not_sent_and_the_log_names_the_silence(world: World) -> None:
    silence = _silence(world.ctx.client, world.ctx.prefix, any_impact=True)
    key = world.store(sample.alert())
    outcome = deliver_alert(key, world.ctx, NOW)
    assert outcome.status == "silenced"
    assert world.slack.messages == []
    record = world.ctx.log.get(key)
    assert record is not None
    assert (record.outcome, record.message_id) == ("silenced", f"silence:{silence}")
    assert world.ctx.log.recent()[0].dedup_key == key  # listed like any delivery
    out = io.StringIO()
    show(world.ctx.log.recent(), as_json=False, out=out)
    assert "silenced" in out.getvalue() and f"silence:{silence}" in out.getvalue()
    assert deliver_alert(key, world.ctx, NOW).status == "already_silenced"


def test_a_silenced_page_wakes_nobody(world: World) -> None:
    _silence(world.ctx.client, world.ctx.prefix, any_impact=True)
    key = world.store(sample.alert(channel="sms", thread_key="sre/sms/openai/01HV8ZK3Q"))
    outcome = deliver_alert(key, world.ctx, NOW)
    assert outcome.status == "silenced" and outcome.check_escalation_at is None
    assert world.twilio.requests == []


def test_an_alert_past_the_silence_impact_or_outside_its_matchers_goes_out(world: World) -> None:
    _silence(world.ctx.client, world.ctx.prefix, component="ChatGPT",
             open_incidents=[sample.incident(impact=Impact.MINOR)])  # fmt: skip
    rise = world.store(sample.alert(impact=Impact.MAJOR))
    assert deliver_alert(rise, world.ctx, NOW).status == "delivered"
    other = world.store(sample.alert(key="ev7", components=("API",), impact=Impact.MINOR))
    assert deliver_alert(other, world.ctx, NOW).status == "delivered"


def test_the_all_clear_of_a_sent_opening_is_delivered_despite_a_silence(world: World) -> None:
    threads = RedisThreadStore(world.ctx.client, world.ctx.prefix)
    opening = sample.alert()
    ref = ("openai", opening.event.incident_id)
    threads.open(("sre", "slack"), ref, ThreadEntry(opening.thread_key, opening.dedup_key, True,
                                                    None, "k1", ""))  # fmt: skip
    assert deliver_alert(world.store(opening), world.ctx, NOW).status == "delivered"
    _silence(world.ctx.client, world.ctx.prefix, any_impact=True)
    update = world.store(sample.update())
    assert deliver_alert(update, world.ctx, NOW).status == "silenced"
    resolved = world.store(sample.resolved())
    assert deliver_alert(resolved, world.ctx, NOW).status == "delivered"


def test_an_expired_silence_mutes_nothing_more(world: World) -> None:
    silence = _silence(world.ctx.client, world.ctx.prefix, any_impact=True)
    SilenceStore(world.ctx.client, world.ctx.prefix).expire(silence, NOW, "bo")
    assert deliver_alert(world.store(sample.alert()), world.ctx, NOW).status == "delivered"
