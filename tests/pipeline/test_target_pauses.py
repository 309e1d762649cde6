"""A hostile or broken receiver cannot stall a channel: its Retry-After is finite and
capped at 15 minutes, and it pauses that target only (real webhook receivers on
127.0.0.1, real Redis, the real delivery stage)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from notifier.channels.base import DeliveryError, NotYet
from notifier.config.load import parse_config
from notifier.config.settings import Settings
from notifier.httpwait import MAX_WAIT_S, retry_after
from notifier.pipeline.delivery.attempt import deliver_alert
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.pacing import Pacing
from tests.fakes import sample
from tests.fakes.server import Reply, Request
from tests.fakes.webhook_receiver import FakeWebhookReceiver

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class Hostile(FakeWebhookReceiver):
    """Answers 429 with whatever Retry-After the test sets, until healed."""

    def __init__(self) -> None:
        super().__init__(key=None, check_fields=False)
        self.wait: str | None = None

    def handle(self, request: Request) -> Reply:
        if self.wait is not None:
            return Reply(429, {"error": "slow down"}, {"Retry-After": self.wait})
        return super().handle(request)


@pytest.fixture
def receivers() -> Iterator[tuple[Hostile, Hostile]]:
    a, b = Hostile().start(), Hostile().start()
    yield a, b
    a.stop()
    b.stop()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("inf", MAX_WAIT_S), ("nan", None), ("-5", 0.0), ("31536000", MAX_WAIT_S), ("30", 30.0),
     ("1e309", MAX_WAIT_S), ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_WAIT_S), ("soon", None),
     ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0)],
)  # fmt: skip
def test_a_retry_after_is_finite_and_fifteen_minutes_at_most(
    value: str, expected: float | None
) -> None:
    assert retry_after(value) == expected


@pytest.mark.parametrize("wait", ["inf", "31536000"])
def test_a_429_pauses_that_webhook_alone_for_at_most_fifteen_minutes(
    wait: str, receivers: tuple[Hostile, Hostile], redis_client: redis.Redis, key_prefix: str
) -> None:
    hostile, fine = receivers
    config = parse_config(
        "providers:\n  - id: openai\nsubscribers:\n"
        f"  - name: sre\n    webhook: {{url: '{hostile.url}'}}\n"
        f"  - name: ops\n    webhook: {{url: '{fine.url}'}}\n",
        "test.yaml",
    )
    ctx = DeliveryWiring.build(
        Settings(_env_file=None, key_prefix=key_prefix),  # type: ignore[call-arg]
        config, redis_client, key_prefix,
    )  # fmt: skip
    store = AlertStore(redis_client, key_prefix)
    first = sample.alert(key="ev1", channel="webhook", subscriber="sre")
    other = sample.alert(key="ev1", channel="webhook", subscriber="ops")
    assert store.claim(first) and store.claim(other)
    hostile.wait = wait
    with pytest.raises(DeliveryError) as limited:
        deliver_alert(first.dedup_key, ctx, NOW)
    assert "paused 900 s" in limited.value.message
    assert limited.value.retry_after is None  # the channel itself is not paused
    # The pause is on that target, 15 minutes at most, in Redis for every worker.
    keys = [k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}:pause:*")]
    assert len(keys) == 1 and ":target:" in keys[0]
    assert 0 < redis_client.pttl(keys[0]) <= MAX_WAIT_S * 1000
    assert Pacing(redis_client, key_prefix).paused(["webhook"], NOW) == {}
    # Another subscriber's webhook is not held back.
    assert deliver_alert(other.dedup_key, ctx, NOW).status == "delivered"
    assert len(fine.accepted) == 1
    # The limited one waits without a request, then goes once the pause is over.
    calls = len(hostile.requests)
    with pytest.raises(NotYet) as paused:
        deliver_alert(first.dedup_key, ctx, NOW + timedelta(seconds=60), attempt=1)
    assert paused.value.retry_after is not None and paused.value.retry_after <= MAX_WAIT_S
    assert len(hostile.requests) == calls
    hostile.wait = None
    later = NOW + timedelta(seconds=MAX_WAIT_S + 1)
    assert deliver_alert(first.dedup_key, ctx, later, attempt=2).status == "delivered"


def test_a_pause_asked_for_forever_is_fifteen_minutes(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    pacing = Pacing(redis_client, key_prefix)
    pacing.pause("webhook", float("inf"), NOW)
    until = pacing.paused(["webhook"], NOW)["webhook"]
    assert until <= NOW + timedelta(seconds=MAX_WAIT_S)
