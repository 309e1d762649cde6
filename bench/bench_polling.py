"""Polling throughput: the real poller against a naive fetch-and-parse-everything loop.

A `FeedFarm` (its own process) serves `feeds` Statuspage documents: the corpus's
Atom captures (a change is the page's next real capture) or, without the corpus,
made-here summary.json documents. Each round 1/20 of the feeds (5%) change and the
rest answer 304 to the ETag the poller sends.

- pipeline: `notifier.pipeline.ingest.poll.poll_provider` with a real `ProviderStore` on Redis, the
  real `Fetcher`, and an inline enqueue that stores the events (what
  `notifier.pipeline.ingest.stage.poll` does before handing ids to Celery). Priming (every feed
  fetched and parsed once, as after a deploy) is measured on `prime` feeds and
  reported on its own; the other feeds get the state a first poll of the same
  document stored, copied through the ProviderStore API (parsing 2,000 Atom documents
  would take a minute and measures the parser, which `bench_parse` covers). The
  steady state is the rounds after it, over all feeds.
- baseline: GET without validators + `feedparser.parse`, on a sample of the feeds.

Both use the same thread pool (`threads`), so the ratio is per poll at equal concurrency.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser
import httpx
import redis

from bench.support import (
    LOCAL_NETWORKS,
    FeedFarm,
    Row,
    made_here_series,
    row,
    run_isolated,
    statuspage_series,
)
from notifier.feeds.fetch import Fetcher
from notifier.feeds.guard import parse_networks
from notifier.models import ChangeEvent
from notifier.pipeline.ingest.poll import poll_provider
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.providers import ProviderStore
from notifier.store.feeds.snapshot import ProviderState

NAME = "polling"
TARGET_RATIO = 10.0


@dataclass(frozen=True, slots=True)
class FarmProvider:
    id: str
    url: str
    format: str


def documents() -> tuple[list[list[bytes]], str, str]:
    """(series, content type, parser format): the corpus when present, else made here."""
    series = statuspage_series()
    if series is not None:
        return series, "application/atom+xml", "statuspage-atom"
    return made_here_series(), "application/json", "statuspage-json"


def _pool_run(pool: ThreadPoolExecutor, fn: Callable[[int], str], items: Sequence[int]) -> Counter:
    return Counter(pool.map(fn, items))


def measure(
    redis_url: str,
    prefix: str,
    feeds: int = 2000,
    rounds: int = 3,
    sample: int = 100,
    threads: int = 8,
    prime: int = 200,
) -> list[Row]:
    series, ctype, fmt = documents()
    client = redis.Redis.from_url(redis_url)
    store, kept = ProviderStore(client, prefix), EventStore(client, prefix)
    stored: list[ChangeEvent] = []

    def enqueue(events: Sequence[ChangeEvent]) -> None:
        kept.save_events(events)  # durable, as the ingest stage does; no queue
        stored.extend(events)

    with (
        FeedFarm(series, ctype) as farm,
        Fetcher(allow=parse_networks(LOCAL_NETWORKS)) as fetcher,
        httpx.Client() as naive,
    ):
        providers = [FarmProvider(f"feed{i:05d}", farm.url(i), fmt) for i in range(feeds)]

        def poll(i: int) -> str:
            now = datetime.now(UTC)
            return poll_provider(providers[i], store, fetcher, enqueue, now).outcome.value

        def baseline(i: int) -> str:
            response = naive.get(providers[i].url)
            response.raise_for_status()
            parsed = feedparser.parse(response.content)
            return "parsed" if parsed.entries else "empty"

        try:
            with ThreadPoolExecutor(threads) as pool:
                prime = max(len(series), min(prime, feeds))
                started = time.perf_counter()
                primed = _pool_run(pool, poll, range(prime))
                prime_s = time.perf_counter() - started
                copy = _copier(store, providers, len(series))
                primed += _pool_run(pool, copy, range(prime, feeds))
                steady: Counter = Counter()
                started = time.perf_counter()
                for r in range(1, rounds + 1):
                    farm.set_round(r)
                    steady += _pool_run(pool, poll, range(feeds))
                steady_s = time.perf_counter() - started
                events = len(stored)
                picks = list(range(0, feeds, max(1, feeds // sample)))[:sample]
                started = time.perf_counter()
                naive_out = _pool_run(pool, baseline, picks)
                naive_s = time.perf_counter() - started
        finally:
            client.close()
    return _rows(feeds, rounds, threads, fmt, prime, primed, prime_s, steady, steady_s, events,
                 len(picks), naive_out, naive_s)  # fmt: skip


def _rows(
    feeds: int, rounds: int, threads: int, fmt: str, prime: int, primed: Counter, prime_s: float,
    steady: Counter, steady_s: float, events: int, sampled: int, naive: Counter, naive_s: float,
) -> list[Row]:  # fmt: skip
    polls = feeds * rounds
    rate, naive_rate = polls / steady_s, sampled / naive_s
    mix = ", ".join(f"{k}={v}" for k, v in sorted(steady.items()))
    setup = f"{feeds} {fmt} feeds, {threads} threads"
    return [
        row(NAME, "priming: first poll (fetch + parse all)", prime / prime_s, "polls/s",
            baseline=naive_rate, note=f"{setup}; first {prime} polled, rest copied; "
            f"{dict(primed)}"),
        row(NAME, "steady state, 5% changed per round", rate, "polls/s",
            baseline=naive_rate, target=f">= {TARGET_RATIO:.0f}x baseline",
            ok=rate >= TARGET_RATIO * naive_rate, note=f"{rounds} rounds: {mix}"),
        row(NAME, "steady state, time per poll", steady_s / polls * 1e3, "ms",
            baseline=naive_s / sampled * 1e3, note="wall time / polls at this concurrency"),
        row(NAME, "events stored (priming + steady)", events, "events"),
        row(NAME, "baseline: GET + feedparser.parse", naive_rate, "polls/s",
            note=f"sample of {sampled} feeds, no validators; {dict(naive)}"),
    ]  # fmt: skip


def _copier(
    store: ProviderStore, providers: Sequence[FarmProvider], templates: int
) -> Callable[[int], str]:
    """Give feed i the state feed (i % templates) stored for the same document."""
    leases = [store.begin(p.id) for p in providers[:templates]]
    for lease in leases:
        assert lease is not None and lease.raw_state, "template feeds must be primed first"
        store.release(lease)

    def copy(i: int) -> str:
        template = leases[i % templates]
        assert template is not None and template.raw_state is not None
        source, target = f'"{template.provider}"', f'"{providers[i].id}"'
        raw = template.raw_state.replace(source.encode(), target.encode())
        lease = store.begin(providers[i].id)
        assert lease is not None
        now = datetime.now(UTC)
        ok = store.commit(lease, ProviderState.from_json(raw), now=now, outcome="changed",
                          validators=template.validators, health=lease.health)  # fmt: skip
        return "copied" if ok else "copy failed"

    return copy


def run() -> list[Row]:
    return run_isolated(measure)


if __name__ == "__main__":
    for r in run():
        print(r)
