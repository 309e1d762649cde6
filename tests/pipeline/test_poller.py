"""poll_provider against a real Redis: conditional fetches, feed health, crashes between
enqueue and commit, and concurrent polls of one provider."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.diff.health import record_failure, record_success, sanitize_error
from notifier.feeds.errors import FetchError
from notifier.feeds.fetch import Fetcher, FetchResult
from notifier.models import ChangeEvent, EventKind, Status
from notifier.pipeline.ingest.poll import Outcome, poll_provider
from notifier.pipeline.replay import replay
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.providers import ProviderStore
from notifier.store.feeds.snapshot import FeedHealth
from tests.diffkit import at, inc, summary_json
from tests.support.feed_server import feed_server
from tests.support.local import LOCAL
from tests.support.roundtrips import RoundTrips

INV, IDE, RES = Status.INVESTIGATING, Status.IDENTIFIED, Status.RESOLVED
ROOT = Path(__file__).resolve().parents[2]
GITHUB_SERIES = "statuspage/githubstatus_history_atom_series"


@dataclass(frozen=True)
class Provider:
    id: str
    url: str
    format: str = "statuspage-json"


class ServedFeed:
    """A fetcher double (made here) with the Fetcher interface: serves `body` with an
    ETag and answers 304 when it matches, or raises `error`."""

    def __init__(self, body: bytes = b"", honour_etag: bool = True) -> None:
        self.body = body
        self.error: Exception | None = None
        self.honour_etag = honour_etag
        self.calls = 0

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        self.calls += 1
        if self.error is not None:
            raise self.error
        tag = f'"{hash(self.body) & 0xFFFFFFFF:x}"'
        if self.honour_etag and etag == tag:
            return FetchResult(304, None, tag, None, None)
        digest = hashlib.sha256(self.body).hexdigest()
        return FetchResult(200, self.body, tag if self.honour_etag else None, None, digest)


class Collector:
    """An enqueue callback: records what it was handed."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []
        self.lock = threading.Lock()

    def __call__(self, events: Sequence[ChangeEvent]) -> None:
        with self.lock:
            self.events.extend(events)

    @property
    def ids(self) -> list[str]:
        return [e.event_id for e in self.events]


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> ProviderStore:
    return ProviderStore(redis_client, key_prefix)


def test_a_first_poll_hands_on_the_events_and_commits_the_snapshot(store: ProviderStore) -> None:
    feed, out = ServedFeed(summary_json([inc("a", (0, INV))])), Collector()
    result = poll_provider(Provider("acme", "https://x"), store, feed, out, at(1))
    # the incident and its first update: one event, one message
    assert result.outcome is Outcome.CHANGED and result.events == 1
    assert [e.kind for e in out.events] == [EventKind.NEW_INCIDENT]
    assert out.events[0].update is not None and out.events[0].first_seen
    assert list(result.event_ids) == out.ids
    state = store.load_state("acme")
    assert state is not None and set(state.incidents) == {"a"}


@pytest.mark.parametrize(
    ("honour_etag", "expected"),
    [
        # the server answers If-None-Match with 304: nothing is parsed
        (True, Outcome.NOT_MODIFIED),
        # the server ignores validators: the same body hash skips the parse
        (False, Outcome.UNCHANGED),
    ],
)
def test_an_unchanged_feed_gives_no_events(
    store: ProviderStore, honour_etag: bool, expected: Outcome
) -> None:
    feed, out = ServedFeed(summary_json([inc("a", (0, INV))]), honour_etag), Collector()
    poll_provider(Provider("acme", "https://x"), store, feed, out, at(1))
    out.events.clear()
    result = poll_provider(Provider("acme", "https://x"), store, feed, out, at(2))
    assert result.outcome is expected and out.events == []


def test_a_changed_feed_gives_the_changes(store: ProviderStore) -> None:
    feed, out = ServedFeed(summary_json([inc("a", (0, INV))])), Collector()
    p = Provider("acme", "https://x")
    poll_provider(p, store, feed, out, at(1))
    out.events.clear()
    feed.body = summary_json([inc("a", (0, INV), (4, IDE))])
    result = poll_provider(p, store, feed, out, at(5))
    assert result.outcome is Outcome.CHANGED
    assert [e.kind.value for e in out.events] == ["new_update"]  # carrying the status change
    assert (out.events[0].previous, out.events[0].current) == ("investigating", "identified")
    feed.body = summary_json([])  # an active list that dropped it
    before = len(out.events)
    poll_provider(p, store, feed, out, at(9))
    assert len(out.events) == before  # one absence may be a glitch
    # The same list again: the server would answer 304, but the poll asks in full to
    # confirm the absence, and resolves the incident in notifier's own words.
    assert poll_provider(p, store, feed, out, at(10)).outcome is Outcome.CHANGED
    assert out.events[-1].kind is EventKind.RESOLVED and out.events[-1].note


