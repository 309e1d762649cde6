"""Fan-out: one incident to `subscribers` Slack channels through real Celery workers, with
the fake Slack answering each call after `latency` (150 ms, a typical chat.postMessage).

A generated subscription file has one provider and `subscribers` subscribers, each
with its own Slack channel. This process polls the provider once (the real
`notifier.pipeline.ingest.stage.poll`, a collecting hand-off) so the incident's event
is stored, then
sends ONE `notifier.process` task to the broker. Real workers (`python -m workers
worker -Q poll,deliver` as `notifier run` starts them, `processes` prefork processes
each, every process sending `in_flight` requests at once) plan the alerts (in chunk
tasks above 400 subscribers), queue them in chunks and deliver them with the real
slack-sdk client to the fake.

Reported: deliveries/s from the process task's send to the last message, the same
over the delivery phase alone (first to last message), and the duplicate check:
exactly one chat.postMessage per subscriber channel, and nothing more a second later.
The same-run baseline is the bare client with the same concurrency limit: `processes`
processes of `in_flight` threads each, posting the same number of messages with the same
Slack client (slack-sdk with kept-alive connections) to a fake with the same latency,
nothing else. With `workers=2`, two worker processes on one Redis (two machines) split
the fan-out: the duplicate check then says nothing was sent twice.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from celery import Celery

from bench.support import (
    LOCAL_NETWORKS,
    CollectEvents,
    Row,
    StampedFeedServer,
    TimedSlack,
    row,
    run_isolated,
    slack_teams_config,
    wait_until,
    worker_env,
)
from notifier.channels.slack.http import KeepAliveWebClient
from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.runtime.wiring import Runtime, utcnow
from notifier.store.conn.url import broker_url
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

NAME = "fanout"
TARGET_RATE = 200.0  # deliveries/s at real vendor latency: 1,000 subscribers in 5 s
TARGET_RATIO = 0.7  # of the bare client with the same concurrency
LATENCY_S = 0.150
FEED = "/fanout/api/v2/summary.json"


def _producer(redis_url: str, settings: Settings) -> Celery:
    app = Celery("notifier-bench", broker=broker_url(redis_url))
    app.conf.update(
        broker_transport_options={"global_keyprefix": settings.broker_prefix},
        task_serializer="json",
    )
    return app


def _warm_up(app: Celery, workers: list[WorkerProcess], processes: int) -> None:
    """Make every pool process build its Runtime: a delivery of a missing alert logs a
    warning and does nothing else."""
    total = processes * 4 * len(workers)
    for n in range(total):
        app.send_task("notifier.deliver", args=(f"bench-warmup-{n}",), queue="deliver")

    def warmed() -> bool:
        return sum(w.tail(100_000).count("alert record missing") for w in workers) >= total

    wait_until(warmed, 60, "the workers to start")


def _bare_posts(api_url: str, first: int, count: int, threads: int) -> None:
    """`count` posts from `threads` threads, each with its own kept-alive connection (as
    notifier's sending threads have)."""
    client = KeepAliveWebClient(token="xoxb-bench-baseline", base_url=api_url)

    def post(n: int) -> None:
        client.chat_postMessage(channel=f"#bare-{n:04d}", text="Elevated API errors")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(first, first + count)))


def bare_rate(subscribers: int, processes: int, in_flight: int, latency: float) -> float:
    """Messages/s of bare client calls from `processes` processes of `in_flight` threads
    each (the same concurrency limit) to a fresh fake with the same latency."""
    slack = TimedSlack(latency).start()
    try:
        share = subscribers // processes
        args = ([slack.url] * processes, range(0, subscribers, share), [share] * processes,
                [in_flight] * processes)  # fmt: skip
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(_bare_posts, *args))
            # a second round timed, so process start-up is not counted
            started = time.monotonic()
            list(pool.map(_bare_posts, *args))
            return share * processes / (time.monotonic() - started)
    finally:
        slack.stop()


