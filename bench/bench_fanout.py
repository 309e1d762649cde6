"""Fan-out: one incident to `subscribers` Slack channels through real Celery workers.

A generated subscription file has one provider and `subscribers` subscribers, each
with its own Slack channel. This process polls the provider once (real
`notifier.pipeline.service.poll`, inline dispatcher) so the incident's event is stored, then
sends ONE `notifier.process` task to the broker. A real worker (`python -m workers
worker -Q deliver`) plans the alerts, enqueues one `notifier.deliver` task per
alert and delivers them with the real slack-sdk client to a fake Slack.

Reported: deliveries/s from the process task's send to the last message, the same
over the delivery phase alone (first to last message), and the duplicate check:
exactly one chat.postMessage per subscriber channel, and nothing more a second later.
The same-run baseline is the ceiling of this machine for the client and the fake:
`concurrency` processes posting the same number of messages with the same Slack
client (slack-sdk with kept-alive connections), nothing else.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from celery import Celery

from bench.support import (
    Row,
    StampedFeedServer,
    TimedSlack,
    row,
    run_isolated,
    wait_until,
    worker_env,
)
from notifier.channels.slack.http import KeepAliveWebClient
from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline import service
from notifier.store.conn.url import broker_url
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

NAME = "fanout"
TARGET_RATE = 500.0
FEED = "/fanout/api/v2/summary.json"


class _Collect:
    """Inline dispatcher: remembers what would have been queued."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def process(self, event_ids: Sequence[str]) -> None:
        self.events.extend(event_ids)

    def deliver(self, dedup_keys: Sequence[str], attempt: int = 0) -> None:
        raise AssertionError("this benchmark plans in the worker, not here")


def _config(path: Path, url: str, subscribers: int) -> None:
    lines = ["providers:", "  - id: fanout", "    name: Fanout Cloud",
             f'    feed: {{url: "{url}", format: statuspage-json}}', "subscribers:"]  # fmt: skip
    for n in range(subscribers):
        lines += [f"  - name: team{n:04d}", f'    slack: {{channel: "#fanout-{n:04d}"}}']
    path.write_text("\n".join(lines) + "\n")


def _producer(redis_url: str, settings: Settings) -> Celery:
    app = Celery("notifier-bench", broker=broker_url(redis_url))
    app.conf.update(
        broker_transport_options={"global_keyprefix": settings.broker_prefix},
        task_serializer="json",
    )
    return app


def _warm_up(app: Celery, worker: WorkerProcess, processes: int) -> None:
    """Make every pool process build its Runtime: a delivery of a missing alert logs a
    warning and does nothing else."""
    for n in range(processes * 4):
        app.send_task("notifier.deliver", args=(f"bench-warmup-{n}",), queue="deliver")
    wait_until(lambda: worker.tail(100_000).count("alert record missing") >= processes * 4,
               60, "the worker to start")  # fmt: skip


def _bare_posts(api_url: str, first: int, count: int) -> None:
    client = KeepAliveWebClient(token="xoxb-bench-baseline", base_url=api_url)
    for n in range(first, first + count):
        client.chat_postMessage(channel=f"#bare-{n:04d}", text="Elevated API errors")


def bare_rate(subscribers: int, concurrency: int) -> float:
    """Messages/s of bare client calls from `concurrency` processes to a fresh fake."""
    slack = TimedSlack().start()
    try:
        share = subscribers // concurrency
        with ProcessPoolExecutor(concurrency) as pool:
            list(pool.map(_bare_posts, [slack.url] * concurrency, range(0, subscribers, share),
                          [share] * concurrency))  # fmt: skip
            # a second round timed, so process start-up is not counted
            started = time.monotonic()
            list(pool.map(_bare_posts, [slack.url] * concurrency, range(0, subscribers, share),
                          [share] * concurrency))  # fmt: skip
            return share * concurrency / (time.monotonic() - started)
    finally:
        slack.stop()


def measure(
    redis_url: str, prefix: str, subscribers: int = 1000, concurrency: int = 2
) -> list[Row]:
    feeds, slack = StampedFeedServer().start(), TimedSlack().start()
    incident = FakeIncident("fanoutinc001", "Elevated API errors", components=["API"])
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating errors.")
    feeds.put(FEED, summary_json([incident]))
    with tempfile.TemporaryDirectory(prefix="notifier-bench-fanout-") as tmp:
        config = Path(tmp) / "subscriptions.yaml"
        _config(config, feeds.url(FEED), subscribers)
        env = worker_env(redis_url, prefix, config, Path(tmp) / "data", slack.url)
        settings = Settings(redis_url=redis_url, config=config, key_prefix=prefix)
        rt = service.Runtime.build(settings, redis_url, load_config(config))
        collect = _Collect()
        service.poll(rt, "fanout", collect, service.utcnow())
        assert collect.events, "the poll found no incident"
        app = _producer(redis_url, settings)
        args = ["worker", "--queues", "deliver", "--concurrency", str(concurrency)]
        try:
            with WorkerProcess(args, env, Path(tmp) / "worker.log") as worker:
                _warm_up(app, worker, concurrency)
                started = time.monotonic()
                app.send_task("notifier.process", args=(collect.events,), queue="deliver")
                if not slack.wait(lambda: len(slack.post_times) >= subscribers, 120):
                    raise TimeoutError(f"{len(slack.post_times)}/{subscribers} delivered\n"
                                       f"--- worker log ---\n{worker.tail()}")  # fmt: skip
                time.sleep(1.0)  # anything more now would be a duplicate
        finally:
            rt.client.close()
            slack.stop()
            feeds.stop()
    return _rows(slack, started, subscribers, concurrency, bare_rate(subscribers, concurrency))


def _rows(
    slack: TimedSlack, started: float, subscribers: int, concurrency: int, bare: float
) -> list[Row]:
    posts = [m for m in slack.messages if m["method"] == "chat.postMessage"]
    channels = Counter(str(m["body"].get("channel")) for m in posts)
    first, last = slack.post_times[0], slack.post_times[subscribers - 1]
    rate = subscribers / (last - started)
    exact = len(posts) == subscribers and len(channels) == subscribers
    setup = f"{subscribers} subscribers, 1 worker, prefork concurrency {concurrency}"
    return [
        row(NAME, "deliveries/s (process task sent -> last message)", rate, "deliveries/s",
            baseline=bare, target=f">= {TARGET_RATE:.0f}/s", ok=rate >= TARGET_RATE,
            note=f"{setup}; baseline: bare client posts from {concurrency} processes"),
        row(NAME, "deliveries/s (first -> last message)", (subscribers - 1) / (last - first),
            "deliveries/s", note="delivery phase only"),
        row(NAME, "time to first message", (first - started) * 1e3, "ms",
            note="planning all alerts + the first delivery"),
        row(NAME, "chat.postMessage calls", len(posts), "calls",
            target=f"== {subscribers}", ok=len(posts) == subscribers),
        row(NAME, "distinct channels", len(channels), "channels",
            target=f"== {subscribers}", ok=exact,
            note=f"most posts to one channel: {max(channels.values())}"),
    ]  # fmt: skip


def run() -> list[Row]:
    return run_isolated(measure)


if __name__ == "__main__":
    for r in run():
        print(r)
