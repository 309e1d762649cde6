"""Redis bytes per alert, and the 30-day footprint they add up to (for bench_memory).

Each alert goes through the stores a real fan-out writes: the claim (`alert:<key>` with
its JSON, the incident's `alerts-of` index, the thread's sequence), the thread entry and
its vendor reference, the delivery log record with its attempt history and sent mark.
The alerts carry an incident with 4 updates of ~300 characters and one annotation, about
what a real Statuspage incident carries. The footprint then counts, over 30 days,
`EVENTS_PER_PROVIDER` events per provider, each alerting every follower of its provider.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import redis

from bench.support import redis_bytes
from notifier.models import Status, Update, to_jsonable
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import RedisThreadStore, ThreadEntry
from tests.fakes import sample

# 30 days of news per provider: incidents and maintenances with their updates (the
# issue's 7 GB measurement of the old layout came from about this many).
EVENTS_PER_PROVIDER = 30
TEXT = (
    "We are continuing to investigate elevated error rates affecting API requests in "
    "several regions. Some customers may see increased latency or failed requests when "
    "calling the chat and embeddings endpoints. Engineers have identified a likely cause "
    "and are applying mitigations. We will post another update within 30 minutes."
)


def _incident_updates() -> tuple[Update, ...]:
    t0 = sample.T0
    statuses = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING, Status.MONITORING)
    return tuple(
        Update(t0 + timedelta(minutes=20 * i), s, TEXT, f"k{i}") for i, s in enumerate(statuses)
    )


def per_alert(client: redis.Redis, prefix: str, alerts: int = 500) -> tuple[float, float]:
    """(bytes per alert, of which the copy of its event) over `alerts` delivered alerts."""
    before = redis_bytes(client, prefix)[1]
    store, threads, log = (
        AlertStore(client, prefix), RedisThreadStore(client, prefix), DeliveryLog(client, prefix),
    )  # fmt: skip
    now = datetime.now(UTC)
    updates = _incident_updates()
    event_bytes = 0
    for i in range(alerts):
        inc = f"inc{i // 25:04d}"
        sub = f"team{i % 25:03d}"
        alert = sample.alert(
            key=f"ev{i:05d}", subscriber=sub, thread_key=f"{sub}/slack/acme/{inc}",
            provider="acme", id=inc, updates=updates, components=("API", "Chat", "Embeddings"),
        )  # fmt: skip
        alert = replace(alert, page=False)  # planned for Slack: no page record
        store.claim(alert)
        entry = ThreadEntry(alert.thread_key, alert.dedup_key, False)
        threads.open((sub, "slack"), ("acme", inc), entry)
        threads.set_ref(alert.thread_key, "slack", "#c", f"C0123/17000000{i:05d}.000100")
        log.attempt(alert, 0, now)
        log.mark_sent(alert.dedup_key, "#c", f"C0123/17000000{i:05d}.000200")
        store.finish(alert.dedup_key, AlertStatus.DELIVERED, now,
                     message_id=f"C0123/17000000{i:05d}.000200")  # fmt: skip
        event_bytes += len(json.dumps(to_jsonable(alert.event), separators=(",", ":")))
    after = redis_bytes(client, prefix)[1]
    return (after - before) / alerts, event_bytes / alerts


def thirty_days(
    per_provider: float, per_alert_b: float, providers: int, subscribers: int, follows: int
) -> tuple[int, float]:
    """(alerts kept, bytes) for 30 days: each provider followed by
    subscribers*follows/providers subscribers, EVENTS_PER_PROVIDER events each."""
    followers = subscribers * follows / providers
    alerts = int(providers * EVENTS_PER_PROVIDER * followers)
    return alerts, providers * per_provider + alerts * per_alert_b
