"""End-to-end alert latency on the real stack: beat + Celery worker + Redis + slack-sdk.

`providers` Statuspage summary.json feeds (made here) are served by a
`StampedFeedServer`, each polled by beat every second (poll_interval 1). One driver
thread per provider adds one update to its incident, waits until the fake Slack
received the message carrying it, and repeats `changes` times; the providers run in
parallel so ~200 changes fit in well under a minute.

Per change, four instants (one clock, time.monotonic, in this process):
- put: the new document is served from now on;
- first served: the first 200 response carrying it, i.e. the poll that detects it;
- first request: the fake Slack received the first Web API call carrying the update
  (for an incident's later updates, the chat.update that edits the thread's parent);
- arrived: the fake Slack received the chat.postMessage carrying it (the thread reply,
  which follows the parent's edit: `notifier.channels.slack.channel`).

`put -> arrived` is what a user sees and is dominated by the 1 s poll interval (a
change waits 0-1 s for the next poll). `first served -> first request` is the overhead
issue 28 sets a target for ("from the poll that detects a change to the first vendor
request"): fetch, parse, diff, Redis, planning and delivering (both inside the poll
task for this one subscriber: no broker hop, `notifier.pipeline.handoff`). `first
served -> arrived` adds the parent's edit, a whole vendor round trip, and is reported
beside it. The baseline is a bare HTTP POST of the same size to the same fake.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.support import (
    Row,
    StampedFeedServer,
    TimedSlack,
    percentile,
    row,
    run_isolated,
    wait_until,
    worker_env,
)
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

NAME = "latency"
TARGET_OVERHEAD_MS = 10.0  # issue 28: p99 of the service's own time from detection to the request


def _config(path: Path, feeds: StampedFeedServer, providers: int) -> None:
    lines = ["providers:"]
    for k in range(providers):
        url = feeds.url(f"/p{k}/api/v2/summary.json")
        lines += [f"  - id: lat{k}", f"    name: Latency {k}",
                  f'    feed: {{url: "{url}", format: statuspage-json}}',
                  "    poll_interval: 1"]  # fmt: skip
    lines += ["subscribers:", "  - name: sre", '    slack: {channel: "#bench-latency"}']
    path.write_text("\n".join(lines) + "\n")


def _drive(
    k: int, changes: int, feeds: StampedFeedServer, slack: TimedSlack, out: list[tuple[str, str]]
) -> None:
    """Change provider k's feed `changes` times, each after the previous one arrived."""
    incident = FakeIncident(f"lat{k}incident0", f"Latency probe {k}", components=["API"])
    for n in range(changes):
        marker = f"p{k}-n{n}"
        incident.add("investigating", f"2024-12-26T{n // 60:02d}:{n % 60:02d}:00.000Z",
                     f"Probe update benchmark-{marker} of provider {k}.")  # fmt: skip
        etag = feeds.put(f"/p{k}/api/v2/summary.json", summary_json([incident]))
        if not slack.wait_marker(marker, 30):
            raise TimeoutError(f"change {marker} never reached Slack")
        out.append((marker, etag))


def _bare_posts(slack: TimedSlack, size: int, count: int) -> list[float]:
    """Seconds per bare POST of `size` bytes to the fake, on one kept-alive connection
    (as notifier's Slack client sends)."""
    where = urlsplit(slack.url)
    body = json.dumps({"channel": "#bench-bare", "text": "x" * max(0, size - 40)}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer xoxb-bench"}
    took = []
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=10)
    try:
        for _ in range(count):
            started = time.monotonic()
            conn.request("POST", "/api/chat.postMessage", body, headers)
            conn.getresponse().read()
            took.append(time.monotonic() - started)
    finally:
        conn.close()
    return took


def measure(redis_url: str, prefix: str, providers: int = 10, changes: int = 20) -> list[Row]:
    feeds, slack = StampedFeedServer().start(), TimedSlack().start()
    with tempfile.TemporaryDirectory(prefix="notifier-bench-latency-") as tmp:
        config = Path(tmp) / "subscriptions.yaml"
        _config(config, feeds, providers)
        for k in range(providers):
            feeds.put(f"/p{k}/api/v2/summary.json", summary_json([]))
        env = worker_env(redis_url, prefix, config, Path(tmp) / "data", slack.url)
        # The probe sends ~10 updates a second to one channel to time the pipeline itself;
        # Slack's per-channel pacing (1 a second, bench_pages and the tests cover it)
        # would hold most of them, and that wait is not the pipeline's overhead.
        env |= {"NOTIFIER_SLACK_CHANNEL_RATE": "1000", "NOTIFIER_SLACK_CHANNEL_BURST": "1000"}
        args = ["run", "--concurrency", "2"]
        done: list[tuple[str, str]] = []
        try:
            with WorkerProcess(args, env, Path(tmp) / "worker.log") as worker:
                paths = [f"/p{k}/api/v2/summary.json" for k in range(providers)]
                try:
                    wait_until(lambda: all(feeds.hits.get(p, 0) >= 2 for p in paths), 60,
                               "the first polls")  # fmt: skip
                    _run_drivers(providers, changes, feeds, slack, done)
                except Exception as exc:
                    raise RuntimeError(f"{exc}\n--- worker log ---\n{worker.tail()}") from exc
            size = int(sum(slack.post_sizes) / len(slack.post_sizes))
            bare = _bare_posts(slack, size, len(done))
        finally:
            slack.stop()
            feeds.stop()
    e2e = [slack.arrived[m] - feeds.put_at[e] for m, e in done]
    overhead = [slack.first_request[m] - feeds.served_at[e] for m, e in done]
    reply = [slack.arrived[m] - feeds.served_at[e] for m, e in done]
    return _rows(e2e, overhead, reply, bare, providers, size)


def _run_drivers(
    providers: int, changes: int, feeds: StampedFeedServer, slack: TimedSlack,
    done: list[tuple[str, str]],
) -> None:  # fmt: skip
    errors: list[BaseException] = []

    def drive(k: int) -> None:
        try:
            _drive(k, changes, feeds, slack, done)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(k,)) for k in range(providers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _rows(
    e2e: list[float], overhead: list[float], reply: list[float], bare: list[float],
    providers: int, size: int,
) -> list[Row]:  # fmt: skip
    n, ms = len(e2e), 1e3
    setup = f"{n} changes over {providers} providers, poll_interval 1 s"
    rows = [
        row(NAME, f"change served -> Slack p{q}", percentile(e2e, q) * ms, "ms",
            note=f"{setup}; includes the wait for the next poll (0-1 s)")
        for q in (50, 95, 99)
    ]  # fmt: skip
    for q in (50, 95, 99):
        value, base = percentile(overhead, q) * ms, percentile(bare, q) * ms
        target = f"<= {TARGET_OVERHEAD_MS:.0f} ms" if q == 99 else ""
        ok = value <= TARGET_OVERHEAD_MS if q == 99 else None
        rows.append(row(NAME, f"pipeline overhead (detecting poll -> first Slack request) p{q}",
                        value, "ms", baseline=base, target=target, ok=ok,
                        note=f"baseline: bare kept-alive POST of {size} B"))  # fmt: skip
    for q in (50, 99):
        value = percentile(reply, q) * ms
        rows.append(row(NAME, f"detecting poll -> thread reply p{q}", value, "ms",
                        note="after the parent's chat.update, a vendor round trip"))  # fmt: skip
    return rows


def run() -> list[Row]:
    return run_isolated(measure)


if __name__ == "__main__":
    for r in run():
        print(r)
