"""Shared parts of the benchmarks: Redis, key prefixes, local servers, workers, rows.

Everything here talks to 127.0.0.1 (or a unix socket) only. Servers are made here:
`FeedFarm` serves thousands of feeds from a separate process (so it never shares
the GIL with the client it is measuring), `StampedFeedServer` serves a few feeds
in-process and remembers when each new version was first served, and `TimedSlack`
is the test suite's FakeSlack that also remembers when each message arrived.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis

from notifier.pipeline.handoff import HandOff, Lane
from notifier.pipeline.runtime.wiring import Runtime
from tests.fakes.server import Reply, Request
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import FakeTwilio
from tests.support.feed_server import FeedServer, etag_of, send_document
from tests.support.own_redis import own_redis

ROOT = Path(__file__).resolve().parent.parent
Row = dict[str, object]


# ---- rows -------------------------------------------------------------------------


def row(
    benchmark: str,
    metric: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    target: str = "",
    ok: bool | None = None,
    note: str = "",
) -> Row:
    """One result row; every benchmark uses these keys so results.json reads alike."""
    ratio = round(value / baseline, 2) if baseline else None
    return {
        "benchmark": benchmark,
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        "baseline": round(baseline, 3) if baseline is not None else None,
        "ratio": ratio,
        "target": target,
        "ok": "" if ok is None else ("yes" if ok else "NO"),
        "note": note,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, never interpolated."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# ---- Redis ------------------------------------------------------------------------


@contextmanager
def bench_redis() -> Iterator[str]:
    """NOTIFIER_BENCH_REDIS_URL, else NOTIFIER_TEST_REDIS_URL, else a private redis-server
    for this run. Never NOTIFIER_REDIS_URL: that is the service's Redis, not the bench's."""
    with own_redis(["NOTIFIER_BENCH_REDIS_URL", "NOTIFIER_TEST_REDIS_URL"]) as url:
        yield url


def new_prefix() -> str:
    return f"notifier-bench:{uuid.uuid4().hex[:12]}"


def delete_prefix(client: redis.Redis, prefix: str) -> int:
    """Delete our keys (and only ours: the match is anchored on our unique prefix)."""
    deleted = 0
    batch: list[Any] = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(client.delete(*batch))
            batch = []
    if batch:
        deleted += int(client.delete(*batch))
    return deleted


def redis_bytes(client: redis.Redis, prefix: str) -> tuple[int, int]:
    """(keys, bytes) of our keys as `MEMORY USAGE` reports them."""
    keys = total = 0
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        keys += 1
        total += int(client.memory_usage(key, samples=0) or 0)  # samples=0: exact
    return keys, total


# ---- the feed corpus ----------------------------------------------------------------


def corpus_dir() -> Path | None:
    env = os.environ.get("NOTIFIER_FEED_CORPUS")
    path = Path(env) if env else ROOT.parent / "shared" / "feeds"
    return path if path.is_dir() else None


def statuspage_series() -> list[list[bytes]] | None:
    """The corpus's Statuspage Atom captures of one page, in capture order, per page.

    Only pages with at least two captures: a "change" is the next real capture.
    """
    corpus = corpus_dir()
    if corpus is None:
        return None
    out = []
    for folder in sorted(p for p in (corpus / "statuspage").glob("*_series") if p.is_dir()):
        files = sorted(folder.glob("*.atom"), key=lambda p: p.stem.rsplit("_", 1)[-1])
        if len(files) >= 2:
            out.append([f.read_bytes() for f in files])
    return out or None


def made_here_series(length: int = 8) -> list[list[bytes]]:
    """Fallback without the corpus: summary.json versions, each one more update (made here)."""
    from tests.support.statuspage_docs import FakeIncident, summary_json

    incident = FakeIncident("benchinc0001", "Elevated API errors", components=["API"])
    versions = []
    for n in range(length):
        incident.add("investigating", f"2024-12-26T19:{n:02d}:00.000Z", f"Update number {n}.")
        versions.append(summary_json([incident]))
    return [versions]


# ---- a feed farm in its own process -----------------------------------------------------


def changed_version(feed: int, round_no: int, every: int) -> int:
    """How many times feed `feed` has changed by round `round_no`: once per `every` rounds,
    staggered so exactly 1/`every` of the feeds change in each round."""
    first = (-feed) % every or every
    return 0 if round_no < first else (round_no - first) // every + 1


def _serve_farm(
    series: list[list[bytes]], ctype: str, every: int, round_no: Any, port_out: Any
) -> None:
    """Child process: GET /feeds/<i> serves feed i's current version, 304 on a matching ETag."""
    tags = [[etag_of(b) for b in s] for s in series]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a CDN
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms), which would be measured as the pipeline's time.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            try:
                feed = int(self.path.rsplit("/", 1)[-1])
            except ValueError:
                self._send(404, b"", None)
                return
            s = feed % len(series)
            v = changed_version(feed, round_no.value, every) % len(series[s])
            if self.headers.get("If-None-Match") == tags[s][v]:
                self._send(304, b"", tags[s][v])
            else:
                self._send(200, series[s][v], tags[s][v])

        def _send(self, code: int, body: bytes, etag: str | None) -> None:
            send_document(self, code, body, ctype, etag)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    port_out.send(server.server_address[1])
    server.serve_forever()