def measure(
    redis_url: str, prefix: str, subscribers: int = 1000, processes: int = 2,
    in_flight: int = 32, latency: float = LATENCY_S, workers: int = 1,
) -> list[Row]:  # fmt: skip
    feeds, slack = StampedFeedServer().start(), TimedSlack(latency).start()
    incident = FakeIncident("fanoutinc001", "Elevated API errors", components=["API"])
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating errors.")
    feeds.put(FEED, summary_json([incident]))
    with tempfile.TemporaryDirectory(prefix="notifier-bench-fanout-") as tmp:
        config = Path(tmp) / "subscriptions.yaml"
        slack_teams_config(config, "fanout", feeds.url(FEED), subscribers, 4)
        env = worker_env(redis_url, prefix, config, Path(tmp) / "data", slack.url)
        env["NOTIFIER_DELIVERY_IN_FLIGHT"] = str(in_flight)
        settings = Settings(redis_url=redis_url, config=config, key_prefix=prefix,
                            fetch_allow_networks=LOCAL_NETWORKS)  # fmt: skip
        rt = Runtime.build(settings, redis_url, load_config(config))
        collect = CollectEvents(rt)
        ingest.poll(rt, "fanout", collect, utcnow())
        assert collect.event_ids, "the poll found no incident"
        app = _producer(redis_url, settings)
        try:
            with ExitStack() as stack:
                running = [
                    stack.enter_context(WorkerProcess(
                        ["worker", "--queues", "poll,deliver", "--concurrency", str(processes),
                         "--hostname", f"bench{w}@%h"], env, Path(tmp) / f"worker{w}.log"))
                    for w in range(workers)
                ]  # fmt: skip
                _warm_up(app, running, processes)
                started = time.monotonic()
                # As the poll would queue it: planning (and its chunks) go on `poll`.
                app.send_task("notifier.process", args=(collect.event_ids,), queue="poll")
                if not slack.wait(lambda: len(slack.post_times) >= subscribers, 120):
                    raise TimeoutError(f"{len(slack.post_times)}/{subscribers} delivered\n"
                                       f"--- worker log ---\n{running[0].tail()}")  # fmt: skip
                time.sleep(1.0)  # anything more now would be a duplicate
        finally:
            rt.client.close()
            slack.stop()
            feeds.stop()
    bare = bare_rate(subscribers, processes * workers, in_flight, latency)
    return _rows(slack, started, subscribers, (workers, processes, in_flight, latency), bare)


def _rows(
    slack: TimedSlack, started: float, subscribers: int, setup: tuple[int, int, int, float],
    bare: float,
) -> list[Row]:  # fmt: skip
    workers, processes, in_flight, latency = setup
    posts = [m for m in slack.messages if m["method"] == "chat.postMessage"]
    channels = Counter(str(m["body"].get("channel")) for m in posts)
    first, last = slack.post_times[0], slack.post_times[subscribers - 1]
    rate = subscribers / (last - started)
    exact = len(posts) == subscribers and len(channels) == subscribers
    said = (f"{subscribers} subscribers, Slack answering in {latency * 1e3:.0f} ms, "
            f"{workers} worker(s) x {processes} processes x {in_flight} in flight")  # fmt: skip
    ok = rate >= TARGET_RATE and rate >= TARGET_RATIO * bare
    return [
        row(NAME, f"deliveries/s, {workers} worker(s) (process task sent -> last message)",
            rate, "deliveries/s", baseline=bare,
            target=f">= {TARGET_RATE:.0f}/s and >= {TARGET_RATIO} x baseline", ok=ok,
            note=f"{said}; baseline: the bare client, {workers * processes} processes x "
                 f"{in_flight} threads"),
        row(NAME, f"deliveries/s, {workers} worker(s) (first -> last message)",
            (subscribers - 1) / (last - first), "deliveries/s", note="delivery phase only"),
        row(NAME, f"time to first message, {workers} worker(s)", (first - started) * 1e3, "ms",
            note="planning the first chunk + its deliveries"),
        row(NAME, f"chat.postMessage calls, {workers} worker(s)", len(posts), "calls",
            target=f"== {subscribers}", ok=len(posts) == subscribers),
        row(NAME, f"distinct channels, {workers} worker(s)", len(channels), "channels",
            target=f"== {subscribers}", ok=exact,
            note=f"most posts to one channel: {max(channels.values())}"),
    ]  # fmt: skip


TARGET_SCALE = 1.8  # two workers' rate over one worker's


def run() -> list[Row]:
    """One worker, then two on the same Redis (scale-out: nothing may be sent twice)."""
    one = run_isolated(measure)
    two = run_isolated(lambda url, prefix: measure(url, prefix, workers=2))
    rate1, rate2 = float(one[0]["value"] or 0), float(two[0]["value"] or 0)  # type: ignore[arg-type]
    scale = row(NAME, "two workers over one (deliveries/s)", rate2 / rate1 if rate1 else 0.0,
                "x", target=f">= {TARGET_SCALE}", ok=rate1 > 0 and rate2 >= TARGET_SCALE * rate1,
                note="the same fan-out; both on this one machine, with the fakes")  # fmt: skip
    return [*one, *two, scale]


if __name__ == "__main__":
    for r in run():
        print(r)
