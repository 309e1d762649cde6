"""Alert claims and the thread registry against a real Redis (and their in-memory twins)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import redis

from notifier.models import Alert, AlertKind, EventKind
from notifier.store.conn.batch import read_now
from notifier.store.delivery.alerts import AlertStore, Earlier, InMemoryAlertStore, dedup_key_for
from notifier.store.delivery.retries import RetryQueue
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import InMemoryThreadStore, RedisThreadStore, ThreadEntry
from tests.planning_helpers import event, incident

NOW = datetime(2024, 12, 26, 20, 0, tzinfo=UTC)


def _alert(subscriber: str = "ops", channel: str = "slack") -> Alert:
    ev = event(incident("openai", "01JG", "2024-12-26 19:00"))
    return Alert(
        dedup_key=dedup_key_for(ev.event_id, subscriber, channel),
        thread_key="ops/slack/openai/01JG",
        kind=AlertKind.NEW,
        subscriber=subscriber,
        channel=channel,
        event=ev,
        page=True,
    )


@pytest.fixture(params=["redis", "memory"])
def alerts(request: pytest.FixtureRequest) -> AlertStore | InMemoryAlertStore:
    if request.param == "memory":
        return InMemoryAlertStore()
    client = request.getfixturevalue("redis_client")
    return AlertStore(client, request.getfixturevalue("key_prefix"))


def test_an_alert_is_claimed_once_and_read_back(alerts: AlertStore | InMemoryAlertStore) -> None:
    alert = _alert()
    assert alerts.claim(alert) is True
    assert alerts.claim(alert) is False
    assert alerts.get(alert.dedup_key) == alert
    assert alerts.status(alert.dedup_key) is AlertStatus.PENDING


def test_the_delivery_status_moves_on(alerts: AlertStore | InMemoryAlertStore) -> None:
    alert = _alert()
    alerts.claim(alert)
    assert alerts.finish(alert.dedup_key, AlertStatus.DELIVERED, NOW) is True
    assert alerts.status(alert.dedup_key) is AlertStatus.DELIVERED
    assert alerts.get(alert.dedup_key) == alert  # the alert itself is untouched
    assert alerts.finish("never-claimed", AlertStatus.FAILED, NOW) is False
    assert alerts.status("never-claimed") is None
    with pytest.raises(ValueError):
        alerts.finish(alert.dedup_key, "lost", NOW)  # type: ignore[arg-type]


def test_each_subscriber_and_channel_has_its_own_claim(
    alerts: AlertStore | InMemoryAlertStore,
) -> None:
    assert alerts.claim(_alert("ops", "slack"))
    assert alerts.claim(_alert("ops", "sms"))
    assert alerts.claim(_alert("eu", "slack"))


def test_the_claim_lives_in_redis_under_the_prefix_with_a_ttl(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = AlertStore(redis_client, key_prefix)
    alert = _alert()
    store.claim(alert, ttl=120)
    key = f"{key_prefix}:alert:{alert.dedup_key}"
    assert 0 < redis_client.ttl(key) <= 120
    # a restarted worker (a new store on the same Redis) sees the claim
    assert AlertStore(redis.Redis.from_url(_url(redis_client)), key_prefix).claim(alert) is False


def _url(client: redis.Redis) -> str:
    kw = client.connection_pool.connection_kwargs
    if "path" in kw:
        return f"unix://{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


def _race(n: int, attempt: Callable[[], bool]) -> list[bool]:
    barrier = threading.Barrier(n)

    def run() -> bool:
        barrier.wait()
        return attempt()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: run(), range(n)))


def test_concurrent_claims_of_one_alert_have_one_winner(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    url = _url(redis_client)
    alert = _alert()
    # each thread its own connection, as separate worker processes would have
    results = _race(16, lambda: AlertStore(redis.Redis.from_url(url), key_prefix).claim(alert))
    assert results.count(True) == 1


def test_concurrent_thread_openings_agree_on_one_entry(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    url = _url(redis_client)
    route, ref = ("ops", "slack"), ("openai", "01JG")
    winners: list[str] = []

    def attempt() -> bool:
        me = f"opener-{threading.get_ident()}"
        store = RedisThreadStore(redis.Redis.from_url(url), key_prefix)
        stored = store.open(route, ref, ThreadEntry("t", me, True))
        winners.append(stored.opened_by)
        return stored.opened_by == me

    assert _race(8, attempt).count(True) == 1
    assert len(set(winners)) == 1


@pytest.fixture(params=["redis", "memory"])
def threads(request: pytest.FixtureRequest) -> RedisThreadStore | InMemoryThreadStore:
    if request.param == "memory":
        return InMemoryThreadStore()
    client = request.getfixturevalue("redis_client")
    return RedisThreadStore(client, request.getfixturevalue("key_prefix"))


def test_thread_store_semantics(threads: RedisThreadStore | InMemoryThreadStore) -> None:
    route, ref = ("ops", "slack"), ("openai", "01JG")
    assert threads.get(route, ref) is None
    first = ThreadEntry("ops/slack/openai/01JG", "k1", True)
    assert threads.open(route, ref, first) == first
    assert threads.open(route, ref, ThreadEntry("other", "k2", False)) == first
    assert threads.get(route, ref) == first
    assert threads.get(("ops", "sms"), ref) is None  # per route
    assert threads.cascade(route, ("azure", "az")) is None
    assert threads.join_cascade(route, ("azure", "az"), "T1") == "T1"
    assert threads.join_cascade(route, ("azure", "az"), "T2") == "T1"
    assert threads.cascade(route, ("azure", "az")) == "T1"
    assert threads.add_member(route, "T1", "OpenAI") == ["OpenAI"]
    assert threads.add_member(route, "T1", "GitHub") == ["OpenAI", "GitHub"]
    assert threads.add_member(route, "T1", "OpenAI") == ["OpenAI", "GitHub"]


def test_a_thread_remembers_each_targets_parent_message(
    threads: RedisThreadStore | InMemoryThreadStore,
) -> None:
    assert threads.ref("T1", "slack", "#ops") is None
    threads.set_ref("T1", "slack", "#ops", "C1/111.1")
    threads.set_ref("T1", "email", "a@example.com", "<m1@example.com>")
    assert threads.ref("T1", "slack", "#ops") == "C1/111.1"
    assert threads.ref("T1", "email", "a@example.com") == "<m1@example.com>"
    assert threads.ref("T1", "slack", "#other") is None  # per target
    assert threads.ref("T2", "slack", "#ops") is None  # per thread


def test_threads_written_by_earlier_releases_stay_readable(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    # the keys and layouts the planner's registry and the delivery's thread refs wrote
    # when they were two stores: a deployment upgraded mid-incident keeps its threads
    entry = '{"thread_key": "t", "opened_by": "k", "paged": true, "attached_to": null}'
    redis_client.set(f"{key_prefix}:thread:ops:slack:openai:x", entry)
    redis_client.set(f"{key_prefix}:cascade:ops:slack:azure:az", "T1")
    redis_client.rpush(f"{key_prefix}:cascade-members:T1", "Microsoft Azure")
    redis_client.sadd(f"{key_prefix}:cascade-members:T1:set", "Microsoft Azure")
    redis_client.hset(f"{key_prefix}:threadref:t", "slack:#ops", "C1/111.1")
    store = RedisThreadStore(redis_client, key_prefix)
    assert store.get(("ops", "slack"), ("openai", "x")) == ThreadEntry("t", "k", True)
    assert store.cascade(("ops", "slack"), ("azure", "az")) == "T1"
    assert store.add_member(("ops", "slack"), "T1", "OpenAI") == ["Microsoft Azure", "OpenAI"]
    assert store.ref("t", "slack", "#ops") == "C1/111.1"


def test_every_redis_key_starts_with_the_prefix(redis_client: redis.Redis, key_prefix: str) -> None:
    store = RedisThreadStore(redis_client, key_prefix)
    store.open(("ops", "slack"), ("openai", "x"), ThreadEntry("t", "k", True))
    store.join_cascade(("ops", "slack"), ("openai", "x"), "t")
    store.add_member(("ops", "slack"), "t", "OpenAI")
    AlertStore(redis_client, key_prefix).claim(_alert())
    keys = [k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}*")]
    # four thread keys, the claim, its incident's alert index and its thread's last claim,
    # and the history outbox, which keeps its rows until the database has them (no TTL)
    assert len(keys) == 8
    outbox = f"{key_prefix}:history:outbox"
    assert outbox in keys and redis_client.ttl(outbox) == -1
    assert all(redis_client.ttl(k) > 0 for k in keys if k != outbox)


def _reply(n: int, thread: str = "ops/slack/openai/01JG", **kw: object) -> Alert:
    """The n-th alert of `thread` (each its own change of the incident)."""
    ev = event(incident("openai", "01JG", "2024-12-26 19:00"), EventKind.NEW_UPDATE, suffix=f":{n}")
    key = dedup_key_for(ev.event_id, "ops", "slack")
    return Alert(key, thread, AlertKind.UPDATE, "ops", "slack", ev, **kw)  # type: ignore[arg-type]


def _earlier(store: AlertStore, key_prefix: str, alert: Alert) -> Earlier | None:
    lock = f"{key_prefix}:delivery:lock:"
    retries = RetryQueue(store._r, key_prefix).key
    return read_now(
        store._r,
        lambda batch: store.earlier_into(
            batch, alert.dedup_key, lock_prefix=lock, retries_key=retries
        ),
    )


def test_each_claim_notes_the_alert_claimed_before_it_in_its_thread_once(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = AlertStore(redis_client, key_prefix)
    first, second, third = _reply(1), _reply(2), _reply(3)
    other = _reply(4, thread="ops/slack/openai/01OTHER")
    assert store.claim(first) and store.claim(second) and store.claim(other)
    assert _earlier(store, key_prefix, first) is None
    assert _earlier(store, key_prefix, other) is None  # another thread: its own order
    assert _earlier(store, key_prefix, second) == Earlier(first.dedup_key, AlertStatus.PENDING)
    # Planning the second again (after a crash) does not move it behind the third.
    assert store.claim(third) and not store.claim(second)
    assert _earlier(store, key_prefix, second) == Earlier(first.dedup_key, AlertStatus.PENDING)
    assert _earlier(store, key_prefix, third) == Earlier(second.dedup_key, AlertStatus.PENDING)


def test_the_earlier_alert_is_read_with_its_hold_lock_and_retry(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = AlertStore(redis_client, key_prefix)
    until = datetime(2024, 12, 27, 7, 0, tzinfo=UTC)
    first, second = _reply(1, hold_until=until), _reply(2)
    store.claim(first)
    store.claim(second)
    assert _earlier(store, key_prefix, second) == Earlier(
        first.dedup_key, AlertStatus.PENDING, until
    )
    retry_at = until + timedelta(seconds=30)
    RetryQueue(redis_client, key_prefix).schedule([first.dedup_key], 1, retry_at)
    redis_client.set(f"{key_prefix}:delivery:lock:{first.dedup_key}", "t", px=5000)
    assert _earlier(store, key_prefix, second) == Earlier(
        first.dedup_key, AlertStatus.PENDING, until, running=True, retry_at=retry_at
    )
    store.finish(first.dedup_key, AlertStatus.FAILED, until)
    assert _earlier(store, key_prefix, second) == Earlier(
        first.dedup_key, AlertStatus.FAILED, None, running=True, retry_at=retry_at
    )
    redis_client.delete(store.key(first.dedup_key))  # expired
    assert _earlier(store, key_prefix, second) == Earlier(first.dedup_key, None)