class FeedFarm:
    """N feeds at http://127.0.0.1:PORT/feeds/<i>; `1/every` of them change per round."""

    def __init__(self, series: list[list[bytes]], ctype: str, every: int = 20) -> None:
        self.series, self.ctype, self.every = series, ctype, every
        self._round: Any = multiprocessing.Value("i", 0)
        self._proc: multiprocessing.Process | None = None
        self.port = 0

    def __enter__(self) -> FeedFarm:
        recv, send = multiprocessing.Pipe(duplex=False)
        self._proc = multiprocessing.Process(
            target=_serve_farm,
            args=(self.series, self.ctype, self.every, self._round, send),
            daemon=True,
        )
        self._proc.start()
        if not recv.poll(15):
            raise RuntimeError("feed farm did not start")
        self.port = int(recv.recv())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join(5)

    def url(self, feed: int) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{feed}"

    def set_round(self, round_no: int) -> None:
        self._round.value = round_no


# ---- a few feeds in-process, with first-served stamps ----------------------------------


class StampedFeedServer(FeedServer):
    """Serves documents the benchmark changes; remembers when each version was put and
    first served with a 200 (time.monotonic())."""

    def __init__(self) -> None:
        super().__init__()
        self.put_at: dict[str, float] = {}  # etag -> when put
        self.served_at: dict[str, float] = {}  # etag -> first 200 with it

    def put(self, path: str, body: bytes, content_type: str = "application/json") -> str:
        etag = super().put(path, body, content_type)
        with self.lock:
            self.put_at.setdefault(etag, time.monotonic())
        return etag

    def served(self, path: str, etag: str, status: int) -> None:
        if status == 200:
            with self.lock:
                self.served_at.setdefault(etag, time.monotonic())

    def start(self) -> StampedFeedServer:
        super().start()
        return self


# ---- fake Slack with arrival times ------------------------------------------------------


def deep_backlog(server: Any) -> None:
    """socketserver listens with a backlog of 5: dozens of senders connecting at once
    would be reset, which would be measured as the vendor failing. Listen again deeper."""
    server.socket.listen(256)


MARK = re.compile(r"benchmark-([a-z0-9-]+)")


