"""IncidentIndex against a real Redis: the recent incidents the polls' commits index,
across providers, and how entries age out."""

from __future__ import annotations

import pytest
import redis

from notifier.diff.engine import diff
from notifier.models import DocumentKind, Status
from notifier.store.feeds.incidents import IncidentIndex
from notifier.store.feeds.providers import ProviderStore, Validators
from notifier.store.feeds.snapshot import RECENT_WINDOW, FeedHealth
from tests.diffkit import at, doc, inc

INV, RES = Status.INVESTIGATING, Status.RESOLVED


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> ProviderStore:
    return ProviderStore(redis_client, key_prefix)


@pytest.fixture
def index(redis_client: redis.Redis, key_prefix: str) -> IncidentIndex:
    return IncidentIndex(redis_client, key_prefix)


def commit(store: ProviderStore, provider: str, docs_and_minutes: list) -> None:
    """Poll `provider` once per (document, minute), committing each snapshot."""
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
    store: ProviderStore,
    index: IncidentIndex,
) -> None:
    window = RECENT_WINDOW.total_seconds() / 60
    old = inc("old", (0, INV), (5, RES))
    commit(
        store, "acme", [(doc(old, inc("open", (10, INV)), inc("just", (20, RES))), 5 + window + 1)]
    )
    commit(store, "other", [(doc(inc("x", (30, INV)), kind=DocumentKind.ACTIVE), 31)])
    got = [(i.provider, i.id) for i in index.recent_incidents()]
    assert got == [("acme", "just"), ("acme", "open"), ("acme", "x")]  # diffkit's provider id
    assert [i.id for i in index.recent_incidents(now=at(20 + window + 1))] == ["open", "x"]


def test_the_index_forgets_incidents_as_they_age_out(
    store: ProviderStore, index: IncidentIndex
) -> None:
    window = RECENT_WINDOW.total_seconds() / 60
    a_open, a_done = inc("a", (0, INV)), inc("a", (0, INV), (5, RES))
    commit(store, "acme", [(doc(a_open), 1), (doc(a_done), 6)])
    assert [i.status for i in index.recent_incidents()] == [RES]
    # an unchanged feed still trims the index, on its single write after the fetch
    lease = store.begin("acme")
    assert lease is not None
    store.finish(lease, now=at(6 + window + 1), outcome="not_modified")
    assert index.recent_incidents() == []


def test_a_second_read_decodes_only_the_entries_that_changed_and_shows_every_change(
    store: ProviderStore, index: IncidentIndex
) -> None:
    commit(store, "acme", [(doc(inc("a", (0, INV))), 1)])
    commit(store, "bolt", [(doc(inc("b", (0, INV))), 1)])
    acme, bolt = index.recent_incidents()
    commit(store, "bolt", [(doc(inc("b", (0, INV), (2, INV))), 3)])
    again_acme, again_bolt = index.recent_incidents()
    assert again_acme is acme  # unchanged: the incident decoded before
    assert again_bolt is not bolt and again_bolt.updates[-1].body == "b 2"
    commit(store, "acme", [(doc(inc("a", (0, INV), (4, RES))), 5)])
    window = RECENT_WINDOW.total_seconds() / 60
    assert [i.id for i in index.recent_incidents(at(5 + window + 1))] == ["b"]
