"""Alert records reference their event (its id) instead of copying it; records of the
earlier shape, with the event in them, are still read."""

from __future__ import annotations

import json

import redis

from notifier.models import Alert, AlertKind, to_jsonable
from notifier.store.delivery.alerts import AlertStore, dedup_key_for
from notifier.store.delivery.status import AlertStatus
from notifier.store.feeds.events import EventStore
from tests.planning_helpers import event, incident


def _alert(subscriber: str) -> Alert:
    ev = event(incident("openai", "01JG", "2024-12-26 19:00"))
    return Alert(
        dedup_key=dedup_key_for(ev.event_id, subscriber, "slack"),
        thread_key=f"{subscriber}/slack/openai/01JG", kind=AlertKind.NEW,
        subscriber=subscriber, channel="slack", event=ev, page=True,
    )  # fmt: skip


def test_an_alert_whose_event_is_stored_names_it_and_reads_back_whole(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _alert("ops")
    EventStore(redis_client, key_prefix).save_events([alert.event])
    store = AlertStore(redis_client, key_prefix)
    assert store.claim(alert) is True
    record = json.loads(redis_client.hget(store.key(alert.dedup_key), "alert"))  # type: ignore[arg-type]
    assert record["event_id"] == alert.event.event_id
    assert "event" not in record
    fresh = AlertStore(redis_client, key_prefix)  # another process: nothing cached
    assert fresh.get(alert.dedup_key) == alert
    assert fresh.load_many([alert.dedup_key]) == [(alert, AlertStatus.PENDING)]


def test_a_referencing_record_is_a_small_part_of_a_copying_one(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _alert("ops")
    store = AlertStore(redis_client, key_prefix)
    store.claim(alert)  # no event record: the whole copy is kept
    whole = redis_client.hget(store.key(alert.dedup_key), "alert")
    assert json.loads(whole)["event"]["event_id"] == alert.event.event_id  # type: ignore[arg-type]
    EventStore(redis_client, key_prefix).save_events([alert.event])
    other = _alert("dev")
    store.claim(other)
    named = redis_client.hget(store.key(other.dedup_key), "alert")
    assert len(named) * 2 < len(whole)  # type: ignore[arg-type]
    assert store.get(alert.dedup_key) == alert
    assert store.get(other.dedup_key) == other


def test_a_record_of_the_earlier_shape_is_read(redis_client: redis.Redis, key_prefix: str) -> None:
    alert = _alert("ops")
    store = AlertStore(redis_client, key_prefix)
    body = json.dumps(to_jsonable(alert))  # as the release before wrote every record
    redis_client.hset(store.key(alert.dedup_key), mapping={"alert": body, "state": "delivered"})
    assert store.load(alert.dedup_key) == (alert, AlertStatus.DELIVERED)
    assert store.routing([alert.dedup_key]) == {alert.dedup_key: "slack"}


def test_an_alert_whose_event_record_is_gone_reads_as_missing(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _alert("ops")
    state = EventStore(redis_client, key_prefix)
    state.save_events([alert.event])
    store = AlertStore(redis_client, key_prefix)
    store.claim(alert)
    redis_client.delete(state.event_key(alert.event.event_id))
    assert AlertStore(redis_client, key_prefix).load(alert.dedup_key) == (None, AlertStatus.PENDING)
