"""Redis bytes per alert, by key family, and the 30-day footprint they add up to
(for bench_memory).

Alerts go through the stores a real fan-out and delivery write, with the real code:
the poll's event record (`EventStore.save_events`, once per event, shared by its
followers), the claim (`alert:<key>` naming its event, the incident's `alerts-of`
index, the thread's sequence), the thread entry and its vendor reference (once per
route and incident), the delivery log record with its attempt history and sent mark,
and the finished status. Events carry an incident with 4 updates of ~300 characters
and one annotation, about what a real Statuspage incident carries.

The model of 30 days: `EVENTS_PER_PROVIDER` events per provider, `EVENTS_PER_INCIDENT`
of them per incident (a new incident, updates, its resolution), each alerting every
follower of its provider on Slack. Alerts finished more than the payload retention
(`NOTIFIER_ALERT_PAYLOAD_DAYS`) ago are shrunk by the sweep (`shrink_finished`), so the
footprint counts `days/30` of the alerts in full and the rest shrunk, both measured.

Keys are measured with an 8-character prefix, the length of the default `notifier`
(every key name carries it). `MEMORY USAGE` counts a key, its value and its entry in
the keyspace, not its entry in the expiry table (about 24 more bytes per key with a
TTL). The history outbox is drained to SQL within seconds (`notifier.history.drain`),
so its rows are reported apart and not counted in the 30 days.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from notifier.models import Alert, AlertKind, ChangeEvent, EventKind, Status, Update
from notifier.route.grouping import thread_key_for
from notifier.store.delivery.alerts import AlertStore, dedup_key_for
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.shrink import shrink_finished
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import RedisThreadStore, ThreadEntry
from notifier.store.feeds.events import EventStore
from tests.fakes import sample

# 30 days of news per provider: incidents and maintenances with their updates (the
# issue's 7 GB measurement of the old layout came from about this many).
EVENTS_PER_PROVIDER = 30
EVENTS_PER_INCIDENT = 4  # opened, two updates, resolved: one thread per route and incident
FOLLOWERS = 25  # 1,000 subscribers x 50 follows / 2,000 providers
TEXT = (
    "We are continuing to investigate elevated error rates affecting API requests in "
    "several regions. Some customers may see increased latency or failed requests when "
    "calling the chat and embeddings endpoints. Engineers have identified a likely cause "
    "and are applying mitigations. We will post another update within 30 minutes."
)
# Gone from an alert finished days ago: the day index of the digest expires after 3 days,
# the list `notifier deliveries` reads keeps the newest 1,000, the outbox is drained.
AGED_OUT = frozenset({"dlog:day", "dlog:recent", "history:outbox"})
STATUSES = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED)


@dataclass(frozen=True)
class PerAlert:
    """Bytes per alert by key family, in full and once shrunk; outbox rows apart."""

    full: dict[str, float]
    shrunk: dict[str, float]
    outbox: float

    @property
    def full_total(self) -> float:
        return sum(self.full.values())

    @property
    def shrunk_total(self) -> float:
        return sum(self.shrunk.values())

    def kept(self, payload_days: float, window_days: float = 30) -> float:
        """Bytes per alert averaged over the window: the last `payload_days` in full."""
        share = min(1.0, payload_days / window_days)
        return share * self.full_total + (1 - share) * self.shrunk_total


def short_prefix() -> str:
    """A unique prefix as long as the default `notifier`."""
    return f"nb{uuid.uuid4().hex[:6]}"


def _event(n: int, now: datetime, per_incident: int) -> ChangeEvent:
    """The `n`th event: of incident n // per_incident, its (n % per_incident)th change."""
    inc_id, step = f"01hv{n // per_incident:06d}zk", n % per_incident
    updates = tuple(
        Update(sample.T0 + timedelta(minutes=20 * i), s, TEXT, f"k{i}")
        for i, s in enumerate(STATUSES[: step + 1])
    )
    inc = sample.incident(provider="acme", id=inc_id, updates=updates, status=updates[-1].status,
                          url=f"https://status.acme.com/incidents/{inc_id}",
                          components=("API", "Chat", "Embeddings"))  # fmt: skip
    kind = EventKind.NEW_INCIDENT if step == 0 else EventKind.NEW_UPDATE
    eid = hashlib.sha256(f"{inc_id}/{step}".encode()).hexdigest()[:32]
    return ChangeEvent(eid, kind, "acme", inc_id, now, inc, update=updates[-1])


