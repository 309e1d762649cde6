"""EventStore against a real Redis: event records stored once, each incident's events
in order, the processed markers, and the cost of saving in round trips."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from notifier.diff.engine import diff
from notifier.models import Status, to_jsonable
from notifier.store.feeds.events import EVENT_TTL, EventStore
from notifier.store.ops.outbox import EVENT, entry, outbox_key
from tests.diffkit import at, doc, inc
from tests.support.roundtrips import RoundTrips

INV = Status.INVESTIGATING


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> EventStore:
    return EventStore(redis_client, key_prefix)


@pytest.fixture
def counted(redis_url: str, key_prefix: str) -> Iterator[tuple[EventStore, RoundTrips]]:
    client = redis.Redis.from_url(redis_url)
    trips = RoundTrips(client)
    yield EventStore(client, key_prefix), trips
    client.close()


def test_events_are_stored_once_and_read_back_whole(
    store: EventStore, redis_client: redis.Redis
) -> None:
    events = diff(None, doc(inc("a", (0, INV), (1, INV))), at(2)).events
    assert store.save_events(events) == [e.event_id for e in events]
    assert store.save_events(events) == []  # a re-emission stores nothing new
    assert [store.load_event(e.event_id) for e in events] == list(events)
    assert store.load_event("nope") is None
    ttl = redis_client.ttl(store.event_key(events[0].event_id))
    assert EVENT_TTL.total_seconds() - 60 < ttl <= EVENT_TTL.total_seconds()


def test_processed_markers(store: EventStore) -> None:
    assert not store.is_processed("e1")
    store.mark_processed("e1")
    assert store.is_processed("e1") and not store.is_processed("e2")


def test_saving_events_is_one_round_trip(counted: tuple[EventStore, RoundTrips]) -> None:
    store, trips = counted
    store.is_processed("warm")
    events = diff(None, doc(inc("a", *[(n, INV) for n in range(10)])), at(20)).events
    trips.count = 0
    store.save_events(events)
    assert trips.count == 1


def test_an_incidents_events_are_listed_once_each_in_the_order_they_were_detected(
    store: EventStore,
) -> None:
    first = diff(None, doc(inc("a", (0, INV))), at(1))
    later = diff(first.state, doc(inc("a", (0, INV), (5, INV))), at(6))
    store.save_events(later.events)
    store.save_events(first.events)
    store.save_events(first.events)  # a re-sent batch adds nothing
    got = [e.event_id for e in store.events_of("acme", "a")]
    assert got == [e.event_id for e in [*first.events, *later.events]]
    assert store.events_of("acme", "other") == []


def test_what_saving_returns_is_what_reading_gives_and_the_history_gets_the_same_rows(
    store: EventStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    events = diff(None, doc(inc("a", *[(n, INV) for n in range(5)])), at(9)).events
    saved = store.save(events)
    assert saved == [store.load_event(e.event_id) for e in events]
    queued = [json.loads(raw) for raw in redis_client.lrange(outbox_key(key_prefix), 0, -1)]
    assert queued == [json.loads(entry(EVENT, e.detected_at, to_jsonable(e))) for e in events]
