"""A large fan-out on a real Redis: planned in chunks that any worker may take, in any
order; the page lane first; the provider's next event waits for the chunks; a chunk
cut short by its time limit is tried again, loses nothing and is never quarantined."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import fanout
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.plan.fanout import PlanLater
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.local import LOCAL_CIDRS
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
SUBSCRIBERS = 3000
ON_CALL = 10  # the first ten also have SMS


class TimeLimit(Exception):
    """Stands in for the harness's soft time limit (Celery's SoftTimeLimitExceeded)."""


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def _runtime(tmp_path: Path, redis_url: str, key_prefix: str, url: str) -> Runtime:
    lines = ["providers:", "  - id: acme", "    name: Acme Cloud",
             f"    feed: {{url: '{url}', format: statuspage-json}}", "subscribers:"]  # fmt: skip
    for n in range(SUBSCRIBERS):
        lines += [f"  - name: team{n:05d}", f"    slack: {{channel: '#status-{n:05d}'}}"]
        if n < ON_CALL:
            lines.append(f"    sms: {{to: ['+1555010{n:04d}']}}")
    return build_runtime(
        tmp_path, redis_url, key_prefix, "\n".join(lines) + "\n", fetch_allow_networks=LOCAL_CIDRS
    )


def _incident(*statuses: str) -> FakeIncident:
    incident = FakeIncident("k7bigfanout1", "Elevated API errors", impact="critical")
    for n, status in enumerate(statuses):
        incident.add(status, f"2024-12-26T19:0{n}:00Z", f"We are {status}.")
    return incident


def _first_event(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer
) -> tuple[Runtime, InlineHandOff, list[str]]:
    feeds.put("/s.json", summary_json([]))
    rt = _runtime(tmp_path, redis_url, key_prefix, feeds.url("/s.json"))
    # Chunks are queued (the test runs them, in any order, as the workers would) and
    # every hand-on is recorded in order.
    spread = InlineHandOff(rt, NOW, plan=False, deliver=False, transient=(TimeLimit,))
    ingest.poll(rt, "acme", spread, NOW - timedelta(minutes=1))  # the quiet baseline
    feeds.put("/s.json", summary_json([_incident("investigating")]))
    assert ingest.poll(rt, "acme", spread, NOW).outcome == "changed"
    return rt, spread, spread.processed[-1]


def test_a_large_fan_out_is_planned_in_chunks_with_the_pages_first(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer
) -> None:
    rt, spread, events = _first_event(tmp_path, redis_url, key_prefix, feeds)
    plan.process(rt, events, spread, NOW)
    # The task that found the event planned and handed on the page lanes, nothing else.
    planned_here = list(spread.delivered)
    assert sum(k.endswith("/sms") for k in planned_here) == ON_CALL
    assert len(planned_here) == 2 * ON_CALL  # the on-call subscribers' Slack routes too
    size = fanout.chunk_size(SUBSCRIBERS - ON_CALL)
    assert len(spread.chunks) == -(-(SUBSCRIBERS - ON_CALL) // size)
    assert all(len(names) <= size for _, _, names in spread.chunks)
    assert not any(rt.events.is_processed(e) for e in events)  # the chunks finish it
    for event_ids, number, names in reversed(spread.chunks):  # any order, any worker
        plan.plan_chunk(rt, event_ids, number, names, spread, NOW)
    handed = Counter(spread.delivered)
    assert len(handed) == SUBSCRIBERS + ON_CALL  # every route once, none twice
    assert max(handed.values()) == 1
    assert all(rt.events.is_processed(e) for e in events)
    assert rt.due(Due.UNPROCESSED).due(NOW + timedelta(hours=1)) == []
    # Each alert record names its event (stored once by the poll) instead of copying it.
    raw = rt.client.hget(rt.alerts.key(next(iter(handed))), "alert")
    assert raw is not None and b'"event_id"' in raw and b'"event":' not in raw


def test_the_providers_next_event_waits_until_every_chunk_is_planned(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer
) -> None:
    rt, spread, events = _first_event(tmp_path, redis_url, key_prefix, feeds)
    plan.process(rt, events, spread, NOW)
    feeds.put("/s.json", summary_json([_incident("investigating", "identified")]))
    later = NOW + timedelta(minutes=1)
    assert ingest.poll(rt, "acme", spread, later).outcome == "changed"
    update = spread.processed[-1]
    with pytest.raises(PlanLater):
        plan.process(rt, update, spread, later)
    plan.process(rt, events, spread, later)  # a re-sent batch does not fan out again
    pending = list(spread.chunks)
    assert len(pending) == -(-(SUBSCRIBERS - ON_CALL) // fanout.chunk_size(SUBSCRIBERS - ON_CALL))
    for event_ids, number, names in pending:
        plan.plan_chunk(rt, event_ids, number, names, spread, later)
    spread.chunks.clear()
    plan.process(rt, update, spread, later)  # now it goes, in chunks of its own
    for event_ids, number, names in spread.chunks:
        plan.plan_chunk(rt, event_ids, number, names, spread, later)
    keys = list(spread.delivered)
    assert len(keys) == len(set(keys))
    # The update went to the threads the first event opened: no route paged twice.
    assert sum(k.endswith("/sms") for k in keys) == ON_CALL


def test_a_chunk_cut_short_by_its_time_limit_is_tried_again_and_loses_nothing(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer
) -> None:
    rt, spread, events = _first_event(tmp_path, redis_url, key_prefix, feeds)
    plan.process(rt, events, spread, NOW)
    event_ids, number, names = spread.chunks[0]
    for _try in range(4):  # more often than a poison item is allowed to fail
        spread.fail_next = [TimeLimit("soft time limit exceeded")]
        with pytest.raises(TimeLimit):
            plan.plan_chunk(rt, event_ids, number, names, spread, NOW)
    assert not any(rt.quarantine.counts(NOW).values())  # a time limit is no poison try
    assert all(rt.quarantine.tries("event", e) == 0 for e in event_ids)
    for event_ids, number, names in spread.chunks:
        plan.plan_chunk(rt, event_ids, number, names, spread, NOW)
    handed = set(spread.delivered)
    assert len(handed) == SUBSCRIBERS + ON_CALL
    assert all(rt.events.is_processed(e) for e in events)


class _Subscriber:
    def __init__(self, name: str, channels: tuple[str, ...]) -> None:
        self.name, self._channels = name, channels

    def channel_names(self) -> tuple[str, ...]:
        return self._channels


class _Subscribers:
    def __init__(self, n: int, paged: int) -> None:
        self.subscribers = [
            _Subscriber(f"t{i}", ("slack", "sms") if i < paged else ("slack",)) for i in range(n)
        ]


@pytest.mark.parametrize(
    ("subscribers", "chunks"),
    [
        (fanout.FAN_OUT_MIN + 10, 2),  # chunks of CHUNK subscribers
        (fanout.CHUNK * fanout.MAX_CHUNKS + 10, fanout.MAX_CHUNKS),  # bigger chunks instead
        (30_010, fanout.MAX_CHUNKS),
    ],
)
def test_a_fan_out_is_cut_into_chunks_of_at_least_chunk_and_at_most_max_chunks_of_them(
    subscribers: int, chunks: int
) -> None:
    parts = fanout.split(_Subscribers(subscribers, 10), {"sms"})  # type: ignore[arg-type]
    assert parts is not None and len(parts.first) == 10  # the page lanes, first
    assert len(parts.chunks) == chunks
    sizes = [len(c) for c in parts.chunks]
    assert min(sizes[:-1], default=fanout.CHUNK) >= fanout.CHUNK
    assert sum(sizes) == subscribers - 10