class TimedSlack(FakeSlack):
    """FakeSlack that stamps each chat.postMessage: `arrived[marker]` for every
    `benchmark-<marker>` in it, and `post_times` in arrival order; `first_request[marker]`
    stamps the first Web API call of any method (a thread's `chat.update` of its parent
    comes before the reply) that carries the marker. With `latency`, every
    answer leaves that many seconds after the request arrived (a real vendor's round
    trip: chat.postMessage typically takes 100-400 ms)."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.arrived: dict[str, float] = {}
        self.first_request: dict[str, float] = {}
        self.post_times: list[float] = []
        self.post_sizes: list[int] = []
        self.posted = threading.Condition()
        self._markers: dict[str, threading.Event] = {}  # what `wait_marker` callers wait for

    def start(self) -> TimedSlack:
        super().start()
        assert self._server is not None
        # FakeServer writes headers and body separately: without this the body can wait
        # for a delayed ACK, which would be charged to the client being measured.
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        deep_backlog(self._server)
        return self

    def handle(self, request: Request) -> Reply:
        # Stamped as the request is in, before the fake acts on it: its own work (parsing
        # the JSON, keeping the message) is not the client's time.
        now = time.monotonic()
        reply = super().handle(request)
        method = request.path.rsplit("/", 1)[-1]
        if isinstance(reply.body, dict) and reply.body.get("ok") and method.startswith("chat."):
            markers = MARK.findall(request.body.decode(errors="replace"))  # read once
            with self.posted:
                for marker in markers:
                    self.first_request.setdefault(marker, now)
                if method == "chat.postMessage":
                    self.post_times.append(now)
                    self.post_sizes.append(len(request.body))
                    for marker in markers:
                        self.arrived.setdefault(marker, now)
                        self._marker_event(marker).set()
                    self.posted.notify_all()
        if self.latency:
            time.sleep(self.latency)
        return reply

    def wait(self, condition: Callable[[], bool], timeout: float) -> bool:
        with self.posted:
            return self.posted.wait_for(condition, timeout)

    def wait_marker(self, marker: str, timeout: float) -> bool:
        """Until a chat.postMessage carrying `benchmark-<marker>` arrived. Only this
        waiter wakes: a dozen drivers woken by every post (`wait`) took the GIL of the
        process whose fakes stamp the times being measured."""
        with self.posted:
            event = self._marker_event(marker)
        return event.wait(timeout)

    def _marker_event(self, marker: str) -> threading.Event:
        return self._markers.setdefault(marker, threading.Event())


class TimedTwilio(FakeTwilio):
    """FakeTwilio that stamps when each message request arrived (`arrived`, in order) and
    answers `latency` seconds later (Twilio's Messages API takes a few hundred ms)."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.arrived: list[float] = []

    def start(self) -> TimedTwilio:
        super().start()
        assert self._server is not None
        deep_backlog(self._server)
        return self

    def handle(self, request: Request) -> Reply:
        if request.method == "POST":
            self.arrived.append(time.monotonic())
        reply = super().handle(request)
        if self.latency:
            time.sleep(self.latency)
        return reply


# ---- real worker processes -------------------------------------------------------------


# The fake feed servers listen on loopback, which the fetch guard refuses unless allowed.
class CollectEvents(HandOff):
    """The hand-off for a benchmark's own polls, its own queues: remembers the events a
    poll hands on; nothing is planned or delivered here (the workers, or the benchmark,
    do that)."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt, self)
        self.event_ids: list[str] = []

    def plan(self, event_ids: list[str]) -> None:
        self.event_ids.extend(event_ids)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        raise AssertionError("a benchmark's poll hands on events, never plans")

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        raise AssertionError("a benchmark's poll hands on events, never deliveries")

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        raise AssertionError("a benchmark's poll hands on events, never deliveries")


def slack_teams_config(path: Path, provider: str, url: str, subscribers: int, digits: int) -> None:
    """A subscription file: one statuspage-json provider and `subscribers` teams, each
    with a Slack channel of its own."""
    lines = ["providers:", f"  - id: {provider}", f"    name: {provider.title()} Cloud",
             f'    feed: {{url: "{url}", format: statuspage-json}}', "subscribers:"]  # fmt: skip
    for n in range(subscribers):
        lines += [f"  - name: team{n:0{digits}d}",
                  f'    slack: {{channel: "#{provider}-{n:0{digits}d}"}}']  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


LOCAL_NETWORKS = "127.0.0.0/8,::1/128"


def worker_env(
    redis_url: str, prefix: str, config: Path, data_dir: Path, slack_url: str | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update({
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_KEY_PREFIX": prefix,
        "NOTIFIER_CONFIG": str(config),
        "NOTIFIER_DATA_DIR": str(data_dir),
        "NOTIFIER_LOG_LEVEL": "WARNING",  # the INFO lines per task would be measured too
        "NOTIFIER_FETCH_ALLOW_NETWORKS": LOCAL_NETWORKS,  # the feed farms are on 127.0.0.1
        "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    if slack_url:
        env["NOTIFIER_SLACK_TOKEN"] = "xoxb-bench-not-a-real-token"
        env["NOTIFIER_SLACK_API_URL"] = slack_url
    return env


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, step: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def run_isolated(measure: Callable[[str, str], list[Row]]) -> list[Row]:
    """`measure(redis_url, prefix)` under a fresh key prefix, deleting only its keys after."""
    with bench_redis() as url:
        prefix = new_prefix()
        try:
            return measure(url, prefix)
        finally:
            client = redis.Redis.from_url(url)
            delete_prefix(client, prefix)
            client.close()
