"""A feed flood: a document with thousands of new incidents is one alert naming the
count, and every incident is still recorded (real HTTP server, real Redis)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from notifier.feeds.fetch import Fetcher
from notifier.models import ChangeEvent, EventKind, Status
from notifier.pipeline.ingest.poll import Outcome, poll_provider
from notifier.route.match import FEED_EVENTS
from notifier.store.feeds.providers import ProviderStore
from tests.diffkit import at, inc, summary_json
from tests.support.feed_server import feed_server
from tests.support.local import LOCAL

INV, IDE = Status.INVESTIGATING, Status.IDENTIFIED


@dataclass(frozen=True)
class Provider:
    id: str
    url: str
    format: str = "statuspage-json"


class Collector:
    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []

    def __call__(self, events: Sequence[ChangeEvent]) -> None:
        self.events.extend(events)


def test_three_thousand_new_incidents_are_one_flood_alert_and_all_recorded(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = ProviderStore(redis_client, key_prefix)
    known = inc("known", (0, INV))
    flood = [inc(f"f{i}", (1, INV), title=f"Flood {i}") for i in range(3_000)]
    with (
        feed_server() as server,
        Fetcher(timeout=10, allow=LOCAL, total_timeout=60, max_bytes=30_000_000) as fetcher,
    ):
        p = Provider("acme", server.url("/api/v2/summary.json"))
        server.put("/api/v2/summary.json", summary_json([known]))
        first = Collector()
        poll_provider(p, store, fetcher, first, at(1), name="Acme")
        assert EventKind.NEW_INCIDENT in {e.kind for e in first.events}

        body = summary_json([inc("known", (0, INV), (2, IDE)), *flood])
        assert len(body) > 800_000  # near a megabyte, as the largest real documents are
        server.put("/api/v2/summary.json", body)
        out = Collector()
        result = poll_provider(p, store, fetcher, out, at(2), name="Acme")

        assert result.outcome is Outcome.CHANGED
        floods = [e for e in out.events if e.kind is EventKind.FEED_FLOOD]
        assert len(floods) == 1 and EventKind.FEED_FLOOD in FEED_EVENTS
        assert floods[0].incident.title == (
            "Feed flood: Acme published 3000 new incidents in one document"
        )
        assert "max_new_incidents_per_poll (50)" in (
            floods[0].update.body if floods[0].update else ""
        )
        # The known incident's own change still goes out; nothing else does.
        others = [e for e in out.events if e.kind is not EventKind.FEED_FLOOD]
        assert {e.incident_id for e in others} == {"known"}
        assert len(store.load_state("acme").incidents) == 3_001  # type: ignore[union-attr]

        # The same document again, and one flood incident updated: no flood, no
        # re-alert of the recorded ones, the update alerted as usual.
        server.put("/api/v2/summary.json", summary_json(
            [inc("known", (0, INV), (2, IDE)), inc("f7", (1, INV), (3, IDE), title="Flood 7"),
             *flood[:7], *flood[8:]]))  # fmt: skip
        again = Collector()
        poll_provider(p, store, fetcher, again, at(3), name="Acme")
        assert {e.incident_id for e in again.events} == {"f7"}
        assert EventKind.FEED_FLOOD not in {e.kind for e in again.events}


def test_a_flood_event_is_the_same_event_when_the_same_document_is_decided_again(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    flood = [inc(f"f{i}", (1, INV)) for i in range(60)]
    ids = []
    for n in range(2):
        store = ProviderStore(redis_client, f"{key_prefix}:{n}")
        with feed_server() as server, Fetcher(timeout=5, allow=LOCAL) as fetcher:
            server.put("/s.json", summary_json([inc("k", (0, INV))]))
            p = Provider("acme", server.url("/s.json"))
            poll_provider(p, store, fetcher, Collector(), at(1))
            server.put("/s.json", summary_json(flood))
            out = Collector()
            poll_provider(p, store, fetcher, out, at(2), max_new_incidents=50)
        ids.append([e.event_id for e in out.events if e.kind is EventKind.FEED_FLOOD])
    assert ids[0] == ids[1] and len(ids[0]) == 1
