"""A finished alert keeps its payload `NOTIFIER_ALERT_PAYLOAD_DAYS`, then only a short
marker (`notifier.store.delivery.shrink`): never sent again, its thread still threads,
and the console and `notifier deliveries` still list it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import redis

from notifier.cli.deliveries import show
from notifier.models import (
    Alert,
    AlertKind,
    Annotation,
    AnnotationKind,
    ChangeEvent,
    EventKind,
)
from notifier.store.conn.batch import read_now
from notifier.store.delivery.alerts import AlertStore, dedup_key_for
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.marks import Mark, parse_mark, route_of
from notifier.store.delivery.shrink import shrink_due, shrink_finished
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import RedisThreadStore, ThreadEntry
from notifier.store.feeds.events import EventStore
from tests.planning_helpers import event, incident

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=4)  # past the default 3 days
MESSAGE = "C0123ABCD/1700000001.000200"


UPSTREAM = Annotation(
    AnnotationKind.UPSTREAM, "Possible upstream cause: Azure", "openai depends on azure",
    provider="azure", incident_id="AZ1",
)  # fmt: skip


def _alert(ev: ChangeEvent, kind: AlertKind = AlertKind.NEW) -> Alert:
    return Alert(
        dedup_key=dedup_key_for(ev.event_id, "ops", "slack"),
        thread_key="ops/slack/openai/01JG", kind=kind, subscriber="ops", channel="slack",
        event=ev, annotations=(UPSTREAM,),
    )  # fmt: skip


def _delivered(client: redis.Redis, prefix: str, alert: Alert) -> AlertStore:
    EventStore(client, prefix).save_events([alert.event])
    store, log = AlertStore(client, prefix), DeliveryLog(client, prefix)
    assert store.claim(alert)
    RedisThreadStore(client, prefix).open(
        ("ops", "slack"), ("openai", "01JG"), ThreadEntry(alert.thread_key, alert.dedup_key, False)
    )
    RedisThreadStore(client, prefix).set_ref(alert.thread_key, "slack", "#ops", MESSAGE)
    log.attempt(alert, 0, NOW)
    log.mark_sent(alert.dedup_key, "#ops", MESSAGE)
    store.finish(alert.dedup_key, AlertStatus.DELIVERED, NOW, message_id=MESSAGE)
    return store


def _first() -> Alert:
    return _alert(event(incident("openai", "01JG", "2024-12-26 19:00")))


def test_a_finished_alert_keeps_its_payload_until_its_days_are_over(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _first()
    store = _delivered(redis_client, key_prefix, alert)
    assert shrink_finished(redis_client, key_prefix, NOW + timedelta(days=2), 3) == 0
    assert store.get(alert.dedup_key) == alert
    assert shrink_due(redis_client, key_prefix, LATER, 3) == 1
    assert store.load(alert.dedup_key) == (None, None)
    log_keys = DeliveryLog(redis_client, key_prefix).record_keys(alert.dedup_key)
    assert redis_client.exists(store.key(alert.dedup_key), *log_keys) == 0
    assert shrink_due(redis_client, key_prefix, LATER, 3) == 0  # the index is empty


def test_a_shrunk_delivered_alert_is_never_claimed_again(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _first()
    store = _delivered(redis_client, key_prefix, alert)
    shrink_due(redis_client, key_prefix, LATER, 3)
    assert store.claim(alert) is False  # a re-plan after the shrink: nothing to send
    assert AlertStore(redis_client, key_prefix).claim(alert) is False  # another process
    assert store.keys_of("openai", "01JG") == [alert.dedup_key]


def test_an_update_after_the_shrink_threads_under_the_shrunk_alert(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    first = _first()
    store = _delivered(redis_client, key_prefix, first)
    shrink_due(redis_client, key_prefix, LATER, 3)
    ev = event(incident("openai", "01JG", "2024-12-26 19:00"), EventKind.NEW_UPDATE)
    update = _alert(ev, AlertKind.UPDATE)
    EventStore(redis_client, key_prefix).save_events([update.event])
    assert store.claim(update)
    earlier = read_now(redis_client, lambda b: store.earlier_into(
        b, update.dedup_key, lock_prefix=f"{key_prefix}:delivery:lock:",
        retries_key=f"{key_prefix}:retries"))  # fmt: skip
    # It was the thread's last alert and is finished: the update waits for nothing.
    assert earlier is None
    threads = RedisThreadStore(redis_client, key_prefix)
    entry = threads.get(("ops", "slack"), ("openai", "01JG"))
    assert entry is not None and entry.opened_by == first.dedup_key
    assert threads.ref(first.thread_key, "slack", "#ops") == MESSAGE  # replies in the thread


def test_the_console_and_deliveries_still_list_a_shrunk_alert(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _first()
    store = _delivered(redis_client, key_prefix, alert)
    shrink_due(redis_client, key_prefix, LATER, 3)
    [(shown, status)] = store.of_incidents([("openai", "01JG")])
    assert status is AlertStatus.DELIVERED
    assert (shown.dedup_key, shown.subscriber, shown.channel) == (alert.dedup_key, "ops", "slack")
    assert shown.event == alert.event and shown.kind is AlertKind.NEW
    assert shown.annotations == (UPSTREAM,)  # the incident page and its links still show it
    [rec] = DeliveryLog(redis_client, key_prefix).recent(10)
    assert (rec.outcome, rec.message_id, rec.attempts) == (AlertStatus.DELIVERED, MESSAGE, 1)
    assert rec.provider == "openai" and rec.updated_at == "2026-12-01T12:00:00Z"
    out = io.StringIO()
    show([rec], as_json=False, out=out)
    assert "delivered" in out.getvalue() and MESSAGE in out.getvalue()


def test_a_shrunk_alert_that_is_not_its_threads_last_is_read_as_gone(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    first = _first()
    store = _delivered(redis_client, key_prefix, first)
    ev = event(incident("openai", "01JG", "2024-12-26 19:00"), EventKind.NEW_UPDATE)
    update = _alert(ev, AlertKind.UPDATE)
    EventStore(redis_client, key_prefix).save_events([update.event])
    assert store.claim(update)  # claimed before the shrink: it names the first as earlier
    shrink_due(redis_client, key_prefix, LATER, 3)
    earlier = read_now(redis_client, lambda b: store.earlier_into(
        b, update.dedup_key, lock_prefix=f"{key_prefix}:delivery:lock:",
        retries_key=f"{key_prefix}:retries"))  # fmt: skip
    assert earlier is not None and earlier.dedup_key == first.dedup_key
    # No record: delivery does not wait for it (`retry.turn_wait`), as for an expired one.
    assert earlier.status is None
    assert redis_client.get(store.sequence_key(update)) == update.dedup_key.encode()


def test_a_pending_or_reopened_alert_is_never_shrunk(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _first()
    store = _delivered(redis_client, key_prefix, alert)
    store.finish(alert.dedup_key, AlertStatus.PENDING, NOW)  # let out of quarantine
    assert shrink_due(redis_client, key_prefix, LATER, 3) == 0
    assert store.load(alert.dedup_key) == (alert, AlertStatus.PENDING)
    other = _alert(event(incident("openai", "01JG", "2024-12-26 19:00"), EventKind.NEW_UPDATE))
    EventStore(redis_client, key_prefix).save_events([other.event])
    assert store.claim(other)
    assert shrink_due(redis_client, key_prefix, LATER, 3) == 0  # never finished
    assert store.status(other.dedup_key) is AlertStatus.PENDING


def test_a_marker_drops_a_long_message_id_to_stay_compact() -> None:
    when = NOW
    short = Mark(AlertStatus.DELIVERED, "update", when, 2, MESSAGE)
    assert parse_mark(short.encode()) == short
    long = Mark(AlertStatus.DELIVERED, "update", when, 2, "<" + "x" * 60 + "@notifier>")
    assert len(long.encode()) <= 64
    assert parse_mark(long.encode()) == Mark(AlertStatus.DELIVERED, "update", when, 2, "")
    assert parse_mark("") is None  # the record is whole


def test_a_marker_names_the_route_when_the_key_does_not() -> None:
    batch = Mark(AlertStatus.DELIVERED, "follow_up", NOW, 1, "SM1", ("ev9", "ops", "sms"))
    assert parse_mark(batch.encode()) == batch
    assert route_of("followup:g1:3", batch) == ("ev9", "ops", "sms")
    own = Mark(AlertStatus.FAILED, "new", NOW, 3)
    assert route_of("ev9/ops/slack", own) == ("ev9", "ops", "slack")