def _families(client: redis.Redis, prefix: str) -> dict[str, int]:
    """MEMORY USAGE summed per key family (the name without prefix and ids)."""
    out: dict[str, int] = defaultdict(int)
    for raw in client.scan_iter(match=f"{prefix}:*", count=1000):
        key = raw.decode()
        parts = key[len(prefix) + 1 :].split(":")
        family = parts[0]
        if family == "dlog" and len(parts) > 1 and "/" in key:
            family += ":<key>" + ("" if parts[-1].count("/") else f":{parts[-1]}")
        elif family in ("dlog", "history"):
            family += f":{parts[1]}"
        out[family] += int(client.memory_usage(raw, samples=0) or 0)
    return dict(out)


def _deliver(
    client: redis.Redis, prefix: str, events: int, now: datetime, per_incident: int
) -> None:
    store, threads, log = (
        AlertStore(client, prefix), RedisThreadStore(client, prefix), DeliveryLog(client, prefix),
    )  # fmt: skip
    state = EventStore(client, prefix)
    for n in range(events):
        event = _event(n, now, per_incident)
        state.save_events([event])
        for f in range(FOLLOWERS):
            sub = f"team-{f:03d}"
            route, ref = (sub, "slack"), ("acme", event.incident_id)
            first = n % per_incident == 0
            kind = AlertKind.NEW if first else AlertKind.UPDATE
            alert = Alert(
                dedup_key=dedup_key_for(event.event_id, sub, "slack"),
                thread_key=thread_key_for(route, ref), kind=kind, subscriber=sub,
                channel="slack", event=event, annotations=sample.alert().annotations,
            )  # fmt: skip
            store.claim(alert)
            if first:
                threads.open(route, ref, ThreadEntry(alert.thread_key, alert.dedup_key, False))
            log.attempt(alert, 0, now)
            message = f"C0123ABCD/17000{n:05d}.{f:06d}"
            log.mark_sent(alert.dedup_key, "#c", message)
            if first:
                threads.set_ref(alert.thread_key, "slack", "#c", message)
            store.finish(alert.dedup_key, AlertStatus.DELIVERED, now, message_id=message)


def per_alert(
    client: redis.Redis, events: int = 20, per_incident: int = EVENTS_PER_INCIDENT
) -> PerAlert:
    """Bytes per alert over `events` events x `FOLLOWERS` delivered alerts, by family:
    as delivered, then once the sweep has shrunk them (their retention over).
    `per_incident`: events per incident (1: every alert opens its own thread)."""
    prefix = short_prefix()
    try:
        now = datetime.now(UTC)
        _deliver(client, prefix, events, now, per_incident)
        alerts = events * FOLLOWERS
        full = {k: v / alerts for k, v in _families(client, prefix).items()}
        outbox = full.pop("history:outbox", 0.0)
        client.delete(f"{prefix}:history:outbox")
        while shrink_finished(client, prefix, now + timedelta(days=30), 0):
            pass
        shrunk = {k: v / alerts for k, v in _families(client, prefix).items()
                  if k not in AGED_OUT}  # fmt: skip
        return PerAlert(full, shrunk, outbox)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


def thirty_days(
    per_provider: float, per_alert_b: float, providers: int, subscribers: int, follows: int
) -> tuple[int, float]:
    """(alerts kept, bytes) for 30 days: each provider followed by
    subscribers*follows/providers subscribers, EVENTS_PER_PROVIDER events each."""
    followers = subscribers * follows / providers
    alerts = int(providers * EVENTS_PER_PROVIDER * followers)
    return alerts, providers * per_provider + alerts * per_alert_b
