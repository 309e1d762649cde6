"""No delivery-log record lives forever."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import RECORD_TTL
from notifier.store.delivery.status import AlertStatus


def test_reopening_an_expired_record_creates_it_with_its_ttl(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    reopened = AlertStore(redis_client, key_prefix).finish(
        "gone/sre/slack", AlertStatus.PENDING, datetime.now(UTC), error="released"
    )
    assert reopened is False  # the alert's own record expired: it is not made again
    keys = list(redis_client.scan_iter(match=f"{key_prefix}:*"))
    assert keys
    assert all(0 < redis_client.ttl(k) <= RECORD_TTL for k in keys), keys