def test_an_unchanged_poll_over_http_costs_one_redis_round_trip_after_the_get(
    redis_url: str, key_prefix: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    trips = RoundTrips(client)
    store = ProviderStore(client, key_prefix)
    with feed_server() as server, Fetcher(timeout=5, connect_timeout=5, allow=LOCAL) as fetcher:
        server.put("/summary.json", summary_json([inc("a", (0, INV))]))
        p = Provider("acme", server.url("/summary.json"))
        poll_provider(p, store, fetcher, Collector(), at(1))

        seen: list[int] = []
        real_fetch = fetcher.fetch

        def fetch(url: str, etag: str | None = None, lm: str | None = None) -> FetchResult:
            seen.append(trips.count)  # round trips so far, at the moment of the GET
            return real_fetch(url, etag, lm)

        trips.count = 0
        result = poll_provider(p, store, _With(fetch), Collector(), at(2))
    total = trips.count
    client.delete(*client.keys(f"{key_prefix}*"))
    client.close()
    assert result.outcome is Outcome.NOT_MODIFIED
    assert seen == [1] and total == 2


class _With:
    """Wraps a fetch function as a fetcher."""

    def __init__(self, fetch: Callable[..., FetchResult]) -> None:
        self.fetch = fetch


def test_three_failures_make_one_unreachable_event_and_success_one_recovery(
    store: ProviderStore,
) -> None:
    feed, out = ServedFeed(summary_json([inc("a", (0, INV))])), Collector()
    p = Provider("acme", "https://x")
    poll_provider(p, store, feed, out, at(0))
    out.events.clear()
    feed.error = FetchError("HTTP 503 from https://bot:hunter2@status.acme.test/x?token=s3cr3t")
    outcomes = [poll_provider(p, store, feed, out, at(m)) for m in (1, 2, 3, 4)]
    assert [o.outcome for o in outcomes] == [Outcome.FAILED] * 4
    assert outcomes[0].error_type == "FetchError"
    (down,) = out.events
    assert down.kind is EventKind.FEED_UNREACHABLE and down.incident_id == "feed-health"
    assert down.incident.title == "Status page unreachable"  # the provider is named before it
    assert down.update is not None and "hunter2" not in down.update.body
    assert "s3cr3t" not in down.update.body and "HTTP 503" in down.update.body
    feed.error = None
    assert poll_provider(p, store, feed, out, at(5)).outcome is Outcome.NOT_MODIFIED
    poll_provider(p, store, feed, out, at(6))
    assert [e.kind for e in out.events] == [EventKind.FEED_UNREACHABLE, EventKind.FEED_RECOVERED]
    assert out.events[1].incident.status is RES


def test_a_feed_that_answers_with_a_web_page_is_announced_as_unreadable_not_unreachable(
    store: ProviderStore,
) -> None:
    page, out = ServedFeed(b"<!DOCTYPE html><html><body>Sign in</body></html>"), Collector()
    p = Provider("acme", "https://x")
    for m in (1, 2, 3):
        poll_provider(p, store, page, out, at(m))
    (down,) = out.events
    assert down.kind is EventKind.FEED_UNREACHABLE  # the subscribers' vocabulary: blind
    assert down.incident.title == "Status feed unreadable"
    assert down.update is not None
    assert down.update.body.startswith("Answered with an HTML page, not a feed (3 polls in a row")
    assert "No alerts about acme can arrive" in down.update.body
    page.body = summary_json([inc("a", (0, INV))])
    poll_provider(p, store, page, out, at(4))
    up = out.events[1]
    assert up.kind is EventKind.FEED_RECOVERED and up.incident.title == down.incident.title
    assert up.update is not None and "reads again after 3 failed polls" in up.update.body


def test_a_parse_error_fails_only_its_own_provider(store: ProviderStore) -> None:
    good, bad, out = (
        ServedFeed(summary_json([inc("a", (0, INV))])),
        ServedFeed(b"<html>"),
        Collector(),
    )
    broken = poll_provider(Provider("bad", "https://b"), store, bad, out, at(1))
    fine = poll_provider(Provider("good", "https://g"), store, good, out, at(1))
    assert broken.outcome is Outcome.FAILED and broken.error_type is not None
    assert "ParseError" in broken.error_type or "Error" in broken.error_type
    assert fine.outcome is Outcome.CHANGED and fine.events == 1
    # a broken body is fetched and parsed in full again next time (validators kept)
    assert (
        poll_provider(Provider("bad", "https://b"), store, bad, out, at(2)).outcome
        is Outcome.FAILED
    )


def test_a_crash_after_enqueue_before_commit_loses_nothing_and_duplicates_nothing(
    store: ProviderStore,
) -> None:
    p = Provider("acme", "https://x")
    feed = ServedFeed(summary_json([inc("a", (0, INV))]))
    poll_provider(p, store, feed, Collector(), at(1))
    feed.body = summary_json([inc("a", (0, INV), (3, IDE)), inc("b", (2, INV))])
    handed: list[str] = []

    def enqueue_then_crash(events: Sequence[ChangeEvent]) -> None:
        EventStore(store.redis, store.prefix).save_events(events)
        handed.extend(e.event_id for e in events)
        raise ConnectionError("broker went away after taking the events")

    with pytest.raises(ConnectionError):
        poll_provider(p, store, feed, enqueue_then_crash, at(4))
    retry = Collector()
    assert poll_provider(p, store, feed, retry, at(5)).outcome is Outcome.CHANGED  # lease freed
    assert retry.ids == handed  # the same ids again: dedup drops them downstream
    assert poll_provider(p, store, feed, Collector(), at(6)).events == 0


_DIE_AFTER_ENQUEUE = """
import os, sys
from datetime import datetime, timedelta
import redis
from notifier.feeds.fetch import FetchResult
from notifier.pipeline.ingest.poll import poll_provider
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.providers import ProviderStore

url, prefix, path = sys.argv[1:4]
body = open(path, "rb").read()

class Feed:
    def fetch(self, url, etag=None, last_modified=None):
        return FetchResult(200, body, None, None, None)

class P:
    id, url, format = "github", "https://x", "statuspage-atom"

client = redis.Redis.from_url(url)
store = ProviderStore(client, prefix, lock_ttl=timedelta(seconds=60))

def enqueue(events):
    EventStore(client, prefix).save_events(events)
    client.rpush(prefix + ":queue", *[e.event_id for e in events])
    os._exit(3)  # the worker dies right after handing the events on

poll_provider(P(), store, Feed(), enqueue, datetime.fromisoformat("2023-02-09T04:25:00+00:00"))
"""


def test_a_process_dying_between_enqueue_and_commit_is_made_whole_by_the_next_poll(
    corpus: Path, redis_url: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    path = corpus / GITHUB_SERIES / "githubstatus_history_2023-02-09T0425Z.atom"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", _DIE_AFTER_ENQUEUE, redis_url, key_prefix, str(path)]
    died = subprocess.run(args, env=env, capture_output=True, timeout=60)
    assert died.returncode == 3, died.stderr.decode()
    queued = redis_client.lrange(f"{key_prefix}:queue", 0, -1)
    first = [i.decode() if isinstance(i, bytes) else str(i) for i in queued]
    store = ProviderStore(redis_client, key_prefix, lock_ttl=timedelta(seconds=3))
    assert first and store.load_state("github") is None  # handed on, never committed
    # The dead worker's lease (60 s: it holds however slowly the machine runs).
    lock = f"{key_prefix}:provider:github:lock"
    assert redis_client.pttl(lock) > 0
    p = Provider("github", "https://x", "statuspage-atom")
    feed = ServedFeed(path.read_bytes())
    assert poll_provider(p, store, feed, Collector(), at(0)).outcome is Outcome.SKIPPED_LOCKED
    redis_client.pexpire(lock, 1)  # the dead worker's lease runs out (its TTL is Redis's)
    deadline = time.monotonic() + 10
    while redis_client.exists(lock):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    again = Collector()
    assert poll_provider(p, store, feed, again, at(1)).outcome is Outcome.CHANGED
    assert again.ids == first  # same ids: after dedup, nothing lost and nothing twice
    assert store.load_state("github") is not None


def test_concurrent_polls_of_one_provider_emit_each_event_once(
    redis_url: str, key_prefix: str
) -> None:
    versions = [
        summary_json([inc("a", (0, INV))]),
        summary_json([inc("a", (0, INV), (2, IDE))]),
        summary_json([inc("a", (0, INV), (2, IDE)), inc("b", (3, INV))]),
        summary_json([inc("b", (3, INV), (4, IDE))]),
        summary_json([inc("b", (3, INV), (4, IDE), (5, IDE)), inc("c", (6, INV))]),
    ]
    feed, out = ServedFeed(versions[0]), Collector()
    p = Provider("acme", "https://x")
    stop = threading.Event()
    clients = [redis.Redis.from_url(redis_url) for _ in range(6)]

    def worker(client: redis.Redis) -> None:
        store = ProviderStore(client, key_prefix)
        while not stop.is_set():
            poll_provider(p, store, feed, out, at(10))

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()

    def raced(fetches: int) -> None:
        """Until the threads fetched `fetches` more times (each version is raced over)."""
        target, deadline = feed.calls + fetches, time.monotonic() + 30
        while feed.calls < target:
            assert time.monotonic() < deadline, feed.calls
            time.sleep(0.005)

    raced(6)
    for body in versions[1:]:
        feed.body = body
        raced(6)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    for c in clients:
        c.close()
    counts = Counter(out.ids)
    assert counts and max(counts.values()) == 1
    new_updates = {(e.incident_id, e.update.at) for e in out.events if e.update}
    assert {("b", at(5)), ("c", at(6))} <= new_updates  # the last version was seen
    assert feed.calls > len(versions)  # the threads really did race


def test_the_poller_and_replay_give_the_same_events_for_the_github_series(
    corpus: Path, store: ProviderStore, tmp_path: Path
) -> None:
    files = sorted((corpus / GITHUB_SERIES).glob("githubstatus_history_2023-02-*.atom"))
    (tmp_path / "github").mkdir()
    feed, out = ServedFeed(), Collector()
    p = Provider("github", "https://www.githubstatus.com/history.atom", "statuspage-atom")
    for f, stamp in zip(files, _stamps(files), strict=True):
        (tmp_path / "github" / f"{stamp.strftime('%Y%m%dT%H%M%SZ')}.atom").symlink_to(f)
        feed.body = f.read_bytes()
        assert poll_provider(p, store, feed, out, stamp).outcome is Outcome.CHANGED
    replayed = [e.event_id for _, e in replay(tmp_path)]
    assert out.ids == replayed and len(replayed) >= 5


def _stamps(files: list[Path]) -> Iterator[datetime]:
    for f in files:
        yield datetime.strptime(f.stem.rsplit("_", 1)[1], "%Y-%m-%dT%H%MZ").replace(tzinfo=UTC)


# ---- feed health decisions (pure) ---------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "unreachable", "threshold", "emits"),
    [
        (0, False, 3, None),  # first failure: counted, nothing said
        (1, False, 3, None),  # second failure: still nothing
        (2, False, 3, EventKind.FEED_UNREACHABLE),  # third: the page counts as unreachable
        (5, True, 3, None),  # already announced: never twice per episode
        (0, False, 1, EventKind.FEED_UNREACHABLE),  # threshold 1: the first failure tells
    ],
)
def test_failures_announce_unreachable_once_per_episode(
    failures: int, unreachable: bool, threshold: int, emits: EventKind | None
) -> None:
    before = FeedHealth(failures, unreachable, at(0) if failures else None, "x")
    after, events = record_failure(before, "acme", "HTTP 502", at(9), threshold)
    assert after.failures == failures + 1 and after.since == (at(0) if failures else at(9))
    assert [e.kind for e in events] == ([emits] if emits else [])


def test_health_event_ids_are_keyed_by_the_episode() -> None:
    streak = FeedHealth(2, False, at(0), "x")
    _, (first,) = record_failure(streak, "acme", "HTTP 502", at(5))
    _, (again,) = record_failure(streak, "acme", "timeout", at(6))  # a retried decision
    _, (other,) = record_failure(FeedHealth(2, False, at(60), "x"), "acme", "HTTP 502", at(65))
    assert first.event_id == again.event_id != other.event_id
    _, (up,) = record_success(FeedHealth(3, True, at(0), "x"), "acme", at(9))
    assert up.kind is EventKind.FEED_RECOVERED and up.event_id != first.event_id
    assert record_success(FeedHealth(2, False, at(0), "x"), "acme", at(9)) == (FeedHealth(), [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # credentials in a URL are dropped, and so is the query string
        ("GET https://u:p@h.test/a?token=x failed", "GET https://h.test/a failed"),
        # header-like secrets are redacted
        ("authorization: Bearer xoxb-1-2-3", "authorization: Bearer [redacted]"),
        # control characters and newlines fold into one line
        ("bad\r\nthing\x00here", "bad thing here"),
        # ordinary words that merely look like secret names stay
        ("Authentication failed with HTTP 401", "Authentication failed with HTTP 401"),
    ],
)
def test_error_text_is_sanitized(raw: str, expected: str) -> None:
    assert sanitize_error(raw) == expected
