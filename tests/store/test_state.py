"""StateStore against a real Redis: the poll lease, compare-and-set commits, event
records, the recent-incident index and the cost of a poll in round trips."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from notifier.diff.engine import diff
from notifier.models import DocumentKind, EventKind, Status
from notifier.store.feeds.snapshot import FeedHealth
from notifier.store.feeds.state import EVENT_TTL, RECENT_WINDOW, StateStore, Validators
from tests.diffkit import at, doc, inc
from tests.support.roundtrips import RoundTrips

INV, RES = Status.INVESTIGATING, Status.RESOLVED


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> StateStore:
    return StateStore(redis_client, key_prefix)


@pytest.fixture
def counted(redis_url: str, key_prefix: str) -> Iterator[tuple[StateStore, RoundTrips]]:
    client = redis.Redis.from_url(redis_url)
    trips = RoundTrips(client)
    yield StateStore(client, key_prefix), trips
    client.close()


def test_a_second_poll_of_a_provider_is_refused_while_the_first_holds_the_lease(
    store: StateStore,
) -> None:
    lease = store.begin("acme")
    assert lease is not None
    assert store.begin("acme") is None
    assert store.begin("other") is not None  # one lease per provider, not global
    assert store.finish(lease, now=at(0), outcome="not_modified")
    assert store.begin("acme") is not None


def test_finish_records_the_poll_validators_and_health(store: StateStore) -> None:
    lease = store.begin("acme")
    assert lease is not None
    health = FeedHealth(failures=2, since=at(0), last_error="HTTP 503")
    store.finish(
        lease, now=at(3), outcome="failed", validators=Validators('"e1"', None, "h"), health=health
    )
    again = store.begin("acme")
    assert again is not None
    assert again.validators == Validators('"e1"', None, "h")
    assert again.health == health and again.polled_at == at(3) and again.outcome == "failed"


def test_a_commit_stores_the_state_and_bumps_the_version(store: StateStore) -> None:
    lease = store.begin("acme")
    assert lease is not None and lease.state() is None and lease.version == 0
    state = diff(None, doc(inc("a", (0, INV))), at(1)).state
    assert store.commit(
        lease, state, now=at(1), outcome="changed", validators=Validators(), health=FeedHealth()
    )
    again = store.begin("acme")
    assert again is not None and again.version == 1 and again.state() == state
    assert store.load_state("acme") == state


def test_a_poll_whose_lease_expired_cannot_commit_over_the_next_one(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = StateStore(redis_client, key_prefix, lock_ttl=timedelta(seconds=60))
    slow = store.begin("acme")
    # The slow poll outlives its lease: Redis lets the lock lapse (a TTL of Redis's own).
    lock = f"{key_prefix}:provider:acme:lock"
    assert redis_client.pexpire(lock, 1)
    deadline = time.monotonic() + 10
    while redis_client.exists(lock):
        assert time.monotonic() < deadline
        time.sleep(0.001)
    fast = store.begin("acme")
    assert slow is not None and fast is not None
    state = diff(None, doc(inc("a", (0, INV))), at(1)).state
    args = {"now": at(1), "outcome": "changed", "validators": Validators(), "health": FeedHealth()}
    assert store.commit(fast, state, **args)  # type: ignore[arg-type]
    assert not store.commit(slow, state, **args)  # type: ignore[arg-type]
    assert store.begin("acme") is not None and store.load_state("acme") == state


def test_a_commit_from_a_stale_version_is_refused(
    store: StateStore, redis_client: redis.Redis
) -> None:
    lease = store.begin("acme")
    assert lease is not None
    redis_client.hincrby(store.provider_key("acme"), "version", 1)  # someone committed meanwhile
    state = diff(None, doc(), at(1)).state
    ok = store.commit(
        lease, state, now=at(1), outcome="changed", validators=Validators(), health=FeedHealth()
    )
    assert not ok and store.load_state("acme") is None


def test_events_are_stored_once_and_read_back_whole(
    store: StateStore, redis_client: redis.Redis
) -> None:
    events = diff(None, doc(inc("a", (0, INV), (1, INV))), at(2)).events
    assert store.save_events(events) == [e.event_id for e in events]
    assert store.save_events(events) == []  # a re-emission stores nothing new
    assert [store.load_event(e.event_id) for e in events] == list(events)
    assert store.load_event("nope") is None
    ttl = redis_client.ttl(store.event_key(events[0].event_id))
    assert EVENT_TTL.total_seconds() - 60 < ttl <= EVENT_TTL.total_seconds()


def test_processed_markers(store: StateStore) -> None:
    assert not store.is_processed("e1")
    store.mark_processed("e1")
    assert store.is_processed("e1") and not store.is_processed("e2")


def commit(store: StateStore, provider: str, docs_and_minutes: list) -> None:
    state = None
    for d, minute in docs_and_minutes:
        lease = store.begin(provider)
        assert lease is not None
        state = diff(lease.state(), d, at(minute)).state
        ok = store.commit(
            lease, state, now=at(minute), outcome="changed", validators=Validators(),
            health=FeedHealth(),
        )  # fmt: skip
        assert ok


def test_recent_incidents_hold_open_ones_and_those_closed_lately_across_providers(
    store: StateStore,
) -> None:
    window = RECENT_WINDOW.total_seconds() / 60
    old = inc("old", (0, INV), (5, RES))
    commit(
        store, "acme", [(doc(old, inc("open", (10, INV)), inc("just", (20, RES))), 5 + window + 1)]
    )
    commit(store, "other", [(doc(inc("x", (30, INV)), kind=DocumentKind.ACTIVE), 31)])
    got = [(i.provider, i.id) for i in store.recent_incidents()]
    assert got == [("acme", "just"), ("acme", "open"), ("acme", "x")]  # diffkit's provider id
    assert [i.id for i in store.recent_incidents(now=at(20 + window + 1))] == ["open", "x"]


def test_the_index_forgets_incidents_as_they_age_out(store: StateStore) -> None:
    window = RECENT_WINDOW.total_seconds() / 60
    a_open, a_done = inc("a", (0, INV)), inc("a", (0, INV), (5, RES))
    commit(store, "acme", [(doc(a_open), 1), (doc(a_done), 6)])
    assert [i.status for i in store.recent_incidents()] == [RES]
    # an unchanged feed still trims the index, on its single write after the fetch
    lease = store.begin("acme")
    assert lease is not None
    store.finish(lease, now=at(6 + window + 1), outcome="not_modified")
    assert store.recent_incidents() == []


def test_an_unchanged_poll_costs_one_round_trip_before_the_fetch_and_one_after(
    counted: tuple[StateStore, RoundTrips],
) -> None:
    store, trips = counted
    commit(store, "acme", [(doc(inc("a", (0, INV))), 1)])  # warm: connection, script cache
    trips.count = 0
    lease = store.begin("acme")
    assert lease is not None and trips.count == 1
    store.finish(lease, now=at(2), outcome="not_modified", validators=lease.validators)
    assert trips.count == 2


def test_saving_events_is_one_round_trip(counted: tuple[StateStore, RoundTrips]) -> None:
    store, trips = counted
    store.is_processed("warm")
    events = diff(None, doc(inc("a", *[(n, INV) for n in range(10)])), at(20)).events
    trips.count = 0
    store.save_events(events)
    assert trips.count == 1


def test_every_key_starts_with_the_prefix(
    store: StateStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    commit(store, "acme", [(doc(inc("a", (0, INV))), 1)])
    events = diff(None, doc(inc("b", (0, INV))), at(1)).events
    store.save_events(events)
    store.mark_processed(events[0].event_id)
    store.begin("acme")  # leaves the lease key
    names = {k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}*")}
    # provider, index, events, the incident's event index, processed, lease, history outbox
    assert len(names) == 2 + len(events) + 1 + 2 + 1
    assert all(n.startswith(f"{key_prefix}:") for n in names)
    assert {e.kind for e in events} == {EventKind.NEW_INCIDENT, EventKind.NEW_UPDATE}


def test_an_incidents_events_are_listed_once_each_in_the_order_they_were_detected(
    store: StateStore,
) -> None:
    first = diff(None, doc(inc("a", (0, INV))), at(1))
    later = diff(first.state, doc(inc("a", (0, INV), (5, INV))), at(6))
    store.save_events(later.events)
    store.save_events(first.events)
    store.save_events(first.events)  # a re-sent batch adds nothing
    got = [e.event_id for e in store.events_of("acme", "a")]
    assert got == [e.event_id for e in [*first.events, *later.events]]
    assert store.events_of("acme", "other") == []
