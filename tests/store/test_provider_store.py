"""ProviderStore against a real Redis: the poll lease, compare-and-set commits and the
cost of a poll in round trips."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from notifier.diff.engine import diff
from notifier.models import EventKind, Status
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.providers import ProviderStore, Validators
from notifier.store.feeds.snapshot import FeedHealth
from tests.diffkit import at, doc, inc
from tests.support.roundtrips import RoundTrips
from tests.support.runtime import build_runtime, one_slack_route

INV, RES = Status.INVESTIGATING, Status.RESOLVED


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> ProviderStore:
    return ProviderStore(redis_client, key_prefix)


@pytest.fixture
def counted(redis_url: str, key_prefix: str) -> Iterator[tuple[ProviderStore, RoundTrips]]:
    client = redis.Redis.from_url(redis_url)
    trips = RoundTrips(client)
    yield ProviderStore(client, key_prefix), trips
    client.close()


def test_a_second_poll_of_a_provider_is_refused_while_the_first_holds_the_lease(
    store: ProviderStore,
) -> None:
    lease = store.begin("acme")
    assert lease is not None
    assert store.begin("acme") is None
    assert store.begin("other") is not None  # one lease per provider, not global
    assert store.finish(lease, now=at(0), outcome="not_modified")
    assert store.begin("acme") is not None


def test_finish_records_the_poll_validators_and_health(store: ProviderStore) -> None:
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


def test_a_commit_stores_the_state_and_bumps_the_version(store: ProviderStore) -> None:
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
    store = ProviderStore(redis_client, key_prefix, lock_ttl=timedelta(seconds=60))
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
    store: ProviderStore, redis_client: redis.Redis
) -> None:
    lease = store.begin("acme")
    assert lease is not None
    redis_client.hincrby(store.provider_key("acme"), "version", 1)  # someone committed meanwhile
    state = diff(None, doc(), at(1)).state
    ok = store.commit(
        lease, state, now=at(1), outcome="changed", validators=Validators(), health=FeedHealth()
    )
    assert not ok and store.load_state("acme") is None


def commit(store: ProviderStore, provider: str, docs_and_minutes: list) -> None:
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


def test_an_unchanged_poll_costs_one_round_trip_before_the_fetch_and_one_after(
    counted: tuple[ProviderStore, RoundTrips],
) -> None:
    store, trips = counted
    commit(store, "acme", [(doc(inc("a", (0, INV))), 1)])  # warm: connection, script cache
    trips.count = 0
    lease = store.begin("acme")
    assert lease is not None and trips.count == 1
    store.finish(lease, now=at(2), outcome="not_modified", validators=lease.validators)
    assert trips.count == 2


def test_every_key_starts_with_the_prefix(
    store: ProviderStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    commit(store, "acme", [(doc(inc("a", (0, INV))), 1)])
    events = diff(None, doc(inc("b", (0, INV))), at(1)).events
    kept = EventStore(redis_client, key_prefix)
    kept.save_events(events)
    kept.mark_processed(events[0].event_id)
    store.begin("acme")  # leaves the lease key
    names = {k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}*")}
    # provider, index, events, the incident's event index, processed, lease, history outbox
    assert len(names) == 2 + len(events) + 1 + 2 + 1
    assert all(n.startswith(f"{key_prefix}:") for n in names)
    assert {e.kind for e in events} == {EventKind.NEW_INCIDENT, EventKind.NEW_UPDATE}


def test_the_service_holds_a_poll_lease_for_notifier_poll_lease(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    # A worker killed mid-poll holds back the provider's polls until its lease lapses:
    # 2 minutes by default, what NOTIFIER_POLL_LEASE says when set.
    subscriptions = one_slack_route("http://127.0.0.1:9/feed.json")
    lock = f"{key_prefix}:provider:acme:lock"
    for settings, held_ms in (({}, 120_000), ({"poll_lease": 5}, 5_000)):
        rt = build_runtime(tmp_path, redis_url, key_prefix, subscriptions, **settings)
        assert rt.state.begin("acme") is not None
        assert held_ms - 1_000 < int(redis_client.pttl(lock)) <= held_ms  # type: ignore[arg-type]
        assert rt.state.begin("acme") is None  # held: the next poll is skipped
        redis_client.delete(lock)
